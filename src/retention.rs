//! Retention, once for every front end (`etprox retention`, `/retention`, the bot's daily job):
//! what the raw tables hold, the plan of an archive (dry run), archiving raw kills past a number
//! of days with an optional CSV export, and the once-a-day run. The SQL is in [`db::retention`];
//! how the result is shown is the caller's.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::db;
pub use crate::db::retention::{ArchiveError, ArchiveReport, TableStats};

/// Rows, size and date range per table.
pub async fn stats(pool: &PgPool) -> sqlx::Result<Vec<TableStats>> {
    db::retention::data_stats(pool).await
}

/// What an archive of raw kills older than `days` would remove (a dry run changes nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub days: i32,
    pub rows: i64,
    pub oldest: Option<NaiveDate>,
    pub newest: Option<NaiveDate>,
    /// Months (their first days) whose partitions would be dropped whole.
    pub whole_months: Vec<NaiveDate>,
}

impl Plan {
    /// `" (session days A to B)"`, or nothing when no row would go.
    pub fn range(&self) -> String {
        session_days(self.oldest, self.newest)
    }
}

/// `"2 whole months (2024-01 to 2024-02) dropped, the rest deleted row by row"`, or how
/// the rows go when no month goes whole.
pub fn how_rows_go(whole_months: &[NaiveDate]) -> String {
    match (whole_months.first(), whole_months.last()) {
        (Some(a), Some(b)) => format!(
            "{} whole month{} ({} to {}) dropped, the rest deleted row by row",
            whole_months.len(),
            if whole_months.len() == 1 { "" } else { "s" },
            a.format("%Y-%m"),
            b.format("%Y-%m"),
        ),
        _ => "no whole month; deleted row by row".to_string(),
    }
}

pub async fn plan(pool: &PgPool, days: i32) -> sqlx::Result<Plan> {
    let db::retention::RawKills {
        rows,
        oldest,
        newest,
    } = db::retention::archive_preview(pool, days).await?;
    let cutoff = db::retention::cutoff(pool, days).await?;
    let whole_months = db::retention::whole_months_before(pool, cutoff).await?;
    Ok(Plan {
        days,
        rows,
        oldest,
        newest,
        whole_months,
    })
}

/// `" (session days A to B)"` for a date range, or nothing without one.
pub fn session_days(oldest: Option<NaiveDate>, newest: Option<NaiveDate>) -> String {
    match (oldest, newest) {
        (Some(a), Some(b)) => format!(" (session days {a} to {b})"),
        _ => String::new(),
    }
}

/// What an archive did, and the export file when there was one.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    pub report: ArchiveReport,
    pub export_file: Option<PathBuf>,
}

impl Archived {
    /// `" (session days A to B)"` of the rows archived.
    pub fn range(&self) -> String {
        session_days(self.report.oldest, self.report.newest)
    }
}

/// Why an archive did not happen; in both cases no row was deleted.
#[derive(Debug)]
pub enum ArchiveFailure {
    /// The export file could not be created in this folder.
    CreateExport { dir: PathBuf, error: std::io::Error },
    /// The archive failed; an export file, if made, stays (its rows are all still stored).
    Archive {
        error: ArchiveError,
        export_file: Option<PathBuf>,
    },
}

impl From<ArchiveFailure> for anyhow::Error {
    /// As the command line and the daily job report it.
    fn from(failure: ArchiveFailure) -> anyhow::Error {
        match failure {
            ArchiveFailure::CreateExport { dir, error } => anyhow::Error::new(error)
                .context(format!("creating an export file in {}", dir.display())),
            ArchiveFailure::Archive { error, .. } => anyhow::Error::new(error),
        }
    }
}

/// Archives the raw kills of session days older than `days`; with `export_dir`, writes them to
/// a new CSV file there first. One transaction and one cutoff for export and delete: the file
/// is on disk before the delete commits (see [`db::retention::archive_older_than`]).
pub async fn archive(
    pool: &PgPool,
    days: i32,
    export_dir: Option<&Path>,
) -> Result<Archived, ArchiveFailure> {
    let mut file = match export_dir {
        Some(dir) => Some(
            db::retention::ExportFile::create_new(dir, chrono::Utc::now()).map_err(|error| {
                ArchiveFailure::CreateExport {
                    dir: dir.to_path_buf(),
                    error,
                }
            })?,
        ),
        None => None,
    };
    let sink = file
        .as_mut()
        .map(|f| f as &mut dyn db::retention::ExportSink);
    let result = db::retention::archive_older_than(pool, days, sink).await;
    let export_file = file.map(|f| f.path().to_path_buf());
    match result {
        Ok(report) => Ok(Archived {
            report,
            export_file,
        }),
        Err(error) => Err(ArchiveFailure::Archive { error, export_file }),
    }
}

/// Today's run of the daily job, once a day: `None` when it ran today already (before a
/// restart), else what it archived. With `export_dir`, the rows go to a new CSV file first.
pub async fn run_daily(
    pool: &PgPool,
    days: u32,
    export_dir: Option<&Path>,
) -> anyhow::Result<Option<Archived>> {
    let days = i32::try_from(days)?;
    // Claimed first, so two bots (or a restart) never archive twice on one day.
    if !db::retention::claim_daily_run(pool, days).await? {
        return Ok(None);
    }
    let archived = match archive(pool, days, export_dir).await {
        Ok(archived) => archived,
        Err(e) => {
            // Not done today after all: a restart may try again.
            let _ = db::retention::release_daily_run(pool).await;
            return Err(e.into());
        }
    };
    db::retention::finish_daily_run(pool, archived.report.archived).await?;
    Ok(Some(archived))
}

/// Bytes in B, KiB, MiB or GiB, one decimal above bytes.
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn a_range_is_named_only_when_there_is_one() {
        let day = |d| NaiveDate::from_ymd_opt(2025, 11, d);
        assert_eq!(
            session_days(day(1), day(3)),
            " (session days 2025-11-01 to 2025-11-03)"
        );
        assert_eq!(session_days(None, None), "");
    }

    #[test]
    fn the_months_dropped_whole_are_named() {
        let m = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        assert_eq!(
            how_rows_go(&[m(2024, 1), m(2024, 2)]),
            "2 whole months (2024-01 to 2024-02) dropped, the rest deleted row by row"
        );
        assert_eq!(
            how_rows_go(&[m(2024, 12)]),
            "1 whole month (2024-12 to 2024-12) dropped, the rest deleted row by row"
        );
        assert_eq!(how_rows_go(&[]), "no whole month; deleted row by row");
    }

    #[test]
    fn failures_read_as_before() {
        let failure = ArchiveFailure::CreateExport {
            dir: PathBuf::from("/nowhere"),
            error: std::io::Error::other("denied"),
        };
        let error: anyhow::Error = failure.into();
        assert_eq!(
            format!("{error:#}"),
            "creating an export file in /nowhere: denied"
        );
    }
}
