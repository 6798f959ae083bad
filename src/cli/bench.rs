//! `etprox bench commands|generate|import`: speed on this machine, printed in a fixed format
//! (compared before and after a change, so keep the lines as they are).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use indicatif::ProgressBar;

use etprox::bench::{import_bench, median, quantile, ImportBenchOptions};
use etprox::command_bench::{command_bench, CommandBenchOptions};
use etprox::config::Config;
use etprox::round_file::backfill::{write_backfill, BackfillSpec};
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Time every command and heatmap filter (database + reply), cold and warm, on a scratch
    /// database seeded with a synthetic community (kept for --reuse), and show its size.
    Commands {
        #[arg(long, default_value_t = 1_000_000)]
        kills: usize,
        #[arg(long, default_value_t = 730)]
        days: i64,
        #[arg(long, default_value_t = 40)]
        repeats: usize,
        /// Use the bench database from an earlier run instead of seeding it again.
        #[arg(long)]
        reuse: bool,
        /// The scratch database's name.
        #[arg(long, default_value = etprox::command_bench::BENCH_DB)]
        database: String,
    },
    /// Write synthetic v3 round files (deterministic) into a folder, e.g. to try a backfill.
    Generate {
        /// Folder to write into (created if missing).
        dir: PathBuf,
        #[arg(long, default_value_t = 1000)]
        rounds: usize,
        #[arg(long, default_value_t = 70)]
        kills_per_round: usize,
        /// Write v2 files as the public module does, 14 rounds per session evening over many
        /// evenings (a community's history to backfill), instead of v3 files.
        #[arg(long)]
        v2: bool,
    },
    /// Import into a scratch database `etprox_bench` (created and dropped on the DATABASE_URL
    /// server): a backfill of small v2 files (14 per session evening) and v3 rounds, each against
    /// a plain COPY of the same kill lines; then the live path, one round per transaction.
    Import {
        /// v3 rounds.
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        #[arg(long, default_value_t = 140)]
        kills_per_round: usize,
        /// Small v2 files of the backfill.
        #[arg(long, default_value_t = 2800)]
        v2_files: usize,
        #[arg(long, default_value_t = 72)]
        v2_kills: usize,
        /// Transactions at the same time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Files per transaction (as `etprox import --batch`).
        #[arg(long, default_value_t = 256)]
        batch: usize,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Rounds imported one per transaction after the backfill (the live path).
        #[arg(long, default_value_t = 100)]
        live_rounds: usize,
    },
}

pub async fn run(config: &Config, command: BenchCommand) -> anyhow::Result<ExitCode> {
    let database_url = config.database_url.expose().to_owned();
    match command {
        BenchCommand::Commands {
            kills,
            days,
            repeats,
            reuse,
            database,
        } => {
            let options = CommandBenchOptions {
                database_url,
                database,
                kills: kills.max(1),
                days: days.max(1),
                repeats: repeats.max(1),
                reuse,
            };
            commands(&options).await?;
        }
        BenchCommand::Generate {
            dir,
            rounds,
            kills_per_round,
            v2: true,
        } => generate_v2(&dir, rounds, kills_per_round)?,
        BenchCommand::Generate {
            dir,
            rounds,
            kills_per_round,
            v2: false,
        } => generate(&dir, rounds, kills_per_round)?,
        BenchCommand::Import {
            rounds,
            kills_per_round,
            v2_files,
            v2_kills,
            jobs,
            batch,
            repeats,
            live_rounds,
        } => {
            let options = ImportBenchOptions {
                database_url,
                rounds: rounds.max(1),
                kills_per_round: kills_per_round.max(1),
                v2_files: v2_files.max(1),
                v2_kills: v2_kills.max(1),
                jobs,
                batch,
                repeats: repeats.max(1),
                live_rounds: live_rounds.max(1),
            };
            import(&options).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn commands(options: &CommandBenchOptions) -> anyhow::Result<()> {
    let report = command_bench(options, &super::progress::Terminal::stderr()).await?;
    println!(
        "{} kills, {} rounds, {} players in {}; {} runs per command{}",
        report.kills,
        report.rounds,
        report.players,
        options.database,
        options.repeats,
        report
            .seeded_in
            .map_or(String::new(), |s| format!("; seeded in {s:.0} s"))
    );
    let ms = |d: std::time::Duration| format!("{:.1}", d.as_secs_f64() * 1e3);
    let pair = |t: Option<(std::time::Duration, std::time::Duration)>| {
        t.map_or(("-".into(), "-".into()), |(a, b)| (ms(a), ms(b)))
    };
    println!("| command | cold p50 ms | cold p95 ms | warm p50 ms | warm p95 ms |");
    println!("|---|---:|---:|---:|---:|");
    for t in &report.timings {
        let ((c50, c95), (w50, w95)) = (pair(t.cold), pair(t.warm));
        match &t.failed {
            Some(why) => println!("| `{}` | failed: {why} | | | |", t.command),
            None => println!("| `{}` | {c50} | {c95} | {w50} | {w95} |", t.command),
        }
    }
    let mb = |b: i64| b as f64 / 1_048_576.0;
    println!();
    println!("database: {:.0} MB", mb(report.database_bytes));
    println!("| table | rows MB | indexes MB |");
    println!("|---|---:|---:|");
    for t in &report.tables {
        println!(
            "| {} | {:.1} | {:.1} |",
            t.name,
            mb(t.table_bytes),
            mb(t.index_bytes)
        );
    }
    Ok(())
}

fn generate(dir: &Path, rounds: usize, kills_per_round: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let bar = ProgressBar::new(rounds as u64);
    for i in 0..rounds {
        let mut spec = RoundSpec::new(i as u64, 1_700_000_000 + i as i64 * 1_500);
        spec.kills = kills_per_round;
        let path = dir.join(format!("{:06}-{}-round-1_etprox.txt", i, spec.map));
        std::fs::write(&path, synthetic_v3(&spec))
            .with_context(|| format!("writing {}", path.display()))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "wrote {rounds} round files ({} kills) to {}",
        rounds * kills_per_round,
        dir.display()
    );
    Ok(())
}

fn generate_v2(dir: &Path, files: usize, kills_per_file: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = BackfillSpec::new(files, kills_per_file);
    let bytes =
        write_backfill(dir, &spec).with_context(|| format!("writing into {}", dir.display()))?;
    println!(
        "wrote {files} v2 round files ({} evenings of {}, {:.1} MiB) to {}",
        files.div_ceil(spec.rounds_per_day),
        spec.rounds_per_day,
        bytes as f64 / 1048576.0,
        dir.display()
    );
    Ok(())
}

async fn import(options: &ImportBenchOptions) -> anyhow::Result<()> {
    let r = import_bench(options, &super::progress::Terminal::stderr()).await?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "import ({} files per transaction, {} at once; medians of {} repeats, heatmap roll-up included)",
        options.batch, options.jobs, options.repeats
    );
    println!(
        "{:<16} {:>6} {:>7} {:>10} {:>12} {:>14} {:>7} {:>14} {:>13}",
        "case",
        "files",
        "kills",
        "ours ms",
        "ours kills/s",
        "COPY lines/s",
        "ratio",
        "COPY rows/s",
        "roll-up share"
    );
    for case in &r.cases {
        let ours = case.kills_per_sec(&case.ours);
        let lines = case.kills_per_sec(&case.copy_lines);
        println!(
            "{:<16} {:>6} {:>7} {:>10.1} {:>12.0} {:>14.0} {:>6.0} % {:>14.0} {:>12.0} %",
            case.name,
            case.files,
            case.kills,
            ms(median(&case.ours)),
            ours,
            lines,
            100.0 * ours / lines,
            case.kills_per_sec(&case.copy_rows),
            100.0 * median(&case.roll_up).as_secs_f64() / median(&case.ours).as_secs_f64(),
        );
    }
    println!(
        "live path (one v3 round of {} kills per transaction, file complete to commit, {} rounds on the backfilled database): p50 {:.1} ms  p95 {:.1} ms",
        options.kills_per_round,
        r.live.len(),
        ms(quantile(&r.live, 0.5)),
        ms(quantile(&r.live, 0.95)),
    );
    Ok(())
}
