//! Retention: what the raw tables hold, and archiving raw kills past a number of days.

use chrono::NaiveDate;
use sqlx::PgPool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TableStats {
    pub table_name: String,
    pub row_count: i64,
    pub total_bytes: i64,
    pub oldest_date: Option<NaiveDate>,
    pub newest_date: Option<NaiveDate>,
}

/// `proximity_data_stats()`: rows, size and date range per table.
pub async fn data_stats(pool: &PgPool) -> sqlx::Result<Vec<TableStats>> {
    sqlx::query_as("SELECT * FROM proximity_data_stats()")
        .fetch_all(pool)
        .await
}

/// How many raw kill rows an archive with this cutoff would remove, and their date range.
pub async fn archive_preview(
    pool: &PgPool,
    days: i32,
) -> sqlx::Result<(i64, Option<NaiveDate>, Option<NaiveDate>)> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(session_date), MAX(session_date) FROM kill_context
         WHERE session_date < CURRENT_DATE - $1::int",
    )
    .bind(days)
    .fetch_one(pool)
    .await
}

/// Writes the raw kills that an archive would remove to `writer` as CSV with a header line
/// (PostgreSQL's own CSV writer, streamed). Returns the bytes written.
pub async fn export_archivable(
    pool: &PgPool,
    days: u32,
    writer: &mut (impl std::io::Write + Send),
) -> anyhow::Result<u64> {
    use futures_util::TryStreamExt;
    let mut conn = pool.acquire().await?;
    // COPY takes no bind parameters; `days` is an integer, so formatting it in is safe.
    let sql = format!(
        "COPY (SELECT * FROM kill_context WHERE session_date < CURRENT_DATE - {days} ORDER BY id) \
         TO STDOUT WITH (FORMAT csv, HEADER)"
    );
    let mut stream = conn.copy_out_raw(&sql).await?;
    let mut written = 0u64;
    while let Some(chunk) = stream.try_next().await? {
        writer.write_all(&chunk)?;
        written += chunk.len() as u64;
    }
    writer.flush()?;
    Ok(written)
}

/// `archive_old_proximity_data(days)`: deletes raw kills older than `days`; aggregates stay.
pub async fn archive(pool: &PgPool, days: i32) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT * FROM archive_old_proximity_data($1)")
        .bind(days)
        .fetch_all(pool)
        .await
}
