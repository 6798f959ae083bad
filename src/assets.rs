//! Where map images and the calibration table live ([`Assets`], from the configuration) and
//! what they hold per map. One rule and one reader of `maps.csv`, used by `etprox maps
//! import`, `etprox maps list`, `etprox heatmap`, `etprox check`, `etprox ask` and the bot's
//! `/heatmap` and `/maps`, so they all read and write the same files whatever folder they are
//! started from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::heatmap::calibration::{CalibrationError, CalibrationTable, MapEntry};

/// The setting that names the assets folder.
pub const ASSETS_DIR_VAR: &str = "ETPROX_ASSETS_DIR";

/// The assets folder: the calibration table `<dir>/maps.csv` (the built-in table while it does
/// not exist) and the command-map images `<dir>/maps/<map>.png`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assets {
    dir: PathBuf,
}

/// What the assets say about one map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MapStatus {
    /// The calibration table has its box.
    pub calibrated: bool,
    /// A command-map image is on disk.
    pub has_image: bool,
}

impl Assets {
    /// The files of one folder.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Assets {
        Assets { dir: dir.into() }
    }

    /// The folder for this binary given the `ETPROX_ASSETS_DIR` setting, by the rule of
    /// [`resolve`].
    pub fn from_setting(configured: Option<&str>) -> Assets {
        Assets::in_dir(assets_dir_from(configured))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The calibration table, `<dir>/maps.csv`.
    pub fn table_path(&self) -> PathBuf {
        self.dir.join("maps.csv")
    }

    /// The folder of converted command-map images, `<dir>/maps`.
    pub fn maps_dir(&self) -> PathBuf {
        self.dir.join("maps")
    }

    /// The calibration table of this folder, or the built-in one while it has none.
    pub fn load_table(&self) -> Result<CalibrationTable, CalibrationError> {
        CalibrationTable::load_or_builtin(&self.table_path())
    }

    /// The image of `entry` on disk: the file the table names in `maps/`, else
    /// `maps/<map>.png` (what `maps import` writes).
    pub fn image_path(&self, entry: &MapEntry) -> Option<PathBuf> {
        let maps = self.maps_dir();
        let named = Some(entry.image.trim())
            .filter(|name| !name.is_empty())
            .map(|name| maps.join(name));
        let by_map = maps.join(format!("{}.png", entry.map));
        named
            .into_iter()
            .chain(std::iter::once(by_map))
            .find(|path| path.is_file())
    }

    /// Per map of the table (lower-case names): calibrated, and whether it has an image.
    pub fn map_status(&self) -> Result<BTreeMap<String, MapStatus>, CalibrationError> {
        let table = self.load_table()?;
        Ok(table
            .iter()
            .map(|entry| {
                let status = MapStatus {
                    calibrated: true,
                    has_image: self.image_path(entry).is_some(),
                };
                (entry.map.clone(), status)
            })
            .collect())
    }
}

impl Default for Assets {
    /// The folder of the `ETPROX_ASSETS_DIR` environment variable, for callers without a
    /// [`crate::config::Config`] (tests, benches).
    fn default() -> Assets {
        Assets::in_dir(assets_dir())
    }
}

/// The assets folder, from the environment and where this binary lies; see [`resolve`].
pub fn assets_dir() -> PathBuf {
    let configured = std::env::var(ASSETS_DIR_VAR).ok();
    assets_dir_from(configured.as_deref())
}

/// [`resolve`] for this binary, with `configured` the value of `ETPROX_ASSETS_DIR` if set.
pub fn assets_dir_from(configured: Option<&str>) -> PathBuf {
    let exe = std::env::current_exe().ok();
    resolve(
        configured,
        exe.as_deref(),
        Path::new(env!("CARGO_MANIFEST_DIR")),
    )
}

/// The rule, first match wins:
/// 1. `ETPROX_ASSETS_DIR` when set and not empty (`configured`);
/// 2. `<prefix>/share/etprox/assets` when the binary is `<prefix>/bin/etprox` and that folder
///    exists: the installed layout (the Debian package's `/usr/bin/etprox` reads
///    `/usr/share/etprox/assets`);
/// 3. `assets/` of the source tree the binary was built from, while it exists (`cargo run`,
///    `target/release/etprox`);
/// 4. `<prefix>/share/etprox/assets` for a binary in a `bin` folder, for `maps import` to create;
/// 5. `assets` in the working folder, the last resort when nothing else is known.
///
/// The calibration table is `<dir>/maps.csv` (the built-in table while it does not exist) and
/// the command-map images are `<dir>/maps/<map>.png`.
pub fn resolve(configured: Option<&str>, exe: Option<&Path>, source_tree: &Path) -> PathBuf {
    if let Some(dir) = configured.map(str::trim).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let installed = exe
        .and_then(Path::parent)
        .filter(|bin| bin.file_name().is_some_and(|name| name == "bin"))
        .and_then(Path::parent)
        .map(|prefix| prefix.join("share/etprox/assets"));
    if let Some(dir) = installed.as_ref().filter(|dir| dir.is_dir()) {
        return dir.clone();
    }
    let in_source_tree = source_tree.join("assets");
    if in_source_tree.join("maps.csv").is_file() {
        return in_source_tree;
    }
    installed.unwrap_or_else(|| PathBuf::from("assets"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake file system: an install prefix and a source tree, each present or not.
    struct Layout {
        root: tempfile::TempDir,
    }

    impl Layout {
        fn new() -> Layout {
            Layout {
                root: tempfile::tempdir().expect("temp dir"),
            }
        }
        fn path(&self, rel: &str) -> PathBuf {
            self.root.path().join(rel)
        }
        fn make(&self, rel: &str) -> PathBuf {
            let path = self.path(rel);
            std::fs::create_dir_all(&path).expect("mkdir");
            path
        }
        fn source_tree(&self) -> PathBuf {
            let tree = self.make("src/etprox");
            std::fs::create_dir_all(tree.join("assets")).expect("mkdir");
            std::fs::write(tree.join("assets/maps.csv"), "map\n").expect("write");
            tree
        }
    }

    #[test]
    fn the_setting_wins_over_everything() {
        let fs = Layout::new();
        let share = fs.make("usr/share/etprox/assets");
        let exe = fs.path("usr/bin/etprox");
        let chosen = resolve(Some("/srv/et/assets"), Some(&exe), &fs.source_tree());
        assert_eq!(chosen, PathBuf::from("/srv/et/assets"));
        assert_ne!(chosen, share);
        // Empty means unset.
        assert_eq!(resolve(Some("  "), Some(&exe), &fs.source_tree()), share);
    }

    #[test]
    fn an_installed_binary_uses_the_share_folder_of_its_prefix() {
        let fs = Layout::new();
        let share = fs.make("usr/share/etprox/assets");
        let exe = fs.path("usr/bin/etprox");
        assert_eq!(resolve(None, Some(&exe), &fs.source_tree()), share);
    }

    #[test]
    fn a_binary_built_from_the_source_tree_uses_its_assets() {
        let fs = Layout::new();
        let tree = fs.source_tree();
        let exe = tree.join("target/release/etprox");
        assert_eq!(resolve(None, Some(&exe), &tree), tree.join("assets"));
        // Also when installed by `cargo install` while the tree is still there and the prefix
        // has no share folder yet.
        let exe = fs.path("home/me/.cargo/bin/etprox");
        assert_eq!(resolve(None, Some(&exe), &tree), tree.join("assets"));
    }

    #[test]
    fn a_copied_binary_without_its_source_tree_uses_its_prefix_share_folder() {
        let fs = Layout::new();
        let gone = fs.path("no/such/tree");
        let exe = fs.path("usr/local/bin/etprox");
        assert_eq!(
            resolve(None, Some(&exe), &gone),
            fs.path("usr/local/share/etprox/assets")
        );
    }

    #[test]
    fn the_working_folder_is_only_the_last_resort() {
        let fs = Layout::new();
        let gone = fs.path("no/such/tree");
        let exe = fs.path("opt/etprox");
        assert_eq!(resolve(None, Some(&exe), &gone), PathBuf::from("assets"));
        assert_eq!(resolve(None, None, &gone), PathBuf::from("assets"));
    }

    #[test]
    fn this_build_finds_the_repository_assets() {
        // Run from cargo, the test binary lies in target/: the repository's assets/ is found
        // whatever the working folder.
        let dir = assets_dir_from(None);
        assert!(dir.join("maps.csv").is_file(), "{}", dir.display());
        assert!(dir.is_absolute(), "{}", dir.display());
    }

    #[test]
    fn images_are_found_by_the_table_or_by_the_map_name() {
        let fs = Layout::new();
        let dir = fs.make("assets");
        std::fs::create_dir_all(dir.join("maps")).expect("mkdir");
        // Column names vary between hand-written tables: columns are read by position.
        std::fs::write(
            dir.join("maps.csv"),
            "map,mins_x,mins_y,maxs_x,maxs_y,image,source\n\
             goldrush,-1000,1000,1000,-1000,,test\n\
             supply,-1000,1000,1000,-1000,supply_cc.png,test\n\
             oasis,-1000,1000,1000,-1000,,test\n",
        )
        .expect("table");
        std::fs::write(dir.join("maps/goldrush.png"), b"png").expect("image");
        std::fs::write(dir.join("maps/supply_cc.png"), b"png").expect("image");
        let assets = Assets::in_dir(&dir);
        let status = assets.map_status().expect("status");
        let has = |map: &str| status.get(map).map(|s| (s.calibrated, s.has_image));
        assert_eq!(has("goldrush"), Some((true, true)), "maps/<map>.png");
        assert_eq!(
            has("supply"),
            Some((true, true)),
            "the image the table names"
        );
        assert_eq!(has("oasis"), Some((true, false)));
        assert_eq!(
            has("battery"),
            None,
            "a table of its own replaces the built-in one"
        );
        let table = assets.load_table().expect("table");
        let supply = table.get("supply").expect("supply");
        assert_eq!(
            assets.image_path(supply),
            Some(dir.join("maps/supply_cc.png"))
        );
    }

    #[test]
    fn a_folder_without_a_table_uses_the_built_in_one() {
        let fs = Layout::new();
        let assets = Assets::in_dir(fs.make("empty"));
        assert_eq!(assets.table_path(), fs.path("empty/maps.csv"));
        assert_eq!(assets.maps_dir(), fs.path("empty/maps"));
        let status = assets.map_status().expect("built-in table");
        assert_eq!(
            status.get("goldrush"),
            Some(&MapStatus {
                calibrated: true,
                has_image: false
            })
        );
    }
}
