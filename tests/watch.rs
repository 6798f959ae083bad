//! The watcher against a real folder and the real PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use common::*;
use etprox::ingest::watcher::{self, WatchOptions};
use etprox::round_file::synthetic::{synthetic_v2, synthetic_v3, RoundSpec};
use sqlx::PgPool;

fn options(dir: &std::path::Path) -> WatchOptions {
    WatchOptions {
        dirs: vec![dir.to_owned()],
        settle: Duration::from_millis(300),
        rescan: Duration::from_secs(2),
        give_up_waiting: Duration::from_secs(3),
    }
}

async fn rounds(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn files_are_imported_as_they_arrive_once(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    // A file that was there before the watcher started is imported at start.
    std::fs::copy(shared_fixture(SUPPLY), dir.path().join(SUPPLY)).unwrap();

    let imp = importer(&pool);
    let mut events = imp.subscribe();
    let task = tokio::spawn(watcher::run(imp.clone(), options(dir.path())));
    let first = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.map_name, "supply");

    // v3, written the way the tracker does: a temporary name, then a rename.
    let spec = RoundSpec::new(42, 1_763_500_000);
    let tmp = dir
        .path()
        .join("2025-11-18-210000-goldrush-round-1_etprox.txt.tmp");
    std::fs::write(&tmp, synthetic_v3(&spec)).unwrap();
    let written = Instant::now();
    std::fs::rename(
        &tmp,
        dir.path()
            .join("2025-11-18-210000-goldrush-round-1_etprox.txt"),
    )
    .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    let latency = written.elapsed();
    assert_eq!(event.map_name, "goldrush");
    assert_eq!(event.kills, spec.kills);
    assert!(
        latency < Duration::from_secs(1),
        "file complete to committed took {latency:?}"
    );

    // v2 arrives in two writes; it must be imported whole, after it settles.
    let (name, bytes) = synthetic_v2(
        &RoundSpec::new(43, 0),
        chrono::NaiveDateTime::parse_from_str("2025-11-18 21:30:00", "%Y-%m-%d %H:%M:%S").unwrap(),
    );
    let path = dir.path().join(&name);
    let half = bytes.len() / 2;
    std::fs::write(&path, &bytes[..half]).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&bytes[half..]).unwrap();
    }
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    let expected_kills = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('|') && l.split('|').count() == 22)
        .count();
    assert_eq!(event.kills, expected_kills);
    assert_eq!(rounds(&pool).await, 3);

    // Restart: nothing is imported twice, and a file that arrived meanwhile is picked up.
    task.abort();
    let _ = task.await;
    std::fs::write(
        dir.path()
            .join("2025-11-18-220000-goldrush-round-2_etprox.txt"),
        synthetic_v3(&RoundSpec::new(44, 1_763_503_000)),
    )
    .unwrap();
    let mut events = imp.subscribe();
    let task = tokio::spawn(watcher::run(imp.clone(), options(dir.path())));
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.round_number, 1);
    tokio::time::sleep(Duration::from_millis(2500)).await; // a full rescan
    assert_eq!(rounds(&pool).await, 4);
    task.abort();
}

#[sqlx::test]
async fn a_v3_file_without_end_marker_waits_then_imports_as_truncated(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    let mut events = imp.subscribe();
    let task = tokio::spawn(watcher::run(imp.clone(), options(dir.path())));
    let text = String::from_utf8(synthetic_v3(&RoundSpec::new(5, 1_763_500_000))).unwrap();
    let cut = &text[..text.rfind("# END").unwrap()];
    let started = Instant::now();
    std::fs::write(
        dir.path()
            .join("2025-11-18-210000-goldrush-round-1_etprox.txt"),
        cut,
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        rounds(&pool).await,
        0,
        "an unfinished v3 file is not imported at once"
    );
    let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(3));
    let flags: Vec<String> = sqlx::query_scalar("SELECT unnest(flags) FROM rounds WHERE id = $1")
        .bind(event.round_id)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(flags.contains(&"truncated".to_owned()), "{flags:?}");
    task.abort();
}
