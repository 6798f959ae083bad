//! `etprox maps import`: reads an ET install folder, `.pk3` archives or loose files,
//! takes each map's world box from its BSP worldspawn (or a `maps/<map>.ent` override)
//! and its command-map image from `levelshots/<map>_cc.{png,tga,jpg,jpeg}`, converts the
//! image to `<maps_dir>/<map>.png` and updates the calibration table.
//!
//! Everything read is untrusted: archive entry names are checked before use, reads are
//! bounded, and image dimensions are checked before an image is decoded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::calibration::{CalibrationTable, MapAssets, MapEntry, WorldBox};

/// BSP header: "IBSP", version 47, 17 lumps of {offset, length}.
pub const BSP_HEADER_LEN: usize = 8 + 17 * 8;
pub const BSP_VERSION: i32 = 47;
/// The engine's MAX_MAP_ENTSTRING is 0x40000; allow some slack for odd compilers.
pub const MAX_ENTITY_BYTES: u64 = 4 * 0x40000;
/// Largest image file read from an archive or disk.
pub const MAX_IMAGE_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest command-map image decoded (the game uses 256–1024 px).
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// How deep a folder is searched for `maps/`, `levelshots/` and pk3 files.
const MAX_FOLDER_DEPTH: usize = 6;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BspError {
    #[error("file is shorter than the 144-byte BSP header")]
    TooShort,
    #[error("not a Quake 3 BSP (ident {0:?}, expected \"IBSP\")")]
    BadIdent([u8; 4]),
    #[error("BSP version {0}, expected 47")]
    BadVersion(i32),
    #[error("entity lump at offset {offset}, length {length} is outside the file or too large")]
    BadLump { offset: i64, length: u64 },
    #[error("read error: {0}")]
    Io(String),
}

/// Reads the entity text (lump 0) from a BSP stream, reading only the header and the lump.
pub fn read_bsp_entities<R: Read>(
    mut reader: R,
    file_len: Option<u64>,
) -> Result<String, BspError> {
    let mut header = [0u8; BSP_HEADER_LEN];
    reader.read_exact(&mut header).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => BspError::TooShort,
        _ => BspError::Io(e.to_string()),
    })?;
    let ident = [header[0], header[1], header[2], header[3]];
    if &ident != b"IBSP" {
        return Err(BspError::BadIdent(ident));
    }
    let word = |at: usize| [header[at], header[at + 1], header[at + 2], header[at + 3]];
    let version = i32::from_le_bytes(word(4));
    if version != BSP_VERSION {
        return Err(BspError::BadVersion(version));
    }
    let offset = i64::from(i32::from_le_bytes(word(8)));
    let length = u64::from(u32::from_le_bytes(word(12)));
    let bad = BspError::BadLump { offset, length };
    if offset < BSP_HEADER_LEN as i64 || length > MAX_ENTITY_BYTES {
        return Err(bad);
    }
    let offset = offset as u64;
    if file_len.is_some_and(|len| offset + length > len) {
        return Err(bad);
    }
    // Skip to the lump without buffering what lies between.
    let skip = offset - BSP_HEADER_LEN as u64;
    let skipped = std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink())
        .map_err(|e| BspError::Io(e.to_string()))?;
    if skipped != skip {
        return Err(bad);
    }
    let mut text = Vec::with_capacity(length as usize);
    (&mut reader)
        .take(length)
        .read_to_end(&mut text)
        .map_err(|e| BspError::Io(e.to_string()))?;
    if text.len() as u64 != length {
        return Err(bad);
    }
    if let Some(nul) = text.iter().position(|&b| b == 0) {
        text.truncate(nul);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Entity blocks `{ "key" "value" ... }` as key/value lists, in file order. Tolerant:
/// an unterminated block or string ends the parse with what was read.
pub fn parse_entities(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    let mut pending_key: Option<String> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => {
                current = Some(Vec::new());
                pending_key = None;
            }
            '}' => {
                if let Some(block) = current.take() {
                    blocks.push(block);
                }
                pending_key = None;
            }
            '/' if text[i..].starts_with("//") => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let start = i + 1;
                let mut end = None;
                for (j, c) in chars.by_ref() {
                    if c == '"' {
                        end = Some(j);
                        break;
                    }
                }
                let Some(end) = end else { break };
                let token = text[start..end].to_string();
                if let Some(block) = current.as_mut() {
                    match pending_key.take() {
                        None => pending_key = Some(token),
                        Some(key) => block.push((key, token)),
                    }
                }
            }
            _ => {}
        }
    }
    blocks
}

/// `mapcoordsmins` / `mapcoordsmaxs` of the worldspawn (or first) entity.
pub fn worldspawn_box(entities: &str) -> Result<WorldBox, String> {
    let blocks = parse_entities(entities);
    let world = blocks
        .iter()
        .find(|b| {
            b.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("classname") && v.eq_ignore_ascii_case("worldspawn")
            })
        })
        .or_else(|| blocks.first())
        .ok_or("no entities")?;
    let pair = |key: &str| -> Result<[f64; 2], String> {
        let value = world
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("worldspawn has no {key}"))?;
        let nums: Vec<f64> = value
            .split_whitespace()
            .map(str::parse::<f64>)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("{key} \"{value}\" is not two numbers"))?;
        match nums.as_slice() {
            [x, y, ..] => Ok([*x, *y]),
            _ => Err(format!("{key} \"{value}\" is not two numbers")),
        }
    };
    WorldBox::new(pair("mapcoordsmins")?, pair("mapcoordsmaxs")?)
}

/// Where one logical game file (`maps/goldrush.bsp`) is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
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

/// One map's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedMap {
    pub map: String,
    /// The world box and where it was read from.
    pub world: Option<(WorldBox, String)>,
    /// The PNG written, and the file it came from.
    pub image: Option<(PathBuf, String)>,
    /// What was looked for and not found or not usable.
    pub missing: Vec<String>,
}

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapImportReport {
    pub maps: Vec<ImportedMap>,
    /// Files or entries that were refused or unreadable.
    pub problems: Vec<String>,
    pub table_path: PathBuf,
}

impl fmt::Display for MapImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.maps.is_empty() {
            writeln!(f, "no maps found (looked for maps/<map>.bsp, maps/<map>.ent and levelshots/<map>_cc.*)")?;
        }
        for m in &self.maps {
            let coords = match &m.world {
                Some((w, _)) => format!(
                    "box {} {} / {} {}",
                    w.mins[0], w.mins[1], w.maxs[0], w.maxs[1]
                ),
                None => "no box".to_string(),
            };
            let image = match &m.image {
                Some((p, _)) => format!("image {}", p.display()),
                None => "no image".to_string(),
            };
            writeln!(f, "{}: {coords}, {image}", m.map)?;
            for missing in &m.missing {
                writeln!(f, "  missing: {missing}")?;
            }
        }
        for p in &self.problems {
            writeln!(f, "skipped: {p}")?;
        }
        write!(f, "calibration table: {}", self.table_path.display())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MapImportError {
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error(transparent)]
    Calibration(#[from] super::calibration::CalibrationError),
    #[error("writing {path}: {message}")]
    Output { path: String, message: String },
}

/// The logical files found in the inputs; later inputs override earlier ones.
#[derive(Debug, Default)]
struct GameFiles {
    files: BTreeMap<String, Source>,
    problems: Vec<String>,
}

impl GameFiles {
    fn add(&mut self, logical: &str, source: Source) {
        let logical = logical.to_ascii_lowercase();
        if is_interesting(&logical) {
            self.files.insert(logical, source);
        }
    }

    fn scan_input(&mut self, path: &Path) -> Result<(), MapImportError> {
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

const IMAGE_EXTS: [&str; 4] = ["png", "tga", "jpg", "jpeg"];

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

/// Map names become file names: keep them to what real map names use.
pub fn is_valid_map_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Reads at most `limit` bytes of a logical file; longer files are an error.
fn read_bounded(source: &Source, limit: u64) -> Result<Vec<u8>, String> {
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
fn read_entities(source: &Source) -> Result<String, String> {
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

/// Decodes a command-map image after checking its dimensions, and writes it as PNG.
pub fn convert_image(bytes: &[u8], ext: &str, out: &Path) -> Result<(u32, u32), String> {
    let format = match ext {
        "png" => image::ImageFormat::Png,
        "tga" => image::ImageFormat::Tga,
        "jpg" | "jpeg" => image::ImageFormat::Jpeg,
        other => return Err(format!("unsupported image type .{other}")),
    };
    let (w, h) = image::ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| format!("unreadable image header: {e}"))?;
    if w == 0 || h == 0 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(format!(
            "image is {w}×{h}; command maps are at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE}"
        ));
    }
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(u64::from(MAX_IMAGE_SIDE) * u64::from(MAX_IMAGE_SIDE) * 8);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("cannot decode image: {e}"))?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let tmp = out.with_extension("png.tmp");
    img.to_rgba8()
        .save_with_format(&tmp, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, out).map_err(|e| e.to_string())?;
    Ok((w, h))
}

/// `goldrush` for a layer name such as `goldrush_1`.
fn layer_base(name: &str) -> Option<&str> {
    let (base, layer) = name.rsplit_once('_')?;
    (!layer.is_empty() && layer.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

/// Imports calibration and command-map images from `paths` into `assets`.
#[tracing::instrument(skip(assets), fields(table = %assets.table_path.display()))]
pub fn import_maps(
    paths: &[PathBuf],
    assets: &MapAssets,
) -> Result<MapImportReport, MapImportError> {
    let mut files = GameFiles::default();
    for p in paths {
        files.scan_input(p)?;
    }
    let mut names: BTreeSet<String> = BTreeSet::new();
    for logical in files.files.keys() {
        if let Some(rest) = logical.strip_prefix("maps/") {
            if let Some((stem, _)) = rest.rsplit_once('.') {
                names.insert(stem.to_string());
            }
        } else if let Some(rest) = logical.strip_prefix("levelshots/") {
            if let Some((stem, _)) = rest.rsplit_once('.') {
                if let Some(map) = stem.strip_suffix("_cc") {
                    names.insert(map.to_string());
                }
            }
        }
    }
    // `<map>_<i>_cc` images are the layers of a multi-level command map, not maps.
    let layer_names: Vec<String> = names
        .iter()
        .filter(|n| layer_base(n).is_some_and(|base| names.contains(base)))
        .cloned()
        .collect();
    for n in layer_names {
        names.remove(&n);
    }
    let mut table = CalibrationTable::load_or_builtin(&assets.table_path)?;
    let mut report = MapImportReport {
        table_path: assets.table_path.clone(),
        ..MapImportReport::default()
    };
    report.problems.append(&mut files.problems);
    for map in names {
        if !is_valid_map_name(&map) {
            report.problems.push(format!(
                "map name `{map}` has characters a map name cannot have"
            ));
            continue;
        }
        let result = import_one(&map, &files, assets, &mut table);
        report.maps.push(result);
    }
    table.save(&assets.table_path)?;
    Ok(report)
}

fn import_one(
    map: &str,
    files: &GameFiles,
    assets: &MapAssets,
    table: &mut CalibrationTable,
) -> ImportedMap {
    let mut result = ImportedMap {
        map: map.to_string(),
        world: None,
        image: None,
        missing: Vec::new(),
    };
    // A .ent file replaces the BSP's entity lump, as in the engine.
    let ent = files.files.get(&format!("maps/{map}.ent"));
    let bsp = files.files.get(&format!("maps/{map}.bsp"));
    let entities = match (ent, bsp) {
        (Some(src), _) => Some((
            read_bounded(src, MAX_ENTITY_BYTES).map(|b| String::from_utf8_lossy(&b).into_owned()),
            src,
        )),
        (None, Some(src)) => Some((read_entities(src), src)),
        (None, None) => None,
    };
    match entities {
        None => result.missing.push(if table.get(map).is_some() {
            format!("maps/{map}.bsp (kept the box already in the table)")
        } else {
            format!("maps/{map}.bsp (no world box)")
        }),
        Some((Err(e), src)) => result.missing.push(format!("world box: {src}: {e}")),
        Some((Ok(text), src)) => match worldspawn_box(&text) {
            Ok(world) => result.world = Some((world, src.to_string())),
            Err(e) => result.missing.push(format!("world box: {src}: {e}")),
        },
    }
    // Maps with `cclayers` have one image per floor: take the ground floor (layer 0).
    let image = ["", "_0"].iter().find_map(|layer| {
        IMAGE_EXTS.iter().find_map(|ext| {
            files
                .files
                .get(&format!("levelshots/{map}{layer}_cc.{ext}"))
                .map(|src| (*ext, src))
        })
    });
    let out = assets.maps_dir.join(format!("{map}.png"));
    match image {
        None => result.missing.push(format!(
            "levelshots/{map}_cc.tga (or .jpg/.png): no command-map image"
        )),
        Some((ext, src)) => match read_bounded(src, MAX_IMAGE_FILE_BYTES)
            .and_then(|bytes| convert_image(&bytes, ext, &out))
        {
            Ok(_) => result.image = Some((out.clone(), src.to_string())),
            Err(e) => result.missing.push(format!("image {src}: {e}")),
        },
    }
    let existing = table.get(map).cloned();
    let image_name = if result.image.is_some() {
        format!("{map}.png")
    } else {
        existing
            .as_ref()
            .map(|e| e.image.clone())
            .unwrap_or_default()
    };
    match (&result.world, existing) {
        (Some((world, src)), _) => table.upsert(MapEntry {
            map: map.to_string(),
            mapcoordsmins_x: world.mins[0],
            mapcoordsmins_y: world.mins[1],
            mapcoordsmaxs_x: world.maxs[0],
            mapcoordsmaxs_y: world.maxs[1],
            image: image_name,
            source: format!("maps import: {src}"),
        }),
        (None, Some(mut entry)) => {
            entry.image = image_name;
            table.upsert(entry);
        }
        (None, None) => {}
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    /// A minimal BSP: header with lump 0 = entity text right after it, other lumps empty.
    pub(crate) fn synthetic_bsp(entities: &str) -> Vec<u8> {
        let mut text = entities.as_bytes().to_vec();
        text.push(0);
        let mut out = Vec::new();
        out.extend_from_slice(b"IBSP");
        out.extend_from_slice(&BSP_VERSION.to_le_bytes());
        out.extend_from_slice(&(BSP_HEADER_LEN as i32).to_le_bytes());
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        for _ in 1..17 {
            out.extend_from_slice(&[0u8; 8]);
        }
        out.extend_from_slice(&text);
        out
    }

    fn worldspawn(mins: &str, maxs: &str) -> String {
        format!(
            "{{\n\"classname\" \"worldspawn\"\n\"message\" \"Test\"\n\"mapcoordsmins\" \"{mins}\"\n\"mapcoordsmaxs\" \"{maxs}\"\n}}\n\
             {{\n\"classname\" \"info_player_deathmatch\"\n\"origin\" \"0 0 0\"\n}}\n"
        )
    }

    fn tga(w: u16, h: u16) -> Vec<u8> {
        let mut out = vec![0u8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        out.extend_from_slice(&w.to_le_bytes());
        out.extend_from_slice(&h.to_le_bytes());
        out.extend_from_slice(&[24, 0x20]);
        for i in 0..u32::from(w) * u32::from(h) {
            out.extend_from_slice(&[(i % 256) as u8, 80, 160]);
        }
        out
    }

    fn pk3(path: &Path, entries: &[(&str, &[u8])]) {
        let f = File::create(path).expect("create pk3");
        let mut zip = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(*name, opts).expect("entry");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("finish");
    }

    fn assets(dir: &Path) -> MapAssets {
        MapAssets {
            table_path: dir.join("maps.csv"),
            maps_dir: dir.join("maps"),
        }
    }

    #[test]
    fn bsp_entities_are_read_from_lump_zero() {
        let bsp = synthetic_bsp(&worldspawn("-4224 4352", "3712 -3584"));
        let text = read_bsp_entities(Cursor::new(&bsp), Some(bsp.len() as u64)).expect("read");
        let world = worldspawn_box(&text).expect("box");
        assert_eq!(world.mins, [-4224.0, 4352.0]);
        assert_eq!(world.maxs, [3712.0, -3584.0]);
    }

    #[test]
    fn malformed_bsps_are_refused() {
        let good = synthetic_bsp(&worldspawn("0 10", "10 0"));
        assert_eq!(
            read_bsp_entities(Cursor::new(&good[..100]), None),
            Err(BspError::TooShort)
        );
        let mut bad = good.clone();
        bad[0..4].copy_from_slice(b"VBSP");
        assert!(matches!(
            read_bsp_entities(Cursor::new(&bad), None),
            Err(BspError::BadIdent(_))
        ));
        let mut v46 = good.clone();
        v46[4..8].copy_from_slice(&46i32.to_le_bytes());
        assert_eq!(
            read_bsp_entities(Cursor::new(&v46), None),
            Err(BspError::BadVersion(46))
        );
        let mut long = good.clone();
        long[12..16].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert!(matches!(
            read_bsp_entities(Cursor::new(&long), Some(good.len() as u64)),
            Err(BspError::BadLump { .. })
        ));
        let mut neg = good;
        neg[8..12].copy_from_slice(&(-5i32).to_le_bytes());
        assert!(matches!(
            read_bsp_entities(Cursor::new(&neg), None),
            Err(BspError::BadLump { .. })
        ));
    }

    #[test]
    fn worldspawn_without_coords_says_which_key() {
        let err = worldspawn_box("{ \"classname\" \"worldspawn\" \"mapcoordsmins\" \"0 0\" }")
            .expect_err("no maxs");
        assert!(err.contains("mapcoordsmaxs"), "{err}");
        let err = worldspawn_box(
            "{ \"classname\" \"worldspawn\" \"mapcoordsmins\" \"a b\" \"mapcoordsmaxs\" \"1 1\" }",
        )
        .expect_err("not numbers");
        assert!(err.contains("not two numbers"), "{err}");
    }

    #[test]
    fn entity_parser_handles_comments_and_braces_in_strings() {
        let blocks = parse_entities(
            "// comment { \"x\" \"y\" }\n{ \"classname\" \"worldspawn\" \"message\" \"a { b }\" }",
        );
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0][1], ("message".to_string(), "a { b }".to_string()));
    }

    #[test]
    fn pk3_import_calibrates_and_converts_the_image() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pak = dir.path().join("z_testmap.pk3");
        let bsp = synthetic_bsp(&worldspawn("-1000 2000", "3000 -2000"));
        let img = tga(64, 64);
        pk3(
            &pak,
            &[
                ("maps/testmap.bsp", &bsp),
                ("levelshots/testmap_cc.tga", &img),
                ("levelshots/testmap.tga", &img),
                ("scripts/testmap.script", b"// nothing"),
            ],
        );
        let assets = assets(dir.path());
        let report = import_maps(&[pak], &assets).expect("import");
        assert_eq!(report.maps.len(), 1, "{report}");
        let m = &report.maps[0];
        assert_eq!(m.map, "testmap");
        assert!(m.missing.is_empty(), "{report}");
        let png = assets.maps_dir.join("testmap.png");
        let decoded = image::open(&png).expect("png written");
        assert_eq!((decoded.width(), decoded.height()), (64, 64));
        let table = CalibrationTable::load_or_builtin(&assets.table_path).expect("table");
        let entry = table.get("testmap").expect("calibrated");
        assert_eq!(entry.image, "testmap.png");
        assert_eq!(
            (
                entry.mapcoordsmins_x,
                entry.mapcoordsmins_y,
                entry.mapcoordsmaxs_x,
                entry.mapcoordsmaxs_y
            ),
            (-1000.0, 2000.0, 3000.0, -2000.0)
        );
        assert!(table.get("goldrush").is_some(), "the shipped maps are kept");
        assert!(
            report
                .to_string()
                .contains("testmap: box -1000 2000 / 3000 -2000"),
            "{report}"
        );
    }

    #[test]
    fn pk3_entries_with_parent_paths_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pak = dir.path().join("evil.pk3");
        let bsp = synthetic_bsp(&worldspawn("0 100", "100 0"));
        pk3(
            &pak,
            &[
                ("../maps/evil.bsp", &bsp),
                ("maps/../../x/levelshots/evil_cc.tga", &tga(4, 4)),
            ],
        );
        let report = import_maps(&[pak], &assets(dir.path())).expect("import");
        assert!(report.maps.is_empty(), "{report}");
        assert_eq!(report.problems.len(), 2, "{report}");
        assert!(report.problems[0].contains("refused entry"), "{report}");
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn ent_file_overrides_the_bsp_and_loose_folder_layout_works() {
        let dir = tempfile::tempdir().expect("tempdir");
        let etmain = dir.path().join("etmain");
        std::fs::create_dir_all(etmain.join("maps")).expect("mkdir");
        std::fs::write(
            etmain.join("maps/loose.bsp"),
            synthetic_bsp(&worldspawn("0 100", "100 0")),
        )
        .expect("bsp");
        std::fs::write(
            etmain.join("maps/loose.ent"),
            worldspawn("-50 500", "500 -50"),
        )
        .expect("ent");
        let out = dir.path().join("out");
        let report = import_maps(&[etmain], &assets(&out)).expect("import");
        assert_eq!(report.maps.len(), 1, "{report}");
        let (world, src) = report.maps[0].world.clone().expect("box");
        assert_eq!(world.mins, [-50.0, 500.0]);
        assert!(src.ends_with("loose.ent"), "{src}");
        assert!(
            report.maps[0].missing[0].contains("no command-map image"),
            "{report}"
        );
        let table = CalibrationTable::load_or_builtin(&out.join("maps.csv")).expect("table");
        assert_eq!(table.get("loose").map(|e| e.image.as_str()), Some(""));
    }

    #[test]
    fn huge_image_is_refused_before_decoding() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A TGA header claiming 60000×60000 with almost no pixel data.
        let mut header = tga(1, 1);
        header[12..14].copy_from_slice(&60000u16.to_le_bytes());
        header[14..16].copy_from_slice(&60000u16.to_le_bytes());
        let pak = dir.path().join("big.pk3");
        pk3(
            &pak,
            &[
                (
                    "maps/big.bsp",
                    &synthetic_bsp(&worldspawn("0 100", "100 0")),
                ),
                ("levelshots/big_cc.tga", &header),
            ],
        );
        let assets = assets(dir.path());
        let report = import_maps(&[pak], &assets).expect("import");
        let m = &report.maps[0];
        assert!(m.world.is_some());
        assert!(m.image.is_none());
        assert!(
            m.missing.iter().any(|s| s.contains("60000×60000")),
            "{report}"
        );
        assert!(!assets.maps_dir.join("big.png").exists());
    }

    #[test]
    fn image_only_import_updates_an_existing_map() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shots = dir.path().join("levelshots");
        std::fs::create_dir_all(&shots).expect("mkdir");
        let mut png = Vec::new();
        image::RgbImage::new(32, 32)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        std::fs::write(shots.join("goldrush_cc.png"), &png).expect("write");
        let assets = assets(&dir.path().join("out"));
        let report = import_maps(&[shots.join("goldrush_cc.png")], &assets).expect("import");
        assert_eq!(report.maps[0].map, "goldrush");
        assert!(
            report.maps[0].missing[0].contains("kept the box"),
            "{report}"
        );
        let table = CalibrationTable::load_or_builtin(&assets.table_path).expect("table");
        let entry = table.get("goldrush").expect("kept");
        assert_eq!(entry.image, "goldrush.png");
        assert_eq!(entry.mapcoordsmins_x, -4224.0, "box unchanged");
    }

    #[test]
    fn layered_command_maps_use_the_ground_floor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pak = dir.path().join("layers.pk3");
        pk3(
            &pak,
            &[
                (
                    "maps/tower.bsp",
                    &synthetic_bsp(&worldspawn("0 100", "100 0")),
                ),
                ("levelshots/tower_0_cc.tga", &tga(8, 8)),
                ("levelshots/tower_1_cc.tga", &tga(4, 4)),
            ],
        );
        let assets = assets(dir.path());
        let report = import_maps(&[pak], &assets).expect("import");
        assert_eq!(report.maps.len(), 1, "layers are not maps: {report}");
        let (png, src) = report.maps[0].image.clone().expect("image");
        assert!(src.ends_with("tower_0_cc.tga"), "{src}");
        assert_eq!(image::open(png).expect("png").width(), 8);
    }

    #[test]
    fn unsafe_names_are_detected() {
        assert!(is_safe_entry_name("maps/goldrush.bsp"));
        assert!(!is_safe_entry_name("../maps/goldrush.bsp"));
        assert!(!is_safe_entry_name("maps\\..\\..\\x.bsp"));
        assert!(!is_safe_entry_name("/etc/passwd"));
        assert!(!is_safe_entry_name("C:/x.bsp"));
        assert!(is_valid_map_name("sw_goldrush_te"));
        assert!(!is_valid_map_name(".hidden"));
        assert!(!is_valid_map_name("a/b"));
    }

    proptest! {
        #[test]
        fn bsp_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_bsp_entities(Cursor::new(&bytes), Some(bytes.len() as u64));
        }

        #[test]
        fn bsp_reader_never_panics_on_valid_header(ofs in any::<i32>(), len in any::<u32>(), tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = synthetic_bsp("");
            bytes[8..12].copy_from_slice(&ofs.to_le_bytes());
            bytes[12..16].copy_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&tail);
            let _ = read_bsp_entities(Cursor::new(&bytes), Some(bytes.len() as u64));
        }

        #[test]
        fn entity_parser_never_panics(text in "\\PC{0,300}") {
            let _ = parse_entities(&text);
            let _ = worldspawn_box(&text);
        }

        #[test]
        fn worldspawn_round_trips(a in -30000i32..30000, b in -30000i32..30000, w in 1i32..20000, h in 1i32..20000) {
            let text = worldspawn(&format!("{a} {b}"), &format!("{} {}", a + w, b - h));
            let bsp = synthetic_bsp(&text);
            let read = read_bsp_entities(Cursor::new(&bsp), Some(bsp.len() as u64)).expect("read");
            let world = worldspawn_box(&read).expect("box");
            prop_assert_eq!(world.mins, [f64::from(a), f64::from(b)]);
            prop_assert_eq!(world.maxs, [f64::from(a + w), f64::from(b - h)]);
        }
    }
}
