//! What was fetched from remote round-file sources, and each source's state (migration 0007).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A remote file as recorded after its download.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Fetched {
    pub remote_path: String,
    pub size: i64,
    pub mtime: Option<i64>,
    pub spool_path: String,
    pub imported: bool,
}

pub async fn fetched(pool: &PgPool, source_id: &str) -> sqlx::Result<Vec<Fetched>> {
    sqlx::query_as!(
        Fetched,
        r#"SELECT remote_path, size, mtime, spool_path, imported_at IS NOT NULL AS "imported!"
         FROM remote_fetches WHERE source_id = $1"#,
        source_id,
    )
    .fetch_all(pool)
    .await
}

/// Records a completed download (again not imported), replacing an older version's row.
pub async fn record_fetch(
    pool: &PgPool,
    source_id: &str,
    remote_path: &str,
    size: i64,
    mtime: Option<i64>,
    spool_path: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO remote_fetches (source_id, remote_path, size, mtime, spool_path)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (source_id, remote_path) DO UPDATE
           SET size = EXCLUDED.size, mtime = EXCLUDED.mtime, spool_path = EXCLUDED.spool_path,
               fetched_at = now(), imported_at = NULL",
        source_id,
        remote_path,
        size,
        mtime,
        spool_path,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn mark_imported(
    pool: &PgPool,
    source_id: &str,
    remote_paths: &[String],
) -> sqlx::Result<()> {
    if remote_paths.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE remote_fetches SET imported_at = now()
         WHERE source_id = $1 AND remote_path = ANY($2)",
        source_id,
        remote_paths,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A source's state as its poller last wrote it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SourceState {
    pub source_id: String,
    pub display: String,
    pub up: bool,
    pub since: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub files_fetched: i64,
    pub bytes_fetched: i64,
}

/// Writes the source's state; `since` moves only when `up` changes.
pub async fn set_state(
    pool: &PgPool,
    source_id: &str,
    display: &str,
    up: bool,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO remote_sources (source_id, display, up, last_error, last_poll_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $3 THEN now() END)
         ON CONFLICT (source_id) DO UPDATE
           SET display = EXCLUDED.display, up = EXCLUDED.up, last_error = EXCLUDED.last_error,
               since = CASE WHEN remote_sources.up = EXCLUDED.up THEN remote_sources.since
                            ELSE now() END,
               last_poll_at = COALESCE(EXCLUDED.last_poll_at, remote_sources.last_poll_at)",
        source_id,
        display,
        up,
        error,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn add_transfer(
    pool: &PgPool,
    source_id: &str,
    files: i64,
    bytes: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE remote_sources SET files_fetched = files_fetched + $2,
                bytes_fetched = bytes_fetched + $3 WHERE source_id = $1",
        source_id,
        files,
        bytes,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn states(pool: &PgPool) -> sqlx::Result<Vec<SourceState>> {
    sqlx::query_as!(
        SourceState,
        "SELECT source_id, display, up, since, last_error, last_poll_at, files_fetched,
                bytes_fetched FROM remote_sources ORDER BY display",
    )
    .fetch_all(pool)
    .await
}
