//! The `etprox` command line: parses the arguments (clap) and hands each command to its front
//! end in [`cli`]. Nothing else happens here.

mod cli;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use etprox::config::Config;

/// Proximity stats for Wolfenstein: Enemy Territory (ET:Legacy) servers.
///
/// Reads the round files that the game-server tracker writes (ours, v3, or the public
/// Proximity Tracker v2), imports each round exactly once into PostgreSQL, and keeps per-player,
/// per-pair and per-map aggregates. Configuration comes from the environment or a `.env` file
/// (see .env.example); DATABASE_URL defaults to the local server, database `etprox`.
#[derive(Parser)]
#[command(name = "etprox", version, about, long_about)]
struct Cli {
    /// Read the configuration from this file instead of `.env` in the working folder (the
    /// Debian package keeps it in /etc/etprox/etprox.env). Variables already set in the
    /// environment win over the file.
    #[arg(long, global = true, value_name = "FILE")]
    env_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// See the whole product work: simulated servers play an evening, rounds are imported as they
    /// end, summaries and stats are printed, heatmaps written to ./demo-out/.
    ///
    /// Uses DATABASE_URL's server if set, else the local PostgreSQL on 127.0.0.1:5432, else a
    /// private cluster started from the PostgreSQL binaries on this machine. It only touches its
    /// own database, `etprox_demo`.
    Demo(cli::demo::DemoArgs),
    /// Database maintenance.
    #[command(subcommand)]
    Db(cli::db::DbCommand),
    /// Import round files or folders of round files once (prints one line per file).
    ///
    /// Exits with status 1 when any file or line was rejected; rejected lines are listed with
    /// their line number and reason, and kept in the import log.
    Import(cli::import::ImportArgs),
    /// Watch ETPROX_ROUND_DIRS and import every round file as it appears, until Ctrl-C.
    Watch,
    /// Run the Discord bot: watcher, importer, slash commands, round summaries, retention.
    ///
    /// Needs DISCORD_TOKEN; see .env.example for the other ETPROX_* settings.
    Bot,
    /// First-start doctor: checks the configuration, the database, the round folders, the
    /// Discord token, the guild(s), the summary channel's permissions and the map assets.
    ///
    /// Prints one line per check, ✔ or ✘ with what to do; exits with status 1 when any
    /// check failed. Reads the same environment and `.env` as `etprox bot`.
    Check,
    /// Answer a slash command in the terminal, as the bot would on Discord.
    ///
    /// Example: etprox ask "/duo player:Slomix period:7d". Attachments are written to --out.
    /// The console user counts as an admin.
    Ask(cli::ask::AskArgs),
    /// Raw-data retention: what is stored, and archiving raw kills past a number of days.
    #[command(subcommand)]
    Retention(cli::retention::RetentionCommand),
    /// Render a kill heatmap of a map to a PNG (the same image the bot's /heatmap sends).
    Heatmap(etprox::heatmap::cli::HeatmapArgs),
    /// Map calibration and command-map images: import them from an ET install or pk3 files.
    Maps(etprox::heatmap::cli::MapsArgs),
    /// Measure speed on this machine.
    #[command(subcommand)]
    Bench(cli::bench::BenchCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The configuration file first, so RUST_LOG written there counts (configuration reads
    // `.env` again; dotenvy never overrides a variable that is already set).
    if let Err(code) = cli::read_env_file(cli.env_file.as_deref()) {
        return code;
    }
    // Long-running services log what they do; one-shot commands print their own results.
    let service = matches!(cli.command, Command::Watch | Command::Bot);
    cli::init_logging(service);
    match run(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        // Before the configuration is loaded: a bad setting is one of the things it reports.
        Command::Check => Ok(cli::check::run().await),
        // Loads the configuration itself, when the build has the demo.
        Command::Demo(args) => cli::demo::run(args).await,
        Command::Db(command) => cli::db::run(&config()?, command).await,
        Command::Import(args) => cli::import::run(&config()?, args).await,
        Command::Watch => cli::watch::run(&config()?).await,
        Command::Bot => cli::bot::run(config()?).await,
        Command::Ask(args) => cli::ask::run(&config()?, args).await,
        Command::Retention(command) => cli::retention::run(&config()?, command).await,
        Command::Heatmap(args) => cli::maps::heatmap(&config()?, &args).await,
        // Needs no setting but the assets folder; refuses an invalid configuration like every command.
        Command::Maps(args) => cli::maps::maps(&config()?, &args),
        Command::Bench(command) => cli::bench::run(&config()?, command).await,
    }
}

/// The configuration from the environment (and the file read before).
fn config() -> anyhow::Result<Config> {
    Config::from_env().context("invalid configuration")
}
