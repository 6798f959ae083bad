//! Heatmaps of where kills happen: map calibration, SQL binning, smoothing, colour ramp
//! and PNG rendering, plus `etprox maps import` for calibration and command-map images.
//!
//! Data flow: [`filter`] says what to count → [`plan`] picks the tables for the days →
//! [`crate::db::heatmap`] bins kills in SQL on a [`density::GridSpec`] laid over the map's
//! [`calibration::WorldBox`] → [`binned`] smooths and normalises → [`render`] draws the PNG,
//! [`summary`] the caption and notes. [`render_heatmap_png`] runs the whole path for the CLI
//! and the bot.

pub mod binned;
pub mod bsp;
pub mod calibration;
pub mod cli;
pub mod density;
pub mod fight;
pub mod filter;
mod game_files;
pub mod map_import;
pub mod pipeline;
pub mod plan;
pub mod ramp;
pub mod render;
pub mod summary;
pub(crate) mod text;

pub use binned::{render_bins, Binned};
pub use filter::{
    resolve_player, HeatmapFilter, ObjectiveAction, PlayerFilter, PositionKind, Team, WeaponFilter,
};
pub use pipeline::{render_heatmap_png, HeatmapError, HeatmapOptions};
pub use summary::{BinSource, Calibration, HeatmapSummary};
