//! Watching round-file folders: filesystem events, plus a periodic rescan for folders where
//! events are unreliable (network and synced folders).
//!
//! What was done with each file is remembered in the database (`import_file_state`: path, size,
//! modification time), so a restart skips files already imported or rejected without opening
//! them, and imports what arrived meanwhile, newest first. In memory the watcher keeps one entry
//! per file; a rescan lists the folder and looks closer (stat, read) only at new or changed
//! files. Every few rescans a deep rescan stats every file, to catch a file rewritten in place
//! without an event.

mod peek;

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::{
    is_round_file_name, mtime_ns, usable_round_file, ImportError, ImportOutcome, Importer,
};
use crate::config::Config;
use peek::{has_v3_end_marker, is_v3, list_round_files, might_be_complete_v3, order_key};

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub dirs: Vec<PathBuf>,
    /// A v2 file (no end marker) is imported once its size and mtime have not changed for this long.
    pub settle: Duration,
    /// Full rescan interval.
    pub rescan: Duration,
    /// A v3 file still without its end marker after this long is imported as truncated.
    pub give_up_waiting: Duration,
}

impl WatchOptions {
    pub fn from_config(config: &Config) -> Self {
        WatchOptions {
            dirs: config.round_dirs.clone(),
            settle: config.settle,
            rescan: config.rescan,
            give_up_waiting: Duration::from_secs(120),
        }
    }
}

/// Every this many rescans, every file is looked at (stat) again, not only new names.
const DEEP_RESCAN_EVERY: u32 = 30;
/// Work on waiting files for at most this long before looking at new events again, so a new
/// round never waits behind a backlog.
const WORK_SLICE: Duration = Duration::from_millis(200);
/// A file whose import failed for a reason outside it is retried after 1 s, 2 s, 4 s … up to this.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Not imported yet: waiting to be complete, or queued.
    Waiting,
    /// Imported, or refused for a reason inside it: nothing to do until it changes.
    Done,
    /// The import failed for a reason outside the file (database away, unreadable right now).
    Retry { failures: u32 },
}

/// What the watcher knows about a file it has seen.
#[derive(Debug, Clone)]
struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    /// When size/mtime last changed (or, for a file found at start, when it was last written).
    changed_at: Instant,
    phase: Phase,
    /// Newest first: the time in the file name, else the modification time (Unix seconds).
    order: i64,
    /// Not worth another look before this (settling, waiting for an end marker, retry pause).
    not_before: Instant,
    /// The rescan that last listed it (a file no longer listed is forgotten).
    listed: u32,
}

/// The watcher's state: files seen, files to work on, problems already reported.
struct Watch {
    importer: Importer,
    options: WatchOptions,
    /// Canonical form of each watched folder (symbolic links must stay inside).
    roots: Vec<(PathBuf, PathBuf)>,
    seen: HashMap<PathBuf, Seen>,
    /// Files not done, newest first.
    queue: BTreeSet<(Reverse<i64>, PathBuf)>,
    /// Versions (size, mtime ns) with a final outcome, from the database; consumed at start.
    known: HashMap<PathBuf, (i64, i64)>,
    /// Entries that cannot be used, with the problem reported (once) in the log.
    problems: HashMap<PathBuf, String>,
    rescans: u32,
}

/// Runs until the task is dropped or a folder cannot be watched at all.
pub async fn run(importer: Importer, options: WatchOptions) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })?;
    let mut roots = Vec::new();
    for dir in &options.dirs {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("ETPROX_ROUND_DIRS: cannot create {}: {e}", dir.display())
        })?;
        if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
            warn!(dir = %dir.display(), error = %e, "no filesystem events for this folder; relying on rescans");
        }
        let root = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        roots.push((dir.clone(), root));
        info!(dir = %dir.display(), "watching");
    }

    let mut watch = Watch {
        known: load_known(&importer).await,
        importer,
        options,
        roots,
        seen: HashMap::new(),
        queue: BTreeSet::new(),
        problems: HashMap::new(),
        rescans: 0,
    };
    let tick = watch
        .options
        .settle
        .min(Duration::from_millis(250))
        .max(Duration::from_millis(20));
    let mut last_rescan: Option<Instant> = None;
    loop {
        if last_rescan.is_none_or(|t| t.elapsed() >= watch.options.rescan) {
            watch.rescan().await;
            last_rescan = Some(Instant::now());
        }
        // Wait for an event or the next tick; with work queued, only look for events.
        let wait = if watch.has_ready_work() {
            Duration::ZERO
        } else {
            tick
        };
        let mut touched: HashSet<PathBuf> = HashSet::new();
        if let Ok(Some(path)) = tokio::time::timeout(wait, rx.recv()).await {
            touched.insert(path);
        }
        while let Ok(path) = rx.try_recv() {
            touched.insert(path);
        }
        for path in touched {
            if is_round_file_name(&path) {
                watch.observe(&path, None);
            }
        }
        if watch.work().await {
            // Keep the heatmap rollups current; if this fails, the next reader catches up.
            if let Err(e) = crate::db::heatmap::roll_up_pending(watch.importer.pool()).await {
                warn!(error = %e, "heatmap roll-up failed; it is retried later");
            }
        }
    }
}

/// The versions with a final outcome, waiting for the database if it is away.
async fn load_known(importer: &Importer) -> HashMap<PathBuf, (i64, i64)> {
    let mut pause = Duration::from_secs(1);
    loop {
        match importer.known_versions().await {
            Ok(rows) => {
                return rows
                    .into_iter()
                    .map(|v| (PathBuf::from(v.source_path), (v.file_size, v.file_mtime_ns)))
                    .collect()
            }
            Err(e) => {
                warn!(error = %e, retry_in_s = pause.as_secs(), "cannot read which files were imported; waiting for the database");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
    }
}

impl Watch {
    /// Lists the folders. New names are looked at; names gone are forgotten. Every
    /// [`DEEP_RESCAN_EVERY`] rescans, every file is looked at again. The listing runs on a
    /// blocking thread; per known file a rescan costs one hash lookup.
    async fn rescan(&mut self) {
        let started = Instant::now();
        let deep = self.rescans.is_multiple_of(DEEP_RESCAN_EVERY);
        self.rescans = self.rescans.wrapping_add(1);
        let generation = self.rescans;
        let dirs: Vec<PathBuf> = self.roots.iter().map(|(dir, _)| dir.clone()).collect();
        let listing = tokio::task::spawn_blocking(move || list_round_files(&dirs))
            .await
            .unwrap_or_default();
        let listed_in = started.elapsed();
        let mut looked_at = 0usize;
        let mut listed_problems: HashSet<PathBuf> = HashSet::new();
        for (path, file_type) in &listing {
            if let Some(seen) = self.seen.get_mut(path) {
                seen.listed = generation;
                // Known and unchanged as far as a listing can tell: no stat, unless deep.
                if seen.phase == Phase::Done && !deep {
                    continue;
                }
            }
            self.observe(path, *file_type);
            looked_at += 1;
            if let Some(seen) = self.seen.get_mut(path) {
                seen.listed = generation;
            }
            if !self.problems.is_empty() && self.problems.contains_key(path) {
                listed_problems.insert(path.clone());
            }
        }
        let before = self.seen.len();
        self.seen.retain(|_, s| s.listed == generation);
        let seen = &self.seen;
        self.queue.retain(|(_, path)| seen.contains_key(path));
        self.problems
            .retain(|path, _| listed_problems.contains(path));
        // What the database remembered is only needed for the first look at each file.
        self.known = HashMap::new();
        debug!(
            files = listing.len(),
            looked_at,
            forgotten = before - self.seen.len(),
            queued = self.queue.len(),
            deep,
            list_ms = listed_in.as_millis() as u64,
            ms = started.elapsed().as_millis() as u64,
            "rescan"
        );
    }

    /// Looks at one path (after an event or in a rescan): notes a new or changed file, or
    /// reports once why it cannot be used.
    fn observe(&mut self, path: &Path, file_type: Option<std::fs::FileType>) {
        let Some(root) = self
            .roots
            .iter()
            .find(|(dir, _)| path.parent() == Some(dir.as_path()))
            .map(|(_, root)| root.clone())
        else {
            return;
        };
        let Some(meta) = self.usable_metadata(&root, path, file_type) else {
            return;
        };
        let (size, modified) = (meta.len(), meta.modified().ok());
        if let Some(seen) = self.seen.get(path) {
            if seen.size == size && seen.modified == modified {
                return; // unchanged (an unreadable file stays reported and is retried)
            }
        }
        if self.problems.remove(path).is_some() {
            info!(path = %path.display(), "the file can be used now");
        }
        if self.known_unchanged(path, size, modified) {
            // Imported or refused before the restart, untouched since: do not open it.
            self.note_done(path, size, modified);
        } else {
            self.queue_version(path, size, modified);
        }
    }

    /// The file's metadata when it is usable; otherwise forgets it (reporting why, once).
    fn usable_metadata(
        &mut self,
        root: &Path,
        path: &Path,
        file_type: Option<std::fs::FileType>,
    ) -> Option<std::fs::Metadata> {
        let file_type = match file_type {
            Some(t) => t,
            None => match std::fs::symlink_metadata(path) {
                Ok(meta) => meta.file_type(),
                Err(_) => {
                    self.forget(path); // vanished: a rescan brings it back if it returns
                    return None;
                }
            },
        };
        if let Err(problem) = usable_round_file(root, path, Some(file_type)) {
            self.forget(path);
            self.report(path, problem);
            return None;
        }
        let meta = std::fs::metadata(path).ok();
        if meta.is_none() {
            self.forget(path);
        }
        meta
    }

    /// True for a file seen first now whose version the database has a final outcome for.
    fn known_unchanged(&self, path: &Path, size: u64, modified: Option<SystemTime>) -> bool {
        if self.seen.contains_key(path) {
            return false;
        }
        self.known
            .get(path)
            .is_some_and(|&(known_size, known_mtime)| {
                i64::try_from(size).ok() == Some(known_size)
                    && modified.and_then(mtime_ns) == Some(known_mtime)
            })
    }

    /// Remembers a file as done without queueing it.
    fn note_done(&mut self, path: &Path, size: u64, modified: Option<SystemTime>) {
        let seen = Seen {
            size,
            modified,
            changed_at: Instant::now(),
            phase: Phase::Done,
            order: 0,
            not_before: Instant::now(),
            listed: self.rescans,
        };
        self.seen.insert(path.to_owned(), seen);
    }

    /// Queues a new or changed file. A file last written long ago has settled already.
    fn queue_version(&mut self, path: &Path, size: u64, modified: Option<SystemTime>) {
        let age = modified
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        let now = Instant::now();
        let changed_at = now.checked_sub(age).unwrap_or(now);
        let order = order_key(path, modified);
        if let Some(old) = self.seen.get(path) {
            self.queue.remove(&(Reverse(old.order), path.to_owned()));
        }
        self.seen.insert(
            path.to_owned(),
            Seen {
                size,
                modified,
                changed_at,
                phase: Phase::Waiting,
                order,
                not_before: now,
                listed: self.rescans,
            },
        );
        self.queue.insert((Reverse(order), path.to_owned()));
    }

    fn set_not_before(&mut self, path: &Path, at: Instant) {
        if let Some(seen) = self.seen.get_mut(path) {
            seen.not_before = at;
        }
    }

    fn forget(&mut self, path: &Path) {
        if let Some(old) = self.seen.remove(path) {
            self.queue.remove(&(Reverse(old.order), path.to_owned()));
        }
    }

    /// Logs a problem with a file once (again only if the problem changes).
    fn report(&mut self, path: &Path, problem: String) {
        if self.problems.get(path) != Some(&problem) {
            warn!(path = %path.display(), %problem, "cannot use this file; skipped until it changes");
            self.problems.insert(path.to_owned(), problem);
        }
    }

    /// True when a queued file can be tried right now.
    fn has_ready_work(&self) -> bool {
        let now = Instant::now();
        self.queue.iter().any(|(_, path)| {
            self.seen
                .get(path)
                .is_some_and(|s| s.phase != Phase::Done && s.not_before <= now)
        })
    }

    /// Imports queued files, newest first, for at most [`WORK_SLICE`]. Returns true when a new
    /// round was committed.
    async fn work(&mut self) -> bool {
        let started = Instant::now();
        let mut imported = false;
        // At most a slice's worth of files that are due, newest first (the queue may be long
        // at a first start on a big folder).
        let now = Instant::now();
        let queue: Vec<PathBuf> = self
            .queue
            .iter()
            .filter(|(_, p)| self.seen.get(p).is_some_and(|s| s.not_before <= now))
            .take(256)
            .map(|(_, p)| p.clone())
            .collect();
        for path in queue {
            if started.elapsed() >= WORK_SLICE {
                break;
            }
            imported |= self.consider(&path).await;
        }
        imported
    }

    /// Looks at one queued file: imports it when complete, otherwise keeps it queued. Returns
    /// true when a new round was committed.
    async fn consider(&mut self, path: &Path) -> bool {
        let Some(entry) = self.seen.get(path).cloned() else {
            return false;
        };
        if entry.phase == Phase::Done {
            self.queue.remove(&(Reverse(entry.order), path.to_owned()));
            return false;
        }
        if !self.due_for_import(path, &entry) {
            return false;
        }
        let started = Instant::now();
        let result = self.importer.import_file(path).await;
        if !self.seen.contains_key(path) {
            return false;
        }
        match result {
            Ok(outcome) => {
                self.finish(path, entry.order);
                log_outcome(path, &outcome, started);
                matches!(outcome, ImportOutcome::Imported { .. })
            }
            Err(e) if e.is_io() && !path.exists() => {
                self.forget(path); // vanished meanwhile
                false
            }
            // Unreadable right now or the database is away: try again later, less and less often.
            Err(e) => {
                self.retry_later(path, &e);
                false
            }
        }
    }

    /// True when the file may be imported now; otherwise sets when to look at it again.
    fn due_for_import(&mut self, path: &Path, entry: &Seen) -> bool {
        let now = Instant::now();
        if entry.not_before > now {
            return false;
        }
        let settled = entry.changed_at.elapsed();
        let settle_left = self.options.settle.saturating_sub(settled);
        if matches!(entry.phase, Phase::Waiting)
            && !settle_left.is_zero()
            && !might_be_complete_v3(path)
        {
            self.set_not_before(path, now + settle_left);
            return false;
        }
        self.importer.note_open();
        let (ready, look_again) = if has_v3_end_marker(path) {
            (true, Duration::ZERO)
        } else if is_v3(path) {
            let left = self.options.give_up_waiting.saturating_sub(settled);
            // Peek again a little later (the marker may come), not on every pass.
            (left.is_zero(), left.min(Duration::from_millis(250)))
        } else {
            (settle_left.is_zero(), settle_left)
        };
        if !ready {
            self.set_not_before(path, now + look_again);
        }
        ready
    }

    /// Marks an imported (or refused) file done and takes it off the queue.
    fn finish(&mut self, path: &Path, order: i64) {
        if let Some(seen) = self.seen.get_mut(path) {
            seen.phase = Phase::Done;
        }
        if self.problems.remove(path).is_some() {
            info!(path = %path.display(), "the file can be read now");
        }
        self.queue.remove(&(Reverse(order), path.to_owned()));
    }

    /// Schedules another try after 1 s, 2 s, 4 s … (up to [`MAX_RETRY_PAUSE`]).
    fn retry_later(&mut self, path: &Path, e: &ImportError) {
        let Some(seen) = self.seen.get_mut(path) else {
            return;
        };
        let failures = match seen.phase {
            Phase::Retry { failures } => failures.saturating_add(1),
            _ => 1,
        };
        let pause = Duration::from_secs(1)
            .saturating_mul(1u32 << (failures - 1).min(16))
            .min(MAX_RETRY_PAUSE);
        seen.phase = Phase::Retry { failures };
        seen.not_before = Instant::now() + pause;
        if e.is_io() {
            // The file is there but cannot be read (permissions): say so once.
            self.report(path, format!("cannot be read: {e}"));
            debug!(error = %e, retry_in_s = pause.as_secs(), "still unreadable");
        } else {
            warn!(error = %e, attempt = failures, retry_in_s = pause.as_secs(), "import failed, will retry");
        }
    }
}

/// Logs what an import did with a file.
fn log_outcome(path: &Path, outcome: &ImportOutcome, started: Instant) {
    match outcome {
        ImportOutcome::Imported {
            round_id,
            kills,
            rejected_lines,
            ..
        } => info!(
            path = %path.display(), round_id, kills, rejected_lines = rejected_lines.len(),
            ms = started.elapsed().as_millis() as u64, "imported"
        ),
        ImportOutcome::AlreadyImported { .. } => {
            debug!(path = %path.display(), "already imported")
        }
        ImportOutcome::Empty => info!(path = %path.display(), "empty file"),
        ImportOutcome::Rejected { reason } => {
            warn!(path = %path.display(), %reason, "rejected")
        }
    }
}
