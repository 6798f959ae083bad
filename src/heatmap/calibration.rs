//! Map calibration: the world rectangle of each map's command map (worldspawn
//! `mapcoordsmins` / `mapcoordsmaxs`) and the image drawn under the heatmap.
//!
//! `mapcoordsmins` is the top-left corner of the command map (min x, max y) and
//! `mapcoordsmaxs` the bottom-right (max x, min y). The game maps a world point to
//! the image with signed spans, so a swapped convention still lands right:
//! u = (x − mins.x) / (maxs.x − mins.x), v = (y − mins.y) / (maxs.y − mins.y),
//! with (0, 0) the top-left of the image.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

/// The calibration table shipped with the crate (seeded from the reference maps list).
pub const BUILTIN_TABLE: &str = include_str!("../../assets/maps.csv");

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("map box for {map}: {reason}")]
    BadBox { map: String, reason: String },
    #[error("calibration table {path}: {source}")]
    Csv {
        path: String,
        #[source]
        source: csv::Error,
    },
    #[error("calibration table {path}, map {map:?}: {reason}")]
    BadRow {
        path: String,
        map: String,
        reason: String,
    },
    #[error("calibration table {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The world rectangle that the command map image covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorldBox {
    /// `mapcoordsmins`: the world point at the image's top-left corner.
    pub mins: [f64; 2],
    /// `mapcoordsmaxs`: the world point at the image's bottom-right corner.
    pub maxs: [f64; 2],
}

impl WorldBox {
    /// A box from the worldspawn keys; refuses non-finite values and zero spans,
    /// which would divide by zero in the transform.
    pub fn new(mins: [f64; 2], maxs: [f64; 2]) -> Result<Self, String> {
        if !mins.iter().chain(maxs.iter()).all(|v| v.is_finite()) {
            return Err("coordinates must be finite numbers".into());
        }
        if mins[0] == maxs[0] || mins[1] == maxs[1] {
            return Err(format!(
                "zero-size box: mins {} {}, maxs {} {}",
                mins[0], mins[1], maxs[0], maxs[1]
            ));
        }
        Ok(Self { mins, maxs })
    }

    /// Signed world span along x (image left to right).
    pub fn span_x(&self) -> f64 {
        self.maxs[0] - self.mins[0]
    }

    /// Signed world span along y (image top to bottom); negative for the usual convention.
    pub fn span_y(&self) -> f64 {
        self.maxs[1] - self.mins[1]
    }

    /// World point to normalised image coordinates, (0, 0) top-left, (1, 1) bottom-right.
    pub fn to_uv(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (x - self.mins[0]) / self.span_x(),
            (y - self.mins[1]) / self.span_y(),
        )
    }

    /// World point to continuous pixel coordinates in a `width`×`height` image: the
    /// top-left corner of the box is (0, 0), the bottom-right (width, height).
    pub fn to_pixel(&self, x: f64, y: f64, width: u32, height: u32) -> (f64, f64) {
        let (u, v) = self.to_uv(x, y);
        (u * f64::from(width), v * f64::from(height))
    }

    /// Normalised image coordinates back to a world point.
    pub fn from_uv(&self, u: f64, v: f64) -> (f64, f64) {
        (
            self.mins[0] + u * self.span_x(),
            self.mins[1] + v * self.span_y(),
        )
    }

    /// Fallback box for a map without calibration: the bounding box of its kills,
    /// padded and made square (command maps are square), in the game's convention.
    /// None when there is no finite point.
    pub fn from_bounds(min_x: f64, max_x: f64, min_y: f64, max_y: f64) -> Option<Self> {
        if ![min_x, max_x, min_y, max_y].iter().all(|v| v.is_finite())
            || min_x > max_x
            || min_y > max_y
        {
            return None;
        }
        let cx = (min_x + max_x) / 2.0;
        let cy = (min_y + max_y) / 2.0;
        // Pad so that kills on the edge are not cut by the smoothing kernel.
        let half = ((max_x - min_x).max(max_y - min_y) / 2.0) * 1.08 + 128.0;
        Self::new([cx - half, cy + half], [cx + half, cy - half]).ok()
    }
}

/// One row of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapEntry {
    pub map: String,
    pub mapcoordsmins_x: f64,
    pub mapcoordsmins_y: f64,
    pub mapcoordsmaxs_x: f64,
    pub mapcoordsmaxs_y: f64,
    /// Image file name, relative to the maps folder; empty when the map has none yet.
    pub image: String,
    /// Where the numbers came from (a BSP path, a pk3, a reference list).
    pub source: String,
}

impl MapEntry {
    /// One row of the table, columns by position.
    fn from_record(record: &csv::StringRecord, origin: &str) -> Result<MapEntry, CalibrationError> {
        let field = |i: usize| record.get(i).unwrap_or("").to_string();
        let map = field(0);
        let number = |i: usize| {
            field(i)
                .parse::<f64>()
                .map_err(|_| CalibrationError::BadRow {
                    path: origin.to_string(),
                    map: map.clone(),
                    reason: format!("column {} {:?} is not a number", i + 1, field(i)),
                })
        };
        Ok(MapEntry {
            mapcoordsmins_x: number(1)?,
            mapcoordsmins_y: number(2)?,
            mapcoordsmaxs_x: number(3)?,
            mapcoordsmaxs_y: number(4)?,
            image: field(5),
            source: field(6),
            map,
        })
    }

    pub fn world_box(&self) -> Result<WorldBox, CalibrationError> {
        WorldBox::new(
            [self.mapcoordsmins_x, self.mapcoordsmins_y],
            [self.mapcoordsmaxs_x, self.mapcoordsmaxs_y],
        )
        .map_err(|reason| CalibrationError::BadBox {
            map: self.map.clone(),
            reason,
        })
    }
}

/// Map name → calibration. Map names compare case-insensitively, as the game's do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalibrationTable {
    entries: BTreeMap<String, MapEntry>,
}

impl CalibrationTable {
    /// The table compiled into the binary.
    pub fn builtin() -> Self {
        // The shipped table is covered by a test; an error here would be a packaging bug,
        // so fall back to an empty table rather than abort the bot.
        Self::parse(BUILTIN_TABLE, "builtin assets/maps.csv").unwrap_or_default()
    }

    /// Loads `path`, or the built-in table when the file does not exist.
    pub fn load_or_builtin(path: &Path) -> Result<Self, CalibrationError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::builtin()),
            Err(source) => Err(CalibrationError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Reads a table: a header line, then `map, mins x, mins y, maxs x, maxs y[, image[,
    /// source]]` by position (hand-written tables name the columns differently). A row
    /// without a valid box refuses the whole table, so a typo is not a silent miss.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CalibrationError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut table = Self::default();
        for row in reader.records() {
            let record = row.map_err(|source| CalibrationError::Csv {
                path: origin.to_string(),
                source,
            })?;
            let entry = MapEntry::from_record(&record, origin)?;
            entry.world_box()?;
            table.upsert(entry);
        }
        Ok(table)
    }

    pub fn to_csv(&self) -> Result<String, CalibrationError> {
        let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
        for entry in self.entries.values() {
            writer
                .serialize(entry)
                .map_err(|source| CalibrationError::Csv {
                    path: "<memory>".into(),
                    source,
                })?;
        }
        let bytes = writer.into_inner().map_err(|e| CalibrationError::Io {
            path: "<memory>".into(),
            source: e.into_error(),
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Writes the table atomically (temp file + rename) so a crash never leaves half a table.
    pub fn save(&self, path: &Path) -> Result<(), CalibrationError> {
        let io_err = |source| CalibrationError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let tmp = path.with_extension("csv.tmp");
        std::fs::write(&tmp, self.to_csv()?).map_err(io_err)?;
        std::fs::rename(&tmp, path).map_err(io_err)
    }

    pub fn get(&self, map: &str) -> Option<&MapEntry> {
        self.entries.get(&map.to_ascii_lowercase())
    }

    /// Adds or replaces the row of `entry.map`.
    pub fn upsert(&mut self, mut entry: MapEntry) {
        entry.map = entry.map.to_ascii_lowercase();
        self.entries.insert(entry.map.clone(), entry);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &MapEntry> {
        self.entries.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn goldrush() -> WorldBox {
        CalibrationTable::builtin()
            .get("goldrush")
            .expect("goldrush is in the shipped table")
            .world_box()
            .expect("valid box")
    }

    #[test]
    fn goldrush_corners_map_to_image_corners() {
        let world = goldrush();
        assert_eq!(world.to_pixel(-4224.0, 4352.0, 1024, 1024), (0.0, 0.0));
        assert_eq!(
            world.to_pixel(3712.0, -3584.0, 1024, 1024),
            (1024.0, 1024.0)
        );
        // Top-right and bottom-left corners: +x is right, +y is up.
        assert_eq!(world.to_pixel(3712.0, 4352.0, 512, 512), (512.0, 0.0));
        assert_eq!(world.to_pixel(-4224.0, -3584.0, 512, 512), (0.0, 512.0));
        // Centre of the box is the centre of the image.
        assert_eq!(world.to_pixel(-256.0, 384.0, 1024, 1024), (512.0, 512.0));
    }

    #[test]
    fn battery_box_is_not_square_and_still_maps_corners() {
        let table = CalibrationTable::builtin();
        let world = table
            .get("Battery")
            .expect("case-insensitive")
            .world_box()
            .expect("box");
        assert_eq!(world.to_uv(-768.0, 1664.0), (0.0, 0.0));
        assert_eq!(world.to_uv(7296.0, -6400.0), (1.0, 1.0));
    }

    #[test]
    fn shipped_table_has_every_reference_map() {
        let table = CalibrationTable::builtin();
        assert_eq!(table.len(), 26);
        for map in ["goldrush", "supply", "te_escape2", "tc_base", "etl_ice"] {
            assert!(table.get(map).is_some(), "{map} missing");
        }
    }

    #[test]
    fn table_round_trips_through_csv() {
        let mut table = CalibrationTable::builtin();
        table.upsert(MapEntry {
            map: "MyMap".into(),
            mapcoordsmins_x: -100.5,
            mapcoordsmins_y: 200.0,
            mapcoordsmaxs_x: 300.0,
            mapcoordsmaxs_y: -400.0,
            image: "mymap.png".into(),
            source: "test, with a comma".into(),
        });
        let text = table.to_csv().expect("csv");
        let back = CalibrationTable::parse(&text, "test").expect("parse");
        assert_eq!(back, table);
        assert_eq!(
            back.get("mymap").map(|e| e.image.as_str()),
            Some("mymap.png")
        );
    }

    #[test]
    fn rows_are_read_by_position_and_bad_numbers_name_the_map() {
        let text = "name,a,b,c,d\nMyMap,-10,10,10,-10\n";
        let table = CalibrationTable::parse(text, "t").expect("short rows and any header");
        let entry = table.get("mymap").expect("mymap");
        assert_eq!((entry.mapcoordsmins_x, entry.image.as_str()), (-10.0, ""));
        let err = CalibrationTable::parse("map,a,b,c,d\nbroken,x,1,2,3\n", "t")
            .expect_err("not a number");
        assert!(err.to_string().contains("broken"), "{err}");
    }

    #[test]
    fn zero_size_box_is_refused() {
        let text =
            "map,mapcoordsmins_x,mapcoordsmins_y,mapcoordsmaxs_x,mapcoordsmaxs_y,image,source\n\
                    flat,0,0,0,-10,,\n";
        let err = CalibrationTable::parse(text, "t").expect_err("zero width");
        assert!(err.to_string().contains("flat"), "{err}");
    }

    #[test]
    fn fallback_box_contains_all_kills_and_is_square() {
        let world = WorldBox::from_bounds(-1000.0, 3000.0, -200.0, 600.0).expect("box");
        assert!(
            (world.span_x() + world.span_y()).abs() < 1e-9,
            "square, y flipped"
        );
        for (x, y) in [(-1000.0, -200.0), (3000.0, 600.0), (1000.0, 200.0)] {
            let (u, v) = world.to_uv(x, y);
            assert!((0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v));
        }
        assert!(WorldBox::from_bounds(f64::NAN, 1.0, 0.0, 1.0).is_none());
    }

    proptest! {
        #[test]
        fn uv_round_trips(
            minx in -20000.0f64..20000.0, w in 64.0f64..30000.0,
            maxy in -20000.0f64..20000.0, h in 64.0f64..30000.0,
            u in 0.0f64..1.0, v in 0.0f64..1.0,
        ) {
            let world = WorldBox::new([minx, maxy], [minx + w, maxy - h]).expect("box");
            let (x, y) = world.from_uv(u, v);
            let (u2, v2) = world.to_uv(x, y);
            prop_assert!((u - u2).abs() < 1e-9 && (v - v2).abs() < 1e-9);
        }

        #[test]
        fn single_point_fallback_box_is_usable(x in -30000.0f64..30000.0, y in -30000.0f64..30000.0) {
            let world = WorldBox::from_bounds(x, x, y, y).expect("a single kill still gets a box");
            let (u, v) = world.to_uv(x, y);
            prop_assert!((u - 0.5).abs() < 1e-9 && (v - 0.5).abs() < 1e-9);
        }
    }
}
