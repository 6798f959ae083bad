//! Round files on disk: which entries of a folder are round files, reading one (size and
//! modification time as its version), and the content hash that recognises a copy.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use std::io::Read;
use tracing::warn;

use super::ImportError;
use crate::round_file::{FileRejection, MAX_ROUND_FILE_BYTES};

/// A file's modification time as an instant, when it lies in 1970..=9999 (a file system can hold
/// times chrono cannot, and chrono's own conversion panics on those).
pub(crate) fn system_time_to_utc(t: SystemTime) -> Option<DateTime<Utc>> {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok()?,
        Err(_) => return None, // before 1970
    };
    crate::round_file::field::unix_time(secs, "").ok()?;
    Utc.timestamp_opt(secs, 0).single()
}

/// A file as read: its content (or why it is refused unread) and what identifies this version.
pub(crate) struct ReadFile {
    pub(crate) content: Result<Vec<u8>, FileRejection>,
    /// Size and mtime (ns since 1970) at open, when the content read matches them: the key under
    /// which the outcome is remembered in `import_file_state`.
    pub(crate) version: Option<(i64, i64)>,
    pub(crate) modified: Option<SystemTime>,
}

/// Nanoseconds since 1970 of a modification time, when it fits an i64.
pub fn mtime_ns(t: SystemTime) -> Option<i64> {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_nanos()).ok()
}

/// Reads round files on one blocking thread (a batch costs one hand-over instead of several
/// per file), each as [`read_round_file`] does; results in the order of `paths`.
pub(crate) async fn read_round_files(paths: &[PathBuf]) -> Vec<Result<ReadFile, ImportError>> {
    let owned = paths.to_vec();
    match tokio::task::spawn_blocking(move || owned.iter().map(|p| read_round_file(p)).collect())
        .await
    {
        Ok(read) => read,
        // Only a panic while reading gets here; report it per file as an I/O failure.
        Err(e) => paths
            .iter()
            .map(|p| {
                Err(ImportError::Io {
                    path: p.clone(),
                    source: std::io::Error::other(e.to_string()),
                })
            })
            .collect(),
    }
}

/// Reads a round file, refusing one over the size limit without reading it. Blocking.
pub(crate) fn read_round_file(path: &Path) -> Result<ReadFile, ImportError> {
    let io_err = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    // Opening a FIFO named like a round file would block the importer for good: look first.
    let kind = std::fs::metadata(path).map_err(io_err)?;
    if !kind.is_file() {
        return Err(io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let file = std::fs::File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
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
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    // take() guards against a file that grows past the limit while we read it.
    file.take(MAX_ROUND_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
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
    use std::path::Path;

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
