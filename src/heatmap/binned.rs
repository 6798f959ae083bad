//! Kill counts accumulated on the density grid (from SQL bins, rollup cells or points), and
//! the pure step from counts to PNG: smoothing, normalising, drawing. The benches and tests
//! call it without a database.

use super::density::{normalise, DensityGrid, GridSpec, Scale};
use super::render::{self, Frame, HeatLayer, RenderError};
use crate::db::heatmap::{CellCount, RollupCount};

/// Counts accumulated on the density grid, and how much fell outside it.
#[derive(Debug, Clone)]
pub struct Binned {
    pub spec: GridSpec,
    pub counts: DensityGrid,
    pub inside: f64,
    pub outside: u64,
    /// Coarsest world resolution of the data (grid cell, 64 or 512 units).
    pub data_cell: f64,
}

impl Binned {
    pub fn new(spec: GridSpec) -> Self {
        Self {
            counts: DensityGrid::for_spec(&spec),
            spec,
            inside: 0.0,
            outside: 0,
            data_cell: spec.cell_world(),
        }
    }

    /// Adds output-grid bins (from SQL, or binned in Rust by [`GridSpec::cell_of`]).
    pub fn add_cells(&mut self, cells: &[CellCount]) {
        for c in cells {
            let kills = c.kills.max(0);
            if self
                .counts
                .add_cell(i64::from(c.col), i64::from(c.row), kills as f32)
            {
                self.inside += kills as f64;
            } else {
                self.outside += kills as u64;
            }
        }
    }

    /// Adds one kill at a world position (binning in Rust, as the SQL does).
    pub fn add_point(&mut self, x: f64, y: f64) {
        if self.counts.add_point(&self.spec, x, y) {
            self.inside += 1.0;
        } else {
            self.outside += 1;
        }
    }

    /// Adds rollup cells of `cell` world units, spread over the grid cells they cover.
    pub fn add_rollup(&mut self, cells: &[RollupCount], cell: f64) {
        for c in cells {
            let kills = c.kills.max(0) as f32;
            let x0 = f64::from(c.cell_x) * cell;
            let y0 = f64::from(c.cell_y) * cell;
            let landed =
                self.counts
                    .add_world_rect(&self.spec, x0, y0, x0 + cell, y0 + cell, kills);
            self.inside += f64::from(landed);
            self.outside += (kills - landed).max(0.0).round() as u64;
        }
        if !cells.is_empty() {
            self.data_cell = self.data_cell.max(cell);
        }
    }
}

/// Smooths, normalises and renders binned counts. Pure: the benches and tests call it
/// without a database. Returns the PNG and the reference density.
pub fn render_bins(
    binned: &Binned,
    mut frame: Frame,
    smoothing: f64,
    percentile: f64,
    scale: Scale,
) -> Result<(Vec<u8>, f32), RenderError> {
    // Coarse data is blurred at least over its own cell so 512-unit squares do not show.
    let sigma_world = smoothing.max(binned.data_cell * 0.5);
    let sigma_cells = (sigma_world / binned.spec.cell_world()) as f32;
    let smooth = binned.counts.smoothed(sigma_cells);
    let (intensity, reference) = normalise(&smooth, percentile, scale);
    frame.scale = scale;
    let png = render::render_png(
        &frame,
        HeatLayer {
            cols: smooth.cols,
            rows: smooth.rows,
            intensity: &intensity,
        },
    )?;
    Ok((png, reference))
}
