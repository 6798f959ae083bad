//! Cheap looks for the watcher: which entries of a folder are round files, the order to import
//! them in, and whether a v3 file already holds its end marker (without reading it all).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tracing::warn;

use super::super::{is_round_file_name, mtime_ns};

/// Entries named like round files in the folders, with their own type (links not followed).
pub(super) fn list_round_files(dirs: &[PathBuf]) -> Vec<(PathBuf, Option<std::fs::FileType>)> {
    let mut out = Vec::new();
    for dir in dirs {
        match std::fs::read_dir(dir) {
            Ok(entries) => out.extend(entries.flatten().filter_map(|entry| {
                let path = entry.path();
                is_round_file_name(&path).then(|| (path, entry.file_type().ok()))
            })),
            Err(e) => warn!(dir = %dir.display(), error = %e, "cannot list folder"),
        }
    }
    out
}

/// Sort key, newest first: the `YYYY-MM-DD-HHMMSS` a tracker puts at the start of the name,
/// else the modification time.
pub(super) fn order_key(path: &Path, modified: Option<SystemTime>) -> i64 {
    let from_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.get(..17))
        .and_then(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d-%H%M%S").ok())
        .map(|t| t.and_utc().timestamp());
    from_name
        .or_else(|| modified.and_then(mtime_ns).map(|ns| ns / 1_000_000_000))
        .unwrap_or(0)
}

/// A v3 file is worth a look before the settle time: it may carry its end marker already.
pub(super) fn might_be_complete_v3(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("_etprox.txt"))
}

pub(super) fn is_v3(path: &Path) -> bool {
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
pub(super) fn has_v3_end_marker(path: &Path) -> bool {
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
