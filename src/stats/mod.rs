//! Pure stats rules: who a player is, which engagement class a kill falls in, and what one round
//! adds to the aggregates. No I/O here; the importer writes what these functions compute.

pub mod engagement;
pub mod identity;
pub mod round_stats;

pub use engagement::EngagementClass;
pub use round_stats::{aggregate_round, RoundStats};
