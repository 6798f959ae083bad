//! Importing round files: each file once, in one transaction, with every rejected line logged.

pub mod identity;
mod store;
pub mod watcher;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::io::AsyncReadExt;
use tokio::sync::broadcast;
use tracing::{debug, instrument, warn};

use crate::config::SessionClock;
use crate::db::import_log::{self, FileVersion, KnownVersion, NotImported};
use crate::db::rounds::RoundRow;
use crate::db::stored::StoredRound;
use crate::round_file::{
    parse_round_file, FileRejection, FormatVersion, LineIssue, ParsedRound, RoundFlag,
    MAX_ROUND_FILE_BYTES,
};
use crate::stats::batch::RoundContext;
use crate::stats::{aggregate_round, RoundStats};

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

/// What [`Importer::prepare`] made of a file's bytes.
#[derive(Debug)]
pub enum Preparation<'a> {
    /// Ready for the database: every value is one PostgreSQL takes.
    Ready(Box<PreparedFile<'a>>),
    Empty {
        sha: String,
    },
    /// Refused for a reason inside the file (never retried until the content changes).
    Rejected {
        sha: String,
        reason: String,
    },
}

/// A parsed round with everything the database needs.
#[derive(Debug)]
pub struct PreparedFile<'a> {
    pub row: RoundRow,
    pub round: ParsedRound<'a>,
    pub stats: RoundStats,
}

impl PreparedFile<'_> {
    /// Checks every value the importer writes against what PostgreSQL accepts (text without
    /// NUL, times and dates within range, finite numbers), so a file can never make a
    /// transaction fail: a value the parser let through by mistake rejects the file here, with
    /// the field in the reason, instead of failing in the database on every retry.
    pub fn check_database_values(&self) -> Result<(), String> {
        let r = &self.row;
        let refused =
            |what: &str, why: &str| Err(format!("{what} {why}: PostgreSQL would refuse it"));
        for (what, text) in [
            ("round key", Some(r.round_key.as_str())),
            ("server id", Some(r.server_id.as_str())),
            ("server name", r.server_name.as_deref()),
            ("map name", Some(r.map_name.as_str())),
            ("map in the file name", r.file_map_name.as_deref()),
            ("source path", Some(r.source_path.as_str())),
        ] {
            if text.is_some_and(|t| t.contains('\0')) {
                return refused(what, "contains a NUL byte");
            }
            if text.is_some_and(|t| t.len() > MAX_KEY_BYTES) {
                return refused(what, &format!("is longer than {MAX_KEY_BYTES} bytes"));
            }
        }
        if r.warnings.to_string().contains("\\u0000") {
            return refused("a warning", "contains a NUL byte");
        }
        let in_range = |t: &DateTime<Utc>| {
            (crate::round_file::EARLIEST_UNIX..=crate::round_file::LATEST_UNIX)
                .contains(&t.timestamp())
        };
        for (what, time) in [("start time", r.started_at), ("end time", r.ended_at)] {
            if time.as_ref().is_some_and(|t| !in_range(t)) {
                return refused(what, "is not between 1970 and 9999");
            }
        }
        let year = chrono::Datelike::year(&r.session_date);
        if !(1969..=9999).contains(&year) {
            return refused("session day", "is not between 1970 and 9999");
        }
        let s = &self.stats;
        let names = s
            .identities
            .iter()
            .flat_map(|i| [i.name.as_str(), i.display_name.as_str()])
            .chain(
                s.players
                    .iter()
                    .flat_map(|p| [p.key.as_str(), p.name.as_str()]),
            )
            .chain(
                s.aliases
                    .iter()
                    .flat_map(|a| [a.name.as_str(), a.display_name.as_str()]),
            );
        for name in names {
            if name.contains('\0') {
                return refused("a player name or GUID", "contains a NUL byte");
            }
            // Keys and names are in btree indexes, which refuse entries of more than ~2.7 kB.
            if name.len() > MAX_KEY_BYTES {
                return refused(
                    "a player name or GUID",
                    &format!("is longer than {MAX_KEY_BYTES} bytes"),
                );
            }
        }
        for kill in &self.round.kills {
            let coords = kill.killer.pos.iter().chain(&kill.victim.pos);
            if coords
                .chain([&kill.distance])
                .any(|v| !v.is_finite() || v.abs() > crate::round_file::MAX_COORD * 4.0)
            {
                return refused(
                    &format!("line {}: a position or distance", kill.line),
                    "is out of range",
                );
            }
            if kill.time_ms.is_some_and(|t| i32::try_from(t).is_err()) {
                return refused(
                    &format!("line {}: t_ms", kill.line),
                    "does not fit its column",
                );
            }
        }
        for kill in &s.kills {
            if s.allies_json(kill).contains("\\u0000") {
                return refused("a supporting ally's name", "contains a NUL byte");
            }
        }
        Ok(())
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

/// A prepared file in a batch.
struct Prepared<'a> {
    /// Position in the caller's list of paths.
    index: usize,
    row: RoundRow,
    /// The file's bytes (a later version of the round is recognised by them).
    bytes: &'a [u8],
    round: ParsedRound<'a>,
    stats: RoundStats,
}

/// What an import does with a round that is not in the database by its content.
enum Plan {
    /// A round seen for the first time.
    New,
    /// A longer version of stored rounds (see [`identity`]): they are taken out, this goes in
    /// under the first one's id.
    Replace(Vec<StoredRound>),
}

/// Why a file of a batch is not stored.
enum NotStored {
    /// Its round is stored (same content, an earlier or other version): `(round id, path)`.
    Stored(i64, String),
    /// A longer version of a stored round whose raw kills were archived (its counters cannot
    /// be taken out exactly): the stored version stays.
    Archived(i64, String),
    /// The other tracker's copy of a stored round.
    OtherTracker(i64, String),
    /// The other tracker's copy of an earlier file of the batch.
    OtherTrackerTwin(usize),
}

impl Prepared<'_> {
    /// What makes two files versions of one round: the v3 round id, or a v2 file's name on its
    /// server.
    fn identity(&self) -> String {
        match self.round.format {
            FormatVersion::V3 => self.row.round_key.clone(),
            FormatVersion::V2 => format!("v2:{}:{}", self.row.server_id, self.row.source_name),
        }
    }

    /// Advisory lock keys: imports that might be one round (versions of one file, or the two
    /// trackers' files of one round) wait for each other, and only those. The two trackers'
    /// files of a round end within two minutes of each other: each file locks the 10-minute
    /// slot of its end and the slots two minutes either side, so two such files always share a
    /// slot, while rounds of one server (minutes apart) rarely do.
    fn lock_keys(&self) -> Vec<String> {
        let mut keys = vec![format!("round:{}", self.identity())];
        if let Some((_, end)) = self.time_window() {
            let slot = |t: DateTime<Utc>| t.timestamp().div_euclid(600);
            let margin = chrono::Duration::minutes(2);
            let mut slots = vec![slot(end - margin), slot(end), slot(end + margin)];
            slots.dedup();
            keys.extend(
                slots
                    .into_iter()
                    .map(|s| format!("match:{}:{}:{s}", self.row.map_name, self.row.round_number)),
            );
        }
        keys
    }

    fn time_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.row.started_at.or(self.row.ended_at)?;
        let end = self.row.ended_at.or(self.row.started_at)?;
        Some((start, end))
    }

    /// Whether `other` (another file of the batch) may be the other tracker's copy of this round.
    fn may_match(&self, other: &Prepared<'_>) -> bool {
        let window = chrono::Duration::minutes(2);
        match (self.time_window(), other.time_window()) {
            (Some((s1, e1)), Some((s2, e2))) => {
                self.round.format != other.round.format
                    && self.row.map_name == other.row.map_name
                    && self.row.round_number == other.row.round_number
                    && s1 <= e2 + window
                    && e1 >= s2 - window
            }
            _ => false,
        }
    }

    fn context(&self) -> RoundContext {
        RoundContext {
            session_date: self.row.session_date,
            map_name: self.row.map_name.clone(),
            seen: self
                .row
                .started_at
                .or(self.row.ended_at)
                .unwrap_or_else(Utc::now),
        }
    }

    fn event(&self, round_id: i64) -> ImportedRound {
        ImportedRound {
            round_id,
            map_name: self.row.map_name.clone(),
            round_number: self.row.round_number,
            server_id: self.row.server_id.clone(),
            session_date: self.row.session_date,
            ended_at: self.row.ended_at,
            kills: self.round.kills.len(),
            source_path: PathBuf::from(&self.row.source_path),
        }
    }
}

/// A file's modification time as an instant, when it lies in 1970..=9999 (a file system can hold
/// times chrono cannot, and chrono's own conversion panics on those).
fn system_time_to_utc(t: SystemTime) -> Option<DateTime<Utc>> {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok()?,
        Err(_) => return None, // before 1970
    };
    crate::round_file::field::unix_time(secs, "").ok()?;
    Utc.timestamp_opt(secs, 0).single()
}

/// A file as read: its content (or why it is refused unread) and what identifies this version.
struct ReadFile {
    content: Result<Vec<u8>, FileRejection>,
    /// Size and mtime (ns since 1970) at open, when the content read matches them: the key under
    /// which the outcome is remembered in `import_file_state`.
    version: Option<(i64, i64)>,
    modified: Option<SystemTime>,
}

/// Nanoseconds since 1970 of a modification time, when it fits an i64.
pub fn mtime_ns(t: SystemTime) -> Option<i64> {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_nanos()).ok()
}

/// Reads a round file, refusing one over the size limit without reading it.
async fn read_round_file(path: &Path) -> Result<ReadFile, ImportError> {
    let io_err = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    // Opening a FIFO named like a round file would block the importer for good: look first.
    let kind = tokio::fs::metadata(path).await.map_err(io_err)?;
    if !kind.is_file() {
        return Err(io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let file = tokio::fs::File::open(path).await.map_err(io_err)?;
    let meta = file.metadata().await.map_err(io_err)?;
    let modified = meta.modified().ok();
    let version = |len: u64| Some((i64::try_from(len).ok()?, mtime_ns(modified?)?));
    if meta.len() > MAX_ROUND_FILE_BYTES {
        return Ok(ReadFile {
            content: Err(FileRejection::TooLarge {
                size: meta.len(),
                limit: MAX_ROUND_FILE_BYTES,
            }),
            version: version(meta.len()),
            modified,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // take() guards against a file that grows past the limit while we read it.
    file.take(MAX_ROUND_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_ROUND_FILE_BYTES {
        return Ok(ReadFile {
            content: Err(FileRejection::TooLarge {
                size: bytes.len() as u64,
                limit: MAX_ROUND_FILE_BYTES,
            }),
            version: None,
            modified,
        });
    }
    // A file that changed while we read it is not remembered: its next version is read anew.
    let version = if bytes.len() as u64 == meta.len() {
        version(meta.len())
    } else {
        None
    };
    Ok(ReadFile {
        content: Ok(bytes),
        version,
        modified,
    })
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
        let mut results: Vec<Option<Result<ImportOutcome, ImportError>>> =
            (0..paths.len()).map(|_| None).collect();
        let mut loaded: Vec<(usize, Vec<u8>, Option<SystemTime>)> = Vec::new();
        let mut versions: Vec<Option<(i64, i64)>> = vec![None; paths.len()];
        for (i, path) in paths.iter().enumerate() {
            self.note_open();
            match read_round_file(path).await {
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

    /// Everything the importer would write for one file's bytes, without touching the
    /// database: parse, aggregate, session day, round row, and a last check that PostgreSQL
    /// will take every value. Pure; the fuzzer drives the whole import path through it.
    pub fn prepare<'a>(
        &self,
        path: &Path,
        bytes: &'a [u8],
        modified: Option<SystemTime>,
    ) -> Preparation<'a> {
        let sha = content_hash(bytes);
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rejected = |sha: String, reason: String| Preparation::Rejected {
            sha,
            // Reasons quote the file; PostgreSQL text cannot hold NUL.
            reason: crate::round_file::field::text(reason.as_bytes()),
        };
        let round = match parse_round_file(bytes, &file_name) {
            Ok(round) => round,
            Err(FileRejection::Empty) => return Preparation::Empty { sha },
            Err(rejection) => return rejected(sha, rejection.to_string()),
        };
        let mut row = match self.round_row(path, &sha, &round, modified, bytes.len()) {
            Ok(row) => row,
            Err(reason) => return rejected(sha, reason),
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
        let file = PreparedFile { row, round, stats };
        match file.check_database_values() {
            Ok(()) => Preparation::Ready(Box::new(file)),
            Err(reason) => rejected(sha, reason),
        }
    }

    fn round_row(
        &self,
        path: &Path,
        sha: &str,
        round: &ParsedRound<'_>,
        modified: Option<SystemTime>,
        round_bytes: usize,
    ) -> Result<RoundRow, String> {
        let h = &round.header;
        let mut warnings: Vec<serde_json::Value> = round
            .warnings
            .iter()
            .map(|w| serde_json::json!({"line": w.line, "reason": w.reason}))
            .collect();
        // The parser keeps header times within EARLIEST_UNIX..=LATEST_UNIX; None only if absent.
        let unix = |s: Option<i64>| s.and_then(|s| Utc.timestamp_opt(s, 0).single());
        let started_at = unix(h.started_unix);
        let mut ended_at = unix(h.ended_unix);
        let no_day = |what: &str| format!("{what} has no session day in the configured time zone");
        let session_date = if let Some(start) = started_at {
            self.session
                .checked_session_date(start)
                .ok_or_else(|| no_day("the start time"))?
        } else if let Some(local) = h.ended_local {
            ended_at = self.session.local_to_utc(local);
            self.session
                .checked_session_date_local(local)
                .ok_or_else(|| no_day("the end time in the file name"))?
        } else {
            let instant = match modified {
                Some(t) => system_time_to_utc(t).ok_or_else(|| {
                    "no end time in the file name, and the file's modification time is not \
                     between 1970 and 9999: give the file a name with its end time"
                        .to_owned()
                })?,
                None => Utc::now(),
            };
            warnings.push(serde_json::json!({
                "line": 0,
                "reason": "no end time in the file name: used the file's modification time",
            }));
            ended_at = Some(instant);
            self.session
                .checked_session_date(instant)
                .ok_or_else(|| no_day("the modification time"))?
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
        Ok(RoundRow {
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
            source_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            content_bytes: i64::try_from(round_bytes).unwrap_or(i64::MAX),
            kill_count: round.kills.len() as i32,
            flags: flags.iter().map(|f| f.as_str().to_owned()).collect(),
            warnings: serde_json::Value::Array(warnings),
        })
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

/// SHA-256 of the content with CRLF line ends read as LF and without a UTF-8 byte-order mark,
/// so a copy that went through a Windows tool is recognised as the same round.
pub fn content_hash(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    while let Some(at) = memchr::memmem::find(rest, b"\r\n") {
        hasher.update(&rest[..at]);
        rest = &rest[at + 1..];
    }
    hasher.update(rest);
    hex::encode(hasher.finalize())
}

/// Round files in `dir` (not recursive), sorted by name: `*.txt`, skipping the trackers'
/// temporary `*.tmp` files. Entries named like round files that cannot be used (see
/// [`usable_round_file`]) are left out with a warning.
pub fn round_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let root = dir.canonicalize()?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if !is_round_file_name(&path) {
            continue;
        }
        match usable_round_file(&root, &path, entry.file_type().ok()) {
            Ok(()) => files.push(path),
            Err(problem) => warn!(path = %path.display(), %problem, "skipping"),
        }
    }
    files.sort();
    Ok(files)
}

/// Whether an entry named like a round file in the folder `root` (canonical) can be imported:
/// a regular file, or a symbolic link to one inside the folder. Symbolic links are not followed
/// out of the round folder. `Err` says what is wrong, for the log. `file_type` is the entry's
/// own type (not following links), when the directory listing gave it.
pub fn usable_round_file(
    root: &Path,
    path: &Path,
    file_type: Option<std::fs::FileType>,
) -> Result<(), String> {
    let file_type = match file_type {
        Some(t) => t,
        None => std::fs::symlink_metadata(path)
            .map_err(|e| format!("cannot look at it: {e}"))?
            .file_type(),
    };
    if file_type.is_symlink() {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        let resolved = match path.canonicalize() {
            Ok(resolved) => resolved,
            Err(e) => {
                return Err(format!(
                    "symbolic link to {target:?} that leads nowhere ({e}): fix or remove the link"
                ))
            }
        };
        if !resolved.starts_with(root) {
            return Err(format!(
                "symbolic link to {} outside the round folder: not followed; copy the file into the folder instead",
                resolved.display()
            ));
        }
        let meta = std::fs::metadata(&resolved)
            .map_err(|e| format!("cannot look at the link's target: {e}"))?;
        return if meta.is_file() {
            Ok(())
        } else {
            Err(format!(
                "symbolic link to {target:?}, which is not a regular file"
            ))
        };
    }
    if file_type.is_dir() {
        return Err("a directory named like a round file: rename or remove it".to_owned());
    }
    if !file_type.is_file() {
        return Err(
            "not a regular file (a FIFO, socket or device named like a round file): remove it"
                .to_owned(),
        );
    }
    Ok(())
}

/// Files the watcher and `import <dir>` consider: names ending in `.txt`.
pub fn is_round_file_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn only_regular_files_and_links_inside_the_folder_are_round_files() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = dir.path().join("a_etprox.txt");
        std::fs::write(&file, "x").unwrap();
        std::fs::write(outside.path().join("b.txt"), "x").unwrap();
        let inside_link = dir.path().join("c_etprox.txt");
        symlink(&file, &inside_link).unwrap();
        let outside_link = dir.path().join("d_etprox.txt");
        symlink(outside.path().join("b.txt"), &outside_link).unwrap();
        let dangling = dir.path().join("e_etprox.txt");
        symlink("nowhere.txt", &dangling).unwrap();
        let folder = dir.path().join("f_etprox.txt");
        std::fs::create_dir(&folder).unwrap();

        assert_eq!(usable_round_file(&root, &file, None), Ok(()));
        assert_eq!(usable_round_file(&root, &inside_link, None), Ok(()));
        let problem = |p: &Path| usable_round_file(&root, p, None).unwrap_err();
        assert!(problem(&outside_link).contains("outside the round folder"));
        assert!(problem(&dangling).contains("leads nowhere"));
        assert!(problem(&folder).contains("directory"));
        assert_eq!(
            round_files_in(dir.path()).unwrap(),
            vec![file.clone(), inside_link.clone()]
        );
    }

    #[test]
    fn modification_times_outside_1970_to_9999_are_not_used() {
        let epoch = SystemTime::UNIX_EPOCH;
        assert!(
            system_time_to_utc(epoch + std::time::Duration::from_secs(1_763_000_000)).is_some()
        );
        assert!(system_time_to_utc(epoch - std::time::Duration::from_secs(1)).is_none());
        let far = epoch.checked_add(std::time::Duration::from_secs(u64::MAX / 2));
        assert!(far.is_none_or(|t| system_time_to_utc(t).is_none()));
    }
}
