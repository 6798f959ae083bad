//! `etprox bench commands`: how long the commands take (database + reply) on a database with
//! about a million kills spread over two years, in a scratch database on the DATABASE_URL
//! server.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::commands::{dispatch, Caller, Env, Invocation};
use crate::config::SessionClock;
use crate::db;
use crate::ingest::Importer;
use crate::round_file::synthetic::{synthetic_v3, RoundSpec};

/// The scratch database unless `--database` names another.
pub const BENCH_DB: &str = "etprox_bench_commands";
const MAPS: [&str; 6] = [
    "goldrush", "supply", "oasis", "radar", "battery", "fueldump",
];

#[derive(Debug, Clone)]
pub struct CommandBenchOptions {
    pub database_url: String,
    /// The scratch database's name (several people benchmarking on one server each use their own).
    pub database: String,
    pub kills: usize,
    pub days: i64,
    pub repeats: usize,
    /// Keep an already seeded bench database instead of building it again.
    pub reuse: bool,
}

#[derive(Debug, Clone)]
pub struct Timing {
    pub command: String,
    pub p50: Duration,
    pub p95: Duration,
}

async fn database(options: &CommandBenchOptions) -> anyhow::Result<(PgPool, bool)> {
    let server = PgConnectOptions::from_str(&options.database_url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    let mut admin = server.clone().database("postgres").connect().await?;
    let name = options.database.as_str();
    let exists = db::admin::database_exists(&mut admin, name).await?;
    let fresh = !(options.reuse && exists);
    if fresh {
        db::admin::recreate_database(&mut admin, name).await?;
    }
    let _ = admin.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(server.database(name))
        .await?;
    crate::db::migrate(&pool).await?;
    Ok((pool, fresh))
}

/// Imports synthetic rounds: `kills` kills over `days` days, ten-odd rounds a day.
async fn seed(
    pool: &PgPool,
    options: &CommandBenchOptions,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<()> {
    let per_round = 140usize;
    let rounds = options.kills.div_ceil(per_round).max(1);
    let importer = Importer::new(pool.clone(), SessionClock::default(), "bench");
    let dir = tempfile::tempdir()?;
    let now = chrono::Utc::now().timestamp();
    let first_day = now - options.days * 86_400;
    let started = Instant::now();
    for chunk_start in (0..rounds).step_by(64) {
        let mut paths = Vec::new();
        for i in chunk_start..(chunk_start + 64).min(rounds) {
            let day = (i as i64 * options.days) / rounds as i64;
            let mut spec =
                RoundSpec::new(i as u64, first_day + day * 86_400 + (i as i64 % 12) * 1500);
            spec.kills = per_round;
            spec.map = MAPS[i % MAPS.len()].into();
            spec.round_number = (i % 2 + 1) as i16;
            let path = dir.path().join(format!("{i:06}.txt"));
            std::fs::write(&path, synthetic_v3(&spec))?;
            paths.push(path);
        }
        for (path, outcome) in importer.import_files(&paths).await {
            outcome.with_context(|| format!("importing {}", path.display()))?;
            let _ = std::fs::remove_file(&path);
        }
        if chunk_start % 1024 == 0 {
            progress.say(&format!(
                "seeded {chunk_start}/{rounds} rounds ({:.0} s)",
                started.elapsed().as_secs_f64()
            ));
        }
    }
    db::admin::analyze(pool).await?;
    Ok(())
}

/// Fills the per-player aggregates of migration 0004 from raw kills, as the importer will.
pub async fn fill_player_aggregates(pool: &PgPool) -> anyhow::Result<()> {
    db::demo::backfill_player_aggregates(pool).await?;
    Ok(())
}

/// Times a command; `cold` empties the result cache before each run (the first ask after an
/// import), otherwise runs after the first are answered from it.
async fn time(env: &Env, line: &str, repeats: usize, cold: bool) -> anyhow::Result<Timing> {
    let caller = Caller::default();
    let invocation = Invocation::parse(line).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut samples = Vec::with_capacity(repeats);
    for i in 0..repeats + 3 {
        if cold {
            env.cache.clear();
        }
        let started = Instant::now();
        let reply = dispatch(env, &caller, &invocation).await;
        let reply = reply.fit(crate::commands::reply::limits::UPLOAD);
        let text = crate::console::render(&reply);
        let elapsed = started.elapsed();
        anyhow::ensure!(!reply.ephemeral, "{line} failed: {text}");
        if i >= 3 {
            samples.push(elapsed);
        }
    }
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    Ok(Timing {
        command: format!(
            "{line}{}",
            if cold {
                ""
            } else {
                "   (cached until the next import)"
            }
        ),
        p50: at(0.5),
        p95: at(0.95),
    })
}

/// Seeds (unless reused) and times each command; returns (kills in the database, timings).
pub async fn command_bench(
    options: &CommandBenchOptions,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<(i64, Vec<Timing>)> {
    let (pool, fresh) = database(options).await?;
    if fresh {
        seed(&pool, options, progress).await?;
    }
    let kills = db::demo::raw_kills(&pool).await?;
    let env = Env {
        pool: pool.clone(),
        importer: None,
        round_dirs: Vec::new(),
        assets: crate::assets::Assets::default(),
        export_dir: None,
        cache: Default::default(),
        clock: crate::clock::Clock::system(SessionClock::default()),
    };
    // A regular player of the synthetic pool, and a teammate.
    let pair = db::demo::strongest_pair(&pool)
        .await?
        .context("the bench database has no teammate pairs")?;
    let (a, b) = (pair.player1_guid, pair.player2_guid);
    // The player's most frequent opponent, for /versus.
    let rival = db::stats::versus(&pool, &a, false, 1)
        .await?
        .into_iter()
        .next()
        .map_or_else(|| b.clone(), |o| o.guid);
    let mut timings = Vec::new();
    // Head to head and trend chart (the chart rendered and PNG-encoded in the timing).
    for line in [
        format!("/versus player:{a} opponent:{rival} period:all"),
        format!("/versus player:{a} opponent:{rival} period:30d"),
        format!("/trend player:{a}"),
        format!("/trend player:{a} stat:kd sessions:100"),
    ] {
        timings.push(time(&env, &line, options.repeats, true).await?);
    }
    db::demo::clear_player_aggregates(&pool).await?;
    let lines = [
        "/solo period:all".to_owned(),
        "/solo period:30d".to_owned(),
        format!("/solo player:{a} period:all"),
        "/duo period:all".to_owned(),
        "/duo period:30d".to_owned(),
        format!("/duo player:{a} period:all"),
        format!("/duo player:{a} partner:{b} period:30d"),
        format!("/duo player:{a} partner:{b} period:all"),
        "/leaderboard stat:kills period:all".to_owned(),
        "/leaderboard stat:kd period:30d".to_owned(),
        format!("/player player:{a}"),
    ];
    for line in &lines {
        timings.push(time(&env, line, options.repeats, true).await?);
    }
    for line in [
        "/solo period:all",
        "/duo period:all",
        "/leaderboard stat:kills period:all",
    ] {
        timings.push(time(&env, line, options.repeats, false).await?);
    }
    fill_player_aggregates(&pool).await?;
    for line in [
        format!("/player player:{a}"),
        format!("/duo player:{a} partner:{b} period:30d"),
        format!("/duo player:{a} partner:{b} period:all"),
    ] {
        let mut t = time(&env, &line, options.repeats, true).await?;
        t.command.push_str("   (with 0004 aggregates filled)");
        timings.push(t);
    }
    Ok((kills, timings))
}
