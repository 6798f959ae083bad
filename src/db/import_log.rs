//! What the importer writes about files: the import log with rejected lines, and each file
//! version's final outcome (`import_file_state`, so a restarted watcher need not read it again).

use sqlx::{PgConnection, PgExecutor};

use crate::round_file::LineIssue;

/// One import-log entry: a round that was imported, with the lines it rejected.
pub struct ImportLogEntry<'a> {
    pub source_path: &'a str,
    pub content_sha256: &'a str,
    pub round_id: i64,
    pub rejected: &'a [LineIssue],
    /// Set when this import replaced an earlier version of the round.
    pub message: Option<String>,
}

columns!(EntryColumns<'a> from ImportLogEntry<'a> {
    source_path: &'a str = |e| e.source_path,
    content_sha256: &'a str = |e| e.content_sha256,
    round_id: i64 = |e| e.round_id,
    rejected: i32 = |e| i32::try_from(e.rejected.len()).unwrap_or(i32::MAX),
    message: Option<&'a str> = |e| e.message.as_deref(),
});

/// A rejected line of an imported round.
struct RejectedLine<'a> {
    round_id: i64,
    line: &'a LineIssue,
}

columns!(LineColumns<'a> from RejectedLine<'a> {
    round_id: i64 = |l| l.round_id,
    line_number: i32 = |l| i32::try_from(l.line.line).unwrap_or(i32::MAX),
    reason: &'a str = |l| l.line.reason.as_str(),
    line_excerpt: &'a str = |l| l.line.excerpt.as_str(),
});

/// Logs imported rounds and their rejected lines.
pub async fn log_imports(
    conn: &mut PgConnection,
    entries: &[ImportLogEntry<'_>],
) -> sqlx::Result<()> {
    let lines: Vec<RejectedLine<'_>> = entries
        .iter()
        .flat_map(|e| {
            e.rejected.iter().map(move |line| RejectedLine {
                round_id: e.round_id,
                line,
            })
        })
        .collect();
    let e = EntryColumns::new(entries);
    let l = LineColumns::new(&lines);
    sqlx::query!(
        "WITH lg AS (
            INSERT INTO import_log (source_path, content_sha256, outcome, round_id, message)
            SELECT t.source_path, t.content_sha256,
                   CASE WHEN t.rejected > 0 THEN 'imported_with_rejected_lines' ELSE 'imported' END,
                   t.round_id, t.message
            FROM unnest($1::text[], $2::text[], $3::int8[], $4::int4[], $5::text[])
                 AS t(source_path, content_sha256, round_id, rejected, message)
            RETURNING id, round_id
         )
         INSERT INTO import_rejected_lines (import_log_id, line_number, reason, line_excerpt)
         SELECT lg.id, t.line_number, t.reason, t.line_excerpt
         FROM unnest($6::int8[], $7::int4[], $8::text[], $9::text[])
              AS t(round_id, line_number, reason, line_excerpt)
         JOIN lg ON lg.round_id = t.round_id
         ON CONFLICT DO NOTHING",
        &e.source_path as &[&str],
        &e.content_sha256 as &[&str],
        &e.round_id,
        &e.rejected,
        &e.message as &[Option<&str>],
        &l.round_id,
        &l.line_number,
        &l.reason as &[&str],
        &l.line_excerpt as &[&str],
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A file that was not imported (rejected, or another copy of a stored round).
pub struct NotImported<'a> {
    pub source_path: &'a str,
    pub content_sha256: Option<&'a str>,
    pub outcome: &'a str,
    /// The stored round it is a copy of.
    pub round_id: Option<i64>,
    pub message: &'a str,
}

/// Logs a file that was not imported; once per path, content and outcome.
pub async fn log_not_imported(db: impl PgExecutor<'_>, file: &NotImported<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO import_log (source_path, content_sha256, outcome, round_id, message)
         SELECT $1, $2, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM import_log WHERE source_path = $1
                           AND content_sha256 IS NOT DISTINCT FROM $2 AND outcome = $3)",
        file.source_path,
        file.content_sha256,
        file.outcome,
        file.round_id,
        file.message,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A file version (size, modification time) and what importing it came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVersion<'a> {
    pub source_path: String,
    pub file_size: i64,
    pub file_mtime_ns: i64,
    pub content_sha256: Option<&'a str>,
    pub outcome: &'a str,
}

columns!(FileVersionColumns<'a> from FileVersion<'a> {
    source_path: &'a str = |f| f.source_path.as_str(),
    file_size: i64 = |f| f.file_size,
    file_mtime_ns: i64 = |f| f.file_mtime_ns,
    content_sha256: Option<&'a str> = |f| f.content_sha256,
    outcome: &'a str = |f| f.outcome,
});

/// Remembers the final outcome of file versions (a newer version of a path replaces its row).
pub async fn remember_versions(
    db: impl PgExecutor<'_>,
    files: &[FileVersion<'_>],
) -> sqlx::Result<()> {
    let c = FileVersionColumns::new(files);
    sqlx::query!(
        "INSERT INTO import_file_state (source_path, file_size, file_mtime_ns, content_sha256, outcome)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[])
         ON CONFLICT (source_path) DO UPDATE SET
             file_size = EXCLUDED.file_size, file_mtime_ns = EXCLUDED.file_mtime_ns,
             content_sha256 = EXCLUDED.content_sha256, outcome = EXCLUDED.outcome,
             recorded_at = now()",
        &c.source_path as &[&str],
        &c.file_size,
        &c.file_mtime_ns,
        &c.content_sha256 as &[Option<&str>],
        &c.outcome as &[&str],
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A path's version whose outcome is final: what a restarted watcher need not open again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownVersion {
    pub source_path: String,
    pub file_size: i64,
    pub file_mtime_ns: i64,
}

pub async fn known_versions(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<KnownVersion>> {
    sqlx::query_as!(
        KnownVersion,
        "SELECT source_path, file_size, file_mtime_ns FROM import_file_state"
    )
    .fetch_all(db)
    .await
}
