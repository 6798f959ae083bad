//! `etprox db migrate`: creates the database if needed and applies the migrations.

use std::process::ExitCode;

use clap::Subcommand;
use etprox::config::Config;
use etprox::db;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Create the database if needed and apply migrations (other commands do this too).
    Migrate,
}

pub async fn run(config: &Config, command: DbCommand) -> anyhow::Result<ExitCode> {
    match command {
        DbCommand::Migrate => {
            db::connect_and_migrate(&config.database_url, 2).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
    }
}
