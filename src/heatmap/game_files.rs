//! The game files `maps import` reads: folders, `.pk3` archives and loose files, indexed by
//! their logical path (`maps/goldrush.bsp`, `levelshots/goldrush_cc.tga`) the way the game
//! resolves them, later inputs winning. Archive entry names are checked before use and reads
//! are bounded.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::bsp::read_bsp_entities;
use super::map_import::MapImportError;

/// How deep a folder is searched for `maps/`, `levelshots/` and pk3 files.
const MAX_FOLDER_DEPTH: usize = 6;

/// Where one logical game file (`maps/goldrush.bsp`) is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    Loose(PathBuf),
    Pk3 { archive: PathBuf, entry: String },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Loose(p) => write!(f, "{}", p.display()),
            Source::Pk3 { archive, entry } => write!(f, "{}:{entry}", archive.display()),
        }
    }
}

/// The logical files found in the inputs; later inputs override earlier ones.
#[derive(Debug, Default)]
pub(super) struct GameFiles {
    pub(super) files: BTreeMap<String, Source>,
    pub(super) problems: Vec<String>,
}

impl GameFiles {
    fn add(&mut self, logical: &str, source: Source) {
        let logical = logical.to_ascii_lowercase();
        if is_interesting(&logical) {
            self.files.insert(logical, source);
        }
    }

    pub(super) fn scan_input(&mut self, path: &Path) -> Result<(), MapImportError> {
        let meta = std::fs::metadata(path).map_err(|e| MapImportError::Input {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if meta.is_dir() {
            self.scan_dir(path, 0);
        } else if has_ext(path, "pk3") {
            self.scan_pk3(path);
        } else {
            self.add_loose(path);
        }
        Ok(())
    }

    fn scan_dir(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_FOLDER_DEPTH {
            return;
        }
        let Ok(read) = std::fs::read_dir(dir) else {
            self.problems
                .push(format!("{}: cannot list folder", dir.display()));
            return;
        };
        let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        // The game loads pk3 files in name order, later ones winning; loose files win over pk3s.
        entries.sort();
        let (pk3s, rest): (Vec<_>, Vec<_>) = entries.into_iter().partition(|p| has_ext(p, "pk3"));
        for p in pk3s {
            if p.is_file() {
                self.scan_pk3(&p);
            }
        }
        for p in rest {
            if p.is_dir() {
                self.scan_dir(&p, depth + 1);
            } else if p.is_file() {
                self.add_loose(&p);
            }
        }
    }

    /// A loose file: its logical path starts at its `maps/` or `levelshots/` folder; a
    /// file outside such folders is placed by its extension.
    fn add_loose(&mut self, path: &Path) {
        let comps: Vec<String> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
            .collect();
        if let Some(at) = comps.iter().rposition(|c| c == "maps" || c == "levelshots") {
            if at + 2 == comps.len() {
                self.add(&comps[at..].join("/"), Source::Loose(path.to_path_buf()));
                return;
            }
        }
        let Some(name) = comps.last() else { return };
        let logical = if name.ends_with(".bsp") || name.ends_with(".ent") {
            format!("maps/{name}")
        } else {
            format!("levelshots/{name}")
        };
        self.add(&logical, Source::Loose(path.to_path_buf()));
    }

    fn scan_pk3(&mut self, path: &Path) {
        let archive = match File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|f| zip::ZipArchive::new(f).map_err(|e| e.to_string()))
        {
            Ok(a) => a,
            Err(e) => {
                self.problems
                    .push(format!("{}: not a readable pk3 ({e})", path.display()));
                return;
            }
        };
        for name in archive.file_names() {
            if !is_safe_entry_name(name) {
                self.problems.push(format!(
                    "{}: refused entry `{name}` (absolute or `..` path)",
                    path.display()
                ));
                continue;
            }
            self.add(
                name,
                Source::Pk3 {
                    archive: path.to_path_buf(),
                    entry: name.to_string(),
                },
            );
        }
    }
}

/// Archive entry names must be relative and free of `..`, in either slash style.
pub fn is_safe_entry_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.starts_with('\\')
        && !name.contains(':')
        && !name.split(['/', '\\']).any(|part| part == "..")
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(ext))
}

pub(super) const IMAGE_EXTS: [&str; 4] = ["png", "tga", "jpg", "jpeg"];

fn is_interesting(logical: &str) -> bool {
    if let Some(rest) = logical.strip_prefix("maps/") {
        return !rest.contains('/') && (rest.ends_with(".bsp") || rest.ends_with(".ent"));
    }
    if let Some(rest) = logical.strip_prefix("levelshots/") {
        return !rest.contains('/')
            && rest
                .rsplit_once('.')
                .is_some_and(|(stem, ext)| stem.ends_with("_cc") && IMAGE_EXTS.contains(&ext));
    }
    false
}

/// Reads at most `limit` bytes of a logical file; longer files are an error.
pub(super) fn read_bounded(source: &Source, limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match source {
        Source::Loose(p) => {
            let f = File::open(p).map_err(|e| e.to_string())?;
            f.take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|e| e.to_string())?;
        }
        Source::Pk3 { archive, entry } => {
            let f = File::open(archive).map_err(|e| e.to_string())?;
            let mut zip = zip::ZipArchive::new(f).map_err(|e| e.to_string())?;
            let file = zip.by_name(entry).map_err(|e| e.to_string())?;
            if file.size() > limit {
                return Err(format!(
                    "{} bytes, more than the {limit}-byte limit",
                    file.size()
                ));
            }
            file.take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|e| e.to_string())?;
        }
    }
    if out.len() as u64 > limit {
        return Err(format!("more than the {limit}-byte limit"));
    }
    Ok(out)
}

/// Entity text of a BSP, reading only its header and lump 0.
pub(super) fn read_entities(source: &Source) -> Result<String, String> {
    match source {
        Source::Loose(p) => {
            let mut f = File::open(p).map_err(|e| e.to_string())?;
            let len = f.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
            f.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
            read_bsp_entities(std::io::BufReader::new(f), Some(len)).map_err(|e| e.to_string())
        }
        Source::Pk3 { archive, entry } => {
            let f = File::open(archive).map_err(|e| e.to_string())?;
            let mut zip = zip::ZipArchive::new(f).map_err(|e| e.to_string())?;
            let file = zip.by_name(entry).map_err(|e| e.to_string())?;
            let len = file.size();
            read_bsp_entities(file, Some(len)).map_err(|e| e.to_string())
        }
    }
}
