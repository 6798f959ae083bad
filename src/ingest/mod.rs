//! Importing round files: each file once, in one transaction, with every rejected line logged.

pub mod identity;
pub mod watcher;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::io::AsyncReadExt;
use tokio::sync::broadcast;
use tracing::{debug, instrument, warn};

use crate::config::SessionClock;
use crate::db::rounds::{
    self as db_rounds, copy_kills, find_existing, insert_player_rounds, insert_rounds, log_imports,
    upsert_aggregates, ImportLogEntry, KillsOfRound, RoundRow, StoredRound,
};
use crate::round_file::{
    parse_round_file, FileRejection, FormatVersion, LineIssue, ParsedRound, RoundFlag,
    MAX_ROUND_FILE_BYTES,
};
use crate::stats::batch::{merge_rounds, RoundContext};
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

/// A parsed round with everything the database needs.
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

/// Reads a round file, refusing one over the size limit without reading it.
async fn read_round_file(
    path: &Path,
) -> Result<Result<(Vec<u8>, Option<SystemTime>), FileRejection>, ImportError> {
    let io_err = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    let file = tokio::fs::File::open(path).await.map_err(io_err)?;
    let meta = file.metadata().await.map_err(io_err)?;
    if meta.len() > MAX_ROUND_FILE_BYTES {
        return Ok(Err(FileRejection::TooLarge {
            size: meta.len(),
            limit: MAX_ROUND_FILE_BYTES,
        }));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // take() guards against a file that grows past the limit while we read it.
    file.take(MAX_ROUND_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_ROUND_FILE_BYTES {
        return Ok(Err(FileRejection::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_ROUND_FILE_BYTES,
        }));
    }
    Ok(Ok((bytes, meta.modified().ok())))
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
        for (i, path) in paths.iter().enumerate() {
            match read_round_file(path).await {
                Ok(Ok((bytes, modified))) => loaded.push((i, bytes, modified)),
                Ok(Err(rejection)) => {
                    results[i] = Some(self.reject(path, None, rejection.to_string()).await)
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let mut prepared: Vec<Prepared<'_>> = Vec::new();
        for (i, bytes, modified) in &loaded {
            let path = &paths[*i];
            let sha = content_hash(bytes);
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match parse_round_file(bytes, &file_name) {
                Ok(round) => {
                    let mut row = self.round_row(path, &sha, &round, *modified, bytes.len());
                    let stats = aggregate_round(&round);
                    if stats.unresolved_allies > 0 {
                        if let serde_json::Value::Array(w) = &mut row.warnings {
                            w.push(serde_json::json!({
                                "line": 0,
                                "reason": format!("{} supporting-ally names match no player of the round", stats.unresolved_allies),
                            }));
                        }
                    }
                    prepared.push(Prepared {
                        index: *i,
                        row,
                        bytes: bytes.as_slice(),
                        round,
                        stats,
                    });
                }
                Err(FileRejection::Empty) => {
                    let logged = self
                        .log_outcome(path, Some(&sha), "empty", "the file is empty")
                        .await;
                    results[*i] = Some(logged.map(|()| ImportOutcome::Empty));
                }
                Err(rejection) => {
                    results[*i] = Some(self.reject(path, Some(&sha), rejection.to_string()).await)
                }
            }
        }
        for (index, outcome) in self.store_with_fallback(paths, &prepared).await {
            results[index] = Some(outcome);
        }
        paths
            .iter()
            .cloned()
            .zip(results)
            .map(|(path, r)| (path, r.unwrap_or(Ok(ImportOutcome::Empty))))
            .collect()
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
        let db_error = |p: &Prepared<'_>, source| {
            (
                p.index,
                Err(ImportError::Database {
                    path: paths[p.index].clone(),
                    source,
                }),
            )
        };
        let all: Vec<&Prepared<'_>> = prepared.iter().collect();
        match self.store_retrying(&all).await {
            Ok(outcomes) => outcomes,
            Err(e) if prepared.len() == 1 => vec![db_error(&prepared[0], e)],
            Err(e) => {
                warn!(error = %e, "batch failed; importing its files one by one");
                let mut outcomes = Vec::new();
                for one in prepared {
                    match self.store_retrying(&[one]).await {
                        Ok(mut o) => outcomes.append(&mut o),
                        Err(source) => outcomes.push(db_error(one, source)),
                    }
                }
                outcomes
            }
        }
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

    /// One transaction: round rows, kills (COPY), merged aggregates, import log; earlier versions
    /// of the rounds taken out; the other tracker's copies reported.
    async fn store(
        &self,
        batch: &[&Prepared<'_>],
    ) -> sqlx::Result<Vec<(usize, Result<ImportOutcome, ImportError>)>> {
        // Inside the batch: the same content, or versions of one round (the longest that extends
        // the others wins), are stored once.
        let mut unique: Vec<&Prepared<'_>> = Vec::new();
        let mut twins: Vec<(&Prepared<'_>, usize)> = Vec::new();
        for p in batch {
            let same = unique.iter().position(|u| {
                u.row.content_sha256 == p.row.content_sha256 || u.identity() == p.identity()
            });
            match same {
                Some(at)
                    if unique[at].row.content_sha256 != p.row.content_sha256
                        && identity::grown_from(
                            p.bytes,
                            &unique[at].row.content_sha256,
                            Some(unique[at].row.content_bytes),
                        )
                        .is_some() =>
                {
                    twins.push((unique[at], at));
                    unique[at] = p;
                }
                Some(at) => twins.push((p, at)),
                None => unique.push(p),
            }
        }

        let mut tx = self.pool.begin().await?;
        let keys: Vec<String> = unique.iter().flat_map(|p| p.lock_keys()).collect();
        db_rounds::lock_round_keys(&mut tx, &keys).await?;

        // Decide, file by file in batch order, against the database and the earlier files.
        let shas: Vec<&str> = unique
            .iter()
            .map(|p| p.row.content_sha256.as_str())
            .collect();
        let by_content = find_existing(&mut tx, &shas, &[]).await?;
        let rows: Vec<&RoundRow> = unique.iter().map(|p| &p.row).collect();
        let mut versions = db_rounds::stored_versions(&mut tx, &rows).await?;
        let candidates = db_rounds::other_tracker_candidates(&mut tx, &rows).await?;
        let mut plans: Vec<Result<Plan, NotStored>> = Vec::with_capacity(unique.len());
        let mut signatures: Vec<Option<Vec<(String, String, i16)>>> = vec![None; unique.len()];
        for (i, p) in unique.iter().enumerate() {
            if let Some((_, _, id, path)) = by_content
                .iter()
                .find(|(sha, _, _, _)| *sha == p.row.content_sha256)
            {
                plans.push(Err(NotStored::Stored(*id, path.clone())));
                continue;
            }
            let stored: Vec<StoredRound> = versions
                .iter_mut()
                .filter(|(at, _)| *at == i)
                .map(|(_, r)| r.clone())
                .collect();
            if !stored.is_empty() {
                let grown = stored.iter().all(|old| {
                    identity::grown_from(p.bytes, &old.content_sha256, old.content_bytes).is_some()
                });
                let mut archived = false;
                for old in stored.iter().filter(|_| grown) {
                    archived |= db_rounds::stored_kill_rows(&mut tx, old.id).await?
                        != i64::from(old.kill_count);
                }
                let (id, path) = (stored[0].id, stored[0].source_path.clone());
                plans.push(match (grown, archived) {
                    (true, false) => Ok(Plan::Replace(stored)),
                    (true, true) => Err(NotStored::Archived(id, path)),
                    (false, _) => Err(NotStored::Stored(id, path)),
                });
                continue;
            }
            // The other tracker's copy: of an earlier file of the batch, or of a stored round.
            // Kills are compared only when map, round and time agree.
            let mut mine: Option<Vec<(String, String, i16)>> = None;
            let mut plan = Ok(Plan::New);
            for (j, earlier) in unique[..i].iter().enumerate() {
                if plans[j].is_ok() && p.may_match(earlier) {
                    let mine = mine
                        .get_or_insert_with(|| identity::kill_signatures(&p.round.kills, &p.stats));
                    let theirs = signatures[j].get_or_insert_with(|| {
                        identity::kill_signatures(&earlier.round.kills, &earlier.stats)
                    });
                    if identity::same_kills(mine, theirs) {
                        plan = Err(NotStored::OtherTrackerTwin(j));
                        break;
                    }
                }
            }
            for (_, candidate) in candidates.iter().filter(|(at, _)| *at == i) {
                if plan.is_err() {
                    break;
                }
                let theirs = db_rounds::kill_signatures(&mut tx, candidate.id).await?;
                let mine =
                    mine.get_or_insert_with(|| identity::kill_signatures(&p.round.kills, &p.stats));
                if identity::same_kills(mine, &theirs) {
                    plan = Err(NotStored::OtherTracker(
                        candidate.id,
                        candidate.source_path.clone(),
                    ));
                }
            }
            signatures[i] = mine;
            plans.push(plan);
        }

        // Earlier versions out: their counters (from the stored bytes, read again from the new
        // file), kills and heatmap roll-up; the first keeps its id for the new version.
        let mut round_ids: Vec<Option<i64>> = vec![None; unique.len()];
        let mut replaced: Vec<(usize, StoredRound, RoundStats)> = Vec::new();
        for (i, (p, plan)) in unique.iter().zip(&plans).enumerate() {
            let Ok(Plan::Replace(stored)) = plan else {
                continue;
            };
            for (n, old) in stored.iter().enumerate() {
                let Some(len) =
                    identity::grown_from(p.bytes, &old.content_sha256, old.content_bytes)
                else {
                    continue;
                };
                let name = old.source_name.clone().unwrap_or_default();
                let Ok(old_round) = parse_round_file(&p.bytes[..len], &name) else {
                    continue;
                };
                let old_stats = aggregate_round(&old_round);
                let context = RoundContext {
                    session_date: old.session_date,
                    map_name: old.map_name.clone(),
                    seen: old.started_at.or(old.ended_at).unwrap_or(old.imported_at),
                };
                let negated = merge_rounds([(&context, &old_stats)]).negated();
                db_rounds::remove_round_contribution(&mut tx, old, &negated).await?;
                if n == 0 {
                    db_rounds::update_round(&mut tx, old.id, &p.row).await?;
                    round_ids[i] = Some(old.id);
                } else {
                    db_rounds::delete_round(&mut tx, old.id).await?;
                }
                replaced.push((i, old.clone(), old_stats));
            }
        }
        let new_rows: Vec<(usize, &RoundRow)> = unique
            .iter()
            .zip(&plans)
            .enumerate()
            .filter(|(_, (_, plan))| matches!(plan, Ok(Plan::New)))
            .map(|(i, (p, _))| (i, &p.row))
            .collect();
        let rows: Vec<&RoundRow> = new_rows.iter().map(|(_, r)| *r).collect();
        for (at, id) in insert_rounds(&mut tx, &rows).await? {
            round_ids[new_rows[at].0] = Some(id);
        }
        let new: Vec<(i64, &Prepared<'_>)> = unique
            .iter()
            .zip(&round_ids)
            .filter_map(|(p, id)| id.map(|id| (id, *p)))
            .collect();
        if !new.is_empty() {
            let kills: Vec<KillsOfRound<'_, '_>> = new
                .iter()
                .map(|(id, p)| KillsOfRound {
                    round_id: *id,
                    row: &p.row,
                    kills: &p.round.kills,
                    stats: &p.stats,
                })
                .collect();
            copy_kills(&mut tx, &kills).await?;
            insert_player_rounds(&mut tx, &kills).await?;
            let contexts: Vec<RoundContext> = new.iter().map(|(_, p)| p.context()).collect();
            let merged = merge_rounds(contexts.iter().zip(new.iter().map(|(_, p)| &p.stats)));
            upsert_aggregates(&mut tx, &merged).await?;
            let log: Vec<ImportLogEntry<'_>> = new
                .iter()
                .map(|(id, p)| ImportLogEntry {
                    source_path: &p.row.source_path,
                    content_sha256: &p.row.content_sha256,
                    round_id: *id,
                    rejected: &p.round.rejected,
                    message: replaced
                        .iter()
                        .filter(|(i, _, _)| round_ids[*i] == Some(*id))
                        .map(|(_, old, _)| {
                            format!(
                                "replaces the earlier, shorter version of this round ({} kills, {} bytes, from {})",
                                old.kill_count,
                                old.content_bytes.map_or("?".into(), |b| b.to_string()),
                                old.source_path
                            )
                        })
                        .reduce(|a, b| format!("{a}; {b}")),
                })
                .collect();
            log_imports(&mut tx, &log).await?;
        }
        // Rows only the replaced versions had, and names only they gave, go.
        for (i, old, old_stats) in &replaced {
            let keys: Vec<&str> = old_stats.players.iter().map(|p| p.key.as_str()).collect();
            db_rounds::delete_emptied_rows(&mut tx, old.session_date, &old.map_name, &keys).await?;
            let new_stats = &unique[*i].stats;
            let renames: Vec<(&str, &str, &str)> = old_stats
                .players
                .iter()
                .filter_map(|o| {
                    let n = new_stats.players.iter().find(|n| n.key == o.key)?;
                    (n.name != o.name && !n.name.is_empty()).then_some((
                        o.key.as_str(),
                        o.name.as_str(),
                        n.name.as_str(),
                    ))
                })
                .collect();
            let seen = old.started_at.or(old.ended_at).unwrap_or(old.imported_at);
            db_rounds::rename_from_replaced(&mut tx, old.session_date, seen, &renames).await?;
        }
        // New rounds another import stored first (a race with a version without the locks).
        let lost: Vec<&str> = unique
            .iter()
            .zip(&plans)
            .zip(&round_ids)
            .filter(|((_, plan), id)| matches!(plan, Ok(Plan::New)) && id.is_none())
            .map(|((p, _), _)| p.row.round_key.as_str())
            .collect();
        let raced = if lost.is_empty() {
            Vec::new()
        } else {
            find_existing(&mut tx, &shas, &lost).await?
        };
        // The other tracker's copies, in the import log with the round they duplicate; longer
        // versions that could not replace an archived round, too.
        for (p, plan) in unique.iter().zip(&plans) {
            if let Err(NotStored::Archived(id, first_path)) = plan {
                let message = format!(
                    "a longer version of round {id} (from {first_path}), whose raw kills were archived: the stored version is kept"
                );
                warn!(path = %p.row.source_path, %message, "round not replaced");
                db_rounds::log_not_imported(
                    &mut tx,
                    &p.row.source_path,
                    &p.row.content_sha256,
                    "not_replaced",
                    Some(*id),
                    &message,
                )
                .await?;
                continue;
            }
            let (id, first_path) = match plan {
                Err(NotStored::OtherTracker(id, path)) => (Some(*id), path.as_str()),
                Err(NotStored::OtherTrackerTwin(j)) => {
                    (round_ids[*j], unique[*j].row.source_path.as_str())
                }
                _ => continue,
            };
            let message = format!(
                "the same round as {first_path}{}, written by the other tracker (same map, round and time, the same kills); not imported again",
                id.map_or(String::new(), |id| format!(" (round {id})"))
            );
            warn!(path = %p.row.source_path, %message, "duplicate round");
            db_rounds::log_not_imported(
                &mut tx,
                &p.row.source_path,
                &p.row.content_sha256,
                "duplicate",
                id,
                &message,
            )
            .await?;
        }
        tx.commit().await?;

        let mut outcomes: Vec<(usize, Result<ImportOutcome, ImportError>)> =
            Vec::with_capacity(batch.len());
        let mut first_outcome: Vec<(i64, String)> = Vec::with_capacity(unique.len());
        for ((p, plan), id) in unique.iter().zip(&plans).zip(&round_ids) {
            let outcome = match (plan, id) {
                (_, Some(round_id)) => {
                    debug!(round_id, map = %p.row.map_name, kills = p.round.kills.len(), "imported round");
                    let _ = self.events.send(p.event(*round_id));
                    first_outcome.push((*round_id, p.row.source_path.clone()));
                    ImportOutcome::Imported {
                        round_id: *round_id,
                        map_name: p.row.map_name.clone(),
                        round_number: p.row.round_number,
                        kills: p.round.kills.len(),
                        flags: p.round.flags.clone(),
                        rejected_lines: p.round.rejected.clone(),
                    }
                }
                (
                    Err(
                        NotStored::Stored(id, path)
                        | NotStored::OtherTracker(id, path)
                        | NotStored::Archived(id, path),
                    ),
                    None,
                ) => {
                    first_outcome.push((*id, path.clone()));
                    ImportOutcome::AlreadyImported {
                        round_id: *id,
                        first_path: path.clone(),
                    }
                }
                (Err(NotStored::OtherTrackerTwin(j)), None) => {
                    let (round_id, first_path) = first_outcome
                        .get(*j)
                        .cloned()
                        .unwrap_or((0, unique[*j].row.source_path.clone()));
                    first_outcome.push((round_id, first_path.clone()));
                    ImportOutcome::AlreadyImported {
                        round_id,
                        first_path,
                    }
                }
                (Ok(_), None) => {
                    let found = raced.iter().find(|(sha, key, _, _)| {
                        *sha == p.row.content_sha256 || *key == p.row.round_key
                    });
                    let (round_id, first_path) =
                        found.map_or((0, String::new()), |(_, _, id, path)| (*id, path.clone()));
                    first_outcome.push((round_id, first_path.clone()));
                    ImportOutcome::AlreadyImported {
                        round_id,
                        first_path,
                    }
                }
            };
            outcomes.push((p.index, Ok(outcome)));
        }
        for (p, first) in twins {
            let (round_id, first_path) = first_outcome[first].clone();
            outcomes.push((
                p.index,
                Ok(ImportOutcome::AlreadyImported {
                    round_id,
                    first_path,
                }),
            ));
        }
        Ok(outcomes)
    }

    fn round_row(
        &self,
        path: &Path,
        sha: &str,
        round: &ParsedRound<'_>,
        modified: Option<SystemTime>,
        round_bytes: usize,
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
            source_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            content_bytes: i64::try_from(round_bytes).unwrap_or(i64::MAX),
            kill_count: round.kills.len() as i32,
            flags: flags.iter().map(|f| f.as_str().to_owned()).collect(),
            warnings: serde_json::Value::Array(warnings),
        }
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
