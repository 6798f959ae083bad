//! `etprox bench commands|generate|import`: speed on this machine, printed in a fixed format
//! (compared before and after a change, so keep the lines as they are).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use indicatif::ProgressBar;

use etprox::bench::{import_bench, ImportBenchOptions, ImportBenchResult};
use etprox::command_bench::{command_bench, CommandBenchOptions};
use etprox::config::Config;
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
    },
    /// Import synthetic rounds into a scratch database `etprox_bench` (created and dropped on the
    /// DATABASE_URL server) and compare with a plain COPY of the same kill rows.
    Import {
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        #[arg(long, default_value_t = 140)]
        kills_per_round: usize,
        /// Transactions at the same time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Files per transaction (1 = one transaction per file, as the watcher does).
        #[arg(long, default_value_t = 32)]
        batch: usize,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
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
        } => generate(&dir, rounds, kills_per_round)?,
        BenchCommand::Import {
            rounds,
            kills_per_round,
            jobs,
            batch,
            repeats,
        } => {
            let options = ImportBenchOptions {
                database_url,
                rounds: rounds.max(1),
                kills_per_round: kills_per_round.max(1),
                jobs,
                batch,
                repeats: repeats.max(1),
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

async fn import(options: &ImportBenchOptions) -> anyhow::Result<()> {
    let r = import_bench(options, &super::progress::Terminal::stderr()).await?;
    let median = ImportBenchResult::median;
    println!(
        "import: median {:.1} ms for {} kills = {:.0} kills/s (etprox importer, {} files per transaction, {} at once)",
        median(&r.ours).as_secs_f64() * 1e3,
        r.kills,
        r.ours_kills_per_sec(),
        options.batch,
        options.jobs
    );
    println!(
        "COPY:   median {:.1} ms for {} kills = {:.0} kills/s (plain COPY into an unindexed table)",
        median(&r.copy).as_secs_f64() * 1e3,
        r.kills,
        r.copy_kills_per_sec()
    );
    println!(
        "heatmap roll-up after the imports (not included above): median {:.1} ms",
        median(&r.roll_up).as_secs_f64() * 1e3
    );
    println!(
        "ratio:  importer / COPY = {:.0} %",
        100.0 * r.ours_kills_per_sec() / r.copy_kills_per_sec()
    );
    Ok(())
}
