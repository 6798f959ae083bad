//! The bot's background jobs, each a long-running task that [`supervise`] keeps alive:
//! - [`summaries`]: posts each round's summary to the summary channel;
//! - [`retention`]: archives raw kills once a day (the rules are in [`crate::retention`]);
//! - [`cache_warm`]: recomputes the cached totals after imports.
//!
//! `discord::run` starts them beside the watcher and the remote sources.

pub mod cache_warm;
pub mod retention;
pub mod summaries;
pub mod supervise;
