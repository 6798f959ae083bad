//! One source's poller: list, download what is new into the spool, import, remember.
//!
//! A file is downloaded into `.NAME.part` (not a round-file name, so nothing imports it early),
//! resuming from the part's length when a connection dropped, and renamed to `NAME` once
//! complete: a v3 file at its end marker, any other file when the server lists the same size
//! and time at two polls in a row. Only then is it recorded in `remote_fetches` and imported.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tracing::{debug, info, warn};

use super::{connect, RemoteClient, RemoteError, RemoteFile, RoundSource, NETWORK_TIMEOUT};
use crate::db::remote_fetches as store;
use crate::ingest::{ImportOutcome, Importer};

#[derive(Debug, Clone)]
pub struct PollerOptions {
    pub poll: Duration,
    pub spool_dir: PathBuf,
    /// Retries of a source that is down wait 1 s, 2 s, 4 s … up to this.
    pub max_backoff: Duration,
    /// A v3 file still without its end marker, unchanged for this long, is imported as it is
    /// (the game server stopped mid-round), as the local watcher does.
    pub give_up_waiting: Duration,
    /// How long one network operation may block.
    pub timeout: Duration,
}

impl PollerOptions {
    pub fn new(poll: Duration, spool_dir: PathBuf) -> Self {
        PollerOptions {
            poll,
            spool_dir,
            max_backoff: Duration::from_secs(60),
            give_up_waiting: Duration::from_secs(120),
            timeout: NETWORK_TIMEOUT,
        }
    }
}

/// The last listing of a file that is not complete yet.
#[derive(Debug, Clone)]
struct Watch {
    size: u64,
    mtime: Option<i64>,
    /// When size or time last changed.
    changed_at: Instant,
}

/// Failures of one poll: the source's (it is down) or ours (spool or database).
enum PollError {
    Remote(RemoteError),
    Local(String),
}

struct Poller {
    importer: Importer,
    source: RoundSource,
    options: PollerOptions,
    id: String,
    shown: String,
    spool: PathBuf,
    /// remote name → (size, mtime) of the version fetched last.
    fetched: HashMap<String, (u64, Option<i64>)>,
    /// Fetched but not imported yet (remote name, spool path).
    pending: Vec<(String, PathBuf)>,
    watching: HashMap<String, Watch>,
    client: Option<Box<dyn RemoteClient>>,
    /// Bytes and files downloaded since the counters were last written to the database.
    unsaved_bytes: i64,
    unsaved_files: i64,
    /// Since when the source has been failing, and its first error (logged once).
    outage: Option<(Instant, String)>,
}

/// Polls one source until the task is dropped. Never returns on the source's failures: it
/// retries with backoff, logging once per outage.
pub async fn run_source(importer: Importer, source: RoundSource, options: PollerOptions) {
    let id = source.id();
    let shown = source.to_string();
    let spool = source.spool_dir(&options.spool_dir);
    let mut poller = Poller {
        importer,
        source,
        options,
        id,
        shown,
        spool,
        fetched: HashMap::new(),
        pending: Vec::new(),
        watching: HashMap::new(),
        client: None,
        unsaved_bytes: 0,
        unsaved_files: 0,
        outage: None,
    };
    poller.load_state().await;
    info!(source = %poller.shown, spool = %poller.spool.display(), every_s = poller.options.poll.as_secs_f64(), "polling remote round files");
    poller.run().await;
}

impl Poller {
    /// What earlier runs fetched; waits for the database like the rest of the program.
    async fn load_state(&mut self) {
        let mut pause = Duration::from_secs(1);
        loop {
            match store::fetched(self.importer.pool(), &self.id).await {
                Ok(rows) => {
                    for row in rows {
                        let size = row.size.max(0) as u64;
                        if !row.imported {
                            self.pending
                                .push((row.remote_path.clone(), PathBuf::from(&row.spool_path)));
                        }
                        self.fetched.insert(row.remote_path, (size, row.mtime));
                    }
                    return;
                }
                Err(e) => {
                    warn!(source = %self.shown, error = %e, "cannot read what was fetched before; waiting for the database");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    async fn run(&mut self) {
        let mut backoff = Duration::from_secs(1);
        let mut local_trouble = false;
        loop {
            let started = Instant::now();
            let result = self.poll_once().await;
            self.save_counters().await;
            let pause = match result {
                Ok(()) => {
                    if std::mem::take(&mut local_trouble) {
                        info!(source = %self.shown, "remote fetching works again");
                    }
                    backoff = Duration::from_secs(1);
                    self.options.poll.saturating_sub(started.elapsed())
                }
                Err(PollError::Remote(e)) => {
                    let message = e.to_string();
                    match &self.outage {
                        None => {
                            warn!(source = %self.shown, error = %message, "remote source unavailable; retrying with backoff until it answers");
                            self.outage = Some((Instant::now(), message.clone()));
                        }
                        Some((_, first)) if *first != message => {
                            debug!(source = %self.shown, error = %message, "remote source still unavailable")
                        }
                        Some(_) => {}
                    }
                    self.set_state(false, Some(&message)).await;
                    let pause = backoff;
                    backoff =
                        (backoff * 2).min(self.options.max_backoff.max(Duration::from_secs(1)));
                    pause
                }
                Err(PollError::Local(message)) => {
                    if !std::mem::replace(&mut local_trouble, true) {
                        warn!(source = %self.shown, error = %message, "cannot store fetched round files; retrying");
                    }
                    self.options.poll.max(Duration::from_secs(1))
                }
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// The source answered: end an outage (logging it once) and record the poll.
    async fn reachable(&mut self) {
        if let Some((since, _)) = self.outage.take() {
            info!(source = %self.shown, down_for_s = since.elapsed().as_secs(), "remote source reachable again");
        }
        self.set_state(true, None).await;
    }

    async fn set_state(&self, up: bool, error: Option<&str>) {
        if let Err(e) =
            store::set_state(self.importer.pool(), &self.id, &self.shown, up, error).await
        {
            debug!(source = %self.shown, error = %e, "cannot record the source's state");
        }
    }

    async fn save_counters(&mut self) {
        if self.unsaved_bytes == 0 && self.unsaved_files == 0 {
            return;
        }
        // The row exists once the state was written; write it first if it was not yet.
        let _ = store::set_state(self.importer.pool(), &self.id, &self.shown, true, None).await;
        if store::add_transfer(
            self.importer.pool(),
            &self.id,
            self.unsaved_files,
            self.unsaved_bytes,
        )
        .await
        .is_ok()
        {
            self.unsaved_bytes = 0;
            self.unsaved_files = 0;
        }
    }

    async fn poll_once(&mut self) -> Result<(), PollError> {
        tokio::fs::create_dir_all(&self.spool).await.map_err(|e| {
            PollError::Local(format!(
                "cannot create the spool folder {} (ETPROX_SPOOL_DIR): {e}",
                self.spool.display()
            ))
        })?;
        // Files fetched earlier whose import did not happen (database away, crash).
        self.import_pending().await?;

        let listed = self.with_client(|client| client.list()).await?;
        self.reachable().await;
        let mut listed_names = Vec::with_capacity(listed.len());
        for file in listed {
            listed_names.push(file.name.clone());
            let unchanged = self
                .fetched
                .get(&file.name)
                .is_some_and(|(size, mtime)| *size == file.size && same_time(*mtime, file.mtime));
            if unchanged {
                continue;
            }
            self.consider(file).await?;
        }
        // Forget files that disappeared before they were complete.
        self.watching.retain(|name, _| listed_names.contains(name));
        self.import_pending().await
    }

    /// Runs a blocking operation on the connection (connecting first if needed). A failed
    /// operation drops the connection, so the next poll starts with a fresh one.
    async fn with_client<T: Send + 'static>(
        &mut self,
        operation: impl FnOnce(&mut dyn RemoteClient) -> Result<T, RemoteError> + Send + 'static,
    ) -> Result<T, PollError> {
        let client = self.client.take();
        let source = self.source.clone();
        let timeout = self.options.timeout;
        let (client, result) = tokio::task::spawn_blocking(move || {
            let mut client = match client {
                Some(c) => c,
                None => match connect(&source, timeout) {
                    Ok(c) => c,
                    Err(e) => return (None, Err(e)),
                },
            };
            match operation(client.as_mut()) {
                Ok(value) => (Some(client), Ok(value)),
                // Dropped here, off the async threads: closing may wait on the network.
                Err(e) => (None, Err(e)),
            }
        })
        .await
        .map_err(|e| PollError::Local(format!("a transfer task stopped: {e}")))?;
        self.client = client;
        result.map_err(PollError::Remote)
    }

    /// Downloads what is missing of one file and completes it when it is whole.
    async fn consider(&mut self, file: RemoteFile) -> Result<(), PollError> {
        let final_path = self.spool.join(&file.name);
        let part = self.spool.join(format!(".{}.part", file.name));
        if self.left_complete_earlier(&file, &part, &final_path) {
            debug!(source = %self.shown, file = %file.name, "found in the spool from an earlier run");
            return self.complete(&file, &final_path).await;
        }
        let have = self.download_missing(&file, &part).await?;
        let shape = file_shape(&part);
        let unchanged = self
            .watching
            .get(&file.name)
            .is_some_and(|w| w.size == file.size && same_time(w.mtime, file.mtime));
        if !self.is_whole(&file, shape, unchanged, have) {
            if !unchanged {
                self.watch(&file);
            }
            return Ok(());
        }
        if shape == Shape::V3Open {
            warn!(source = %self.shown, file = %file.name, "a v3 round file never got its end marker; importing it as it is");
        }
        seal_part(&part, &final_path, file.mtime)?;
        self.watching.remove(&file.name);
        self.unsaved_files += 1;
        // The recorded size is what we hold, which may be more than the listing said.
        let held = RemoteFile {
            size: have,
            ..file.clone()
        };
        let record = if have == file.size { &file } else { &held };
        self.complete(record, &final_path).await
    }

    /// Renamed but not recorded (stopped in between): the whole copy is already in the spool.
    fn left_complete_earlier(&self, file: &RemoteFile, part: &Path, final_path: &Path) -> bool {
        !part.exists()
            && !self.fetched.contains_key(&file.name)
            && std::fs::metadata(final_path).is_ok_and(|m| m.len() == file.size)
    }

    /// Brings the part up to the listed size (starting again when the file got shorter);
    /// returns how many bytes the part holds.
    async fn download_missing(&mut self, file: &RemoteFile, part: &Path) -> Result<u64, PollError> {
        let mut have = std::fs::metadata(part).map_or(0, |m| m.len());
        if have > file.size {
            // Replaced by a shorter file: start again.
            have = 0;
            std::fs::remove_file(part).map_err(|e| local_err("cannot remove", part, e))?;
        }
        if have < file.size {
            have = self.fetch_rest(file, part, have).await?;
        }
        Ok(have)
    }

    /// Appends the file's bytes from `have` on to the part; returns the part's new length.
    async fn fetch_rest(
        &mut self,
        file: &RemoteFile,
        part: &Path,
        have: u64,
    ) -> Result<u64, PollError> {
        let name = file.name.clone();
        let part_path = part.to_owned();
        let started = Instant::now();
        let fetched = self
            .with_client(move |client| {
                let mut out = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&part_path)
                    .map_err(|error| RemoteError::Spool {
                        source_url: String::new(),
                        path: part_path.clone(),
                        error,
                    })?;
                client.fetch_from(&name, have, &mut out)
            })
            .await;
        // Count what arrived, also when the connection broke halfway: it stays in the part.
        let now_have = std::fs::metadata(part).map_or(0, |m| m.len());
        self.unsaved_bytes += now_have.saturating_sub(have) as i64;
        match fetched {
            Ok(bytes) => {
                debug!(source = %self.shown, file = %file.name, from = have, bytes, ms = started.elapsed().as_millis() as u64, "downloaded")
            }
            Err(PollError::Remote(RemoteError::Spool { error, .. })) => {
                return Err(local_err("cannot write", part, error))
            }
            Err(e) => return Err(e),
        }
        Ok(now_have)
    }

    /// Whether the part is complete: a v3 file at its end marker (or, without one, unchanged
    /// for `give_up_waiting`), any other file when listed the same at two polls and all held.
    fn is_whole(&self, file: &RemoteFile, shape: Shape, unchanged: bool, have: u64) -> bool {
        match shape {
            Shape::V3Complete => true,
            Shape::V3Open => {
                unchanged
                    && self
                        .watching
                        .get(&file.name)
                        .is_some_and(|w| w.changed_at.elapsed() >= self.options.give_up_waiting)
            }
            Shape::Other => unchanged && have == file.size,
        }
    }

    /// Remembers this listing of an incomplete file, to compare with the next poll's.
    fn watch(&mut self, file: &RemoteFile) {
        self.watching.insert(
            file.name.clone(),
            Watch {
                size: file.size,
                mtime: file.mtime,
                changed_at: Instant::now(),
            },
        );
    }

    /// Records a file that is whole in the spool and imports it.
    async fn complete(&mut self, file: &RemoteFile, path: &Path) -> Result<(), PollError> {
        store::record_fetch(
            self.importer.pool(),
            &self.id,
            &file.name,
            file.size as i64,
            file.mtime,
            &path.display().to_string(),
        )
        .await
        .map_err(|e| {
            PollError::Local(format!("cannot record {} in the database: {e}", file.name))
        })?;
        self.fetched
            .insert(file.name.clone(), (file.size, file.mtime));
        self.pending.push((file.name.clone(), path.to_owned()));
        // Imported at the end of the poll, together with the other files completed in it; a
        // long backfill imports as it goes.
        if self.pending.len() >= IMPORT_BATCH {
            self.import_pending().await?;
        }
        Ok(())
    }

    /// Imports the fetched files that wait, in batches (one transaction per batch, each file
    /// still all-or-nothing), and marks them imported.
    async fn import_pending(&mut self) -> Result<(), PollError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // Counters first: whoever sees the rounds also sees what was transferred for them.
        self.save_counters().await;
        let waiting = std::mem::take(&mut self.pending);
        let mut imported_any = false;
        let mut failure = None;
        for chunk in waiting.chunks(IMPORT_BATCH) {
            if failure.is_some() {
                self.pending.extend_from_slice(chunk);
                continue;
            }
            let paths: Vec<PathBuf> = chunk.iter().map(|(_, p)| p.clone()).collect();
            let started = Instant::now();
            let results = self.importer.import_files(&paths).await;
            let ms = started.elapsed().as_millis() as u64;
            let mut done = Vec::with_capacity(chunk.len());
            for ((name, path), (_, result)) in chunk.iter().zip(results) {
                match result {
                    Ok(outcome) => {
                        match &outcome {
                            ImportOutcome::Imported {
                                round_id,
                                kills,
                                rejected_lines,
                                ..
                            } => {
                                imported_any = true;
                                info!(source = %self.shown, file = %name, round_id, kills, rejected_lines = rejected_lines.len(), batch_ms = ms, "imported");
                            }
                            ImportOutcome::AlreadyImported { .. } => {
                                debug!(source = %self.shown, file = %name, "already imported")
                            }
                            ImportOutcome::Empty => {
                                info!(source = %self.shown, file = %name, "empty file")
                            }
                            ImportOutcome::Rejected { reason } => {
                                warn!(source = %self.shown, file = %name, %reason, "rejected")
                            }
                        }
                        done.push(name.clone());
                    }
                    Err(e) if e.is_io() && !path.exists() => {
                        // The spool copy was deleted by hand: fetch the file again.
                        warn!(source = %self.shown, file = %name, "the spooled copy is gone; fetching it again");
                        self.fetched.remove(name);
                    }
                    Err(e) => {
                        failure.get_or_insert_with(|| e.to_string());
                        self.pending.push((name.clone(), path.clone()));
                    }
                }
            }
            if let Err(e) = store::mark_imported(self.importer.pool(), &self.id, &done).await {
                // Importing again later is harmless: the importer knows the rounds.
                debug!(error = %e, "cannot mark as imported");
            }
        }
        if imported_any {
            // Keep the heatmap rollups current; if this fails, the next reader catches up.
            if let Err(e) = crate::db::heatmap::roll_up_pending(self.importer.pool()).await {
                warn!(error = %e, "heatmap roll-up failed; it is retried later");
            }
        }
        match failure {
            Some(message) => Err(PollError::Local(message)),
            None => Ok(()),
        }
    }
}

/// A spool failure, naming the file.
fn local_err(what: &str, path: &Path, e: std::io::Error) -> PollError {
    PollError::Local(format!("{what} {}: {e}", path.display()))
}

/// Gives a whole part its round-file name in one step, with the server's time.
fn seal_part(part: &Path, final_path: &Path, mtime: Option<i64>) -> Result<(), PollError> {
    {
        let handle = std::fs::OpenOptions::new()
            .write(true)
            .open(part)
            .map_err(|e| local_err("cannot open", part, e))?;
        if let Some(mtime) = mtime {
            let when = SystemTime::UNIX_EPOCH + Duration::from_secs(mtime.max(0) as u64);
            let _ = handle.set_modified(when);
        }
        handle
            .sync_all()
            .map_err(|e| local_err("cannot write", part, e))?;
    }
    std::fs::rename(part, final_path).map_err(|e| local_err("cannot rename", part, e))
}

/// Files per import transaction when several are complete at once (a backfill).
const IMPORT_BATCH: usize = 32;

/// Listings without times compare by size alone.
fn same_time(a: Option<i64>, b: Option<i64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// v3 with its `# END kills=N` line: complete.
    V3Complete,
    /// v3 without it yet.
    V3Open,
    /// v2 (or unknown): complete when its size stops changing.
    Other,
}

fn file_shape(path: &Path) -> Shape {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Shape::Other;
    };
    let mut head = [0u8; 17];
    let n = file.read(&mut head).unwrap_or(0);
    if !head[..n].starts_with(b"# ETPROX_ROUND v3") {
        return Shape::Other;
    }
    let len = file.metadata().map_or(0, |m| m.len());
    let tail_len = len.min(96);
    let mut tail = Vec::with_capacity(tail_len as usize);
    if file.seek(SeekFrom::End(-(tail_len as i64))).is_err() || file.read_to_end(&mut tail).is_err()
    {
        return Shape::V3Open;
    }
    if ends_with_end_marker(&tail) {
        Shape::V3Complete
    } else {
        Shape::V3Open
    }
}

/// True when the last line is `# END kills=N` followed by a line end.
pub(crate) fn ends_with_end_marker(tail: &[u8]) -> bool {
    let Some(text) = tail.strip_suffix(b"\n") else {
        return false;
    };
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    let last_line = match memchr::memrchr(b'\n', text) {
        Some(i) => &text[i + 1..],
        None => text,
    };
    last_line.starts_with(b"# END kills=")
}
