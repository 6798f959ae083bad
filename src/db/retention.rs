//! Retention: what the raw tables hold, and archiving raw kills past a number of days: the
//! month partitions of `kill_context` wholly before the cutoff are dropped, the days of a partly
//! kept month deleted row by row (`archive_proximity_data_before`, migration 0008).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone)]
pub struct TableStats {
    pub table_name: String,
    pub row_count: i64,
    pub total_bytes: i64,
    pub oldest_date: Option<NaiveDate>,
    pub newest_date: Option<NaiveDate>,
}

/// `proximity_data_stats()`: rows, size and date range per table.
pub async fn data_stats(pool: &PgPool) -> sqlx::Result<Vec<TableStats>> {
    sqlx::query_as!(
        TableStats,
        r#"SELECT table_name AS "table_name!", row_count AS "row_count!",
                total_bytes AS "total_bytes!", oldest_date, newest_date
         FROM proximity_data_stats()"#
    )
    .fetch_all(pool)
    .await
}

/// Raw kill rows before a cutoff, and their date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawKills {
    pub rows: i64,
    pub oldest: Option<NaiveDate>,
    pub newest: Option<NaiveDate>,
}

/// How many raw kill rows an archive with this cutoff would remove, and their date range.
pub async fn archive_preview(pool: &PgPool, days: i32) -> sqlx::Result<RawKills> {
    sqlx::query_as!(
        RawKills,
        r#"SELECT COUNT(*) AS "rows!", MIN(session_date) AS oldest, MAX(session_date) AS newest
         FROM kill_context WHERE session_date < CURRENT_DATE - $1::int"#,
        days,
    )
    .fetch_one(pool)
    .await
}

/// The first session day an archive of raw kills older than `days` keeps.
pub async fn cutoff(db: impl sqlx::PgExecutor<'_>, days: i32) -> sqlx::Result<NaiveDate> {
    sqlx::query_scalar!(r#"SELECT CURRENT_DATE - $1::int AS "cutoff!""#, days)
        .fetch_one(db)
        .await
}

/// The first days of the month partitions an archive with this cutoff drops whole.
pub async fn whole_months_before(
    db: impl sqlx::PgExecutor<'_>,
    cutoff: NaiveDate,
) -> sqlx::Result<Vec<NaiveDate>> {
    sqlx::query_scalar!(
        r#"SELECT first_day AS "first_day!" FROM kill_context_partitions() WHERE end_day <= $1"#,
        cutoff
    )
    .fetch_all(db)
    .await
}

/// Where an archive writes the raw kills it removes.
pub trait ExportSink: std::io::Write + Send {
    /// Makes what was written durable (flushed and on disk). Called before the delete commits;
    /// when it fails, nothing is deleted.
    fn persist(&mut self) -> std::io::Result<()>;

    /// Empties the sink so the export can be written again (the archive's transaction lost a
    /// serialization conflict and is retried). A sink that cannot start over makes that
    /// conflict an error instead.
    fn restart(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "this export cannot be written again",
        ))
    }
}

/// A new CSV file in the export folder: never an existing one.
pub struct ExportFile {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl ExportFile {
    /// Creates `kill_context-<UTC time>.csv` in `dir` (and `dir` itself when missing). A file of
    /// that name is never overwritten: the next free `-<n>` suffix is taken instead.
    pub fn create_new(dir: &Path, now: DateTime<Utc>) -> std::io::Result<ExportFile> {
        std::fs::create_dir_all(dir)?;
        let stem = format!("kill_context-{}", now.format("%Y%m%d-%H%M%S"));
        for n in 0..1000 {
            let name = if n == 0 {
                format!("{stem}.csv")
            } else {
                format!("{stem}-{n}.csv")
            };
            let path = dir.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(ExportFile {
                        path,
                        out: std::io::BufWriter::new(file),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{stem}.csv and 999 numbered variants already exist"),
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::io::Write for ExportFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl ExportSink for ExportFile {
    fn restart(&mut self) -> std::io::Result<()> {
        use std::io::{Seek, Write};
        self.out.flush()?;
        let file = self.out.get_mut();
        file.set_len(0)?;
        file.rewind()?;
        Ok(())
    }

    fn persist(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        // The new directory entry must be on disk too, or a crash can lose the whole file.
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// What an archive did.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveReport {
    /// Raw kills of session days before this date were archived.
    pub cutoff: NaiveDate,
    /// Raw kill rows deleted (the same rows as exported, when exporting).
    pub archived: i64,
    /// CSV records written (without the header), when exporting.
    pub exported: Option<i64>,
    pub exported_bytes: u64,
    pub oldest: Option<NaiveDate>,
    pub newest: Option<NaiveDate>,
    /// The months (their first days) whose partitions were dropped whole; the other rows were
    /// deleted one by one.
    pub whole_months: Vec<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive: database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("archive: writing the export failed, nothing was deleted: {0}")]
    Export(#[from] std::io::Error),
    #[error("archive: {deleted} rows would be deleted but {exported} were exported; nothing was deleted")]
    Mismatch { exported: i64, deleted: i64 },
}

/// Counts CSV records: a newline ends one unless it is inside a quoted field (PostgreSQL quotes
/// a field with a newline; a quote inside one is doubled, which toggles twice).
struct CsvRecords {
    in_quotes: bool,
    records: i64,
}

impl CsvRecords {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.records += 1,
                _ => {}
            }
        }
    }
}

/// Archives the raw kills of session days older than `days`, exporting them first when `export`
/// is given. Export and removal run in one REPEATABLE READ transaction with one cutoff date
/// computed once, and writers to `kill_context` wait for it (a lock taken before the snapshot;
/// readers go on): the months dropped and the rows deleted are exactly the rows the export
/// wrote, and the removal commits only after the export is on disk. A backfill of old days
/// that waited writes its rows after the archive (to the default partition when its month was
/// dropped); they stay for the next run. Aggregates are kept.
pub async fn archive_older_than(
    pool: &PgPool,
    days: i32,
    mut export: Option<&mut dyn ExportSink>,
) -> Result<ArchiveReport, ArchiveError> {
    // Rounds still waiting for the heatmap roll-up are rolled up first (the archive does it too,
    // inside its snapshot; a reader rolling one up meanwhile would be a serialization conflict).
    sqlx::query_scalar!("SELECT roll_up_heatmap(NULL)")
        .fetch_one(pool)
        .await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match archive_once(pool, days, export.as_deref_mut()).await {
            // A serialization failure (a round rolled up meanwhile) or a deadlock (a writer
            // that read kill_context before our lock): the transaction is tried again.
            Err(ArchiveError::Database(sqlx::Error::Database(e)))
                if attempt < 3 && matches!(e.code().as_deref(), Some("40001" | "40P01")) =>
            {
                if let Some(sink) = export.as_mut() {
                    sink.restart()?;
                }
            }
            other => return other,
        }
    }
}

async fn archive_once<'s>(
    pool: &PgPool,
    days: i32,
    mut export: Option<&mut (dyn ExportSink + 's)>,
) -> Result<ArchiveReport, ArchiveError> {
    use futures_util::TryStreamExt;
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await?;
    // Before the first query, so the snapshot comes after every write that got in first.
    sqlx::query!("LOCK TABLE kill_context IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let cutoff = cutoff(&mut *tx, days).await?;
    let before = sqlx::query_as!(
        RawKills,
        r#"SELECT COUNT(*) AS "rows!", MIN(session_date) AS oldest, MAX(session_date) AS newest
         FROM kill_context WHERE session_date < $1"#,
        cutoff,
    )
    .fetch_one(&mut *tx)
    .await?;
    let whole_months = whole_months_before(&mut *tx, cutoff).await?;
    let mut exported = None;
    let mut exported_bytes = 0u64;
    if let Some(sink) = export.as_mut() {
        // COPY takes no bind parameters; a date's ISO text is safe to put in.
        let sql = format!(
            "COPY (SELECT * FROM kill_context WHERE session_date < DATE '{}' ORDER BY round_id, kill_index) \
             TO STDOUT WITH (FORMAT csv, HEADER)",
            cutoff.format("%Y-%m-%d")
        );
        let mut records = CsvRecords {
            in_quotes: false,
            records: 0,
        };
        {
            let mut stream = tx.copy_out_raw(&sql).await?;
            while let Some(chunk) = stream.try_next().await? {
                sink.write_all(&chunk)?;
                records.feed(&chunk);
                exported_bytes += chunk.len() as u64;
            }
        }
        sink.persist()?;
        exported = Some((records.records - 1).max(0));
    }
    let deleted: i64 = sqlx::query_as!(
        ArchivedTable,
        r#"SELECT table_name AS "table_name!", rows_archived AS "rows_archived!"
         FROM archive_proximity_data_before($1)"#,
        cutoff,
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    // The raw fight tables (migration 0014) are archived with the kills but not exported; the
    // export check compares the kill rows only.
    .filter(|t| t.table_name == "kill_context")
    .map(|t| t.rows_archived)
    .sum();
    if let Some(written) = exported {
        if written != deleted || deleted != before.rows {
            return Err(ArchiveError::Mismatch {
                exported: written,
                deleted,
            });
        }
    }
    tx.commit().await?;
    Ok(ArchiveReport {
        cutoff,
        archived: deleted,
        exported,
        exported_bytes,
        oldest: before.oldest,
        newest: before.newest,
        whole_months,
    })
}

/// `archive_old_proximity_data(days)`: deletes raw kills older than `days`; aggregates stay.
pub async fn archive(pool: &PgPool, days: i32) -> sqlx::Result<Vec<ArchivedTable>> {
    sqlx::query_as!(
        ArchivedTable,
        r#"SELECT table_name AS "table_name!", rows_archived AS "rows_archived!"
         FROM archive_old_proximity_data($1)"#,
        days,
    )
    .fetch_all(pool)
    .await
}

/// Rows an archive removed from one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedTable {
    pub table_name: String,
    pub rows_archived: i64,
}

/// Claims today's daily retention run (with 0 rows archived so far); false when it was
/// claimed already today.
pub async fn claim_daily_run(pool: &PgPool, days: i32) -> sqlx::Result<bool> {
    let claimed = sqlx::query!(
        "INSERT INTO retention_runs (ran_on, days, rows_archived) VALUES (CURRENT_DATE, $1, 0)
         ON CONFLICT (ran_on) DO NOTHING",
        days
    )
    .execute(pool)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Gives today's claimed run back (it failed), so a restart may try again.
pub async fn release_daily_run(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM retention_runs WHERE ran_on = CURRENT_DATE")
        .execute(pool)
        .await?;
    Ok(())
}

/// Records what today's run archived.
pub async fn finish_daily_run(pool: &PgPool, rows_archived: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE retention_runs SET rows_archived = $1 WHERE ran_on = CURRENT_DATE",
        rows_archived
    )
    .execute(pool)
    .await?;
    Ok(())
}
