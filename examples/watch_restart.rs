//! Restart time of the watcher on a folder with years of round files.
//!
//! Writes N small v3 round files into a temporary folder, imports them all into a scratch
//! database `etprox_bench_watch` (on the DATABASE_URL server; dropped at the end), then plays a
//! restart: two rounds arrive while the watcher is down (one with the newest name, one with the
//! oldest), and the watcher starts. It prints how long until the newest round is in, and how long
//! until both are in (the restart pass over the whole folder has then reached every file).
//!
//! `cargo run --release --example watch_restart -- 100000`
//! (DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres). With
//! `ETPROX_BENCH_RESCAN_SECS=N` the watcher rescans every N s and runs three more rescans after
//! the restart; `RUST_LOG=etprox::ingest::watcher=debug` shows how long each rescan took.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use etprox::config::SessionClock;
use etprox::ingest::watcher::{self, WatchOptions};
use etprox::ingest::{ImportOutcome, Importer};
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};

const BASE_UNIX: i64 = 1_600_000_000;

/// `2020-09-13-122640-goldrush-round-1_etprox.txt`: name time from the round's start.
fn file_name(start_unix: i64) -> String {
    let t = chrono::DateTime::from_timestamp(start_unix, 0).unwrap_or_default();
    format!(
        "{}-goldrush-round-1_etprox.txt",
        t.format("%Y-%m-%d-%H%M%S")
    )
}

fn write_round(dir: &Path, seed: u64, start_unix: i64) -> anyhow::Result<PathBuf> {
    let mut spec = RoundSpec::new(seed, start_unix);
    spec.kills = 4;
    spec.team_size = 2;
    let path = dir.join(file_name(start_unix));
    std::fs::write(&path, synthetic_v3(&spec)).with_context(|| format!("{}", path.display()))?;
    Ok(path)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "etprox=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let files: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().context("the argument is the number of files"))
        .transpose()?
        .unwrap_or(100_000);
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let server = server.rsplit_once('/').map_or(server.as_str(), |(s, _)| s);
    let db = std::env::var("ETPROX_BENCH_DB").unwrap_or_else(|_| "etprox_bench_watch".into());
    let url = format!("{server}/{db}");
    let admin = sqlx::PgPool::connect(&format!("{server}/postgres")).await?;
    etprox::db::admin::drop_database(&admin, &db).await?;
    let pool = etprox::db::connect_and_migrate(&url, 4).await?;
    let importer = Importer::new(pool.clone(), SessionClock::default(), "bench");

    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut paths = Vec::with_capacity(files as usize);
    // One round every 10 minutes, starting one round after the "oldest" slot below.
    for i in 0..files {
        paths.push(write_round(
            dir.path(),
            i,
            BASE_UNIX + 600 * (i as i64 + 1),
        )?);
    }
    println!(
        "wrote {files} files in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    for chunk in paths.chunks(256) {
        for (path, outcome) in importer.import_files(chunk).await {
            anyhow::ensure!(
                matches!(outcome, Ok(ImportOutcome::Imported { .. })),
                "{}: {outcome:?}",
                path.display()
            );
        }
    }
    // A running watcher rolls the heatmap up after each import; do it here, so the restart
    // below does not pay for the whole history's roll-up.
    etprox::db::heatmap::roll_up_pending(&pool).await?;
    println!(
        "imported {files} files in {:.1} s (heatmap rolled up)",
        started.elapsed().as_secs_f64()
    );

    // Two rounds arrive while the watcher is down.
    let newest = write_round(dir.path(), files + 1, BASE_UNIX + 600 * (files as i64 + 10))?;
    let oldest = write_round(dir.path(), files + 2, BASE_UNIX)?;
    let mut events = importer.subscribe();
    let rescan = Duration::from_secs_f64(
        std::env::var("ETPROX_BENCH_RESCAN_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3600.0),
    );
    let options = WatchOptions {
        dirs: vec![dir.path().to_owned()],
        settle: Duration::from_millis(200),
        rescan,
        give_up_waiting: Duration::from_secs(120),
    };
    let started = Instant::now();
    let task = tokio::spawn(watcher::run(importer.clone(), options));
    let limit = Duration::from_secs(
        std::env::var("ETPROX_BENCH_LIMIT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1800),
    );
    let (mut newest_at, mut oldest_at) = (None, None);
    while newest_at.is_none() || oldest_at.is_none() {
        let Ok(event) = tokio::time::timeout_at((started + limit).into(), events.recv()).await
        else {
            break;
        };
        let event = event?;
        if event.source_path == newest {
            newest_at = Some(started.elapsed());
        } else if event.source_path == oldest {
            oldest_at = Some(started.elapsed());
        }
    }
    if rescan < Duration::from_secs(60) {
        tokio::time::sleep(rescan * 3 + Duration::from_millis(100)).await;
    }
    task.abort();
    let show = |d: Option<Duration>| {
        d.map_or(format!("> {} s (gave up)", limit.as_secs()), |d| {
            format!("{:.2} s", d.as_secs_f64())
        })
    };
    println!("restart with {files} imported files in the folder:");
    println!("  newest new round imported after {}", show(newest_at));
    println!("  oldest new round imported after {}", show(oldest_at));
    println!(
        "  both in (restart pass over the folder done) after {}",
        show(newest_at.zip(oldest_at).map(|(a, b)| a.max(b)))
    );
    pool.close().await;
    etprox::db::admin::drop_database(&admin, &db).await?;
    Ok(())
}
