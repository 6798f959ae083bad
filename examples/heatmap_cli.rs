//! Stand-alone front end for the heatmap commands, wired the way `main.rs` is meant to
//! wire them: `cargo run --example heatmap_cli -- heatmap goldrush -o out.png`.

use clap::{Parser, Subcommand};
use etprox::heatmap::cli::{self, HeatmapArgs, MapsArgs};

#[derive(Parser)]
struct Cli {
    /// PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a kill heatmap to a PNG file.
    Heatmap(HeatmapArgs),
    /// Map calibration and command-map images.
    Maps(MapsArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Heatmap(args) => {
            let url = cli
                .database_url
                .ok_or_else(|| anyhow::anyhow!("set DATABASE_URL or --database-url"))?;
            let pool = sqlx::PgPool::connect(&url).await?;
            cli::run(&args, &pool).await?;
        }
        Command::Maps(args) => cli::run_maps(&args)?,
    }
    Ok(())
}
