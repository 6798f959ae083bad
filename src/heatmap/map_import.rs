//! `etprox maps import`: reads an ET install folder, `.pk3` archives or loose files,
//! takes each map's world box from its BSP worldspawn (or a `maps/<map>.ent` override)
//! and its command-map image from `levelshots/<map>_cc.{png,tga,jpg,jpeg}`, converts the
//! image to `<maps_dir>/<map>.png` and updates the calibration table.
//!
//! Everything read is untrusted: archive entry names are checked before use, reads are
//! bounded, and image dimensions are checked before an image is decoded.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use super::bsp::{worldspawn_box, MAX_ENTITY_BYTES};
use super::calibration::{CalibrationTable, MapEntry, WorldBox};
pub use super::game_files::is_safe_entry_name;
use super::game_files::{read_bounded, read_entities, GameFiles, IMAGE_EXTS};
use crate::assets::Assets;

/// Largest image file read from an archive or disk.
pub const MAX_IMAGE_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest command-map image decoded (the game uses 256–1024 px).
pub const MAX_IMAGE_SIDE: u32 = 4096;
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

/// Map names become file names: keep them to what real map names use.
pub fn is_valid_map_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
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
#[tracing::instrument(skip(assets), fields(table = %assets.table_path().display()))]
pub fn import_maps(paths: &[PathBuf], assets: &Assets) -> Result<MapImportReport, MapImportError> {
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
    let mut table = CalibrationTable::load_or_builtin(&assets.table_path())?;
    let mut report = MapImportReport {
        table_path: assets.table_path(),
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
    table.save(&assets.table_path())?;
    Ok(report)
}

fn import_one(
    map: &str,
    files: &GameFiles,
    assets: &Assets,
    table: &mut CalibrationTable,
) -> ImportedMap {
    let mut result = ImportedMap {
        map: map.to_string(),
        world: None,
        image: None,
        missing: Vec::new(),
    };
    match read_world_box(map, files) {
        Ok(world) => result.world = world,
        Err(missing) => result.missing.push(missing),
    }
    if result.world.is_none() && result.missing.is_empty() {
        result.missing.push(if table.get(map).is_some() {
            format!("maps/{map}.bsp (kept the box already in the table)")
        } else {
            format!("maps/{map}.bsp (no world box)")
        });
    }
    match import_image(map, files, assets) {
        Ok(image) => result.image = Some(image),
        Err(missing) => result.missing.push(missing),
    }
    update_table(table, &result);
    result
}

/// The map's world box and where it was read from (`Ok(None)`: no BSP or .ent file at all).
fn read_world_box(map: &str, files: &GameFiles) -> Result<Option<(WorldBox, String)>, String> {
    // A .ent file replaces the BSP's entity lump, as in the engine.
    let ent = files.files.get(&format!("maps/{map}.ent"));
    let bsp = files.files.get(&format!("maps/{map}.bsp"));
    let (text, src) = match (ent, bsp) {
        (Some(src), _) => (
            read_bounded(src, MAX_ENTITY_BYTES).map(|b| String::from_utf8_lossy(&b).into_owned()),
            src,
        ),
        (None, Some(src)) => (read_entities(src), src),
        (None, None) => return Ok(None),
    };
    let world = text
        .and_then(|text| worldspawn_box(&text))
        .map_err(|e| format!("world box: {src}: {e}"))?;
    Ok(Some((world, src.to_string())))
}

/// Converts the map's command-map image to `<maps>/<map>.png`: the PNG and its source file.
fn import_image(
    map: &str,
    files: &GameFiles,
    assets: &Assets,
) -> Result<(PathBuf, String), String> {
    // Maps with `cclayers` have one image per floor: take the ground floor (layer 0).
    let image = ["", "_0"].iter().find_map(|layer| {
        IMAGE_EXTS.iter().find_map(|ext| {
            files
                .files
                .get(&format!("levelshots/{map}{layer}_cc.{ext}"))
                .map(|src| (*ext, src))
        })
    });
    let Some((ext, src)) = image else {
        return Err(format!(
            "levelshots/{map}_cc.tga (or .jpg/.png): no command-map image"
        ));
    };
    let out = assets.maps_dir().join(format!("{map}.png"));
    read_bounded(src, MAX_IMAGE_FILE_BYTES)
        .and_then(|bytes| convert_image(&bytes, ext, &out))
        .map(|_| (out, src.to_string()))
        .map_err(|e| format!("image {src}: {e}"))
}

/// Writes what was found into the table; a map without a new box keeps its old one.
fn update_table(table: &mut CalibrationTable, result: &ImportedMap) {
    let map = &result.map;
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
}

#[cfg(test)]
mod tests {
    use super::super::bsp::tests::{synthetic_bsp, worldspawn};
    use super::*;
    use std::fs::File;
    use std::io::Write;

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

    fn assets(dir: &Path) -> Assets {
        Assets::in_dir(dir)
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
        let png = assets.maps_dir().join("testmap.png");
        let decoded = image::open(&png).expect("png written");
        assert_eq!((decoded.width(), decoded.height()), (64, 64));
        let table = CalibrationTable::load_or_builtin(&assets.table_path()).expect("table");
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
        assert!(!assets.maps_dir().join("big.png").exists());
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
        let table = CalibrationTable::load_or_builtin(&assets.table_path()).expect("table");
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
}
