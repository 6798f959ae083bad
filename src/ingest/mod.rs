//! Importing round files: each file once, in one transaction, with every rejected line logged.

pub mod watcher;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::io::AsyncReadExt;
use tokio::sync::broadcast;
use tracing::{info, instrument, warn};

use crate::config::SessionClock;
use crate::db::rounds::{find_existing, insert_round, RoundRow};
use crate::round_file::{
    parse_round_file, FileRejection, FormatVersion, LineIssue, ParsedRound, RoundFlag,
    MAX_ROUND_FILE_BYTES,
};
use crate::stats::aggregate_round;

/// Sent after a round has been committed (the Discord side posts summaries from it).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRound {
    pub round_id: i64,
    pub map_name: String,
    pub round_number: i16,
    pub server_id: String,
    pub session_date: chrono::NaiveDate,
    pub ended_at: Option<DateTime<Utc>>,
    pub kills: usize,
    pub source_path: PathBuf,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportOutcome {
    Imported {
        round_id: i64,
        map_name: String,
        round_number: i16,
        kills: usize,
        flags: Vec<RoundFlag>,
        /// Lines that could not be used (also in the import log).
        rejected_lines: Vec<LineIssue>,
    },
    /// The same content or the same round was imported before; nothing changed.
    AlreadyImported {
        round_id: i64,
        first_path: String,
    },
    Empty,
    /// The whole file was refused; nothing was stored but an import-log line.
    Rejected {
        reason: String,
    },
}

impl ImportOutcome {
    /// True when something in the file was refused (a line or the whole file).
    pub fn has_rejections(&self) -> bool {
        match self {
            ImportOutcome::Imported { rejected_lines, .. } => !rejected_lines.is_empty(),
            ImportOutcome::Rejected { .. } => true,
            _ => false,
        }
    }
}

/// Failures that say nothing about the file itself; the same import can be retried later.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error while importing {path}: {source}")]
    Database { path: PathBuf, source: sqlx::Error },
}

impl ImportError {
    /// The file disappeared or cannot be read right now.
    pub fn is_io(&self) -> bool {
        matches!(self, ImportError::Io { .. })
    }
}

/// Imports files into one database. Cheap to clone.
#[derive(Clone)]
pub struct Importer {
    pool: PgPool,
    session: SessionClock,
    default_server_id: String,
    events: broadcast::Sender<ImportedRound>,
}

impl Importer {
    pub fn new(pool: PgPool, session: SessionClock, default_server_id: impl Into<String>) -> Self {
        let (events, _) = broadcast::channel(256);
        Importer {
            pool,
            session,
            default_server_id: default_server_id.into(),
            events,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Subscribes to "round imported" events.
    pub fn subscribe(&self) -> broadcast::Receiver<ImportedRound> {
        self.events.subscribe()
    }

    /// Reads, parses and imports one file.
    #[instrument(skip(self), fields(path = %path.display()))]
    pub async fn import_file(&self, path: &Path) -> Result<ImportOutcome, ImportError> {
        let io_err = |source| ImportError::Io {
            path: path.to_owned(),
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(io_err)?;
        let meta = file.metadata().await.map_err(io_err)?;
        if meta.len() > MAX_ROUND_FILE_BYTES {
            let rejection = FileRejection::TooLarge {
                size: meta.len(),
                limit: MAX_ROUND_FILE_BYTES,
            };
            return self.reject(path, None, rejection.to_string()).await;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        // take() guards against a file that grows past the limit while we read it.
        file.take(MAX_ROUND_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(io_err)?;
        if bytes.len() as u64 > MAX_ROUND_FILE_BYTES {
            let rejection = FileRejection::TooLarge {
                size: bytes.len() as u64,
                limit: MAX_ROUND_FILE_BYTES,
            };
            return self.reject(path, None, rejection.to_string()).await;
        }
        let modified = meta.modified().ok();
        self.import_bytes(path, &bytes, modified).await
    }

    /// Imports file content already in memory (`path` is recorded as the source).
    pub async fn import_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        modified: Option<SystemTime>,
    ) -> Result<ImportOutcome, ImportError> {
        let sha = content_hash(bytes);
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let round = match parse_round_file(bytes, &file_name) {
            Ok(round) => round,
            Err(FileRejection::Empty) => {
                self.log_outcome(path, Some(&sha), "empty", "the file is empty")
                    .await?;
                return Ok(ImportOutcome::Empty);
            }
            Err(rejection) => return self.reject(path, Some(&sha), rejection.to_string()).await,
        };
        let row = self.round_row(path, &sha, &round, modified);
        self.store(path, row, round).await
    }

    fn round_row(
        &self,
        path: &Path,
        sha: &str,
        round: &ParsedRound<'_>,
        modified: Option<SystemTime>,
    ) -> RoundRow {
        let h = &round.header;
        let mut warnings: Vec<serde_json::Value> = round
            .warnings
            .iter()
            .map(|w| serde_json::json!({"line": w.line, "reason": w.reason}))
            .collect();
        let unix = |s: Option<i64>| s.and_then(|s| Utc.timestamp_opt(s, 0).single());
        let started_at = unix(h.started_unix);
        let mut ended_at = unix(h.ended_unix);
        let session_date = if let Some(start) = started_at {
            self.session.session_date(start)
        } else if let Some(local) = h.ended_local {
            ended_at = self.session.local_to_utc(local);
            self.session.session_date_local(local)
        } else {
            let instant: DateTime<Utc> = modified.map(DateTime::from).unwrap_or_else(Utc::now);
            warnings.push(serde_json::json!({
                "line": 0,
                "reason": "no end time in the file name: used the file's modification time",
            }));
            ended_at = Some(instant);
            self.session.session_date(instant)
        };
        let server_id = h
            .server_id
            .clone()
            .unwrap_or_else(|| self.default_server_id.clone());
        let round_key = match (round.format, &h.round_id) {
            (FormatVersion::V3, Some(id)) => format!("v3:{server_id}:{id}"),
            _ => format!("v2:{sha}"),
        };
        let mut flags: Vec<RoundFlag> = round.flags.clone();
        flags.sort();
        RoundRow {
            round_key,
            content_sha256: sha.to_owned(),
            format_version: round.format.number(),
            server_id,
            server_name: h.server_name.clone(),
            map_name: h.map_name.clone(),
            file_map_name: h.file_map_name.clone(),
            round_number: h.round_number,
            gametype: h.gametype,
            started_at,
            ended_at,
            session_date,
            source_path: path.display().to_string(),
            flags: flags.iter().map(|f| f.as_str().to_owned()).collect(),
            warnings: serde_json::Value::Array(warnings),
        }
    }

    async fn store(
        &self,
        path: &Path,
        mut row: RoundRow,
        round: ParsedRound<'_>,
    ) -> Result<ImportOutcome, ImportError> {
        let db_err = |source| ImportError::Database {
            path: path.to_owned(),
            source,
        };
        let stats = aggregate_round(&round);
        if stats.unresolved_allies > 0 {
            if let serde_json::Value::Array(w) = &mut row.warnings {
                w.push(serde_json::json!({
                    "line": 0,
                    "reason": format!("{} supporting-ally names match no player of the round", stats.unresolved_allies),
                }));
            }
        }
        let mut attempt = 0;
        let inserted = loop {
            attempt += 1;
            let mut conn = self.pool.acquire().await.map_err(db_err)?;
            match insert_round(&mut conn, &row, &round.kills, &stats, &round.rejected).await {
                Ok(id) => break id,
                // Concurrent imports touching the same players can deadlock; the loser retries.
                Err(sqlx::Error::Database(e))
                    if attempt < 5 && matches!(e.code().as_deref(), Some("40P01" | "40001")) =>
                {
                    warn!(attempt, "import conflicted with another import, retrying");
                    continue;
                }
                Err(e) => return Err(db_err(e)),
            }
        };
        let Some(round_id) = inserted else {
            let mut conn = self.pool.acquire().await.map_err(db_err)?;
            let (round_id, first_path) =
                find_existing(&mut conn, &row.content_sha256, &row.round_key)
                    .await
                    .map_err(db_err)?
                    .unwrap_or((0, String::new()));
            return Ok(ImportOutcome::AlreadyImported {
                round_id,
                first_path,
            });
        };
        info!(round_id, map = %row.map_name, round = row.round_number, kills = round.kills.len(), "imported round");
        let _ = self.events.send(ImportedRound {
            round_id,
            map_name: row.map_name.clone(),
            round_number: row.round_number,
            server_id: row.server_id.clone(),
            session_date: row.session_date,
            ended_at: row.ended_at,
            kills: round.kills.len(),
            source_path: path.to_owned(),
        });
        Ok(ImportOutcome::Imported {
            round_id,
            map_name: row.map_name,
            round_number: row.round_number,
            kills: round.kills.len(),
            flags: round.flags,
            rejected_lines: round.rejected,
        })
    }

    async fn reject(
        &self,
        path: &Path,
        sha: Option<&str>,
        reason: String,
    ) -> Result<ImportOutcome, ImportError> {
        warn!(path = %path.display(), %reason, "rejected round file");
        self.log_outcome(path, sha, "rejected", &reason).await?;
        Ok(ImportOutcome::Rejected { reason })
    }

    /// Records a file that was not imported, once per path, content and outcome.
    async fn log_outcome(
        &self,
        path: &Path,
        sha: Option<&str>,
        outcome: &str,
        message: &str,
    ) -> Result<(), ImportError> {
        sqlx::query(
            "INSERT INTO import_log (source_path, content_sha256, outcome, message)
             SELECT $1, $2, $3, $4
             WHERE NOT EXISTS (SELECT 1 FROM import_log WHERE source_path = $1
                               AND content_sha256 IS NOT DISTINCT FROM $2 AND outcome = $3)",
        )
        .bind(path.display().to_string())
        .bind(sha)
        .bind(outcome)
        .bind(message)
        .execute(&self.pool)
        .await
        .map_err(|source| ImportError::Database {
            path: path.to_owned(),
            source,
        })?;
        Ok(())
    }
}

/// SHA-256 of the content with CRLF line ends read as LF, so a copy that went through a Windows
/// tool is recognised as the same round.
pub fn content_hash(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut rest = bytes;
    while let Some(at) = memchr::memmem::find(rest, b"\r\n") {
        hasher.update(&rest[..at]);
        rest = &rest[at + 1..];
    }
    hasher.update(rest);
    hex::encode(hasher.finalize())
}

/// Round files in `dir` (not recursive), sorted by name: `*.txt`, skipping the trackers'
/// temporary `*.tmp` files.
pub fn round_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && is_round_file_name(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Files the watcher and `import <dir>` consider: names ending in `.txt`.
pub fn is_round_file_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
}
