//! `etprox bench import`: our importer against a plain COPY of the same kill rows, in one run.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;

use crate::config::SessionClock;
use crate::ingest::{ImportOutcome, Importer};
use crate::round_file::synthetic::{synthetic_v3, RoundSpec};

#[derive(Debug, Clone)]
pub struct ImportBenchOptions {
    /// Server URL; the bench creates and drops its own database on it.
    pub database_url: String,
    pub rounds: usize,
    pub kills_per_round: usize,
    pub jobs: usize,
    /// Files per transaction (1 = one transaction per file, as the watcher does).
    pub batch: usize,
    pub repeats: usize,
}

#[derive(Debug, Clone)]
pub struct ImportBenchResult {
    pub kills: usize,
    pub bytes: usize,
    /// One duration per repeat, sorted.
    pub ours: Vec<Duration>,
    pub copy: Vec<Duration>,
    /// The heatmap roll-up that follows the imports (not part of `ours`), per repeat.
    pub roll_up: Vec<Duration>,
}

impl ImportBenchResult {
    pub fn median(samples: &[Duration]) -> Duration {
        samples[samples.len() / 2]
    }
    pub fn ours_kills_per_sec(&self) -> f64 {
        self.kills as f64 / Self::median(&self.ours).as_secs_f64()
    }
    pub fn copy_kills_per_sec(&self) -> f64 {
        self.kills as f64 / Self::median(&self.copy).as_secs_f64()
    }
}

const BENCH_DB: &str = "etprox_bench";

async fn fresh_database(server: &PgConnectOptions) -> anyhow::Result<PgPool> {
    let mut admin = server.clone().database("postgres").connect().await?;
    crate::db::admin::recreate_database(&mut admin, BENCH_DB).await?;
    let _ = admin.close().await;
    let url_options = server.clone().database(BENCH_DB);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect_with(url_options)
        .await?;
    crate::db::migrate(&pool).await?;
    Ok(pool)
}

/// Runs the import bench and returns the timings; what it does is told to `progress`.
pub async fn import_bench(
    options: &ImportBenchOptions,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<ImportBenchResult> {
    let server = PgConnectOptions::from_str(&options.database_url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    let dir = tempfile::tempdir().context("creating a folder for the bench's round files")?;
    let (files, bytes) = write_rounds(dir.path(), options)?;
    let kills = options.rounds * options.kills_per_round;
    progress.say(&format!(
        "bench: {} rounds, {} kills, {:.1} MiB of round files, {} files per transaction, {} concurrent transactions, {} repeats",
        options.rounds,
        kills,
        bytes as f64 / 1048576.0,
        options.batch,
        options.jobs,
        options.repeats
    ));

    let mut ours = Vec::new();
    let mut copy = Vec::new();
    let mut roll_up: Vec<Duration> = Vec::new();
    for repeat in 0..options.repeats {
        let pool = fresh_database(&server).await?;
        let elapsed = time_import(&pool, &files, options).await?;
        ours.push(elapsed);
        let started = Instant::now();
        let rolled = crate::db::heatmap::roll_up_pending(&pool).await?;
        anyhow::ensure!(
            rolled as usize == options.rounds,
            "rolled up {rolled} rounds"
        );
        roll_up.push(started.elapsed());
        let elapsed_copy = time_copy(&pool, kills).await?;
        copy.push(elapsed_copy);
        progress.say(&format!(
            "  repeat {}: ours {:>8.1} ms ({:>9.0} kills/s), then heatmap roll-up {:>6.1} ms   COPY {:>7.1} ms ({:>9.0} kills/s)",
            repeat + 1,
            elapsed.as_secs_f64() * 1e3,
            kills as f64 / elapsed.as_secs_f64(),
            roll_up.last().map_or(0.0, |d: &Duration| d.as_secs_f64() * 1e3),
            elapsed_copy.as_secs_f64() * 1e3,
            kills as f64 / elapsed_copy.as_secs_f64()
        ));
        pool.close().await;
    }
    let mut admin = server.clone().database("postgres").connect().await?;
    crate::db::admin::drop_database(&mut admin, BENCH_DB).await?;
    ours.sort();
    copy.sort();
    roll_up.sort();
    Ok(ImportBenchResult {
        kills,
        bytes,
        ours,
        copy,
        roll_up,
    })
}

/// The synthetic round files of the bench, and their total size in bytes.
fn write_rounds(
    dir: &std::path::Path,
    options: &ImportBenchOptions,
) -> anyhow::Result<(Vec<std::path::PathBuf>, usize)> {
    let mut files = Vec::with_capacity(options.rounds);
    let mut bytes = 0;
    for i in 0..options.rounds {
        let mut spec = RoundSpec::new(i as u64, 1_763_000_000 + i as i64 * 1_200);
        spec.kills = options.kills_per_round;
        let data = synthetic_v3(&spec);
        bytes += data.len();
        let path = dir.join(format!("{i:05}-goldrush-round-1_etprox.txt"));
        std::fs::write(&path, data)?;
        files.push(path);
    }
    Ok((files, bytes))
}

/// Imports every file with our importer, `batch` files per transaction, `jobs` at once.
async fn time_import(
    pool: &PgPool,
    files: &[std::path::PathBuf],
    options: &ImportBenchOptions,
) -> anyhow::Result<Duration> {
    let importer = Importer::new(pool.clone(), SessionClock::default(), "bench");
    let started = Instant::now();
    let outcomes: Vec<ImportOutcome> =
        futures_util::stream::iter(files.chunks(options.batch.max(1)).map(|batch| {
            let importer = importer.clone();
            async move {
                let results = importer.import_files(batch).await;
                futures_util::stream::iter(results.into_iter().map(|(_, r)| r))
            }
        }))
        .buffer_unordered(options.jobs.max(1))
        .flatten()
        .try_collect()
        .await?;
    let elapsed = started.elapsed();
    let imported = outcomes
        .iter()
        .filter(|o| matches!(o, ImportOutcome::Imported { .. }))
        .count();
    anyhow::ensure!(
        imported == options.rounds,
        "only {imported} of {} rounds imported",
        options.rounds
    );
    Ok(elapsed)
}

/// Baseline: the very same kill rows, COPYed into a table without indexes.
async fn time_copy(pool: &PgPool, kills: usize) -> anyhow::Result<Duration> {
    let mut conn = pool.acquire().await?;
    // Runtime DDL: the bench's own scratch table, not part of the schema the macros check.
    sqlx::raw_sql("CREATE TABLE copy_baseline (LIKE kill_context INCLUDING DEFAULTS)")
        .execute(&mut *conn)
        .await?;
    let mut text = Vec::new();
    let mut stream = conn.copy_out_raw("COPY kill_context TO STDOUT").await?;
    while let Some(chunk) = stream.try_next().await? {
        text.extend_from_slice(&chunk);
    }
    drop(stream);
    let started = Instant::now();
    let mut sink = conn.copy_in_raw("COPY copy_baseline FROM STDIN").await?;
    sink.send(text).await?;
    let rows = sink.finish().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        rows as usize == kills,
        "COPY wrote {rows} rows, expected {kills}"
    );
    Ok(elapsed)
}
