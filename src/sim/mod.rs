//! A simulated ET:Legacy game server for the tracker module.
//!
//! - [`et_mock`]: the ET Lua API (`et.*` and the `et_*` callbacks) on real Lua 5.4, with a game
//!   state Rust controls and a file system rooted in a directory.
//! - [`match_sim`]: a seeded simulator that drives the mock through whole stopwatch matches and
//!   keeps the ground truth of every obituary and of the rest of the fight (damage, shots,
//!   revives, objective plays, spawns, presence).
//! - [`v2_writer`]: what the public "Proximity Tracker v2" module would have written for the same
//!   rounds, for comparison.
//!
//! The tests and the `demo` command both use these:
//!
//! ```no_run
//! use etprox::sim::{match_sim::{MatchSim, SimConfig}, v2_writer, TRACKER_LUA};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = std::path::Path::new("/tmp/etprox-demo/legacy"); // <fs_homepath>/<fs_game>
//! let mut sim = MatchSim::new(SimConfig { seed: 7, ..SimConfig::default() }, root, TRACKER_LUA);
//! sim.run()?; // v3 files now sit in /tmp/etprox-demo/legacy/proximity/
//! let truth = sim.into_truth(); // every obituary, for comparison
//! v2_writer::write_v2_files(&truth, &root.join("v2"))?; // what the v2 module would have kept
//! # Ok(())
//! # }
//! ```

pub mod et_mock;
pub mod match_sim;
pub mod v2_writer;

/// The tracker module, as deployed to game servers.
pub const TRACKER_LUA: &str = include_str!("../../lua/etprox_tracker.lua");

/// File name the tracker is deployed under (what `lua_modules` names).
pub const TRACKER_FILE_NAME: &str = "etprox_tracker.lua";
