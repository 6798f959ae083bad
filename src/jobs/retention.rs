//! The daily retention job: archives raw kills older than ETPROX_RETENTION_DAYS once a day at
//! ETPROX_RETENTION_HOUR (UTC), through [`crate::retention::run_daily`].

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tracing::{info, warn};

/// Archives raw kills older than `days` once a day at `hour` (UTC), exporting them to a new
/// CSV file in `export_dir` first when it is set (ETPROX_EXPORT_DIR); a day's run is recorded,
/// so a restart does not run it again.
pub async fn daily_retention(pool: PgPool, days: u32, hour: u32, export_dir: Option<PathBuf>) {
    loop {
        let now = Utc::now();
        let next = next_run(now, hour);
        let wait = (next - now).to_std().unwrap_or(Duration::from_secs(3600));
        info!(
            days,
            next_run = %next.format("%Y-%m-%d %H:%M UTC"),
            "daily retention: raw kills older than the given days are archived at the next run"
        );
        tokio::time::sleep(wait).await;
        match crate::retention::run_daily(&pool, days, export_dir.as_deref()).await {
            Ok(Some(archived)) => match (&archived.export_file, archived.report.exported) {
                (Some(file), Some(n)) => info!(
                    days,
                    archived = archived.report.archived,
                    exported = n,
                    file = %file.display(),
                    "daily retention exported and archived raw kills"
                ),
                _ => info!(
                    days,
                    archived = archived.report.archived,
                    "daily retention archived raw kills"
                ),
            },
            Ok(None) => info!("daily retention already ran today (before a restart)"),
            Err(e) => {
                warn!(error = %format!("{e:#}"), "daily retention failed; trying again tomorrow")
            }
        }
    }
}

/// The next `hour`:00 UTC after `now` (today's when it is still ahead).
fn next_run(now: DateTime<Utc>, hour: u32) -> DateTime<Utc> {
    let today_at = now
        .date_naive()
        .and_hms_opt(hour, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    if today_at > now {
        today_at
    } else {
        today_at + chrono::Duration::days(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_is_today_when_the_hour_is_ahead_else_tomorrow() {
        let at = |h, m| {
            chrono::NaiveDate::from_ymd_opt(2025, 11, 21)
                .and_then(|d| d.and_hms_opt(h, m, 0))
                .map(|t| t.and_utc())
                .unwrap()
        };
        assert_eq!(next_run(at(2, 30), 4), at(4, 0));
        assert_eq!(next_run(at(4, 0), 4), at(4, 0) + chrono::Duration::days(1));
        assert_eq!(next_run(at(23, 0), 4), at(4, 0) + chrono::Duration::days(1));
    }
}
