//! `etprox heatmap` and `etprox maps`: the argument types and the work live in
//! `etprox::heatmap::cli`; this connects the database and reports success.

use std::process::ExitCode;

use etprox::config::Config;
use etprox::db;
use etprox::heatmap::cli::{HeatmapArgs, MapsArgs};

pub async fn heatmap(config: &Config, args: &HeatmapArgs) -> anyhow::Result<ExitCode> {
    let pool = db::connect_and_migrate(&config.database_url, 2).await?;
    etprox::heatmap::cli::run(args, &pool).await?;
    Ok(ExitCode::SUCCESS)
}

pub fn maps(args: &MapsArgs) -> anyhow::Result<ExitCode> {
    etprox::heatmap::cli::run_maps(args)?;
    Ok(ExitCode::SUCCESS)
}
