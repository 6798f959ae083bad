//! Watching round-file folders: filesystem events, plus a periodic rescan for folders where
//! events are unreliable (network and synced folders). State lives in the database, so a restart
//! imports what arrived meanwhile and nothing twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::{is_round_file_name, round_files_in, ImportOutcome, Importer};
use crate::config::Config;

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

/// What the watcher knows about a file it has seen.
#[derive(Debug, Clone)]
struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    /// When size/mtime last changed.
    changed_at: Instant,
    /// Imported (or permanently refused) with this size and mtime: nothing more to do.
    done: bool,
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
    for dir in &options.dirs {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("ETPROX_ROUND_DIRS: cannot create {}: {e}", dir.display())
        })?;
        if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
            warn!(dir = %dir.display(), error = %e, "no filesystem events for this folder; relying on rescans");
        }
        info!(dir = %dir.display(), "watching");
    }

    let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
    let tick = options
        .settle
        .min(Duration::from_millis(250))
        .max(Duration::from_millis(20));
    let mut last_rescan = Instant::now() - options.rescan;
    let mut pending: Vec<PathBuf> = Vec::new();
    loop {
        if last_rescan.elapsed() >= options.rescan {
            for dir in &options.dirs {
                match round_files_in(dir) {
                    Ok(files) => pending.extend(files),
                    Err(e) => warn!(dir = %dir.display(), error = %e, "cannot list folder"),
                }
            }
            last_rescan = Instant::now();
        }
        // Wait for an event or the next tick.
        if let Ok(Some(path)) = tokio::time::timeout(tick, rx.recv()).await {
            pending.push(path);
            while let Ok(path) = rx.try_recv() {
                pending.push(path);
            }
        }
        // Files not yet done stay under observation until they settle.
        pending.extend(seen.iter().filter(|(_, s)| !s.done).map(|(p, _)| p.clone()));
        pending.sort();
        pending.dedup();
        let mut imported = false;
        for path in std::mem::take(&mut pending) {
            if is_round_file_name(&path) {
                imported |= consider(&importer, &options, &mut seen, path).await;
            }
        }
        if imported {
            // Keep the heatmap rollups current; if this fails, the next reader catches up.
            if let Err(e) = crate::heatmap::query::roll_up_pending(importer.pool()).await {
                warn!(error = %e, "heatmap roll-up failed; it is retried later");
            }
        }
    }
}

/// Looks at one file: imports it when complete, otherwise keeps watching it. Returns true when
/// a new round was committed.
async fn consider(
    importer: &Importer,
    options: &WatchOptions,
    seen: &mut HashMap<PathBuf, Seen>,
    path: PathBuf,
) -> bool {
    let Ok(meta) = std::fs::metadata(&path) else {
        seen.remove(&path); // vanished: forget it; a rescan brings it back if it returns
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let (size, modified) = (meta.len(), meta.modified().ok());
    let entry = seen.entry(path.clone()).or_insert(Seen {
        size,
        modified,
        changed_at: Instant::now(),
        done: false,
    });
    if entry.size != size || entry.modified != modified {
        *entry = Seen {
            size,
            modified,
            changed_at: Instant::now(),
            done: false,
        };
    }
    if entry.done {
        return false;
    }
    let settled = entry.changed_at.elapsed();
    importer.note_open();
    let ready = if has_v3_end_marker(&path) {
        true
    } else if is_v3(&path) {
        settled >= options.give_up_waiting
    } else {
        settled >= options.settle
    };
    if !ready {
        return false;
    }
    let started = Instant::now();
    match importer.import_file(&path).await {
        Ok(outcome) => {
            entry.done = true;
            let new_round = matches!(outcome, ImportOutcome::Imported { .. });
            match &outcome {
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
            new_round
        }
        // Unreadable right now or the database is away: try again on a later pass.
        Err(e) => {
            warn!(error = %e, "import failed, will retry");
            entry.changed_at = Instant::now();
            false
        }
    }
}

fn is_v3(path: &Path) -> bool {
    first_line_is(path, b"# ETPROX_ROUND v3")
}

fn first_line_is(path: &Path, expected: &[u8]) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 32];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut buf).unwrap_or(0);
    buf[..n].starts_with(expected)
}

/// True when the file is v3 and ends with its `# END kills=N` line.
fn has_v3_end_marker(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    if !is_v3(path) {
        return false;
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let tail_len = len.min(64);
    if file.seek(SeekFrom::End(-(tail_len as i64))).is_err() {
        return false;
    }
    let mut tail = Vec::with_capacity(tail_len as usize);
    if file.read_to_end(&mut tail).is_err() {
        return false;
    }
    let text = tail.strip_suffix(b"\n").unwrap_or(&tail);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    let last_line = match memchr::memrchr(b'\n', text) {
        Some(i) => &text[i + 1..],
        None => text,
    };
    last_line.starts_with(b"# END kills=") && tail.ends_with(b"\n")
}
