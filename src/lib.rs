//! etprox: ET:Legacy proximity round files into PostgreSQL and Discord.
pub mod heatmap;
