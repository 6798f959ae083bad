//! `etprox bench import`: our importer against a plain COPY of the same kill lines, in one run,
//! for a backfill of small v2 files (14 rounds per evening) and for v3 rounds; then the live
//! path (one round per transaction, as the watcher imports) on the filled database.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::TryStreamExt;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::SessionClock;
use crate::ingest::{BackfillOptions, ImportOutcome, Importer};
use crate::round_file::backfill::{write_backfill, BackfillSpec};
use crate::round_file::synthetic::{synthetic_v3, RoundSpec};

#[derive(Debug, Clone)]
pub struct ImportBenchOptions {
    /// Server URL; the bench creates and drops its own database on it.
    pub database_url: String,
    /// v3 rounds, and their kills.
    pub rounds: usize,
    pub kills_per_round: usize,
    /// Small v2 files of a backfill, and their kills.
    pub v2_files: usize,
    pub v2_kills: usize,
    pub jobs: usize,
    /// Files per transaction (1 = one transaction per file, as the watcher does).
    pub batch: usize,
    pub repeats: usize,
    /// Rounds imported one per transaction after the backfill, for the live path's latency.
    pub live_rounds: usize,
}

/// One case (v2 backfill or v3 rounds): timings per repeat, sorted.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: &'static str,
    pub files: usize,
    pub kills: usize,
    pub bytes: usize,
    /// The whole import, heatmap roll-up included.
    pub ours: Vec<Duration>,
    /// Of which the heatmap roll-up.
    pub roll_up: Vec<Duration>,
    /// A plain COPY of the files' kill lines into an unindexed one-column text table.
    pub copy_lines: Vec<Duration>,
    /// A plain COPY of the stored kill rows into an unindexed copy of `kill_context`.
    pub copy_rows: Vec<Duration>,
}

impl CaseResult {
    pub fn kills_per_sec(&self, samples: &[Duration]) -> f64 {
        self.kills as f64 / median(samples).as_secs_f64()
    }
}

#[derive(Debug, Clone)]
pub struct ImportBenchResult {
    pub cases: Vec<CaseResult>,
    /// Live path: file complete to commit, one round per transaction, sorted.
    pub live: Vec<Duration>,
}

pub fn median(samples: &[Duration]) -> Duration {
    samples[samples.len() / 2]
}

/// The `q` quantile (0..=1) of sorted samples.
pub fn quantile(samples: &[Duration], q: f64) -> Duration {
    let at = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[at.min(samples.len() - 1)]
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

/// A case's files on disk.
struct Files {
    name: &'static str,
    paths: Vec<PathBuf>,
    bytes: usize,
}

/// Runs the import bench and returns the timings; what it does is told to `progress`.
pub async fn import_bench(
    options: &ImportBenchOptions,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<ImportBenchResult> {
    let server = PgConnectOptions::from_str(&options.database_url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    let dir = tempfile::tempdir().context("creating a folder for the bench's round files")?;
    let cases = [
        write_v2_files(&dir.path().join("v2"), options)?,
        write_v3_files(&dir.path().join("v3"), options)?,
    ];
    let mut results = Vec::new();
    let mut live = Vec::new();
    for (n, files) in cases.iter().enumerate() {
        let (result, pool) = run_case(&server, files, options, progress).await?;
        results.push(result);
        if n == 0 {
            live = time_live_path(&pool, &dir.path().join("live"), options).await?;
        }
        pool.close().await;
    }
    let mut admin = server.clone().database("postgres").connect().await?;
    crate::db::admin::drop_database(&mut admin, BENCH_DB).await?;
    Ok(ImportBenchResult {
        cases: results,
        live,
    })
}

/// Repeats one case on fresh databases; returns its timings and the last database.
async fn run_case(
    server: &PgConnectOptions,
    files: &Files,
    options: &ImportBenchOptions,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<(CaseResult, PgPool)> {
    let lines = kill_lines(&files.paths)?;
    progress.say(&format!(
        "bench {}: {} files, {} kills, {:.1} MiB, {} files per transaction, {} at once, {} repeats",
        files.name,
        files.paths.len(),
        lines.1,
        files.bytes as f64 / 1048576.0,
        options.batch,
        options.jobs,
        options.repeats
    ));
    let mut r = CaseResult {
        name: files.name,
        files: files.paths.len(),
        kills: 0,
        bytes: files.bytes,
        ours: Vec::new(),
        roll_up: Vec::new(),
        copy_lines: Vec::new(),
        copy_rows: Vec::new(),
    };
    let mut last = None;
    for repeat in 0..options.repeats {
        if let Some(pool) = last.take() {
            PgPool::close(&pool).await;
        }
        let pool = fresh_database(server).await?;
        let (elapsed, roll_up, kills) = time_import(&pool, &files.paths, options).await?;
        anyhow::ensure!(kills == lines.1, "imported {kills} kills of {}", lines.1);
        r.kills = kills;
        let copy_lines = time_copy_lines(&pool, &lines.0, kills).await?;
        let copy_rows = time_copy_rows(&pool, kills).await?;
        progress.say(&format!(
            "  repeat {}: ours {:>7.1} ms ({:>7.0} kills/s; heatmap roll-up {:>5.1} ms)   COPY lines {:>6.1} ms ({:>7.0}/s)   COPY rows {:>6.1} ms ({:>7.0}/s)",
            repeat + 1,
            elapsed.as_secs_f64() * 1e3,
            kills as f64 / elapsed.as_secs_f64(),
            roll_up.as_secs_f64() * 1e3,
            copy_lines.as_secs_f64() * 1e3,
            kills as f64 / copy_lines.as_secs_f64(),
            copy_rows.as_secs_f64() * 1e3,
            kills as f64 / copy_rows.as_secs_f64(),
        ));
        r.ours.push(elapsed);
        r.roll_up.push(roll_up);
        r.copy_lines.push(copy_lines);
        r.copy_rows.push(copy_rows);
        last = Some(pool);
    }
    for samples in [
        &mut r.ours,
        &mut r.roll_up,
        &mut r.copy_lines,
        &mut r.copy_rows,
    ] {
        samples.sort();
    }
    let pool = last.context("at least one repeat")?;
    Ok((r, pool))
}

/// The backfill: small v2 files, 14 per session evening.
fn write_v2_files(dir: &Path, options: &ImportBenchOptions) -> anyhow::Result<Files> {
    std::fs::create_dir_all(dir)?;
    let spec = BackfillSpec::new(options.v2_files, options.v2_kills);
    let bytes = write_backfill(dir, &spec)?;
    Ok(Files {
        name: "v2 small files",
        paths: crate::ingest::round_files_in(dir)?,
        bytes,
    })
}

/// v3 rounds of one server, 20 minutes apart.
fn write_v3_files(dir: &Path, options: &ImportBenchOptions) -> anyhow::Result<Files> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::with_capacity(options.rounds);
    let mut bytes = 0;
    for i in 0..options.rounds {
        let mut spec = RoundSpec::new(i as u64, 1_763_000_000 + i as i64 * 1_200);
        spec.kills = options.kills_per_round;
        let data = synthetic_v3(&spec);
        bytes += data.len();
        let path = dir.join(format!("{i:05}-goldrush-round-1_etprox.txt"));
        std::fs::write(&path, data)?;
        paths.push(path);
    }
    Ok(Files {
        name: "v3 rounds",
        paths,
        bytes,
    })
}

/// The kill lines of the files (every line that is neither a comment nor blank, up to a v2
/// file's heatmap section), as COPY text, and how many there are.
fn kill_lines(paths: &[PathBuf]) -> anyhow::Result<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut n = 0;
    for path in paths {
        let bytes = std::fs::read(path)?;
        for line in bytes.split(|&b| b == b'\n') {
            if line.starts_with(b"# HEATMAP") {
                break;
            }
            if line.is_empty() || line.starts_with(b"#") || !line.contains(&b'|') {
                continue;
            }
            for &b in line {
                // COPY text format: a backslash starts an escape.
                if b == b'\\' {
                    out.push(b'\\');
                }
                out.push(b);
            }
            out.push(b'\n');
            n += 1;
        }
    }
    Ok((out, n))
}

/// Imports every file as `etprox import` does; returns the whole time, the roll-up's part of it
/// and the kills imported.
async fn time_import(
    pool: &PgPool,
    files: &[PathBuf],
    options: &ImportBenchOptions,
) -> anyhow::Result<(Duration, Duration, usize)> {
    let importer = Importer::new(pool.clone(), SessionClock::default(), "bench");
    let backfill = BackfillOptions {
        batch: options.batch.max(1),
        jobs: options.jobs.max(1),
    };
    let started = Instant::now();
    let report = importer.import_backfill(files, &backfill, |_, _| {}).await;
    let elapsed = started.elapsed();
    let mut kills = 0;
    for (path, outcome) in &report.files {
        match outcome {
            Ok(ImportOutcome::Imported { kills: n, .. }) => kills += n,
            other => anyhow::bail!("{}: {other:?}", path.display()),
        }
    }
    Ok((elapsed, report.roll_up, kills))
}

/// The floor: the same kill lines, COPYed as text into a one-column table without indexes.
async fn time_copy_lines(pool: &PgPool, lines: &[u8], kills: usize) -> anyhow::Result<Duration> {
    let mut conn = pool.acquire().await?;
    // Runtime DDL: the bench's own scratch table, not part of the schema the macros check.
    // (COPY reads a partitioned table only through a query.)
    sqlx::raw_sql("CREATE TABLE copy_lines (line text)")
        .execute(&mut *conn)
        .await?;
    let started = Instant::now();
    let mut sink = conn.copy_in_raw("COPY copy_lines FROM STDIN").await?;
    sink.send(lines.to_vec()).await?;
    let rows = sink.finish().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        rows as usize == kills,
        "COPY wrote {rows} lines, expected {kills}"
    );
    Ok(elapsed)
}

/// The very same kill rows as stored, COPYed into a copy of `kill_context` without indexes.
async fn time_copy_rows(pool: &PgPool, kills: usize) -> anyhow::Result<Duration> {
    let mut conn = pool.acquire().await?;
    // Runtime DDL: the bench's own scratch table, not part of the schema the macros check.
    // (COPY reads a partitioned table only through a query.)
    sqlx::raw_sql("CREATE TABLE copy_baseline (LIKE kill_context INCLUDING DEFAULTS)")
        .execute(&mut *conn)
        .await?;
    let mut text = Vec::new();
    let mut stream = conn
        .copy_out_raw("COPY (SELECT * FROM kill_context) TO STDOUT")
        .await?;
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

/// The live path on a filled database: each round's file is written complete, then imported in
/// its own transaction and rolled up, as the watcher does; the time from the file complete to
/// the commit, per round, sorted.
async fn time_live_path(
    pool: &PgPool,
    dir: &Path,
    options: &ImportBenchOptions,
) -> anyhow::Result<Vec<Duration>> {
    std::fs::create_dir_all(dir)?;
    let importer = Importer::new(pool.clone(), SessionClock::default(), "live");
    let mut samples = Vec::with_capacity(options.live_rounds);
    for i in 0..options.live_rounds {
        let mut spec = RoundSpec::new(10_000 + i as u64, 1_764_000_000 + i as i64 * 1_200);
        spec.kills = options.kills_per_round;
        spec.server_id = "live".into();
        let path = dir.join(format!("{i:05}-goldrush-round-1_etprox.txt"));
        std::fs::write(&path, synthetic_v3(&spec))?;
        let started = Instant::now();
        let outcome = importer.import_file(&path).await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            matches!(outcome, ImportOutcome::Imported { .. }),
            "live round {i}: {outcome:?}"
        );
        samples.push(elapsed);
        // The watcher rolls the heatmap up after each import; it is not part of the latency.
        crate::db::heatmap::roll_up_pending(pool).await?;
    }
    samples.sort();
    Ok(samples)
}
