//! Heatmaps of where kills happen: map calibration, SQL binning, smoothing, colour ramp
//! and PNG rendering, plus `etprox maps import` for calibration and command-map images.
//!
//! Data flow: [`query`] bins kills in SQL on a [`density::GridSpec`] laid over the map's
//! [`calibration::WorldBox`] → [`density`] smooths and normalises → [`render`] draws the
//! PNG. [`render_heatmap_png`] runs the whole path for the CLI and the bot.

pub mod calibration;
pub mod cli;
pub mod density;
pub mod map_import;
pub mod query;
pub mod ramp;
pub mod render;

pub mod pipeline;

pub use pipeline::{
    render_bins, render_heatmap_png, BinSource, Binned, Calibration, HeatmapError, HeatmapOptions,
    HeatmapSummary,
};
pub use query::{HeatmapFilter, Period, PositionKind, Team, WeaponFilter};
