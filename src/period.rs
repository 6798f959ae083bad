//! Time windows of stats, one model for every command and the heatmap: what a player may type
//! (`session`, `7d`, `30d`, `all`, `2026-11-20`, `2026-11-01..2026-11-20`) and the session days
//! it covers. Days are session days ([`crate::config::SessionClock`]): "today" is the session
//! day of now, never the UTC date, so 7d means the same evenings whatever the server's zone.

use std::fmt;
use std::str::FromStr;

use chrono::{Days, NaiveDate};

/// Which session days count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// The latest session day with a round (for the heatmap: with a kill on the map).
    Session,
    /// Today and the `n − 1` session days before it (`7d`, `30d`).
    LastDays(u32),
    /// An inclusive range of session days; one day when both ends are equal.
    Days(NaiveDate, NaiveDate),
    /// Everything stored.
    All,
}

/// What a player typed that is no period; the message says what would be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PeriodError(String);

impl Period {
    pub const WEEK: Period = Period::LastDays(7);
    pub const MONTH: Period = Period::LastDays(30);

    /// The forms offered as suggestions (Discord autocomplete, help).
    pub const SUGGESTED: [&'static str; 4] = ["session", "7d", "30d", "all"];

    /// The session days this period covers, given today's session day and the latest session
    /// day with data (`None` when nothing is stored yet).
    pub fn resolve(self, today: NaiveDate, latest_session: Option<NaiveDate>) -> DateRange {
        match self {
            Period::Session => match latest_session {
                Some(day) => DateRange::new(day, day, format!("session {day}")),
                None => DateRange::everything("session (no rounds yet)"),
            },
            Period::LastDays(n) => {
                let back = u64::from(n.max(1) - 1);
                let from = today
                    .checked_sub_days(Days::new(back))
                    .map_or(FIRST_DAY, |d| d.max(FIRST_DAY));
                DateRange::new(from, LAST_DAY, self.describe())
            }
            Period::Days(a, b) => DateRange::new(a, b, self.describe()),
            Period::All => DateRange::everything("all time"),
        }
    }

    /// Words for a caption or a footer: "last 7 days", "2026-11-01 to 2026-11-20".
    pub fn describe(self) -> String {
        match self {
            Period::Session => "latest session".into(),
            Period::LastDays(1) => "today".into(),
            Period::LastDays(n) => format!("last {n} days"),
            Period::Days(a, b) if a == b => a.to_string(),
            Period::Days(a, b) => format!("{a} to {b}"),
            Period::All => "all time".into(),
        }
    }
}

/// The form that parses back into the same period (used in button ids and `to_line`).
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Session => f.write_str("session"),
            Period::LastDays(n) => write!(f, "{n}d"),
            Period::Days(a, b) if a == b => write!(f, "{a}"),
            Period::Days(a, b) => write!(f, "{a}..{b}"),
            Period::All => f.write_str("all"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    /// `session` (or `latest`, `last`, `today`), `7d` (or `7`, `week`), `30d` (or `month`),
    /// `all` (or `alltime`, `all-time`), a day `2026-11-20`, a range `2026-11-01..2026-11-20`.
    fn from_str(text: &str) -> Result<Period, PeriodError> {
        let s = text.trim().to_ascii_lowercase();
        match s.as_str() {
            "session" | "latest" | "last" | "today" => return Ok(Period::Session),
            "week" => return Ok(Period::WEEK),
            "month" => return Ok(Period::MONTH),
            "all" | "alltime" | "all-time" => return Ok(Period::All),
            _ => {}
        }
        if let Ok(n) = s.strip_suffix('d').unwrap_or(&s).parse::<u32>() {
            return match n {
                1..=36500 => Ok(Period::LastDays(n)),
                _ => Err(unknown(&s)),
            };
        }
        let day =
            |d: &str| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| unknown(&s));
        match s.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                if a > b {
                    return Err(PeriodError(format!("period {s:?} ends before it starts")));
                }
                Ok(Period::Days(a, b))
            }
            None => day(&s).map(|d| Period::Days(d, d)),
        }
    }
}

fn unknown(text: &str) -> PeriodError {
    PeriodError(format!(
        "unknown period {text:?}: use session, 7d, 30d, all, a day (2026-11-20) or a range (2026-11-01..2026-11-20)"
    ))
}

/// Bounds PostgreSQL dates can hold, for open ranges.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// Session days from `from` to `to` (inclusive), with the words that name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub label: String,
}

impl DateRange {
    pub fn new(from: NaiveDate, to: NaiveDate, label: impl Into<String>) -> DateRange {
        DateRange {
            from,
            to,
            label: label.into(),
        }
    }

    pub fn everything(label: impl Into<String>) -> DateRange {
        DateRange::new(FIRST_DAY, LAST_DAY, label)
    }

    /// Whether the range has no lower bound (all time, or no session yet).
    pub fn is_unbounded_below(&self) -> bool {
        self.from == FIRST_DAY
    }

    /// Whether the range has no upper bound (all time, the last N days).
    pub fn is_unbounded_above(&self) -> bool {
        self.to == LAST_DAY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_form_either_side_accepted_parses() {
        for (text, period) in [
            ("session", Period::Session),
            ("latest", Period::Session),
            ("today", Period::Session),
            ("7D", Period::WEEK),
            ("week", Period::WEEK),
            ("7", Period::WEEK),
            ("30d", Period::MONTH),
            ("month", Period::MONTH),
            ("all", Period::All),
            ("all-time", Period::All),
            ("2026-11-20", Period::Days(d("2026-11-20"), d("2026-11-20"))),
            (
                "2026-11-01..2026-11-20",
                Period::Days(d("2026-11-01"), d("2026-11-20")),
            ),
        ] {
            assert_eq!(text.parse::<Period>(), Ok(period), "{text}");
        }
        for bad in [
            "year",
            "0d",
            "",
            "2026-11-20..2026-11-01",
            "2026-13-01",
            "99999999d",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn the_printed_form_parses_back() {
        for p in [
            Period::Session,
            Period::WEEK,
            Period::LastDays(90),
            Period::All,
            Period::Days(d("2026-11-20"), d("2026-11-20")),
            Period::Days(d("2026-11-01"), d("2026-11-20")),
        ] {
            assert_eq!(p.to_string().parse::<Period>(), Ok(p));
        }
    }

    #[test]
    fn windows_count_back_from_the_session_day_given() {
        let today = d("2026-12-02");
        let week = Period::WEEK.resolve(today, None);
        assert_eq!(week.from, d("2026-11-26"));
        assert!(week.is_unbounded_above());
        assert_eq!(week.label, "last 7 days");
        assert_eq!(Period::LastDays(1).resolve(today, None).from, today);
        let session = Period::Session.resolve(today, Some(d("2026-11-30")));
        assert_eq!(
            (session.from, session.to),
            (d("2026-11-30"), d("2026-11-30"))
        );
        assert_eq!(session.label, "session 2026-11-30");
        let none = Period::Session.resolve(today, None);
        assert!(none.is_unbounded_below() && none.is_unbounded_above());
        assert_eq!(none.label, "session (no rounds yet)");
        let all = Period::All.resolve(today, Some(today));
        assert_eq!(all.label, "all time");
        // Far back never panics: the window starts at the first day PostgreSQL holds.
        let long = Period::LastDays(36500).resolve(d("0002-01-01"), None);
        assert_eq!(long.from, FIRST_DAY);
    }
}
