//! The released binary, run as an admin would run it.

mod common;

use std::process::Command;

use common::*;
use sqlx::PgPool;

fn etprox(url: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_etprox"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "off")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[sqlx::test]
async fn import_reports_every_file_and_fails_on_rejections(pool: PgPool) {
    let url = url_of(&pool).await;
    let (code, out, _) = etprox(&url, &["import", "tests/fixtures/bad"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rejected          tests/fixtures/bad/notes.txt: not a round file"),
        "{out}"
    );
    assert!(
        out.contains("empty             tests/fixtures/bad/2025-11-19-204000"),
        "{out}"
    );
    assert!(out.contains("203000-goldrush-round-1_proximity.txt:8: 1 fields, expected 22 (\"this is not a kill\")"), "{out}");
    assert!(out.contains("[no_heatmap]"), "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("7 imported"),
        "{out}"
    );

    let (code, out, _) = etprox(&url, &["import", "tests/fixtures/v2"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 imported (208 kills), 0 already imported"),
        "{out}"
    );
    let (code, out, _) = etprox(&url, &["import", "tests/fixtures/v2"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("0 imported (0 kills), 2 already imported"),
        "{out}"
    );

    let (code, out, _) = etprox(&url, &["retention", "stats"]);
    assert_eq!(code, 0);
    assert!(out.contains("kill_context"), "{out}");
    let (code, out, _) = etprox(
        &url,
        &[
            "retention",
            "archive",
            "--older-than-days",
            "30",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("dry run: "), "{out}");
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(before > 0);
    let export = tempfile::tempdir().unwrap();
    let (code, out, err) = etprox(
        &url,
        &[
            "retention",
            "archive",
            "--older-than-days",
            "30",
            "--export",
            export.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("archived {before} rows from kill_context")),
        "before={before}: {out}"
    );
    let csv = std::fs::read_dir(export.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let lines = std::fs::read_to_string(csv).unwrap().lines().count() as i64;
    assert_eq!(lines, before + 1, "header plus one line per archived row");
}

#[test]
fn bad_configuration_names_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_etprox"))
        .args(["db", "migrate"])
        .env("ETPROX_TIMEZONE", "Mars/Olympus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ETPROX_TIMEZONE"), "{err}");
}

#[test]
fn help_explains_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_etprox"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["import", "watch", "retention", "db"] {
        assert!(text.contains(word), "{text}");
    }
}

/// `--env-file` reads the configuration from a file of the admin's choice (the package keeps it
/// in /etc/etprox/etprox.env), and a file that cannot be read is an error that names it.
#[sqlx::test]
async fn env_file_is_read_and_a_missing_one_is_named(pool: PgPool) {
    let url = url_of(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("etprox.env");
    std::fs::write(&env_file, format!("DATABASE_URL={url}\n")).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_etprox"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "off")
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let fixtures = format!("{}/tests/fixtures/v2", env!("CARGO_MANIFEST_DIR"));
    let (code, out) = run(&[
        "--env-file",
        &env_file.display().to_string(),
        "import",
        &fixtures,
    ]);
    assert_eq!(code, 0, "{out}");
    let rounds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        rounds, 2,
        "the import went to the database named in the file"
    );

    let missing = dir.path().join("no-such.env");
    let (code, out) = run(&[
        "--env-file",
        &missing.display().to_string(),
        "import",
        &fixtures,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no-such.env"), "{out}");
}

/// `etprox bench import` on a small set runs every case it reports: the v2 backfill and the v3
/// rounds, each against its COPY floors, then the live path (its own scratch database).
#[sqlx::test]
async fn bench_import_runs_every_case_on_a_small_set(pool: PgPool) {
    let url = url_of(&pool).await;
    let args = [
        "bench",
        "import",
        "--rounds",
        "4",
        "--v2-files",
        "28",
        "--live-rounds",
        "3",
        "--repeats",
        "1",
    ];
    let (code, out, err) = etprox(&url, &args);
    assert_eq!(code, 0, "{out}\n{err}");
    println!("{out}");
    for case in ["v2 small files", "v3 rounds", "COPY", "live path"] {
        assert!(out.contains(case), "no `{case}` in:\n{out}");
    }
}
