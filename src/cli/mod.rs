//! The command-line front ends, one file per command: each turns its parsed arguments into
//! calls into the library and prints the results. `main.rs` only parses and dispatches.

pub mod ask;
pub mod bench;
pub mod bot;
pub mod check;
pub mod db;
pub mod demo;
pub mod import;
pub mod maps;
pub mod progress;
pub mod retention;
pub mod watch;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

/// Reads `--env-file FILE`, else `.env` in the working folder when there is one. A named file
/// that cannot be read is an error (exit status 2); a missing `.env` is not.
pub fn read_env_file(file: Option<&Path>) -> Result<(), ExitCode> {
    match file {
        Some(file) => {
            if let Err(e) = dotenvy::from_path(file) {
                eprintln!("error: --env-file {}: cannot read it: {e}", file.display());
                return Err(ExitCode::from(2));
            }
        }
        None => {
            let _ = dotenvy::dotenv();
        }
    }
    Ok(())
}

/// Logs to stderr; RUST_LOG wins over the default, which is chattier for services.
pub fn init_logging(service: bool) {
    let default_filter = if service {
        "etprox=info,sqlx=error,warn"
    } else {
        "etprox=warn,sqlx=error,warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in journald or a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
