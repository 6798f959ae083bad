//! Where map images and the calibration table live. One rule, used by `etprox maps import`,
//! `etprox maps list`, `etprox heatmap`, `etprox ask` and the bot's `/heatmap` and `/maps`, so
//! they all read and write the same files whatever folder they are started from.

use std::path::{Path, PathBuf};

/// The setting that names the assets folder.
pub const ASSETS_DIR_VAR: &str = "ETPROX_ASSETS_DIR";

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
}
