//! `etprox demo`: the whole product in one command, without a game server or Discord.
//!
//! - [`database`]: where the demo (and the integration tests) keep their data, down to a
//!   private PostgreSQL cluster; always built, it needs no simulator.
//! - `evening` (feature `demo`): two simulated servers play an evening (our Lua tracker under
//!   the ET API mock writes v3 files as rounds end), a third writes v2 files; the real watcher
//!   and importer pick them up; each imported round's summary is printed.
//! - `script` (feature `demo`): then a scripted set of commands runs through the console front
//!   end.

pub mod database;
#[cfg(feature = "demo")]
mod evening;
#[cfg(feature = "demo")]
mod script;

#[cfg(feature = "demo")]
pub use evening::{demo_evening, round_summary, run, DemoOptions, Finished};
