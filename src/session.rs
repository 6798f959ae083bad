//! Session days: a round belongs to the day on which it started, in the configured time zone,
//! shifted by the session day start, so an evening crossing midnight is one session.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::config::SessionClock;

impl SessionClock {
    /// The session day of an instant.
    pub fn session_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        self.session_date_local(instant.with_timezone(&self.timezone).naive_local())
    }

    /// The session day of a local wall-clock time (v2 file names carry one).
    pub fn session_date_local(&self, local: NaiveDateTime) -> NaiveDate {
        let shift = self.day_start.signed_duration_since(chrono::NaiveTime::MIN);
        (local - shift).date()
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
}
