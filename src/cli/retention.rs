//! `etprox retention stats` and `etprox retention archive`: the console face of
//! `etprox::retention`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use etprox::config::Config;
use etprox::retention::{self, human_bytes};

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// Rows, size and date range per table.
    Stats,
    /// Delete raw kills of session days older than N days. Aggregates are kept.
    Archive {
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        older_than_days: u32,
        /// Show what would be archived, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the rows to DIR/kill_context-<date>.csv before deleting them.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
}

pub async fn run(config: &Config, command: RetentionCommand) -> anyhow::Result<ExitCode> {
    let pool = etprox::db::connect_and_migrate(&config.database_url, 2).await?;
    match command {
        RetentionCommand::Stats => stats(&pool).await?,
        RetentionCommand::Archive {
            older_than_days,
            dry_run,
            export,
        } => archive(&pool, older_than_days as i32, dry_run, export).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn stats(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    println!(
        "{:<24} {:>12} {:>12} {:>12} {:>12}",
        "table", "rows", "size", "oldest", "newest"
    );
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    for t in retention::stats(pool).await? {
        println!(
            "{:<24} {:>12} {:>12} {:>12} {:>12}",
            t.table_name,
            t.row_count,
            human_bytes(t.total_bytes),
            day(t.oldest_date),
            day(t.newest_date)
        );
    }
    Ok(())
}

async fn archive(
    pool: &sqlx::PgPool,
    days: i32,
    dry_run: bool,
    export: Option<PathBuf>,
) -> anyhow::Result<()> {
    if dry_run {
        let plan = retention::plan(pool, days).await?;
        println!(
            "dry run: {} raw kill rows older than {days} days would be archived{}; aggregates are kept",
            plan.rows,
            plan.range()
        );
        if plan.rows > 0 {
            println!("{}", retention::how_rows_go(&plan.whole_months));
        }
        return Ok(());
    }
    let archived = retention::archive(pool, days, export.as_deref()).await?;
    if let (Some(path), Some(n)) = (&archived.export_file, archived.report.exported) {
        println!(
            "exported {n} rows ({}) to {}",
            human_bytes(archived.report.exported_bytes as i64),
            path.display()
        );
    }
    println!(
        "archived {} rows from kill_context{}; aggregates are kept",
        archived.report.archived,
        archived.range()
    );
    if archived.report.archived > 0 {
        println!("{}", retention::how_rows_go(&archived.report.whole_months));
    }
    Ok(())
}
