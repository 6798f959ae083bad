//! The demo's evening: two simulated servers play (our Lua tracker under the ET API mock writes v3
//! files as rounds end), a third writes v2 files; the real watcher and importer pick them up; each
//! imported round's summary is printed; then [`super::script`] asks the commands.

use super::database;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, TimeZone, Utc};
use sqlx::PgPool;

use crate::config::Config;
use crate::ingest::watcher::{self, WatchOptions};
use crate::ingest::{round_files_in, Importer};
use crate::sim::match_sim::{MatchSim, SimConfig};
use crate::sim::{v2_writer, TRACKER_LUA};

#[derive(Clone)]
pub struct DemoOptions {
    /// Start from an empty demo database.
    pub fresh: bool,
    /// Keep the demo database afterwards (for `etprox ask`).
    pub keep: bool,
    /// Where PNGs and other outputs go.
    pub out_dir: PathBuf,
    /// Where the simulated servers write their round files.
    pub work_dir: PathBuf,
    /// Where the evening is told (the terminal, from `etprox demo`).
    pub progress: std::sync::Arc<dyn crate::progress::Progress>,
}

/// One simulated game server of the demo evening.
struct DemoServer {
    id: &'static str,
    seed: u64,
    maps: &'static [&'static str],
    /// First round's start, UTC.
    start: (u32, u32),
    /// Write what the public v2 module would have written, instead of our v3 files.
    v2: bool,
}

const SERVERS: [DemoServer; 3] = [
    DemoServer {
        id: "eu-1",
        seed: 11,
        maps: &["goldrush", "supply", "radar"],
        start: (23, 20),
        v2: false,
    },
    DemoServer {
        id: "eu-2",
        seed: 12,
        maps: &["oasis", "battery", "fueldump"],
        start: (23, 35),
        v2: false,
    },
    DemoServer {
        id: "old-v2",
        seed: 13,
        maps: &["goldrush"],
        start: (21, 15),
        v2: true,
    },
];

/// The evening the demo plays (UTC); the session crosses midnight.
pub fn demo_evening() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 21).unwrap_or_default()
}

/// Runs the simulated servers; returns the folders their files are in.
fn play_evening(work_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for server in &SERVERS {
        let root = work_dir.join(server.id).join("legacy");
        let config = SimConfig {
            seed: server.seed,
            maps: server.maps.iter().map(|m| m.to_string()).collect(),
            players: 20,
            ..SimConfig::default()
        };
        let mut sim = MatchSim::new(config, &root, TRACKER_LUA);
        let start = demo_evening()
            .and_hms_opt(server.start.0, server.start.1, 0)
            .map(|t| Utc.from_utc_datetime(&t).timestamp())
            .unwrap_or(0);
        {
            let mut state = sim.mock_mut().state_mut();
            state.set_cvar("etprox_server_id", server.id);
            state.set_cvar("sv_hostname", format!("^3etprox ^7demo {}", server.id));
            let level_seconds = state.level_time.div_euclid(1000);
            state.unix_at_level_zero = start - level_seconds;
        }
        if server.v2 {
            // The v2 module writes into its own folder; our tracker's files of this run are not used.
            let v2_dir = work_dir.join(server.id).join("v2");
            sim.run()
                .map_err(|e| anyhow::anyhow!("simulating {}: {e}", server.id))?;
            v2_writer::write_v2_files(sim.truth(), &v2_dir)
                .with_context(|| format!("writing v2 files for {}", server.id))?;
            dirs.push(v2_dir);
        } else {
            dirs.push(root.join("proximity"));
            std::fs::create_dir_all(root.join("proximity"))?;
            sim.run()
                .map_err(|e| anyhow::anyhow!("simulating {}: {e}", server.id))?;
        }
    }
    Ok(dirs)
}

fn watched_dirs(work_dir: &Path) -> Vec<PathBuf> {
    SERVERS
        .iter()
        .map(|s| {
            let base = work_dir.join(s.id);
            if s.v2 {
                base.join("v2")
            } else {
                base.join("legacy").join("proximity")
            }
        })
        .collect()
}

async fn rounds_from(pool: &PgPool, work_dir: &Path) -> anyhow::Result<i64> {
    let prefix = work_dir.display().to_string();
    Ok(crate::db::demo::rounds_under(pool, &prefix).await?)
}

/// A few lines about an imported round, as the Discord summary would read.
pub async fn round_summary(pool: &PgPool, round_id: i64) -> anyhow::Result<String> {
    let crate::db::demo::RoundFacts {
        map_name: map,
        round_number: round,
        server_id: server,
        kill_count: kills,
        started_at: started,
        ended_at: ended,
    } = crate::db::demo::round_facts(pool, round_id).await?;
    let top = crate::db::demo::top_killers(pool, round_id).await?;
    let outnumbered = crate::db::demo::most_outnumbered_kill(pool, round_id).await?;
    let minutes = match (started, ended) {
        (Some(a), Some(b)) => format!("{} min", (b - a).num_minutes()),
        _ => "length unknown (v2)".into(),
    };
    let name = |n: &str| crate::round_file::name::display_name(n.as_bytes());
    let top = top
        .iter()
        .map(|t| format!("{} {}", name(&t.killer_name), t.kills))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!("{server}: {map} round {round}, {minutes}, {kills} kills; top: {top}");
    if let Some(crate::db::demo::OutnumberedKill {
        killer_name: who,
        engagement_type: what,
    }) = outnumbered
    {
        text.push_str(&format!("; won {what} outnumbered: {}", name(&who)));
    }
    Ok(text)
}

/// How a demo run ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Completed,
    /// Stopped by Ctrl-C or SIGTERM; the private cluster, if any, is already stopped.
    Interrupted,
}

/// Runs the demo. `config` supplies the session clock; the database comes from `DATABASE_URL`,
/// the local server or a private cluster, which is stopped before this returns, whether the demo
/// completed, failed or was interrupted.
pub async fn run(config: &Config, options: &DemoOptions) -> anyhow::Result<Finished> {
    let started = Instant::now();
    let configured = std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty());
    let db = database::resolve(configured.as_deref(), database::DEMO_DATABASE)?;
    options.progress.say(&format!(
        "database: {} ({})",
        database::DEMO_DATABASE,
        db.origin
    ));
    let outcome = tokio::select! {
        result = play(config, options, &db, started) => result.map(|()| Finished::Completed),
        () = interrupted() => Ok(Finished::Interrupted),
    };
    // Dropping the database stops a private cluster; the demo's connections are closed by now.
    drop(db);
    outcome
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Aborts a spawned task when dropped, so a failed or interrupted demo leaves no watcher running.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn play(
    config: &Config,
    options: &DemoOptions,
    db: &database::Database,
    started: Instant,
) -> anyhow::Result<()> {
    // Say at once when the output folder cannot be made, not after the evening has been played.
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("creating the output folder {}", options.out_dir.display()))?;
    if options.fresh {
        drop_database(&db.url).await?;
    }
    let pool = crate::db::connect_and_migrate(&db.url, 4).await?;
    // v2 files name no server: they are the old-v2 server's.
    let importer = Importer::new(pool.clone(), config.session, "old-v2");
    let mut events = importer.subscribe();
    let already = rounds_from(&pool, &options.work_dir).await?;

    let dirs = fresh_work_dirs(&options.work_dir)?;
    let watch = AbortOnDrop(tokio::spawn(watcher::run(
        importer.clone(),
        WatchOptions {
            dirs: dirs.clone(),
            settle: Duration::from_millis(200),
            rescan: Duration::from_secs(1),
            give_up_waiting: Duration::from_secs(5),
        },
    )));

    options.progress.say(&format!("game: {} servers play the evening of {} (our tracker writes v3 files; one server runs the public v2 module)", SERVERS.len(), demo_evening()));
    let work_dir = options.work_dir.clone();
    tokio::task::spawn_blocking(move || play_evening(&work_dir))
        .await
        .context("the simulation stopped")??;
    let mut expected = 0;
    for dir in &dirs {
        expected += round_files_in(dir)?.len() as i64;
    }
    let new_rounds = await_imports(&pool, &mut events, options, expected, already).await?;
    drop(watch);
    if already > 0 {
        options.progress.say(&format!("{already} of the evening's {expected} rounds were already in the demo database (imported by an earlier run: nothing doubled); {new_rounds} new. Use --fresh to start over."));
    }
    let crate::db::round_summary::ImportCounts { rounds, kills, .. } =
        crate::db::round_summary::import_counts(&pool).await?;
    options.progress.say(&format!(
        "imported: {rounds} rounds, {kills} kills in the demo database ({expected} round files)"
    ));

    super::script::run(
        &pool,
        &importer,
        &options.out_dir,
        options.progress.as_ref(),
    )
    .await?;

    pool.close().await;
    finish(options, db).await?;
    options.progress.say(&format!(
        "demo finished in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The servers' files are regenerated identically on every run: an empty work folder, and
/// the folders the watcher watches.
fn fresh_work_dirs(work_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if work_dir.exists() {
        std::fs::remove_dir_all(work_dir)
            .with_context(|| format!("clearing {}", work_dir.display()))?;
    }
    std::fs::create_dir_all(work_dir)?;
    let dirs = watched_dirs(work_dir);
    for dir in &dirs {
        std::fs::create_dir_all(dir)?;
    }
    Ok(dirs)
}

/// Prints each round's summary as the watcher imports it, with a progress bar, until all
/// `expected` rounds are in (a minute at most); returns the rounds new to the database.
async fn await_imports(
    pool: &PgPool,
    events: &mut tokio::sync::broadcast::Receiver<crate::ingest::ImportedRound>,
    options: &DemoOptions,
    expected: i64,
    before: i64,
) -> anyhow::Result<usize> {
    let progress = options.progress.as_ref();
    progress.start("importing rounds", expected as u64);
    let deadline = Instant::now() + Duration::from_secs(60);
    // `before`: rounds the database held before the watcher started; only the others announce
    // themselves. A round's event can arrive just after its commit is counted, so the loop also
    // waits for every new round's event (else the last summary line went missing now and then).
    let mut new_rounds = 0;
    let mut all_in_since: Option<Instant> = None;
    loop {
        loop {
            match events.try_recv() {
                Ok(event) => {
                    new_rounds += 1;
                    let summary = round_summary(pool, event.round_id).await?;
                    progress.say(&format!("  round imported: {summary}"));
                }
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(missed)) => {
                    new_rounds += missed as usize;
                }
                Err(_) => break,
            }
        }
        let done = rounds_from(pool, &options.work_dir).await?;
        progress.set(done as u64);
        if done >= expected {
            let since = *all_in_since.get_or_insert_with(Instant::now);
            // Every new round announced, or (should an event never come) two seconds on.
            if new_rounds as i64 >= done - before || since.elapsed() > Duration::from_secs(2) {
                break;
            }
        }
        if Instant::now() > deadline {
            progress.finish();
            anyhow::bail!("only {done} of {expected} rounds were imported within a minute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    progress.finish();
    Ok(new_rounds)
}

/// Keeps or removes the demo database, as asked and as the server allows.
async fn finish(options: &DemoOptions, db: &database::Database) -> anyhow::Result<()> {
    if options.keep && db.is_private() {
        options.progress.say(
            "not kept: the private cluster is removed at the end; --keep needs a PostgreSQL server (DATABASE_URL or one on 127.0.0.1:5432)",
        );
    } else if options.keep {
        options.progress.say(&format!(
            "kept database {} — try: DATABASE_URL={} etprox ask \"/solo\"",
            database::DEMO_DATABASE,
            crate::config::Redacted(&db.url)
        ));
    } else if !db.is_private() {
        drop_database(&db.url).await?;
        options
            .progress
            .say("removed the demo database (use --keep to explore it afterwards)");
    }
    Ok(())
}

async fn drop_database(url: &str) -> anyhow::Result<()> {
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
    let mut admin = options.clone().database("postgres").connect().await?;
    crate::db::admin::drop_database(&mut admin, database::DEMO_DATABASE).await?;
    let _ = admin.close().await;
    Ok(())
}
