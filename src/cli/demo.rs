//! `etprox demo`: the simulated evening (feature `demo`, on by default). A deployment build
//! without the feature keeps the command, so it can say where the demo is instead.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
#[cfg_attr(not(feature = "demo"), allow(dead_code))]
pub struct DemoArgs {
    /// Start from an empty demo database (otherwise a second run reports the rounds as
    /// already imported).
    #[arg(long)]
    fresh: bool,
    /// Keep the demo database afterwards, to try `etprox ask`.
    #[arg(long)]
    keep: bool,
    /// Where images and other outputs go.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
}

#[cfg(feature = "demo")]
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use etprox::config::Config;
    use etprox::demo::{DemoOptions, Finished};
    // The session clock; the database is the demo's own (see etprox::demo::run).
    let config = Config::from_env().context("invalid configuration")?;
    let options = DemoOptions {
        fresh: args.fresh,
        keep: args.keep,
        work_dir: std::env::temp_dir().join("etprox-demo"),
        out_dir: args.out,
        progress: std::sync::Arc::new(super::progress::Terminal::stdout()),
    };
    match etprox::demo::run(&config, &options).await? {
        Finished::Completed => Ok(ExitCode::SUCCESS),
        Finished::Interrupted => {
            eprintln!(
                "demo interrupted; its private database, if it had one, is stopped and removed"
            );
            // Exit at once: the simulation thread may still be running and the runtime
            // would wait for it.
            std::process::exit(130)
        }
    }
}

/// Exit status 2, like any other command that cannot run, with the way to get the demo.
#[cfg(not(feature = "demo"))]
pub async fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "etprox demo is not in this build: it was built without the `demo` feature (the \
         simulated game servers and Lua), as deployments are. Run the demo from the source \
         tree: cargo run --release -- demo"
    )
}
