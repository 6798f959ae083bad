//! Session days: a round belongs to the day on which it started, in the configured time zone,
//! shifted by the session day start, so an evening crossing midnight is one session.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};

use crate::config::SessionClock;

impl SessionClock {
    /// The session day of an instant, or `None` when the instant is so close to the ends of the
    /// calendar that shifting it to local time or by the day start leaves the calendar (only a
    /// crafted file gets there; such a round is rejected).
    pub fn checked_session_date(&self, instant: DateTime<Utc>) -> Option<NaiveDate> {
        let local = instant.with_timezone(&self.timezone);
        let local = instant
            .naive_utc()
            .checked_add_offset(local.offset().fix())?;
        self.checked_session_date_local(local)
    }

    /// The session day of a local wall-clock time (v2 file names carry one); `None` at the ends
    /// of the calendar, as [`Self::checked_session_date`].
    pub fn checked_session_date_local(&self, local: NaiveDateTime) -> Option<NaiveDate> {
        let shift = self.day_start.signed_duration_since(chrono::NaiveTime::MIN);
        local.checked_sub_signed(shift).map(|t| t.date())
    }

    /// The session day of an instant. For instants at the ends of the calendar (never a real
    /// round) this is the UTC date, so the call cannot fail; files go through
    /// [`Self::checked_session_date`].
    pub fn session_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        self.checked_session_date(instant)
            .unwrap_or_else(|| instant.date_naive())
    }

    /// The session day of a local wall-clock time; the date itself at the ends of the calendar.
    pub fn session_date_local(&self, local: NaiveDateTime) -> NaiveDate {
        self.checked_session_date_local(local)
            .unwrap_or_else(|| local.date())
    }

    /// A local wall-clock time as an instant (the earlier one when a DST change makes it ambiguous).
    pub fn local_to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.timezone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn clock(tz: &str, start: &str) -> SessionClock {
        SessionClock {
            timezone: tz.parse().unwrap(),
            day_start: NaiveTime::parse_from_str(start, "%H:%M").unwrap(),
        }
    }

    #[test]
    fn an_evening_crossing_midnight_is_one_session() {
        let c = clock("Europe/Berlin", "06:00");
        let evening = NaiveDate::from_ymd_opt(2025, 11, 18).unwrap();
        let before =
            NaiveDateTime::parse_from_str("2025-11-18 23:50:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let after =
            NaiveDateTime::parse_from_str("2025-11-19 01:10:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(c.session_date_local(before), evening);
        assert_eq!(c.session_date_local(after), evening);
        let morning =
            NaiveDateTime::parse_from_str("2025-11-19 06:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(c.session_date_local(morning), evening.succ_opt().unwrap());
    }

    #[test]
    fn instants_use_the_configured_zone() {
        let c = clock("Europe/Berlin", "06:00");
        // 04:30 UTC is 05:30 in Berlin in November: still the previous session.
        let t = Utc.with_ymd_and_hms(2025, 11, 19, 4, 30, 0).unwrap();
        assert_eq!(
            c.session_date(t),
            NaiveDate::from_ymd_opt(2025, 11, 18).unwrap()
        );
        let t = Utc.with_ymd_and_hms(2025, 11, 19, 5, 30, 0).unwrap();
        assert_eq!(
            c.session_date(t),
            NaiveDate::from_ymd_opt(2025, 11, 19).unwrap()
        );
    }

    #[test]
    fn the_ends_of_the_calendar_give_no_session_day_instead_of_a_panic() {
        let c = clock("Europe/Berlin", "06:00");
        assert_eq!(c.checked_session_date_local(NaiveDateTime::MIN), None);
        assert_eq!(c.checked_session_date(DateTime::<Utc>::MIN_UTC), None);
        // Berlin is ahead of UTC: the latest instant has no local time.
        assert_eq!(c.checked_session_date(DateTime::<Utc>::MAX_UTC), None);
        // The infallible forms fall back to the plain date.
        assert_eq!(
            c.session_date_local(NaiveDateTime::MIN),
            NaiveDateTime::MIN.date()
        );
        let _ = c.session_date(DateTime::<Utc>::MAX_UTC);
        let _ = c.session_date(DateTime::<Utc>::MIN_UTC);
    }
}
