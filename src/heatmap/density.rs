//! Kill density on a grid laid over the map box: binning, Gaussian smoothing and
//! normalisation by a high percentile, all pure and allocation-light.
//!
//! The grid is coarser than the output image (see [`GridSpec::for_output`]); the renderer
//! upsamples it bilinearly, which keeps smoothing cheap at any output size.

use super::calibration::WorldBox;

/// A grid of `cols`×`rows` cells covering `world`, row 0 at the top of the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    pub world: WorldBox,
    pub cols: u32,
    pub rows: u32,
}

impl GridSpec {
    /// At most this many output pixels per grid cell. Four keeps a 1024 px image on a
    /// 256-cell grid, about 31 world units per cell on a stock map.
    pub const PIXELS_PER_CELL: u32 = 4;

    /// Cells are made at least this fine in world units while the output has the pixels.
    pub const MAX_CELL_WORLD: f64 = 64.0;

    /// The grid used for an output image of `size`×`size` pixels: `size / 4` cells, or
    /// more when that would make cells coarser than 64 world units (small images of big
    /// maps), never more than one cell per pixel. Smoothing is far wider than a cell, so
    /// the picture matches per-pixel binning at a sixteenth of the smoothing cost.
    pub fn for_output(world: WorldBox, size: u32) -> Self {
        let span = world.span_x().abs().max(world.span_y().abs());
        let for_detail = (span / Self::MAX_CELL_WORLD).ceil().min(f64::from(size)) as u32;
        let cells = (size / Self::PIXELS_PER_CELL)
            .max(for_detail)
            .clamp(16, 1024);
        Self {
            world,
            cols: cells,
            rows: cells,
        }
    }

    /// Signed world size of one cell along x; SQL bins with the same number.
    pub fn cell_x(&self) -> f64 {
        self.world.span_x() / f64::from(self.cols)
    }

    /// Signed world size of one cell along y (negative for the usual convention).
    pub fn cell_y(&self) -> f64 {
        self.world.span_y() / f64::from(self.rows)
    }

    /// Mean absolute world size of a cell.
    pub fn cell_world(&self) -> f64 {
        (self.cell_x().abs() + self.cell_y().abs()) / 2.0
    }

    /// The cell of a world point, the same formula as the SQL:
    /// `floor((x − mins.x) / cell_x)`, `floor((y − mins.y) / cell_y)`. May be outside the grid.
    pub fn cell_of(&self, x: f64, y: f64) -> (i64, i64) {
        (
            ((x - self.world.mins[0]) / self.cell_x()).floor() as i64,
            ((y - self.world.mins[1]) / self.cell_y()).floor() as i64,
        )
    }
}

/// Counts (or smoothed density) per grid cell, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityGrid {
    pub cols: usize,
    pub rows: usize,
    pub cells: Vec<f32>,
}

impl DensityGrid {
    pub fn new(cols: usize, rows: usize) -> Self {
        Self {
            cols,
            rows,
            cells: vec![0.0; cols * rows],
        }
    }

    pub fn for_spec(spec: &GridSpec) -> Self {
        Self::new(spec.cols as usize, spec.rows as usize)
    }

    /// Adds `weight` to a cell; returns false (and adds nothing) for a cell outside the grid.
    pub fn add_cell(&mut self, col: i64, row: i64, weight: f32) -> bool {
        if col < 0 || row < 0 || col >= self.cols as i64 || row >= self.rows as i64 {
            return false;
        }
        self.cells[row as usize * self.cols + col as usize] += weight;
        true
    }

    /// Adds one kill at a world position.
    pub fn add_point(&mut self, spec: &GridSpec, x: f64, y: f64) -> bool {
        let (c, r) = spec.cell_of(x, y);
        self.add_cell(c, r, 1.0)
    }

    /// Spreads `count` kills evenly over an axis-aligned world rectangle (a coarse
    /// rollup cell), by overlap area with each grid cell. Returns the weight that
    /// landed inside the grid.
    pub fn add_world_rect(
        &mut self,
        spec: &GridSpec,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        count: f32,
    ) -> f32 {
        // Work in continuous cell coordinates, where the transform is axis-aligned.
        let cx0 = (x0 - spec.world.mins[0]) / spec.cell_x();
        let cx1 = (x1 - spec.world.mins[0]) / spec.cell_x();
        let cy0 = (y0 - spec.world.mins[1]) / spec.cell_y();
        let cy1 = (y1 - spec.world.mins[1]) / spec.cell_y();
        let (ax, bx) = (cx0.min(cx1), cx0.max(cx1));
        let (ay, by) = (cy0.min(cy1), cy0.max(cy1));
        let area = (bx - ax) * (by - ay);
        if !(area.is_finite() && area > 0.0) {
            return 0.0;
        }
        let mut landed = 0.0f32;
        let col_lo = ax.floor().max(0.0) as usize;
        let col_hi = (bx.ceil().min(self.cols as f64)).max(0.0) as usize;
        let row_lo = ay.floor().max(0.0) as usize;
        let row_hi = (by.ceil().min(self.rows as f64)).max(0.0) as usize;
        for row in row_lo..row_hi {
            let oy = (by.min(row as f64 + 1.0) - ay.max(row as f64)).max(0.0);
            for col in col_lo..col_hi {
                let ox = (bx.min(col as f64 + 1.0) - ax.max(col as f64)).max(0.0);
                let w = (f64::from(count) * ox * oy / area) as f32;
                self.cells[row * self.cols + col] += w;
                landed += w;
            }
        }
        landed
    }

    pub fn total(&self) -> f64 {
        self.cells.iter().map(|&v| f64::from(v)).sum()
    }

    pub fn max(&self) -> f32 {
        self.cells.iter().copied().fold(0.0, f32::max)
    }

    /// Separable Gaussian smoothing with standard deviation `sigma` cells. Mass that
    /// the kernel carries past the edge is lost, as it would be off the map image.
    pub fn smoothed(&self, sigma: f32) -> DensityGrid {
        let kernel = gaussian_kernel(sigma);
        let radius = kernel.len() / 2;
        let (cols, rows) = (self.cols, self.rows);
        // Horizontal pass into `tmp`, vertical pass into `out`.
        let mut tmp = vec![0.0f32; cols * rows];
        for row in 0..rows {
            let src = &self.cells[row * cols..(row + 1) * cols];
            let dst = &mut tmp[row * cols..(row + 1) * cols];
            for (col, &v) in src.iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                let lo = col.saturating_sub(radius);
                let hi = (col + radius + 1).min(cols);
                let k0 = lo + radius - col;
                for (d, k) in dst[lo..hi].iter_mut().zip(&kernel[k0..]) {
                    *d += v * k;
                }
            }
        }
        let mut out = vec![0.0f32; cols * rows];
        for row in 0..rows {
            let lo = row.saturating_sub(radius);
            let hi = (row + radius + 1).min(rows);
            let src = &tmp[row * cols..(row + 1) * cols];
            if src.iter().all(|&v| v == 0.0) {
                continue;
            }
            for target in lo..hi {
                let k = kernel[target + radius - row];
                let dst = &mut out[target * cols..(target + 1) * cols];
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d += s * k;
                }
            }
        }
        DensityGrid {
            cols,
            rows,
            cells: out,
        }
    }
}

/// Largest σ in cells; beyond it the picture is one blur anyway, and the kernel stays small.
pub const MAX_SIGMA_CELLS: f32 = 128.0;

/// A normalised 1-D Gaussian kernel of radius ⌈3σ⌉ (σ below 0.3 gives the identity, σ
/// above [`MAX_SIGMA_CELLS`] is capped).
pub fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    if !(sigma.is_finite() && sigma >= 0.3) {
        return vec![1.0];
    }
    let sigma = sigma.min(MAX_SIGMA_CELLS);
    let radius = (3.0 * sigma).ceil() as i32;
    let denom = 2.0 * sigma * sigma;
    let raw: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / denom).exp())
        .collect();
    let sum: f32 = raw.iter().sum();
    raw.into_iter().map(|v| v / sum).collect()
}

/// The `p`-th percentile (0–100, nearest rank) of the strictly positive values, or
/// None when there is none. Zero cells are left out: most of a map is empty, and
/// counting them would put the percentile at zero.
pub fn positive_percentile(values: &[f32], p: f64) -> Option<f32> {
    let mut positive: Vec<f32> = values.iter().copied().filter(|v| *v > 0.0).collect();
    if positive.is_empty() {
        return None;
    }
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * positive.len() as f64).ceil() as usize;
    let index = rank.saturating_sub(1).min(positive.len() - 1);
    let (_, value, _) = positive.select_nth_unstable_by(index, f32::total_cmp);
    Some(*value)
}

/// How density maps to colour intensity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// Intensity proportional to density, saturating at the reference percentile.
    #[default]
    Linear,
    /// Logarithmic: shows sparse areas next to hotspots (three decades below the reference).
    Log,
}

/// Density to intensity in [0, 1] relative to `reference` (the 99th percentile), so
/// that one spawn-camping hotspot saturates instead of washing out the rest.
pub fn intensity(value: f32, reference: f32, scale: Scale) -> f32 {
    if !(value > 0.0 && reference > 0.0) {
        return 0.0;
    }
    let t = value / reference;
    let t = match scale {
        Scale::Linear => t,
        // log(1 + 999 t) / log(1000): 1 % of the reference is already a third of the ramp.
        Scale::Log => (1.0 + 999.0 * t).ln() / 1000f32.ln(),
    };
    t.clamp(0.0, 1.0)
}

/// Every cell of `grid` as intensity in [0, 1] against its `percentile`-th positive value.
/// Returns the intensities and the reference value (0 for an empty grid).
pub fn normalise(grid: &DensityGrid, percentile: f64, scale: Scale) -> (Vec<f32>, f32) {
    let Some(reference) = positive_percentile(&grid.cells, percentile) else {
        return (vec![0.0; grid.cells.len()], 0.0);
    };
    (
        grid.cells
            .iter()
            .map(|&v| intensity(v, reference, scale))
            .collect(),
        reference,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn goldrush_spec(cells: u32) -> GridSpec {
        let world = WorldBox::new([-4224.0, 4352.0], [3712.0, -3584.0]).expect("box");
        GridSpec {
            world,
            cols: cells,
            rows: cells,
        }
    }

    #[test]
    fn point_lands_in_expected_cell() {
        let spec = goldrush_spec(248); // 32 world units per cell
        assert_eq!(spec.cell_of(-4224.0, 4352.0), (0, 0));
        assert_eq!(
            spec.cell_of(-4224.0 + 32.0 * 10.0 + 1.0, 4352.0 - 32.0 * 3.0 - 1.0),
            (10, 3)
        );
        assert_eq!(spec.cell_of(3711.9, -3583.9), (247, 247));
        let mut grid = DensityGrid::for_spec(&spec);
        assert!(grid.add_point(&spec, 0.0, 0.0));
        assert!(
            !grid.add_point(&spec, 5000.0, 0.0),
            "outside the box is refused"
        );
        assert_eq!(grid.total(), 1.0);
    }

    #[test]
    fn grid_is_at_least_64_units_fine_when_pixels_allow() {
        let world = goldrush_spec(1).world;
        assert_eq!(GridSpec::for_output(world, 1024).cols, 256);
        let small = GridSpec::for_output(world, 256);
        assert_eq!(small.cols, 124, "7936 units / 64");
        assert!(small.cell_world() <= 64.0);
        assert_eq!(
            GridSpec::for_output(world, 64).cols,
            64,
            "one cell per pixel at most"
        );
    }

    #[test]
    fn kernel_is_normalised_and_symmetric() {
        let k = gaussian_kernel(2.5);
        assert_eq!(k.len(), 2 * 8 + 1);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        for i in 0..k.len() / 2 {
            assert!((k[i] - k[k.len() - 1 - i]).abs() < 1e-7);
        }
        assert_eq!(gaussian_kernel(0.0), vec![1.0]);
        assert_eq!(gaussian_kernel(f32::NAN), vec![1.0]);
        assert_eq!(gaussian_kernel(1e12).len(), 2 * 384 + 1, "capped");
    }

    #[test]
    fn smoothing_spreads_a_point_symmetrically_and_keeps_mass() {
        let mut grid = DensityGrid::new(41, 41);
        grid.add_cell(20, 20, 10.0);
        let s = grid.smoothed(3.0);
        assert!((s.total() - 10.0).abs() < 1e-3);
        let at = |c: usize, r: usize| s.cells[r * 41 + c];
        assert_eq!(s.max(), at(20, 20));
        assert!((at(17, 20) - at(23, 20)).abs() < 1e-6);
        assert!((at(20, 17) - at(20, 23)).abs() < 1e-6);
        assert!((at(17, 20) - at(20, 17)).abs() < 1e-6);
    }

    #[test]
    fn percentile_ignores_empty_cells() {
        let mut values = vec![0.0f32; 1000];
        values.extend((1..=100).map(|v| v as f32));
        assert_eq!(positive_percentile(&values, 99.0), Some(99.0));
        assert_eq!(positive_percentile(&values, 100.0), Some(100.0));
        assert_eq!(positive_percentile(&values, 50.0), Some(50.0));
        assert_eq!(positive_percentile(&[0.0, 0.0], 99.0), None);
    }

    #[test]
    fn one_hotspot_does_not_wash_out_the_rest() {
        // 200 cells with one kill each and one cell with 10,000 kills.
        let mut grid = DensityGrid::new(100, 100);
        for i in 0..200 {
            grid.add_cell(i % 100, i / 100 * 50, 1.0);
        }
        grid.add_cell(50, 25, 10_000.0);
        let (t, reference) = normalise(&grid, 99.0, Scale::Linear);
        assert_eq!(reference, 1.0);
        assert_eq!(t[25 * 100 + 50], 1.0, "hotspot saturates");
        assert_eq!(t[3], 1.0, "a single kill is still fully visible");
        // Normalising by the maximum would have made it invisible.
        assert!(intensity(1.0, grid.max(), Scale::Linear) < 0.001);
    }

    #[test]
    fn log_scale_lifts_sparse_cells() {
        let lin = intensity(0.01, 1.0, Scale::Linear);
        let log = intensity(0.01, 1.0, Scale::Log);
        assert!(log > 0.3 && lin < 0.02, "lin {lin} log {log}");
        assert_eq!(intensity(1.0, 1.0, Scale::Log), 1.0);
        assert_eq!(intensity(0.0, 1.0, Scale::Log), 0.0);
    }

    #[test]
    fn rect_spreads_by_overlap() {
        let spec = goldrush_spec(248); // 32 units per cell
        let mut grid = DensityGrid::for_spec(&spec);
        // A 512-unit rollup cell fully inside the box covers 16×16 cells.
        let landed = grid.add_world_rect(
            &spec,
            -4224.0,
            4352.0,
            -4224.0 + 512.0,
            4352.0 - 512.0,
            256.0,
        );
        assert!((landed - 256.0).abs() < 1e-3);
        assert!((grid.cells[0] - 1.0).abs() < 1e-5);
        assert!((grid.cells[15 * 248 + 15] - 1.0).abs() < 1e-5);
        assert_eq!(grid.cells[16], 0.0);
        // Half outside the box: half the weight lands.
        let mut g2 = DensityGrid::for_spec(&spec);
        let landed = g2.add_world_rect(&spec, -4224.0 - 256.0, 0.0, -4224.0 + 256.0, 512.0, 100.0);
        assert!((landed - 50.0).abs() < 1e-3, "{landed}");
    }

    proptest! {
        #[test]
        fn at_most_one_percent_saturates(values in proptest::collection::vec(0.0f32..1000.0, 1..2000)) {
            let grid = DensityGrid { cols: values.len(), rows: 1, cells: values.clone() };
            let (t, reference) = normalise(&grid, 99.0, Scale::Linear);
            let positive = values.iter().filter(|v| **v > 0.0).count();
            prop_assume!(positive > 0);
            // Nearest rank: values strictly above the reference are at most 1 % of the positive ones.
            let above = values.iter().filter(|v| **v > reference).count();
            prop_assert!(above as f64 <= positive as f64 * 0.01 + 1e-9);
            prop_assert!(t.iter().all(|v| (0.0..=1.0).contains(v)));
        }

        #[test]
        fn intensity_is_monotonic(a in 0.0f32..10.0, b in 0.0f32..10.0, r in 0.01f32..10.0, log: bool) {
            let scale = if log { Scale::Log } else { Scale::Linear };
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(intensity(lo, r, scale) <= intensity(hi, r, scale));
        }

        #[test]
        fn smoothing_never_creates_mass(points in proptest::collection::vec((0i64..32, 0i64..32, 0.0f32..50.0), 0..50), sigma in 0.0f32..6.0) {
            let mut grid = DensityGrid::new(32, 32);
            for (c, r, w) in &points { grid.add_cell(*c, *r, *w); }
            let s = grid.smoothed(sigma);
            prop_assert!(s.total() <= grid.total() * 1.0001 + 1e-3);
            prop_assert!(s.cells.iter().all(|v| *v >= 0.0));
        }

        #[test]
        fn points_inside_the_box_land_inside_the_grid(u in 0.0f64..1.0, v in 0.0f64..1.0, cells in 16u32..600) {
            let spec = goldrush_spec(cells);
            let (x, y) = spec.world.from_uv(u, v);
            let (c, r) = spec.cell_of(x, y);
            prop_assert!(c >= 0 && r >= 0 && c <= i64::from(cells) && r <= i64::from(cells));
            // Floating point may put u = 1 − ε exactly on the far edge; never further.
            let mut grid = DensityGrid::for_spec(&spec);
            prop_assert!(grid.add_point(&spec, x, y) || c == i64::from(cells) || r == i64::from(cells));
        }
    }
}
