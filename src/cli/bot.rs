//! `etprox bot`: the Discord bot with its watcher, importer and background jobs, until Ctrl-C.

use std::process::ExitCode;

use anyhow::Context;
use etprox::config::Config;
use etprox::db;

pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    // Token first: without it nothing else matters, and the message says how to get one.
    let bot = etprox::config::BotConfig::from_env().context("invalid bot configuration")?;
    tracing::info!(database = %config.database_url, "connecting to the database");
    // Like `watch`: a database that is down or still starting is waited for.
    let pool = db::connect_with_retry(&config.database_url, 8).await?;
    tracing::info!("database ready");
    let _months_ahead = etprox::jobs::partitions::spawn_months_ahead(pool.clone());
    tokio::select! {
        result = etprox::discord::run(etprox::discord::Bot {
            config,
            bot,
            pool,
            faults: Default::default(),
        }) => result?,
        _ = tokio::signal::ctrl_c() => eprintln!("stopping (Ctrl-C)"),
    }
    Ok(ExitCode::SUCCESS)
}
