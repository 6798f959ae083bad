//! Remote round sources against real servers started here: OpenSSH's sshd (SFTP) and
//! pyftpdlib (FTP, FTPS), each on 127.0.0.1, with the real PostgreSQL. Faults: a server
//! stopped and started mid-run, a file growing while it is listed, a wrong host key, a source
//! unreachable at start, a connection cut mid-download.

mod common;
mod remote_servers;

use std::path::Path;
use std::time::{Duration, Instant};

use etprox::db::remote_fetches;
use etprox::ingest::ImportedRound;
use etprox::remote::{probe, run_source, PollerOptions, RemoteError, RoundSource};
use etprox::round_file::parse_round_file;
use etprox::round_file::synthetic::{synthetic_v2, synthetic_v3, RoundSpec};
use remote_servers::*;
use sqlx::PgPool;
use tokio::sync::broadcast;

fn options(spool: &Path, poll: Duration) -> PollerOptions {
    PollerOptions {
        max_backoff: Duration::from_secs(1),
        give_up_waiting: Duration::from_secs(3),
        timeout: Duration::from_secs(5),
        ..PollerOptions::new(poll, spool.to_owned())
    }
}

/// A v3 round file as the tracker names it; `i` makes name and round distinct.
fn v3_round(i: u64, kills: usize) -> (String, Vec<u8>) {
    let seconds = 20 * 3600 + i * 7;
    let name = format!(
        "2025-11-18-{:02}{:02}{:02}-goldrush-round-1_etprox.txt",
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60
    );
    let spec = RoundSpec {
        kills,
        ..RoundSpec::new(1000 + i, 1_763_500_000 + i as i64 * 600)
    };
    (name, synthetic_v3(&spec))
}

/// Writes the way the tracker does: a temporary name, then a rename.
fn publish(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

fn kills_in(name: &str, bytes: &[u8]) -> usize {
    parse_round_file(bytes, name).unwrap().kills.len()
}

async fn rounds(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn wait_for_rounds(pool: &PgPool, n: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let have = rounds(pool).await;
        if have >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{have} rounds after {within:?}, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn next_round(
    events: &mut broadcast::Receiver<ImportedRound>,
    within: Duration,
) -> ImportedRound {
    tokio::time::timeout(within, events.recv())
        .await
        .unwrap_or_else(|_| panic!("no round imported within {within:?}"))
        .unwrap()
}

async fn state(pool: &PgPool, source: &RoundSource) -> Option<remote_fetches::SourceState> {
    remote_fetches::states(pool)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.source_id == source.id())
}

async fn wait_for_state(
    pool: &PgPool,
    source: &RoundSource,
    up: bool,
    within: Duration,
) -> remote_fetches::SourceState {
    wait_state(pool, source, |s| s.up == up, within).await
}

async fn wait_state(
    pool: &PgPool,
    source: &RoundSource,
    wanted: impl Fn(&remote_fetches::SourceState) -> bool,
    within: Duration,
) -> remote_fetches::SourceState {
    let deadline = Instant::now() + within;
    loop {
        let now = state(pool, source).await;
        if let Some(s) = now.as_ref().filter(|s| wanted(s)) {
            return s.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{source}: state not reached within {within:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Names, sizes and contents of a folder: proof that the remote side was not changed.
fn folder_fingerprint(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

fn spool_files(spool: &Path, source: &RoundSource) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(source.spool_dir(spool))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[sqlx::test]
async fn sftp_rounds_arrive_within_a_poll_and_a_restart_fetches_nothing(pool: PgPool) {
    if !sshd_available() {
        return;
    }
    let server = Sshd::start();
    let spool = tempfile::tempdir().unwrap();
    for i in 0..2 {
        let (name, bytes) = v3_round(i, 30);
        publish(&server.files, &name, &bytes);
    }
    // Not round files: never fetched.
    std::fs::write(server.files.join("server.log"), "x").unwrap();
    std::fs::write(server.files.join("half-written.txt.tmp"), "x").unwrap();

    let importer = common::importer(&pool);
    let mut events = importer.subscribe();
    let source = server.source();
    let poll = Duration::from_secs(2);
    let poller = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), poll),
    ));
    wait_for_rounds(&pool, 2, Duration::from_secs(15)).await;
    while events.try_recv().is_ok() {}

    // Latency: a file appearing on the server to its round committed, at several points of
    // the poll cycle.
    let mut latencies = Vec::new();
    for (k, offset_ms) in [300u64, 900, 1500, 1900, 100].into_iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(offset_ms)).await;
        let (name, bytes) = v3_round(10 + k as u64, 70);
        let appeared = Instant::now();
        publish(&server.files, &name, &bytes);
        let event = next_round(&mut events, poll + Duration::from_secs(5)).await;
        let latency = appeared.elapsed();
        assert_eq!(event.kills, kills_in(&name, &bytes));
        assert!(
            event.source_path.ends_with(&name),
            "{:?}",
            event.source_path
        );
        latencies.push(latency);
    }
    let max = latencies.iter().max().unwrap();
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    eprintln!(
        "MEASURED sftp latency (poll {poll:?}): mean {mean:?}, max {max:?}, all {latencies:?}"
    );
    assert!(
        *max <= poll + Duration::from_secs(1),
        "latency {max:?} over poll + 1 s"
    );

    let all: Vec<(i64, String, String, i32)> =
        sqlx::query_as("SELECT id, round_key, source_path, kill_count FROM rounds ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(all.len(), 7, "{all:#?}");
    let listed = spool_files(spool.path(), &source);
    assert_eq!(listed.len(), 7, "{listed:?}");
    assert!(
        listed.iter().all(|n| n.ends_with("_etprox.txt")),
        "{listed:?}"
    );
    let before = wait_state(
        &pool,
        &source,
        |s| s.files_fetched == 7,
        Duration::from_secs(5),
    )
    .await;
    assert!(before.up);
    let remote_before = folder_fingerprint(&server.files);

    // Restart: nothing is downloaded again, nothing imported twice.
    poller.abort();
    let _ = poller.await;
    let poller = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), poll),
    ));
    tokio::time::sleep(poll * 2 + Duration::from_millis(500)).await;
    let after = state(&pool, &source).await.unwrap();
    assert_eq!(
        (after.files_fetched, after.bytes_fetched),
        (before.files_fetched, before.bytes_fetched)
    );
    assert!(
        after.last_poll_at > before.last_poll_at,
        "the new poller polled"
    );
    assert_eq!(rounds(&pool).await, 7);
    assert_eq!(
        folder_fingerprint(&server.files),
        remote_before,
        "remote files untouched"
    );
    poller.abort();
}

#[sqlx::test]
async fn sftp_unknown_or_changed_host_key_is_refused_with_its_fingerprint(pool: PgPool) {
    if !sshd_available() {
        return;
    }
    let server = Sshd::start();
    let (name, bytes) = v3_round(1, 20);
    publish(&server.files, &name, &bytes);
    let fingerprint = server.host_key_fingerprint();
    let keyscan = format!(
        "ssh-keyscan -p {} 127.0.0.1 >> {}",
        server.port,
        server.known_hosts.display()
    );

    // The right key: reachable, one round file, a fresh one.
    let summary = probe(&server.source()).await.unwrap();
    assert_eq!(summary.round_files, 1);
    let (newest, age) = summary.newest.unwrap();
    assert_eq!(newest, name);
    assert!(age < Duration::from_secs(60), "{age:?}");

    // Hashed host names (Debian's ssh client writes them so) are understood.
    let hashed = std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&server.known_hosts)
        .output()
        .unwrap();
    assert!(hashed.status.success());
    let text = std::fs::read_to_string(&server.known_hosts).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    assert_eq!(probe(&server.source()).await.unwrap().round_files, 1);

    // Unknown: an empty known_hosts (never trust on first use).
    std::fs::write(&server.known_hosts, "").unwrap();
    let e = probe(&server.source()).await.unwrap_err();
    assert!(matches!(e, RemoteError::HostKeyUnknown(_)), "{e}");
    let message = e.to_string();
    assert!(message.contains(&fingerprint), "{message}");
    assert!(message.contains(&keyscan), "{message}");

    // Changed: another key recorded for this host and port.
    let other = tempfile::tempdir().unwrap();
    let other_key = other.path().join("k");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .unwrap();
    assert!(status.success());
    let other_line = std::fs::read_to_string(other_key.with_extension("pub")).unwrap();
    std::fs::write(
        &server.known_hosts,
        format!("[127.0.0.1]:{} {other_line}", server.port),
    )
    .unwrap();
    let e = probe(&server.source()).await.unwrap_err();
    assert!(matches!(e, RemoteError::HostKeyChanged(_)), "{e}");
    let message = e.to_string();
    assert!(message.contains(&fingerprint), "{message}");
    assert!(message.contains("CHANGED"), "{message}");
    assert!(
        message.contains(&format!("ssh-keygen -R '[127.0.0.1]:{}'", server.port)),
        "{message}"
    );

    // A user key the server does not know: the login is refused, and the message says where
    // the public key belongs.
    std::fs::write(
        &server.known_hosts,
        format!("[127.0.0.1]:{} {}\n", server.port, server.host_key_line),
    )
    .unwrap();
    let mut stranger = server.source();
    stranger.auth = etprox::remote::Auth::SshKey {
        private_key: other_key.clone(),
        passphrase: None,
        known_hosts: server.known_hosts.clone(),
    };
    let e = probe(&stranger).await.unwrap_err();
    assert!(matches!(e, RemoteError::Login { .. }), "{e}");
    assert!(e.to_string().contains("authorized_keys"), "{e}");
    std::fs::write(
        &server.known_hosts,
        format!("[127.0.0.1]:{} {other_line}", server.port),
    )
    .unwrap();

    // A poller with the wrong host key fetches nothing and says why; once the right key is added
    // (no restart), it goes on.
    let spool = tempfile::tempdir().unwrap();
    let source = server.source();
    let poller = tokio::spawn(run_source(
        common::importer(&pool),
        source.clone(),
        options(spool.path(), Duration::from_millis(300)),
    ));
    let down = wait_for_state(&pool, &source, false, Duration::from_secs(10)).await;
    assert!(
        down.last_error
            .as_deref()
            .unwrap_or("")
            .contains(&fingerprint),
        "{down:?}"
    );
    assert_eq!(rounds(&pool).await, 0);
    assert!(spool_files(spool.path(), &source).is_empty());
    std::fs::write(
        &server.known_hosts,
        format!("[127.0.0.1]:{} {}\n", server.port, server.host_key_line),
    )
    .unwrap();
    wait_for_rounds(&pool, 1, Duration::from_secs(10)).await;
    poller.abort();
}

#[sqlx::test]
async fn sftp_server_stopped_and_started_again_mid_run(pool: PgPool) {
    if !sshd_available() {
        return;
    }
    capture_logs();
    let mut server = Sshd::start();
    let spool = tempfile::tempdir().unwrap();
    let (name, bytes) = v3_round(1, 20);
    publish(&server.files, &name, &bytes);
    let source = server.source();
    let poller = tokio::spawn(run_source(
        common::importer(&pool),
        source.clone(),
        options(spool.path(), Duration::from_millis(300)),
    ));
    wait_for_rounds(&pool, 1, Duration::from_secs(10)).await;

    server.stop();
    for i in 2..4 {
        let (name, bytes) = v3_round(i, 20);
        publish(&server.files, &name, &bytes);
    }
    let down = wait_for_state(&pool, &source, false, Duration::from_secs(10)).await;
    assert!(down.last_error.is_some());
    // Several retries happen during the outage …
    tokio::time::sleep(Duration::from_secs(3)).await;
    // … /import status shows it …
    let status = etprox::remote::status_lines(&pool).await.unwrap().unwrap();
    assert!(
        status.contains(&format!("✘ {source}: down since")),
        "{status}"
    );
    let reply = etprox::commands::dispatch(
        &etprox::commands::Env {
            pool: pool.clone(),
            importer: None,
            round_dirs: Vec::new(),
            assets: etprox::assets::Assets::in_dir("assets"),
            export_dir: None,
            cache: Default::default(),
            clock: Default::default(),
        },
        &etprox::commands::Caller {
            discord_user_id: Some(1),
            display_name: "admin".into(),
            is_admin: true,
        },
        &etprox::commands::Invocation::parse("/import status").unwrap(),
    )
    .await;
    let shown = etprox::console::render(&reply);
    assert!(
        shown.contains("Remote sources") && shown.contains(&source.to_string()),
        "{shown}"
    );

    server.resume();
    wait_for_rounds(&pool, 3, Duration::from_secs(10)).await;
    wait_for_state(&pool, &source, true, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rounds(&pool).await, 3, "nothing doubled");
    // … and the log reports the outage once, and the recovery once.
    let log = captured_log();
    let mine = |what: &str| {
        log.lines()
            .filter(|l| l.contains(what) && l.contains(&source.to_string()))
            .count()
    };
    assert_eq!(mine("remote source unavailable"), 1, "{log}");
    assert_eq!(mine("remote source reachable again"), 1, "{log}");
    poller.abort();
}

#[sqlx::test]
async fn files_growing_while_listed_are_imported_whole_and_once(pool: PgPool) {
    if !sshd_available() {
        return;
    }
    let server = Sshd::start();
    let spool = tempfile::tempdir().unwrap();
    let importer = common::importer(&pool);
    let mut events = importer.subscribe();
    let poll = Duration::from_millis(300);
    let poller = tokio::spawn(run_source(
        importer.clone(),
        server.source(),
        options(spool.path(), poll),
    ));

    let append = |name: &str, bytes: &[u8]| {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(server.files.join(name))
            .unwrap()
            .write_all(bytes)
            .unwrap();
    };
    // v3 written in place in three parts, several polls apart (not the tracker's rename):
    // complete only at its end marker.
    let (v3_name, v3_bytes) = v3_round(5, 120);
    let third = |k: usize| v3_bytes.len() * k / 3;
    for k in 1..=3 {
        append(&v3_name, &v3_bytes[third(k - 1)..third(k)]);
        if k < 3 {
            tokio::time::sleep(poll * 3).await;
            assert_eq!(rounds(&pool).await, 0, "v3 imported before its end marker");
        }
    }
    let event = next_round(&mut events, Duration::from_secs(10)).await;
    assert!(event.source_path.ends_with(&v3_name));
    assert_eq!(
        event.kills,
        kills_in(&v3_name, &v3_bytes),
        "v3 imported whole"
    );

    // v2 (no end marker) growing faster than the polls: every listing sees another size, so
    // it is complete only once its size holds still between two polls.
    let (v2_name, v2_bytes) = synthetic_v2(
        &RoundSpec::new(77, 0),
        chrono::NaiveDateTime::parse_from_str("2025-11-18 21:30:00", "%Y-%m-%d %H:%M:%S").unwrap(),
    );
    let parts = 12;
    for k in 0..parts {
        let piece = &v2_bytes[v2_bytes.len() * k / parts..v2_bytes.len() * (k + 1) / parts];
        append(&v2_name, piece);
        tokio::time::sleep(poll / 3).await;
        if k + 1 < parts {
            assert_eq!(rounds(&pool).await, 1, "v2 imported while it was growing");
        }
    }
    let event = next_round(&mut events, Duration::from_secs(10)).await;
    assert!(event.source_path.ends_with(&v2_name));
    assert_eq!(
        event.kills,
        kills_in(&v2_name, &v2_bytes),
        "v2 imported whole"
    );
    tokio::time::sleep(poll * 4).await;
    assert_eq!(rounds(&pool).await, 2);
    let stored = remote_fetches::fetched(&pool, &server.source().id())
        .await
        .unwrap();
    let total: i64 = stored.iter().map(|f| f.size).sum();
    assert_eq!(total as usize, v2_bytes.len() + v3_bytes.len());
    // Each byte crossed once: growing files were resumed, not fetched again from the start.
    wait_state(
        &pool,
        &server.source(),
        |s| s.bytes_fetched == total,
        Duration::from_secs(5),
    )
    .await;
    poller.abort();
}

#[sqlx::test]
async fn a_source_unreachable_at_start_holds_up_no_other(pool: PgPool) {
    if !sshd_available() || !pyftpdlib_available(false) {
        return;
    }
    let port = free_port();
    let ftp = FtpServer::start(false);
    let spool = tempfile::tempdir().unwrap();
    let importer = common::importer(&pool);
    let mut events = importer.subscribe();
    let poll = Duration::from_millis(500);

    // The SFTP source's server is not running yet; build its source from a server we stop.
    let mut sshd = Sshd::start_on(port);
    sshd.stop();
    let sftp_source = sshd.source();
    let config = etprox::remote::RemoteConfig {
        sources: vec![sftp_source.clone(), ftp.source()],
        poll,
        spool_dir: spool.path().to_owned(),
    };
    let tasks = etprox::remote::spawn_all(&importer, &config);
    assert_eq!(tasks.len(), 2);

    let (name, bytes) = v3_round(1, 20);
    let appeared = Instant::now();
    publish(&ftp.files, &name, &bytes);
    let event = next_round(&mut events, Duration::from_secs(10)).await;
    assert!(event.source_path.ends_with(&name));
    let latency = appeared.elapsed();
    eprintln!("MEASURED ftp latency with another source down (poll {poll:?}): {latency:?}");
    assert!(latency <= poll + Duration::from_secs(1), "{latency:?}");
    let down = wait_for_state(&pool, &sftp_source, false, Duration::from_secs(5)).await;
    assert!(down.last_error.unwrap().contains("cannot connect"));

    // The SFTP server comes up later: its files follow.
    let (name, bytes) = v3_round(2, 20);
    publish(&sshd.files, &name, &bytes);
    sshd.resume();
    let event = next_round(&mut events, Duration::from_secs(10)).await;
    assert!(event.source_path.ends_with(&name));
    for task in tasks {
        task.abort();
    }
}

#[sqlx::test]
async fn a_connection_cut_mid_download_loses_nothing_and_doubles_nothing(pool: PgPool) {
    if !sshd_available() {
        return;
    }
    let server = Sshd::start();
    let proxy = Proxy::start(server.port).await;
    // A large v2 round (about 3 MB).
    let spec = RoundSpec {
        kills: 20_000,
        ..RoundSpec::new(9, 0)
    };
    let (name, bytes) = synthetic_v2(
        &spec,
        chrono::NaiveDateTime::parse_from_str("2025-11-18 22:00:00", "%Y-%m-%d %H:%M:%S").unwrap(),
    );
    assert!(bytes.len() > 2_000_000, "{}", bytes.len());
    publish(&server.files, &name, &bytes);
    // The first connection is cut after 1 MB from the server: in the middle of the file.
    proxy
        .cut_after
        .store(1_000_000, std::sync::atomic::Ordering::SeqCst);

    let spool = tempfile::tempdir().unwrap();
    let source = server.source_on(proxy.port);
    let importer = common::importer(&pool);
    let mut events = importer.subscribe();
    let poller = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), Duration::from_millis(300)),
    ));
    let event = next_round(&mut events, Duration::from_secs(30)).await;
    assert_eq!(
        proxy.cut_after.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the cut happened"
    );
    assert_eq!(event.kills, kills_in(&name, &bytes), "nothing lost");
    let spooled = std::fs::read(source.spool_dir(spool.path()).join(&name)).unwrap();
    assert!(spooled == bytes, "the spooled copy equals the remote file");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rounds(&pool).await, 1);
    let state = wait_state(
        &pool,
        &source,
        |s| s.files_fetched == 1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        state.bytes_fetched as usize,
        bytes.len(),
        "nothing fetched twice"
    );
    eprintln!(
        "MEASURED cut mid-download: file {} B, content fetched {} B, on the wire {} B",
        bytes.len(),
        state.bytes_fetched,
        proxy.total()
    );
    poller.abort();
}

#[sqlx::test]
async fn ftp_rounds_arrive_resume_with_rest_and_survive_a_server_restart(pool: PgPool) {
    if !pyftpdlib_available(false) {
        return;
    }
    capture_logs();
    let mut server = FtpServer::start(false);
    let source = server.source();
    let spool = tempfile::tempdir().unwrap();
    // A download that an earlier run began: 1000 bytes of the file are already in the spool.
    let (name, bytes) = v3_round(1, 200);
    publish(&server.files, &name, &bytes);
    let dir = source.spool_dir(spool.path());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!(".{name}.part")), &bytes[..1000]).unwrap();
    std::fs::write(server.files.join("readme.md"), "not a round").unwrap();
    let remote_before = folder_fingerprint(&server.files);

    let summary = probe(&source).await.unwrap();
    assert_eq!(summary.round_files, 1);

    // A wrong password: refused, said so, and the password not repeated.
    let mut wrong = source.clone();
    wrong.auth = etprox::remote::Auth::Password {
        password: etprox::remote::Secret::new("not-it-9931"),
        ca_file: None,
    };
    let e = probe(&wrong).await.unwrap_err();
    assert!(matches!(e, RemoteError::Login { .. }), "{e}");
    let message = e.to_string();
    assert!(message.contains("ETPROX_FTP_PASSWORD"), "{message}");
    assert!(!message.contains("not-it-9931"), "{message}");

    let importer = common::importer(&pool);
    let mut events = importer.subscribe();
    let poll = Duration::from_millis(400);
    let poller = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), poll),
    ));
    let event = next_round(&mut events, Duration::from_secs(10)).await;
    assert_eq!(event.kills, kills_in(&name, &bytes));
    assert_eq!(std::fs::read(dir.join(&name)).unwrap(), bytes);
    let fetched = wait_state(
        &pool,
        &source,
        |s| s.files_fetched == 1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        fetched.bytes_fetched as usize,
        bytes.len() - 1000,
        "resumed at byte 1000"
    );

    server.stop();
    let (name2, bytes2) = v3_round(2, 20);
    publish(&server.files, &name2, &bytes2);
    wait_for_state(&pool, &source, false, Duration::from_secs(10)).await;
    server.resume();
    let event = next_round(&mut events, Duration::from_secs(10)).await;
    assert!(event.source_path.ends_with(&name2));

    // A restart of etprox fetches nothing again.
    poller.abort();
    let _ = poller.await;
    let before = wait_state(
        &pool,
        &source,
        |s| s.files_fetched == 2,
        Duration::from_secs(5),
    )
    .await;
    let poller = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), poll),
    ));
    tokio::time::sleep(poll * 3).await;
    let after = state(&pool, &source).await.unwrap();
    assert_eq!(after.bytes_fetched, before.bytes_fetched);
    assert_eq!(rounds(&pool).await, 2);
    let mut expected = remote_before;
    expected.push((name2, bytes2));
    expected.sort();
    assert_eq!(
        folder_fingerprint(&server.files),
        expected,
        "remote files untouched"
    );
    poller.abort();
}

#[sqlx::test]
async fn ftps_with_a_self_signed_certificate_that_is_trusted_explicitly(pool: PgPool) {
    if !pyftpdlib_available(true) {
        return;
    }
    capture_logs();
    let server = FtpServer::start(true);
    let source = server.source();
    let (name, bytes) = v3_round(3, 20);
    publish(&server.files, &name, &bytes);

    // Without trusting the certificate, TLS fails and says what to do.
    let mut untrusted = source.clone();
    if let etprox::remote::Auth::Password { ca_file, .. } = &mut untrusted.auth {
        *ca_file = None;
    }
    let e = probe(&untrusted).await.unwrap_err();
    assert!(e.to_string().contains("ETPROX_FTPS_CA_FILE"), "{e}");

    let spool = tempfile::tempdir().unwrap();
    let importer = common::importer(&pool);
    let mut events = importer.subscribe();
    let poller = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), Duration::from_millis(400)),
    ));
    let event = next_round(&mut events, Duration::from_secs(10)).await;
    assert_eq!(event.kills, kills_in(&name, &bytes));
    poller.abort();
}

/// The numbers for the note: a restart with 1,000 files already fetched transfers no file
/// content, only listings (counted on the wire by a proxy in front of sshd).
#[sqlx::test]
async fn a_restart_with_1000_fetched_files_transfers_only_listings(pool: PgPool) {
    if !sshd_available() {
        return;
    }
    let server = Sshd::start();
    let mut total = 0usize;
    for i in 0..1000 {
        let (name, bytes) = v3_round(i, 3);
        total += bytes.len();
        publish(&server.files, &name, &bytes);
    }
    let spool = tempfile::tempdir().unwrap();
    let importer = common::importer(&pool);
    let poll = Duration::from_secs(1);
    let proxy = Proxy::start(server.port).await;
    let source = server.source_on(proxy.port);
    let started = Instant::now();
    let first = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), poll),
    ));
    wait_for_rounds(&pool, 1000, Duration::from_secs(300)).await;
    let first_run = started.elapsed();
    first.abort();
    let _ = first.await;
    // A listing already under way finishes on its blocking thread: let it end.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first_wire = proxy.total();
    let content_before = wait_state(
        &pool,
        &source,
        |s| s.files_fetched == 1000,
        Duration::from_secs(5),
    )
    .await
    .bytes_fetched;
    assert_eq!(content_before as usize, total);

    proxy.down.store(0, std::sync::atomic::Ordering::SeqCst);
    proxy.up.store(0, std::sync::atomic::Ordering::SeqCst);
    let last_poll = state(&pool, &source).await.unwrap().last_poll_at;
    let again = tokio::spawn(run_source(
        importer.clone(),
        source.clone(),
        options(spool.path(), poll),
    ));
    // The first poll after the restart: connect, log in, list.
    let first_poll = wait_state(
        &pool,
        &source,
        |s| s.last_poll_at > last_poll,
        Duration::from_secs(10),
    )
    .await
    .last_poll_at;
    let first_poll_wire = proxy.total();
    // Three more polls on the same connection: a listing each.
    let mut seen = first_poll;
    for _ in 0..3 {
        seen = wait_state(
            &pool,
            &source,
            |s| s.last_poll_at > seen,
            Duration::from_secs(10),
        )
        .await
        .last_poll_at;
    }
    let per_listing = (proxy.total() - first_poll_wire) / 3;
    again.abort();
    let content = state(&pool, &source).await.unwrap().bytes_fetched - content_before;
    eprintln!(
        "MEASURED 1000 files ({total} B of content): first run fetched and imported all in {first_run:?} \
         ({first_wire} B on the wire); restart: {content} B of file content fetched, first poll \
         (connect + login + listing) {first_poll_wire} B on the wire, each later poll {per_listing} B \
         ({} B per listed file)",
        per_listing / 1000
    );
    assert_eq!(content, 0);
    assert_eq!(rounds(&pool).await, 1000);
    // A listing costs a name, a size and a time per file, not the file.
    assert!(per_listing < 300 * 1000, "{per_listing} B per listing");
    assert!(
        first_poll_wire < per_listing + 20_000,
        "{first_poll_wire} B for the first poll"
    );
}

/// Kills the etprox process this test started, also when the test fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[sqlx::test]
async fn etprox_watch_fetches_from_the_sources_in_its_environment(pool: PgPool) {
    if !sshd_available() || !pyftpdlib_available(false) {
        return;
    }
    let sshd = Sshd::start();
    let ftp = FtpServer::start(false);
    let (name1, bytes1) = v3_round(1, 20);
    publish(&sshd.files, &name1, &bytes1);
    let (name2, bytes2) = v3_round(2, 20);
    publish(&ftp.files, &name2, &bytes2);
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("watch.log");
    let sources = format!(
        "sftp://{}@127.0.0.1:{}{}\n ftp://{}@127.0.0.1:{}/",
        sshd.user,
        sshd.port,
        sshd.files.display(),
        ftp.user,
        ftp.port
    );
    let url = common::url_of(&pool).await;
    let run = |sources: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_etprox"));
        command
            .arg("watch")
            // A folder without a .env, so only these settings count.
            .current_dir(work.path())
            .env("DATABASE_URL", &url)
            .env_remove("ETPROX_ROUND_DIRS")
            .env("ETPROX_ROUND_SOURCES", sources)
            .env("ETPROX_SSH_KEY", &sshd.user_key)
            .env("ETPROX_SSH_KNOWN_HOSTS", &sshd.known_hosts)
            .env("ETPROX_FTP_PASSWORD", &ftp.password)
            .env("ETPROX_REMOTE_POLL_SECS", "0.5")
            .env("ETPROX_SPOOL_DIR", work.path().join("spool"))
            .env("RUST_LOG", "etprox=debug")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        command
    };

    // A URL that does not parse stops it at once, naming the variable.
    let out = run("gopher://x/y").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("ETPROX_ROUND_SOURCES"), "{text}");

    let child = Running(run(&sources).spawn().unwrap());
    wait_for_rounds(&pool, 2, Duration::from_secs(20)).await;
    drop(child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("polling remote round files"), "{text}");
    assert!(
        !text.contains(&ftp.password),
        "the password was logged: {text}"
    );
    let spooled: Vec<_> = std::fs::read_dir(work.path().join("spool"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(spooled.len(), 2, "one spool folder per source: {spooled:?}");
}
