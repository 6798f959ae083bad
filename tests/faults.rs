//! Fault injection against the real PostgreSQL: after each fault the database must equal one clean
//! import of the same files (a full comparison of every table, not a row count).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use etprox::config::SessionClock;
use etprox::ingest::{ImportOutcome, Importer};
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
use sqlx::PgPool;

/// Writes `n` synthetic v3 rounds of `kills` kills into `dir`.
fn write_rounds(dir: &Path, n: u64, kills: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let mut spec = RoundSpec::new(1000 + i, 1_763_000_000 + i as i64 * 1_200);
            spec.kills = kills;
            let path = dir.join(format!(
                "2025-11-18-2000{:02}-goldrush-round-{}_etprox.txt",
                i % 60,
                i
            ));
            std::fs::write(&path, synthetic_v3(&spec)).unwrap();
            path
        })
        .collect()
}

/// A second database on the same server with one clean import of `files`; returns its snapshot.
async fn clean_reference(pool: &PgPool, files: &[PathBuf]) -> Vec<(String, Vec<String>)> {
    let url = url_of(pool).await;
    let (server, db) = url.rsplit_once('/').unwrap();
    // Identifiers stop at 63 bytes, so derive a short name rather than append to a long one.
    let name = format!("ref_{}", &db[db.len().saturating_sub(40)..]);
    let reference_url = format!("{server}/{name}");
    etprox::db::admin::drop_database(pool, &name).await.unwrap();
    let reference = etprox::db::connect_and_migrate(&reference_url, 2)
        .await
        .unwrap();
    let importer = Importer::new(reference.clone(), SessionClock::default(), "test-server");
    for chunk in files.chunks(16) {
        for (path, outcome) in importer.import_files(chunk).await {
            assert!(
                matches!(outcome, Ok(ImportOutcome::Imported { .. })),
                "{}: {outcome:?}",
                path.display()
            );
        }
    }
    let snap = snapshot(&reference).await;
    reference.close().await;
    etprox::db::admin::drop_database(pool, &name).await.unwrap();
    snap
}

/// Imports until every file is in (or already in); returns how many attempts failed.
async fn import_until_done(importer: &Importer, files: &[PathBuf]) -> usize {
    let mut failures = 0;
    for _ in 0..50 {
        let mut pending = 0;
        for chunk in files.chunks(8) {
            for (_, outcome) in importer.import_files(chunk).await {
                match outcome {
                    Ok(ImportOutcome::Imported { .. } | ImportOutcome::AlreadyImported { .. }) => {}
                    Ok(other) => panic!("unexpected {other:?}"),
                    Err(_) => {
                        failures += 1;
                        pending += 1;
                    }
                }
            }
        }
        if pending == 0 {
            return failures;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("files still failing after 50 passes");
}

#[sqlx::test]
async fn terminating_the_importer_backend_mid_import(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let files = write_rounds(dir.path(), 60, 140);
    let url = url_of(&pool).await;
    let importer_pool = etprox::db::connect_and_migrate(&url, 2).await.unwrap();
    let importer = Importer::new(
        importer_pool.clone(),
        SessionClock::default(),
        "test-server",
    );

    // Kill the importer's backends over and over while it works.
    let killer_pool = pool.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_flag = stop.clone();
    let killer = tokio::spawn(async move {
        let mut killed = 0i64;
        while !stop_flag.load(std::sync::atomic::Ordering::Relaxed) {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = 'etprox' AND datname = current_database()
                   AND state = 'active' AND pid <> pg_backend_pid()) t",
            )
            .fetch_one(&killer_pool)
            .await
            .unwrap();
            killed += n;
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        killed
    });
    let mut first_pass_failures = 0;
    for chunk in files.chunks(8) {
        for (_, outcome) in importer.import_files(chunk).await {
            if outcome.is_err() {
                first_pass_failures += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let killed = killer.await.unwrap();
    assert!(
        killed > 0 && first_pass_failures > 0,
        "the fault must actually hit (killed {killed}, failures {first_pass_failures})"
    );

    // Retry until done: the pool reconnects by itself.
    import_until_done(&importer, &files).await;
    importer_pool.close().await;
    let after = snapshot(&pool).await;
    assert_same(&clean_reference(&pool, &files).await, &after);
}

fn spawn_watch(url: &str, dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_etprox"))
        .arg("watch")
        .env("DATABASE_URL", url)
        .env("ETPROX_ROUND_DIRS", dir)
        .env("ETPROX_RESCAN_SECS", "1")
        .env("ETPROX_SETTLE_SECS", "0.2")
        .env("RUST_LOG", "etprox=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

async fn rounds(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn wait_for_rounds(pool: &PgPool, at_least: i64, limit: Duration) -> i64 {
    let started = Instant::now();
    loop {
        let n = rounds(pool).await;
        if n >= at_least || started.elapsed() > limit {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test]
async fn sigkill_of_watch_mid_import_then_restart(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let files = write_rounds(dir.path(), 120, 60);
    let url = url_of(&pool).await;

    let mut watch = spawn_watch(&url, dir.path());
    let seen = wait_for_rounds(&pool, 10, Duration::from_secs(30)).await;
    watch.kill().unwrap(); // SIGKILL
    let _ = watch.wait();
    let at_kill = rounds(&pool).await;
    assert!(
        seen >= 10 && at_kill < files.len() as i64,
        "killed mid-import: {at_kill} of {} rounds in",
        files.len()
    );

    let mut watch = spawn_watch(&url, dir.path());
    let done = wait_for_rounds(&pool, files.len() as i64, Duration::from_secs(90)).await;
    watch.kill().unwrap();
    let _ = watch.wait();
    assert_eq!(done, files.len() as i64);
    let after = snapshot(&pool).await;
    assert_same(&clean_reference(&pool, &files).await, &after);
}

#[sqlx::test]
async fn a_file_that_vanishes_before_reading_is_retried_not_rejected(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let files = write_rounds(dir.path(), 1, 50);
    let moved = dir.path().join("elsewhere.bin");
    std::fs::rename(&files[0], &moved).unwrap();
    let err = imp.import_file(&files[0]).await.unwrap_err();
    assert!(err.is_io(), "{err}");
    // A folder where a file was expected cannot be read either.
    std::fs::create_dir(&files[0]).unwrap();
    assert!(imp.import_file(&files[0]).await.unwrap_err().is_io());
    std::fs::remove_dir(&files[0]).unwrap();
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(logged, 0, "an unreadable file is not a bad file");
    // Back again: imported once.
    std::fs::rename(&moved, &files[0]).unwrap();
    expect_imported(&import(&imp, &files[0]).await);
    assert_same(
        &clean_reference(&pool, &files).await,
        &snapshot(&pool).await,
    );
}

/// A TCP relay to PostgreSQL at `server` that the test can switch on late, to play "database down".
async fn relay_to_postgres(listener: tokio::net::TcpListener, server: String) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        let server = server.clone();
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(&server).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[sqlx::test]
async fn watch_waits_for_a_database_that_is_down_at_start(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let files = write_rounds(dir.path(), 5, 40);
    let url = url_of(&pool).await;
    // A port with nothing behind it yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The server of DATABASE_URL (the shared one, or the tests' private cluster): host:port.
    let server = url
        .split_once('@')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(server, _)| server.to_owned())
        .expect("DATABASE_URL is postgres://USER@HOST:PORT/DB");
    let down_url = url.replacen(&server, &format!("127.0.0.1:{port}"), 1);
    assert_ne!(down_url, url, "DATABASE_URL must name a HOST:PORT");

    let mut watch = spawn_watch(&down_url, dir.path());
    // Longer than one connection attempt (5 s), so the wait-and-retry path runs.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(rounds(&pool).await, 0);
    assert!(
        watch.try_wait().unwrap().is_none(),
        "watch must wait, not exit"
    );

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let relay = tokio::spawn(relay_to_postgres(listener, server));
    let done = wait_for_rounds(&pool, files.len() as i64, Duration::from_secs(60)).await;
    watch.kill().unwrap();
    let output = watch.wait_with_output().unwrap();
    relay.abort();
    assert_eq!(done, files.len() as i64);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("database not reachable"), "{log}");
    assert_same(
        &clean_reference(&pool, &files).await,
        &snapshot(&pool).await,
    );
}

/// A v3 file with the given start time and kill lines (`t_ms|...` bodies after the header).
fn crafted_v3(round_id: &str, start_unix: &str, map: &[u8], kills: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"# ETPROX_ROUND v3\n# server_id=fuzz\n# map=".to_vec();
    out.extend_from_slice(map);
    out.extend_from_slice(b"\n# gametype=4\n# round=1\n# round_id=");
    out.extend_from_slice(round_id.as_bytes());
    out.extend_from_slice(b"\n# start_unix=");
    out.extend_from_slice(start_unix.as_bytes());
    out.extend_from_slice(b"\n# end_unix=1763000900\n# status=complete\n# FORMAT: t_ms|...\n");
    for k in kills {
        out.extend_from_slice(k);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("# END kills={}\n", kills.len()).as_bytes());
    out
}

fn kill_line(t_ms: &str, killer_name: &[u8], x: &str) -> Vec<u8> {
    let mut line = format!("{t_ms}|kill|1|AAAA|").into_bytes();
    line.extend_from_slice(killer_name);
    line.extend_from_slice(
        format!("|AXIS|{x}|0.0|0.0|2|BBBB|bravo|ALLIES|10.0|0.0|0.0|10.0|8|9|0|0|").as_bytes(),
    );
    line
}

/// Crafted values at the ends of every range: each file is rejected (whole, or the bad lines)
/// with its reason, never a panic and never a database error (which the watcher would retry).
#[sqlx::test]
async fn crafted_extreme_values_are_rejected_with_a_reason(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let chrono_min = chrono::DateTime::<chrono::Utc>::MIN_UTC
        .timestamp()
        .to_string();
    let chrono_max = chrono::DateTime::<chrono::Utc>::MAX_UTC
        .timestamp()
        .to_string();
    let ok = kill_line("1000", b"alpha", "0.0");
    // (name, content, whole file rejected?)
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        // chrono's first instant: shifting it by the session day start panicked.
        (
            "chrono-min",
            crafted_v3(
                "chrono-min",
                &chrono_min,
                b"goldrush",
                std::slice::from_ref(&ok),
            ),
            true,
        ),
        (
            "chrono-max",
            crafted_v3(
                "chrono-max",
                &chrono_max,
                b"goldrush",
                std::slice::from_ref(&ok),
            ),
            true,
        ),
        // Valid for chrono, refused by PostgreSQL (before 4713 BC).
        (
            "before-pg",
            crafted_v3(
                "before-pg",
                "-250000000000",
                b"goldrush",
                std::slice::from_ref(&ok),
            ),
            true,
        ),
        (
            "i64-max",
            crafted_v3(
                "i64-max",
                &i64::MAX.to_string(),
                b"goldrush",
                std::slice::from_ref(&ok),
            ),
            true,
        ),
        // t_ms at the ends of i64: the pair window arithmetic overflowed.
        (
            "t-ms-extremes",
            crafted_v3(
                "t-ms-extremes",
                "1763000000",
                b"goldrush",
                &[
                    kill_line(&i64::MAX.to_string(), b"alpha", "0.0"),
                    kill_line(&i64::MIN.to_string(), b"alpha", "0.0"),
                    ok.clone(),
                ],
            ),
            false,
        ),
        // Fits i64 but not the INTEGER column time_ms.
        (
            "t-ms-over-i32",
            crafted_v3(
                "t-ms-over-i32",
                "1763000000",
                b"goldrush",
                &[kill_line("3000000000", b"alpha", "0.0"), ok.clone()],
            ),
            false,
        ),
        // A broken escape whose reason would carry a NUL byte into import_rejected_lines.
        (
            "nul-in-reason",
            crafted_v3(
                "nul-in-reason",
                "1763000000",
                b"goldrush",
                &[kill_line("1000", b"al%\0\0pha", "0.0"), ok.clone()],
            ),
            false,
        ),
        // The same in a header line: the file's rejection reason.
        (
            "nul-in-header",
            crafted_v3(
                "nul-in-header",
                "1763000000",
                b"gold%\0\0rush",
                std::slice::from_ref(&ok),
            ),
            true,
        ),
        // A round id too long for the unique index on round_key (54000 program limit).
        (
            "long-round-id",
            crafted_v3(
                &"r".repeat(9000),
                "1763000000",
                b"goldrush",
                std::slice::from_ref(&ok),
            ),
            true,
        ),
        // A position no map has: a heatmap cell at the end of i32.
        (
            "far-position",
            crafted_v3(
                "far-position",
                "1763000000",
                b"goldrush",
                &[kill_line("1000", b"alpha", "1e38"), ok.clone()],
            ),
            false,
        ),
    ];
    let mut failures = Vec::new();
    for (name, bytes, whole) in &cases {
        let path = dir
            .path()
            .join(format!("2025-11-18-200000-{name}-round-1_etprox.txt"));
        std::fs::write(&path, bytes).unwrap();
        let imp2 = imp.clone();
        let path2 = path.clone();
        // A panic inside the import shows up as a JoinError here.
        let outcome = match tokio::spawn(async move { imp2.import_file(&path2).await }).await {
            Err(e) => {
                failures.push(format!("{name}: the import panicked: {e}"));
                continue;
            }
            Ok(Err(e)) => {
                failures.push(format!("{name}: failed instead of rejecting: {e}"));
                continue;
            }
            Ok(Ok(outcome)) => outcome,
        };
        match (outcome, whole) {
            (ImportOutcome::Rejected { reason }, true) if !reason.contains('\0') => {}
            (
                ImportOutcome::Imported {
                    kills: 1,
                    rejected_lines,
                    ..
                },
                false,
            ) if !rejected_lines.is_empty() => {}
            (other, _) => failures.push(format!("{name}: unexpected {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(logged, cases.len() as i64, "one import_log row per file");
}
