//! One typed configuration, read from the environment and `.env`, validated at start.
//! Every error names the variable so an admin knows what to fix.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;

/// Used when DATABASE_URL is not set: the local PostgreSQL, database `etprox` (created if missing).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/etprox";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// Folders the watcher watches (ETPROX_ROUND_DIRS, separated by ':' or ',').
    pub round_dirs: Vec<PathBuf>,
    pub session: SessionClock,
    /// Server id given to v2 files, which carry none (ETPROX_SERVER_ID).
    pub default_server_id: String,
    /// How long a v2 file's size must stay unchanged before it is imported.
    pub settle: Duration,
    /// Full rescan interval of the watched folders (fallback for missed events).
    pub rescan: Duration,
}

/// How instants map to session days.
#[derive(Debug, Clone, Copy)]
pub struct SessionClock {
    pub timezone: Tz,
    /// A session day starts at this local time (ETPROX_SESSION_DAY_START, default 06:00), so an
    /// evening that crosses midnight is one session.
    pub day_start: NaiveTime,
}

impl Default for SessionClock {
    fn default() -> Self {
        SessionClock {
            timezone: Tz::UTC,
            day_start: NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Loads `.env` (if present) and reads the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(var)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let err = |variable: &'static str, message: String| ConfigError { variable, message };
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(err(
                "DATABASE_URL",
                format!("must be a postgres:// URL, got {database_url:?}"),
            ));
        }
        let round_dirs = get("ETPROX_ROUND_DIRS")
            .map(|v| {
                v.split([':', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        let timezone = match get("ETPROX_TIMEZONE") {
            Some(name) => name.trim().parse::<Tz>().map_err(|_| {
                err(
                    "ETPROX_TIMEZONE",
                    format!("{name:?} is not an IANA time zone name (e.g. Europe/Berlin, UTC)"),
                )
            })?,
            None => Tz::UTC,
        };
        let day_start = match get("ETPROX_SESSION_DAY_START") {
            Some(text) => NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
                err(
                    "ETPROX_SESSION_DAY_START",
                    format!("{text:?} is not a time of day as HH:MM (e.g. 06:00)"),
                )
            })?,
            None => SessionClock::default().day_start,
        };
        let seconds = |name: &'static str, default: f64| -> Result<Duration, ConfigError> {
            match get(name) {
                Some(text) => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| err(name, format!("{text:?} is not a number of seconds"))),
                None => Ok(Duration::from_secs_f64(default)),
            }
        };
        Ok(Config {
            database_url,
            round_dirs,
            session: SessionClock {
                timezone,
                day_start,
            },
            default_server_id: get("ETPROX_SERVER_ID").unwrap_or_else(|| "default".to_owned()),
            settle: seconds("ETPROX_SETTLE_SECS", 0.5)?,
            rescan: seconds("ETPROX_RESCAN_SECS", 10.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_usable() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(
            c.session.day_start,
            NaiveTime::from_hms_opt(6, 0, 0).unwrap()
        );
        assert!(c.round_dirs.is_empty());
    }

    #[test]
    fn errors_name_the_variable() {
        let e = config(&[("ETPROX_TIMEZONE", "Mars/Olympus")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_TIMEZONE");
        let e = config(&[("ETPROX_SESSION_DAY_START", "25:99")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_SESSION_DAY_START");
        let e = config(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
    }

    #[test]
    fn several_round_dirs() {
        let c = config(&[("ETPROX_ROUND_DIRS", "/a:/b, /c")]).unwrap();
        assert_eq!(c.round_dirs.len(), 3);
    }
}
