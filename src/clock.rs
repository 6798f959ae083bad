//! The one clock of the program: what "now" and "today" are. Today is the session day of now
//! under the configured [`SessionClock`] (zone and day start), the same rule the importer uses
//! for rounds, so "the last 7 days" and a round's day always agree. Tests and the demo can fix
//! the time.

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::SessionClock;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    session: SessionClock,
    /// Set in tests and replays; `None` reads the system time.
    fixed_now: Option<DateTime<Utc>>,
}

impl Clock {
    /// The system time, with session days of `session`.
    pub fn system(session: SessionClock) -> Clock {
        Clock {
            session,
            fixed_now: None,
        }
    }

    /// A clock that always says `now` (tests, replays of a past evening).
    pub fn fixed(session: SessionClock, now: DateTime<Utc>) -> Clock {
        Clock {
            session,
            fixed_now: Some(now),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed_now.unwrap_or_else(Utc::now)
    }

    /// The session day of now.
    pub fn today(&self) -> NaiveDate {
        self.session.session_date(self.now())
    }

    pub fn session(&self) -> &SessionClock {
        &self.session
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone};

    #[test]
    fn today_is_the_session_day_not_the_utc_date() {
        let session = SessionClock {
            timezone: "America/Los_Angeles".parse().unwrap(),
            day_start: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
        };
        // 03:00 UTC on 2 December is 19:00 on 1 December in Los Angeles: that evening's session.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap();
        let clock = Clock::fixed(session, now);
        assert_eq!(clock.now(), now);
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    }
}
