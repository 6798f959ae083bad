//! etprox: ET:Legacy proximity round files into PostgreSQL and Discord.
//!
//! Data flows one way: [`round_file`] (read, parse) → [`ingest`] (import once) → [`db`]
//! (aggregates) → queries and replies. [`stats`] holds the pure rules (engagement classes, per-round
//! aggregation) that the importer applies. [`commands`] answer slash commands as transport-free
//! replies, shown by [`discord`] and by [`console`] (`etprox ask`). [`jobs`] are the bot's
//! background tasks; [`retention`] archives raw kills for the CLI, `/retention` and the daily job.
//! With the `demo` feature (default, not in deployments), `sim` is a simulated game server
//! running the tracker module that writes the round files, and [`demo`] plays an evening on it.

pub mod assets;
pub mod bench;
pub mod charts;
pub mod check;
pub mod clock;
pub mod command_bench;
pub mod commands;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod discord;
pub mod heatmap;
pub mod ingest;
pub mod jobs;
pub mod period;
pub mod players;
pub mod prng;
pub mod progress;
pub mod recap;
pub mod remote;
pub mod retention;
pub mod round_file;
pub mod session;
#[cfg(feature = "demo")]
pub mod sim;
pub mod stats;
