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

fn fast_options(dir: &std::path::Path) -> WatchOptions {
    WatchOptions {
        dirs: vec![dir.to_owned()],
        settle: Duration::from_millis(100),
        rescan: Duration::from_millis(300),
        give_up_waiting: Duration::from_secs(3),
    }
}

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Waits until `sql` returns at least `n`, or 15 s.
async fn wait_for(pool: &PgPool, sql: &str, n: i64) -> i64 {
    let started = Instant::now();
    loop {
        let v = scalar(pool, sql).await;
        if v >= n || started.elapsed() > Duration::from_secs(15) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A trigger that makes PostgreSQL refuse rounds of one map with the given SQLSTATE, counting
/// how often it was asked (a sequence: not rolled back with the failed transaction).
async fn refuse_map(pool: &PgPool, map: &str, sqlstate: &str) {
    sqlx::raw_sql(&format!(
        "CREATE SEQUENCE refused_attempts;
         CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.map_name = '{map}' THEN
                 PERFORM nextval('refused_attempts');
                 RAISE EXCEPTION 'refused for the test' USING ERRCODE = '{sqlstate}';
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON rounds FOR EACH ROW EXECUTE FUNCTION refuse();"
    ))
    .execute(pool)
    .await
    .unwrap();
}

fn v3_named(dir: &std::path::Path, name: &str, spec: &RoundSpec) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, synthetic_v3(spec)).unwrap();
    path
}

/// Issue 14: a file that fails for a reason inside it is rejected once, with the reason in
/// import_log, and not tried again; before, it was retried every 250 ms forever.
#[sqlx::test]
async fn a_file_postgresql_refuses_is_rejected_once_and_not_retried(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    // A NUL byte in a player name and a start time before PostgreSQL's calendar.
    let text = String::from_utf8(synthetic_v3(&RoundSpec::new(7, 1_763_500_000))).unwrap();
    let name = text
        .lines()
        .find(|l| l.contains("|kill|"))
        .and_then(|l| l.split('|').nth(4))
        .unwrap()
        .to_owned();
    let crafted = text
        .replacen("start_unix=1763500000", "start_unix=-250000000000", 1)
        .replace(&name, &format!("{name}%00x"));
    std::fs::write(
        dir.path()
            .join("2025-11-18-210000-goldrush-round-1_etprox.txt"),
        crafted,
    )
    .unwrap();
    // A value PostgreSQL refuses that no check of ours knows about (SQLSTATE 22023).
    refuse_map(&pool, "poison", "22023").await;
    let mut spec = RoundSpec::new(8, 1_763_501_000);
    spec.map = "poison".into();
    v3_named(
        dir.path(),
        "2025-11-18-211000-poison-round-1_etprox.txt",
        &spec,
    );

    let imp = importer(&pool);
    let task = tokio::spawn(watcher::run(imp.clone(), fast_options(dir.path())));
    let logged = wait_for(&pool, "SELECT COUNT(*) FROM import_log", 2).await;
    assert_eq!(logged, 2, "each file is logged as rejected");
    let opened = imp.files_opened();
    let attempts = scalar(&pool, "SELECT last_value FROM refused_attempts").await;
    tokio::time::sleep(Duration::from_secs(3)).await; // ten rescans, a dozen ticks
    assert_eq!(
        imp.files_opened(),
        opened,
        "a rejected file is not read again"
    );
    assert_eq!(
        scalar(&pool, "SELECT last_value FROM refused_attempts").await,
        attempts,
        "no retry"
    );
    assert_eq!(attempts, 1);
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT outcome, message FROM import_log ORDER BY source_path")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|(o, _)| o == "rejected"), "{rows:?}");
    assert!(rows[0].1.contains("start_unix"), "{rows:?}");
    assert!(rows[1].1.contains("22023"), "{rows:?}");
    assert_eq!(rounds(&pool).await, 0);
    task.abort();
}

/// A failure outside the file (here the server says "too many connections") is retried, with
/// growing pauses, and the file goes in once the database takes it.
#[sqlx::test]
async fn a_database_failure_is_retried_with_backoff(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    refuse_map(&pool, "busy", "53300").await;
    let mut spec = RoundSpec::new(9, 1_763_502_000);
    spec.map = "busy".into();
    v3_named(
        dir.path(),
        "2025-11-18-212000-busy-round-1_etprox.txt",
        &spec,
    );
    let imp = importer(&pool);
    let mut events = imp.subscribe();
    let task = tokio::spawn(watcher::run(imp.clone(), fast_options(dir.path())));
    wait_for(&pool, "SELECT last_value FROM refused_attempts", 1).await;
    tokio::time::sleep(Duration::from_millis(4200)).await;
    // Attempts at 0, 1, 3 s (then 7 s); every 250 ms would be 17.
    let attempts = scalar(&pool, "SELECT last_value FROM refused_attempts").await;
    assert!((2..=4).contains(&attempts), "{attempts} attempts in 4 s");
    assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM import_log").await, 0);
    sqlx::raw_sql("DROP TRIGGER refuse ON rounds")
        .execute(&pool)
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("imported after the database recovered")
        .unwrap();
    assert_eq!(event.map_name, "busy");
    task.abort();
}

/// Issue 14: after a restart, files already imported (same path, size and mtime) are not opened
/// again, and new files are imported newest first.
#[sqlx::test]
async fn after_a_restart_imported_files_are_not_opened_again(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<_> = (0..20)
        .map(|i| {
            v3_named(
                dir.path(),
                &format!("2025-11-18-20{i:02}00-goldrush-round-1_etprox.txt"),
                &RoundSpec::new(100 + i, 1_763_400_000 + i as i64 * 600),
            )
        })
        .collect();
    let first = importer(&pool);
    for path in &old {
        expect_imported(&import(&first, path).await);
    }
    let logged = scalar(&pool, "SELECT COUNT(*) FROM import_log").await;

    // Two rounds arrive while the watcher is down: an old name and the newest.
    let early = v3_named(
        dir.path(),
        "2025-11-17-100000-goldrush-round-1_etprox.txt",
        &RoundSpec::new(200, 1_763_300_000),
    );
    let newest = v3_named(
        dir.path(),
        "2025-11-19-230000-goldrush-round-1_etprox.txt",
        &RoundSpec::new(201, 1_763_600_000),
    );
    let restarted = importer(&pool); // a new process: nothing in memory
    let mut events = restarted.subscribe();
    let task = tokio::spawn(watcher::run(restarted.clone(), fast_options(dir.path())));
    let a = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap()
        .unwrap();
    let b = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.source_path, newest, "the newest file goes first");
    assert_eq!(b.source_path, early);
    tokio::time::sleep(Duration::from_secs(2)).await; // several rescans
                                                      // Each new file: one look at its end marker, one read. The 20 old ones: none.
    assert_eq!(restarted.files_opened(), 4);
    assert_eq!(
        scalar(&pool, "SELECT COUNT(*) FROM import_log").await,
        logged + 2,
        "no new attempt on the old files"
    );
    task.abort();
    let _ = task.await;

    // A file touched in place (same size, new mtime) is read again (the same round).
    std::fs::File::options()
        .write(true)
        .open(&old[3])
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    let again = importer(&pool);
    let task = tokio::spawn(watcher::run(again.clone(), fast_options(dir.path())));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(again.files_opened(), 2, "only the changed file is opened");
    assert_eq!(rounds(&pool).await, 22);
    task.abort();
}

/// Kills the child process when the test ends, also on failure.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Issue 14: entries the watcher cannot use are reported once in the log (not skipped silently,
/// not reported on every rescan), and a symbolic link out of the round folder is not followed.
/// `etprox watch` runs as user nobody when the tests run as root, so a file with mode 000 is
/// really unreadable for it.
#[sqlx::test]
async fn files_the_watcher_cannot_use_are_reported_once(pool: PgPool) {
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;

    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    for d in [dir.path(), outside.path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let name = |minute: u32| format!("2025-11-18-20{minute:02}00-goldrush-round-1_etprox.txt");
    v3_named(dir.path(), &name(0), &RoundSpec::new(300, 1_763_700_000));
    symlink("missing.txt", dir.path().join(name(10))).unwrap();
    std::fs::create_dir(dir.path().join(name(20))).unwrap();
    let elsewhere = v3_named(
        outside.path(),
        "real.txt",
        &RoundSpec::new(301, 1_763_701_000),
    );
    symlink(&elsewhere, dir.path().join(name(30))).unwrap();
    let unreadable = v3_named(dir.path(), &name(40), &RoundSpec::new(302, 1_763_702_000));
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    let fifo = dir.path().join(name(50));
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());

    let url = url_of(&pool).await;
    let as_nobody = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    // Nobody may not reach the build folder (a clone under /root, say): run a copy of the
    // binary from a folder everyone can read.
    let bin_dir = tempfile::tempdir().unwrap();
    let binary = bin_dir.path().join("etprox");
    std::fs::copy(env!("CARGO_BIN_EXE_etprox"), &binary).unwrap();
    std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = std::process::Command::new(&binary);
    command
        .current_dir(bin_dir.path())
        .arg("watch")
        .env("DATABASE_URL", &url)
        .env("ETPROX_ROUND_DIRS", dir.path())
        .env("ETPROX_RESCAN_SECS", "0.3")
        .env("ETPROX_SETTLE_SECS", "0.1")
        .env("RUST_LOG", "etprox=info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if as_nobody {
        command.uid(65534).gid(65534); // nobody: root reads any file
    }
    let mut watch = KillOnDrop(Some(command.spawn().unwrap()));
    let started = Instant::now();
    while rounds(&pool).await < 1 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await; // a dozen rescans
    let mut child = watch.0.take().unwrap();
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);

    assert_eq!(
        rounds(&pool).await,
        1,
        "only the good file; the link out is not followed\n{log}"
    );
    for (minute, what) in [
        (10, "leads nowhere"),
        (20, "directory"),
        (30, "outside the round folder"),
        (40, "cannot be read"),
        (50, "not a regular file"),
    ] {
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("cannot use this file") && l.contains(&name(minute)))
            .collect();
        assert_eq!(lines.len(), 1, "{} reported once:\n{log}", name(minute));
        assert!(lines[0].contains(what), "{}", lines[0]);
    }
}
