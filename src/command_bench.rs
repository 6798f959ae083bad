//! `etprox bench commands`: how long every command takes (database + reply), cold (result
//! cache emptied before each call, as right after an import) and warm, on a scratch database
//! seeded with a synthetic community through the real importer: `kills` kills over `days`
//! days, a pool of players per server with regulars and occasional players, 20-40 of them a
//! round, 10-16 rounds a session day, six maps. Also the database's size and its largest tables.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::commands::{dispatch, Caller, Env, Invocation};
use crate::config::SessionClock;
use crate::db;
use crate::ingest::Importer;
use crate::prng::SplitMix64 as Rng;
use crate::round_file::synthetic::{synthetic_v3, RoundSpec};

/// The default scratch database (the name older builds use, so `--reuse` compares them).
pub const BENCH_DB: &str = "etprox_bench_commands";
const MAPS: [&str; 6] = [
    "goldrush", "supply", "oasis", "radar", "battery", "fueldump",
];
/// Players in the pool of each server.
const POOL_PER_SERVER: usize = 500;
/// Rounds imported per batch while seeding (the importer's multi-file path).
const SEED_BATCH: usize = 64;

#[derive(Debug, Clone)]
pub struct CommandBenchOptions {
    pub database_url: String,
    /// The scratch database's name.
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
    pub cold: Option<(Duration, Duration)>,
    pub warm: Option<(Duration, Duration)>,
    /// Why the command gave no timing (it failed), if it did not.
    pub failed: Option<String>,
}

/// A table's share of the database.
#[derive(Debug, Clone)]
pub struct TableSize {
    pub name: String,
    pub table_bytes: i64,
    pub index_bytes: i64,
}

#[derive(Debug, Clone)]
pub struct CommandBenchReport {
    pub kills: i64,
    pub rounds: i64,
    pub players: i64,
    /// Seconds spent seeding, when this run seeded.
    pub seeded_in: Option<f64>,
    pub database_bytes: i64,
    pub tables: Vec<TableSize>,
    pub timings: Vec<Timing>,
}

async fn database(options: &CommandBenchOptions) -> anyhow::Result<(PgPool, bool)> {
    let server = PgConnectOptions::from_str(&options.database_url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    let mut admin = server.clone().database("postgres").connect().await?;
    let exists = db::admin::database_exists(&mut admin, &options.database).await?;
    let fresh = !(options.reuse && exists);
    if fresh {
        db::admin::recreate_database(&mut admin, &options.database).await?;
    }
    let _ = admin.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(server.database(&options.database))
        .await?;
    crate::db::migrate(&pool).await?;
    Ok((pool, fresh))
}

/// A player of the synthetic community.
struct Member {
    guid: String,
    /// Names used over time (colour codes included); one at a time, changing every few months.
    names: Vec<Vec<u8>>,
    /// Chance to show up on a session day of the home server.
    attendance: f64,
    home: usize,
}

const SYLLABLES: [&str; 16] = [
    "ka", "zor", "mi", "tek", "ra", "vo", "lin", "dus", "ex", "fa", "gro", "nix", "pa", "qu",
    "sto", "yl",
];

fn member(i: usize, servers: usize, rng: &mut Rng) -> Member {
    let base: String = (0..2 + rng.below(2))
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize])
        .collect();
    let base = format!("{base}{i}");
    let names = (0..1 + rng.below(3))
        .map(|n| match n {
            0 => format!("^{}{base}", rng.below(10)),
            1 => format!("^1[ET]^7{base}"),
            _ => format!("{base}^3!"),
        })
        .map(String::into_bytes)
        .collect();
    // A few regulars, more now-and-then players, many who come by rarely.
    let attendance = match rng.below(100) {
        0..=11 => 0.85,
        12..=39 => 0.35,
        _ => 0.06,
    };
    Member {
        guid: format!("{:032X}", 0xC0_1D00_0000u64 + i as u64),
        names,
        attendance,
        home: i % servers,
    }
}

/// The rounds to seed, in time order: (start unix time, server, map, roster).
struct Plan {
    members: Vec<Member>,
    servers: usize,
    /// Chance that a day is a session day of a server.
    session_chance: f64,
}

impl Plan {
    /// Servers enough that 10-16 rounds (~13) of ~180 kills on a bit over half of the days
    /// reach the kills wanted.
    fn new(kills: usize, days: i64) -> Plan {
        let rounds = kills.div_ceil(180).max(1) as f64;
        let server_days = rounds / 13.0;
        let servers = (server_days / (days as f64 * 0.55)).ceil().max(1.0) as usize;
        // No margin: the kills wanted are reached near the last day, so "last 30 days" has data.
        let session_chance = (server_days / (servers as f64 * days as f64)).min(1.0);
        let mut rng = Rng::new(17);
        let members = (0..POOL_PER_SERVER * servers)
            .map(|i| member(i, servers, &mut rng))
            .collect();
        Plan {
            members,
            servers,
            session_chance,
        }
    }

    /// One server's evening: who came, and its rounds with 20-40 of them each.
    fn evening(&self, rng: &mut Rng, server: usize, day: i64, start: i64) -> Vec<RoundSpec> {
        let came: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| (m.home == server || rng.below(100) < 3) && rng.unit() < m.attendance)
            .collect();
        if came.len() < 8 {
            return Vec::new();
        }
        let rounds = 10 + rng.below(7) as i64;
        (0..rounds)
            .map(|r| {
                let size = (20 + rng.below(21) as usize).min(came.len()) & !1;
                let mut picked: Vec<&Member> = came.clone();
                for i in 0..size {
                    let j = i + rng.below((picked.len() - i) as u64) as usize;
                    picked.swap(i, j);
                }
                picked.truncate(size);
                let map_index = ((day as usize) * 3 + (r as usize) / 2) % MAPS.len();
                let mut spec = RoundSpec::new(rng.next_u64(), start + r * 1500);
                spec.server_id = format!("bench{server}");
                spec.map = MAPS[map_index].into();
                spec.round_number = (r % 2 + 1) as i16;
                spec.kills = size * 6;
                spec.roster = Some(
                    picked
                        .iter()
                        .map(|m| {
                            let name = &m.names[(day as usize / 90) % m.names.len()];
                            (m.guid.clone(), name.clone())
                        })
                        .collect(),
                );
                spec
            })
            .collect()
    }
}

/// Imports the community's rounds through the importer, `SEED_BATCH` files at a time, until
/// `kills` kills (every line of a file, as written) are stored. Returns the seconds it took.
async fn seed(
    pool: &PgPool,
    options: &CommandBenchOptions,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<f64> {
    let plan = Plan::new(options.kills, options.days);
    progress.say(&format!(
        "seeding {} kills: {} server(s), {} players",
        options.kills,
        plan.servers,
        plan.members.len()
    ));
    let importer = Importer::new(pool.clone(), SessionClock::default(), "bench");
    let dir = tempfile::tempdir()?;
    let today = chrono::Utc::now().timestamp() / 86_400 * 86_400;
    let first_day = today - options.days * 86_400;
    let mut rng = Rng::new(4242);
    let (mut written, mut pending, mut files) = (0usize, Vec::new(), 0usize);
    let started = Instant::now();
    'days: for day in 0..options.days {
        for server in 0..plan.servers {
            if rng.unit() >= plan.session_chance {
                continue;
            }
            // Evenings from 18:00 UTC; a session day runs past midnight.
            let start = first_day + day * 86_400 + 18 * 3600;
            for spec in plan.evening(&mut rng, server, day, start) {
                let path = dir.path().join(format!("{files:07}.txt"));
                std::fs::write(&path, synthetic_v3(&spec))?;
                pending.push(path);
                files += 1;
                written += spec.kills;
                if pending.len() == SEED_BATCH {
                    import_batch(&importer, &mut pending).await?;
                }
                if written >= options.kills {
                    break 'days;
                }
            }
        }
        if day % 30 == 0 {
            progress.say(&format!(
                "seeded {written}/{} kills, day {day}/{} ({:.0} s)",
                options.kills,
                options.days,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    import_batch(&importer, &mut pending).await?;
    let seconds = started.elapsed().as_secs_f64();
    settle(pool, progress).await?;
    Ok(seconds)
}

/// Brings the database to the state a running bot keeps it in, so the timings measure reads and
/// not upkeep: every round rolled up into the heatmap rollups (the bot does it after each
/// commit; the seeding importer leaves it), then vacuumed and analysed (autovacuum's work: the
/// visibility map that index-only scans need, and statistics that know the rollups' rows).
async fn settle(pool: &PgPool, progress: &dyn crate::progress::Progress) -> anyhow::Result<()> {
    let mut rolled = 0i64;
    loop {
        // Bounded batches: one statement over every pending round of a 10 M seed would hold
        // its locks and its WAL for many minutes.
        let n = db::heatmap::roll_up_at_most(pool, 500).await?;
        if n == 0 {
            break;
        }
        rolled += i64::from(n);
        progress.say(&format!("heatmap rollups: {rolled} rounds rolled up"));
    }
    progress.say("vacuum and analyze");
    db::sizes::vacuum_analyze(pool).await?;
    Ok(())
}

async fn import_batch(
    importer: &Importer,
    paths: &mut Vec<std::path::PathBuf>,
) -> anyhow::Result<()> {
    for (path, outcome) in importer.import_files(paths).await {
        outcome.with_context(|| format!("importing {}", path.display()))?;
        let _ = std::fs::remove_file(&path);
    }
    paths.clear();
    Ok(())
}

/// p50 and p95 of `repeats` calls; `cold` empties the result cache before each call (the first
/// ask after an import), otherwise calls after the first are answered from it.
async fn time(
    env: &Env,
    invocation: &Invocation,
    repeats: usize,
    cold: bool,
) -> Result<(Duration, Duration), String> {
    let caller = Caller::default();
    let mut samples = Vec::with_capacity(repeats);
    for i in 0..repeats + 3 {
        if cold {
            env.cache.clear();
        }
        let started = Instant::now();
        let reply = dispatch(env, &caller, invocation).await;
        let reply = reply.fit(crate::commands::reply::limits::UPLOAD);
        let text = crate::console::render(&reply);
        let elapsed = started.elapsed();
        if reply.ephemeral {
            return Err(text.lines().next().unwrap_or("").to_owned());
        }
        if i >= 3 {
            samples.push(elapsed);
        }
    }
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    Ok((at(0.5), at(0.95)))
}

async fn time_line(env: &Env, line: &str, repeats: usize) -> Timing {
    let mut t = Timing {
        command: line.to_owned(),
        cold: None,
        warm: None,
        failed: None,
    };
    let invocation = match Invocation::parse(line) {
        Ok(inv) => inv,
        Err(e) => {
            t.failed = Some(e.to_string());
            return t;
        }
    };
    match time(env, &invocation, repeats, true).await {
        Ok(c) => t.cold = Some(c),
        Err(e) => t.failed = Some(e),
    }
    if t.failed.is_none() {
        t.warm = time(env, &invocation, repeats, false).await.ok();
    }
    t
}

/// The commands timed, for a regular player `a`, a teammate `b` and `a`'s name as typed.
fn command_lines(a: &str, b: &str, a_typed: &str) -> Vec<String> {
    let mut lines = vec![
        "/solo period:all".to_owned(),
        "/solo period:30d".to_owned(),
        format!("/solo player:{a} period:all"),
        format!("/solo player:{a} period:30d"),
        "/duo period:all".to_owned(),
        "/duo period:30d".to_owned(),
        format!("/duo player:{a} period:all"),
        format!("/duo player:{a} period:30d"),
        format!("/duo player:{a} partner:{b} period:all"),
        format!("/duo player:{a} partner:{b} period:30d"),
    ];
    for stat in crate::commands::leaderboard::Stat::ALL {
        for period in ["all", "30d"] {
            lines.push(format!("/leaderboard stat:{} period:{period}", stat.key()));
        }
    }
    lines.extend([
        format!("/player player:{a}"),
        format!("/player player:{a_typed}"),
        "/engagements period:all".to_owned(),
        "/engagements period:30d".to_owned(),
        "/engagements map:goldrush period:all".to_owned(),
        "/round".to_owned(),
        "/maps".to_owned(),
        "/session".to_owned(),
        format!("/versus player:{a} opponent:{b} period:all"),
        format!("/versus player:{a} opponent:{b} period:30d"),
        format!("/trend player:{a}"),
        format!("/trend player:{a} stat:kd sessions:100"),
    ]);
    lines
}

fn heatmap_lines(a: &str) -> Vec<String> {
    vec![
        "/heatmap map:goldrush".to_owned(),
        format!("/heatmap map:goldrush player:{a}"),
        "/heatmap map:goldrush weapon:mp40".to_owned(),
        "/heatmap map:goldrush engagement:solo".to_owned(),
        "/heatmap map:goldrush team:axis kind:kills".to_owned(),
        format!("/heatmap map:goldrush period:30d player:{a}"),
    ]
}

/// Seeds (unless reused) and times each command and heatmap filter.
pub async fn command_bench(
    options: &CommandBenchOptions,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<CommandBenchReport> {
    let (pool, fresh) = database(options).await?;
    let seeded_in = if fresh {
        Some(seed(&pool, options, progress).await?)
    } else {
        // A database seeded by an older build may have rounds the heatmaps never rolled up
        // (and statistics taken before they were); else fresh statistics are enough.
        if db::heatmap::pending_roll_ups(&pool).await? > 0 {
            settle(&pool, progress).await?;
        } else {
            db::admin::analyze(&pool).await?;
        }
        None
    };
    let env = Env {
        pool: pool.clone(),
        importer: None,
        round_dirs: Vec::new(),
        assets: crate::assets::Assets::default(),
        export_dir: None,
        cache: Default::default(),
        clock: crate::clock::Clock::system(SessionClock::default()),
    };
    // A regular player of the pool, and a teammate.
    let pair = db::demo::strongest_pair(&pool)
        .await?
        .context("the bench database has no teammate pairs")?;
    let (a, b) = (pair.player1_guid, pair.player2_guid);
    let a_name = db::players::by_key(&pool, &a)
        .await?
        .map(|p| crate::players::strip_colour_codes(&p.name).to_lowercase())
        .unwrap_or_else(|| a.clone());
    let mut timings = Vec::new();
    for line in command_lines(&a, &b, &a_name)
        .iter()
        .chain(&heatmap_lines(&a))
    {
        progress.say(line);
        timings.push(time_line(&env, line, options.repeats).await);
    }
    let (kills, rounds, players) = db::sizes::counts(&pool).await?;
    let database_bytes = db::sizes::database_bytes(&pool).await?;
    let tables = db::sizes::largest_tables(&pool, 20)
        .await?
        .into_iter()
        .map(|t| TableSize {
            name: t.name,
            table_bytes: t.table_bytes,
            index_bytes: t.index_bytes,
        })
        .collect();
    Ok(CommandBenchReport {
        kills,
        rounds,
        players,
        seeded_in,
        database_bytes,
        tables,
        timings,
    })
}
