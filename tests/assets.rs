//! One assets folder (ETPROX_ASSETS_DIR) for `maps import`, `maps list`, `heatmap` and the bot's
//! commands, whatever folder they are started from.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use sqlx::PgPool;

/// Runs the binary in `cwd` with `assets` as ETPROX_ASSETS_DIR (or the setting unset).
fn etprox(url: &str, cwd: &Path, assets: Option<&Path>, args: &[&str]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_etprox"));
    command
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "off")
        .current_dir(cwd);
    match assets {
        Some(dir) => command.env("ETPROX_ASSETS_DIR", dir),
        None => command.env_remove("ETPROX_ASSETS_DIR"),
    };
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A pk3 holding a 64×64 command-map image of goldrush (levelshots/goldrush_cc.tga).
fn goldrush_pk3(dir: &Path) -> PathBuf {
    let mut tga = vec![0u8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    tga.extend_from_slice(&64u16.to_le_bytes());
    tga.extend_from_slice(&64u16.to_le_bytes());
    tga.extend_from_slice(&[24, 0x20]);
    tga.extend(std::iter::repeat_n(128u8, 64 * 64 * 3));
    let pak = dir.join("pak_cc.pk3");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&pak).unwrap());
    zip.start_file(
        "levelshots/goldrush_cc.tga",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(&tga).unwrap();
    zip.finish().unwrap();
    pak
}

#[sqlx::test]
async fn maps_import_heatmap_and_the_bot_use_one_assets_folder(pool: PgPool) {
    let url = url_of(&pool).await;
    let tmp = tempfile::tempdir().unwrap();
    let assets = tmp.path().join("assets");
    let (here, there) = (tmp.path().join("here"), tmp.path().join("there"));
    std::fs::create_dir_all(&here).unwrap();
    std::fs::create_dir_all(&there).unwrap();
    let pak = goldrush_pk3(tmp.path());
    expect_imported(&import(&importer(&pool), &shared_fixture(GOLDRUSH)).await);

    // `maps import` writes into the folder of the setting, not into the working folder.
    let (code, out) = etprox(
        &url,
        &here,
        Some(&assets),
        &["maps", "import", &pak.display().to_string()],
    );
    assert_eq!(code, 0, "{out}");
    assert!(assets.join("maps/goldrush.png").is_file(), "{out}");
    assert!(assets.join("maps.csv").is_file(), "{out}");
    assert!(!here.join("assets").exists(), "{out}");

    // Started elsewhere, `maps list`, `heatmap` and the bot's /maps find that image.
    let (code, out) = etprox(&url, &there, Some(&assets), &["maps", "list"]);
    assert_eq!(code, 0, "{out}");
    let goldrush = out
        .lines()
        .find(|l| l.starts_with("goldrush"))
        .unwrap_or("");
    assert!(goldrush.contains(&assets.display().to_string()), "{out}");

    let png = tmp.path().join("goldrush.png");
    let args = ["heatmap", "goldrush", "-o", &png.display().to_string()];
    let (code, out) = etprox(&url, &there, Some(&assets), &args);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("no command-map image"), "{out}");

    let (code, out) = etprox(&url, &there, Some(&assets), &["ask", "/maps"]);
    assert_eq!(code, 0, "{out}");
    let row = out.lines().find(|l| l.contains("goldrush")).unwrap_or("");
    assert!(row.contains("yes"), "/maps must see the image: {out}");

    // Without the setting none of them looks in the working folder: a stray assets/ there is
    // ignored, and the default (the repository's assets/ for this build) has no goldrush image.
    std::fs::create_dir_all(there.join("assets")).unwrap();
    std::fs::rename(&assets, there.join("assets")).unwrap();
    let (code, out) = etprox(&url, &there, None, &args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no command-map image for goldrush"), "{out}");
    let (code, out) = etprox(&url, &there, None, &["maps", "list"]);
    assert_eq!(code, 0, "{out}");
    let repo_assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let goldrush = out
        .lines()
        .find(|l| l.starts_with("goldrush"))
        .unwrap_or("");
    assert!(
        !goldrush.contains(&there.display().to_string()),
        "the working folder's assets/ must not be used: {out}"
    );
    assert!(
        goldrush.contains("no image") || goldrush.contains(&repo_assets.display().to_string()),
        "{out}"
    );
}
