//! Importing round files: each file once, in one transaction, with every rejected line logged.

mod backfill;
pub mod derived;
pub mod fight;
mod files;
pub mod identity;
mod prepare;
mod store;
pub mod watcher;

pub use backfill::{BackfillOptions, BackfillReport, FileResult};
use files::read_round_files;
pub use files::{content_hash, is_round_file_name, mtime_ns, round_files_in, usable_round_file};
use prepare::{NotStored, Plan, Prepared};
pub use prepare::{Preparation, PreparedFile};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::broadcast;
use tracing::{debug, instrument, warn};

use crate::config::SessionClock;
use crate::db::import_log::{self, FileVersion, KnownVersion, NotImported};
use crate::round_file::{LineIssue, RoundFlag};

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
    /// Stored; when it replaced an earlier, shorter version of the round, under that round's id.
    Imported {
        round_id: i64,
        map_name: String,
        round_number: i16,
        kills: usize,
        flags: Vec<RoundFlag>,
        /// Lines that could not be used (also in the import log).
        rejected_lines: Vec<LineIssue>,
    },
    /// The same content or the same round was imported before (an earlier or other version of
    /// the file, or the other tracker's copy: see [`identity`]); nothing changed.
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

/// Longest text kept in an indexed column (round key, server, map, player key and name). Real
/// values are far shorter (ET names have at most 35 bytes, GUIDs 32).
pub const MAX_KEY_BYTES: usize = 1024;

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

/// The SQLSTATE of an error caused by the data sent, not by the database's state: class 22
/// (data exception: a value out of range, NUL in text, a bad encoding), 23 (integrity
/// constraint) and 54 (program limit exceeded, e.g. a value too long for an index). The same
/// content fails the same way every time, so retrying it is pointless.
pub fn data_error_code(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .filter(|c| c.starts_with("22") || c.starts_with("23") || c.starts_with("54"))
            .map(|c| c.into_owned()),
        _ => None,
    }
}

/// Imports files into one database. Cheap to clone.
#[derive(Clone)]
pub struct Importer {
    pool: PgPool,
    session: SessionClock,
    default_server_id: String,
    events: broadcast::Sender<ImportedRound>,
    /// Round files opened by this importer and its watcher (shared by clones): lets tests and
    /// benchmarks see that a restart does not read the folder's history again.
    opened: Arc<AtomicU64>,
}

impl Importer {
    pub fn new(pool: PgPool, session: SessionClock, default_server_id: impl Into<String>) -> Self {
        let (events, _) = broadcast::channel(256);
        Importer {
            pool,
            session,
            default_server_id: default_server_id.into(),
            events,
            opened: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The session clock rounds are dated by (front ends count "today" with the same).
    pub fn session(&self) -> SessionClock {
        self.session
    }

    /// How many times a round file was opened (to read or to peek at) through this importer.
    pub fn files_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    pub(crate) fn note_open(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Subscribes to "round imported" events.
    pub fn subscribe(&self) -> broadcast::Receiver<ImportedRound> {
        self.events.subscribe()
    }

    /// Reads, parses and imports one file, in one transaction.
    pub async fn import_file(&self, path: &Path) -> Result<ImportOutcome, ImportError> {
        let mut results = self
            .import_files(std::slice::from_ref(&path.to_path_buf()))
            .await;
        match results.pop() {
            Some((_, result)) => result,
            None => Ok(ImportOutcome::Empty),
        }
    }

    /// Imports several files with one commit (a backfill). Each file is still all-or-nothing:
    /// if the batch fails in the database, its files are retried one transaction each, so one
    /// bad file cannot hold back the others. Results come back in the order of `paths`.
    #[instrument(skip_all, fields(files = paths.len()))]
    pub async fn import_files(
        &self,
        paths: &[PathBuf],
    ) -> Vec<(PathBuf, Result<ImportOutcome, ImportError>)> {
        let started = std::time::Instant::now();
        let mut results: Vec<Option<Result<ImportOutcome, ImportError>>> =
            (0..paths.len()).map(|_| None).collect();
        let mut loaded: Vec<(usize, Vec<u8>, Option<SystemTime>)> = Vec::new();
        let mut versions: Vec<Option<(i64, i64)>> = vec![None; paths.len()];
        for (i, (path, read)) in paths.iter().zip(read_round_files(paths).await).enumerate() {
            self.note_open();
            match read {
                Ok(read) => {
                    versions[i] = read.version;
                    match read.content {
                        Ok(bytes) => loaded.push((i, bytes, read.modified)),
                        Err(rejection) => {
                            results[i] = Some(self.reject(path, None, rejection.to_string()).await)
                        }
                    }
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let mut prepared: Vec<Prepared<'_>> = Vec::new();
        let mut shas: Vec<Option<String>> = vec![None; paths.len()];
        for (i, bytes, modified) in &loaded {
            let path = &paths[*i];
            let preparation = self.prepare(path, bytes, *modified);
            shas[*i] = Some(match &preparation {
                Preparation::Ready(file) => file.row.content_sha256.clone(),
                Preparation::Empty { sha } | Preparation::Rejected { sha, .. } => sha.clone(),
            });
            match preparation {
                Preparation::Ready(file) => prepared.push(Prepared {
                    index: *i,
                    row: file.row,
                    round: file.round,
                    stats: file.stats,
                    bytes: bytes.as_slice(),
                }),
                Preparation::Empty { sha } => {
                    let logged = self
                        .log_outcome(path, Some(&sha), "empty", "the file is empty")
                        .await;
                    results[*i] = Some(logged.map(|()| ImportOutcome::Empty));
                }
                Preparation::Rejected { sha, reason } => {
                    results[*i] = Some(self.reject(path, Some(&sha), reason).await)
                }
            }
        }
        debug!(
            ms = started.elapsed().as_secs_f64() * 1e3,
            "batch read and prepared"
        );
        for (index, outcome) in self.store_with_fallback(paths, &prepared).await {
            results[index] = Some(outcome);
        }
        self.remember_versions(paths, &versions, &shas, &results)
            .await;
        paths
            .iter()
            .cloned()
            .zip(results)
            .map(|(path, r)| (path, r.unwrap_or(Ok(ImportOutcome::Empty))))
            .collect()
    }

    /// Remembers, per path, the version (size, mtime) of each file that reached a final outcome,
    /// so a restarted watcher does not open it again. Best effort: if this fails, the file is
    /// only read once more later and found already imported.
    async fn remember_versions(
        &self,
        paths: &[PathBuf],
        versions: &[Option<(i64, i64)>],
        shas: &[Option<String>],
        results: &[Option<Result<ImportOutcome, ImportError>>],
    ) {
        let mut rows: Vec<FileVersion<'_>> = Vec::new();
        for (i, result) in results.iter().enumerate() {
            let (Some(Ok(outcome)), Some((size, mtime))) = (result, versions[i]) else {
                continue;
            };
            let outcome = match outcome {
                ImportOutcome::Imported { .. } => "imported",
                ImportOutcome::AlreadyImported { .. } => "already_imported",
                ImportOutcome::Empty => "empty",
                ImportOutcome::Rejected { .. } => "rejected",
            };
            rows.push(FileVersion {
                source_path: paths[i].display().to_string(),
                file_size: size,
                file_mtime_ns: mtime,
                content_sha256: shas[i].as_deref(),
                outcome,
            });
        }
        if rows.is_empty() {
            return;
        }
        if let Err(e) = import_log::remember_versions(&self.pool, &rows).await {
            debug!(error = %e, "could not remember file versions; they are read again later");
        }
    }

    /// Paths with the version (size, mtime ns) whose outcome is final: what a restarted watcher
    /// need not open again.
    pub async fn known_versions(&self) -> sqlx::Result<Vec<KnownVersion>> {
        import_log::known_versions(&self.pool).await
    }

    /// Stores a batch in one transaction; if that fails in the database, each round alone.
    async fn store_with_fallback(
        &self,
        paths: &[PathBuf],
        prepared: &[Prepared<'_>],
    ) -> Vec<(usize, Result<ImportOutcome, ImportError>)> {
        if prepared.is_empty() {
            return Vec::new();
        }
        let all: Vec<&Prepared<'_>> = prepared.iter().collect();
        match self.store_retrying(&all).await {
            Ok(outcomes) => outcomes,
            Err(e) if prepared.len() == 1 => vec![self.store_failed(paths, &prepared[0], e).await],
            Err(e) => {
                warn!(error = %e, "batch failed; importing its files one by one");
                let mut outcomes = Vec::new();
                for one in prepared {
                    match self.store_retrying(&[one]).await {
                        Ok(mut o) => outcomes.append(&mut o),
                        Err(e) => outcomes.push(self.store_failed(paths, one, e).await),
                    }
                }
                outcomes
            }
        }
    }

    /// One file's transaction failed. A data error (the file holds a value PostgreSQL refuses)
    /// is permanent for this content: the file is rejected once, with the reason, in the import
    /// log. Anything else (connection, server, locks) is the database's, and is retried.
    async fn store_failed(
        &self,
        paths: &[PathBuf],
        p: &Prepared<'_>,
        source: sqlx::Error,
    ) -> (usize, Result<ImportOutcome, ImportError>) {
        let path = &paths[p.index];
        if let Some(code) = data_error_code(&source) {
            let reason = format!("PostgreSQL refused a value of this file ({code}): {source}");
            return (
                p.index,
                self.reject(path, Some(&p.row.content_sha256), reason).await,
            );
        }
        (
            p.index,
            Err(ImportError::Database {
                path: path.clone(),
                source,
            }),
        )
    }

    /// [`Self::store`], retried when it lost a deadlock against a concurrent import.
    async fn store_retrying(
        &self,
        batch: &[&Prepared<'_>],
    ) -> sqlx::Result<Vec<(usize, Result<ImportOutcome, ImportError>)>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.store(batch).await {
                Err(sqlx::Error::Database(e))
                    if attempt < 5 && matches!(e.code().as_deref(), Some("40P01" | "40001")) =>
                {
                    warn!(attempt, "import conflicted with another import, retrying");
                }
                other => return other,
            }
        }
    }

    async fn reject(
        &self,
        path: &Path,
        sha: Option<&str>,
        reason: String,
    ) -> Result<ImportOutcome, ImportError> {
        let reason = crate::round_file::field::text(reason.as_bytes());
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
        let source_path = path.display().to_string();
        let file = NotImported {
            source_path: &source_path,
            content_sha256: sha,
            outcome,
            round_id: None,
            message,
        };
        import_log::log_not_imported(&self.pool, &file)
            .await
            .map_err(|source| ImportError::Database {
                path: path.to_owned(),
                source,
            })?;
        Ok(())
    }
}
