//! `etprox heatmap` and `etprox maps`: the argument types and the work live in
//! `etprox::heatmap::cli`; this connects the database and prints what they return.

use std::process::ExitCode;

use etprox::config::Config;
use etprox::db;
use etprox::heatmap::cli::{HeatmapArgs, MapsArgs};

pub async fn heatmap(config: &Config, args: &HeatmapArgs) -> anyhow::Result<ExitCode> {
    let pool = db::connect_and_migrate(&config.database_url, 2).await?;
    println!("{}", etprox::heatmap::cli::run(args, &pool, config).await?);
    Ok(ExitCode::SUCCESS)
}

pub fn maps(config: &Config, args: &MapsArgs) -> anyhow::Result<ExitCode> {
    println!("{}", etprox::heatmap::cli::run_maps(args, &config.assets)?);
    Ok(ExitCode::SUCCESS)
}
