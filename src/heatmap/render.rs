//! PNG rendering: the map's command-map image (or a dark world grid), the heat layer
//! upsampled from the density grid, and the text (map, filters, kill count, legend)
//! drawn with plotters on the RGB buffer, then PNG-encoded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageEncoder, RgbImage};

use super::calibration::WorldBox;
use super::density::Scale;
use super::ramp::{blend, ColourRamp};
use super::text;
pub use super::text::kill_count_text;

/// Discord's upload limit leaves room, but the issue asks for under 1 MiB.
pub const MAX_PNG_BYTES: usize = 1024 * 1024;

/// Images larger than this in either dimension are refused rather than decoded.
pub const MAX_IMAGE_SIDE: u32 = 8192;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("output size {0} is out of range (64 to 4096 pixels)")]
    BadSize(u32),
    #[error("density grid is {got} cells, expected {cols}×{rows}")]
    GridMismatch {
        got: usize,
        cols: usize,
        rows: usize,
    },
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("map image {path}: {message}")]
    Image { path: String, message: String },
    #[error("PNG encoding failed: {0}")]
    Encode(#[from] image::ImageError),
}

/// Everything drawn on one heatmap besides the heat itself.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Output width and height in pixels.
    pub size: u32,
    pub world: WorldBox,
    /// The command-map image, already scaled to `size`×`size`; None draws the world grid.
    pub background: Option<Arc<RgbImage>>,
    /// First line, e.g. "goldrush · deaths".
    pub title: String,
    /// Filter description lines under the title.
    pub filters: Vec<String>,
    pub kill_count: u64,
    pub scale: Scale,
    /// Warnings shown at the bottom (uncalibrated map, missing image, no kills).
    pub notes: Vec<String>,
}

impl Frame {
    /// A `kill_count` that draws no count line (presence and objective heatmaps count seconds
    /// or plays, written in their filter lines instead).
    pub const NO_COUNT: u64 = u64::MAX;
}

/// Intensities in [0, 1] on a `cols`×`rows` grid covering the whole image.
#[derive(Debug, Clone, Copy)]
pub struct HeatLayer<'a> {
    pub cols: usize,
    pub rows: usize,
    pub intensity: &'a [f32],
}

/// Renders the heatmap to PNG bytes.
pub fn render_png(frame: &Frame, heat: HeatLayer<'_>) -> Result<Vec<u8>, RenderError> {
    let rgb = render_rgb(frame, heat)?;
    encode_png(&rgb, frame.size)
}

/// Renders the heatmap into an RGB buffer of `size`×`size`×3 bytes.
pub fn render_rgb(frame: &Frame, heat: HeatLayer<'_>) -> Result<Vec<u8>, RenderError> {
    let size = frame.size;
    if !(64..=4096).contains(&size) {
        return Err(RenderError::BadSize(size));
    }
    if heat.intensity.len() != heat.cols * heat.rows || heat.cols == 0 || heat.rows == 0 {
        return Err(RenderError::GridMismatch {
            got: heat.intensity.len(),
            cols: heat.cols,
            rows: heat.rows,
        });
    }
    text::register_font();
    let side = size as usize;
    let mut buf = match &frame.background {
        Some(img) if img.width() == size && img.height() == size => img.as_raw().clone(),
        _ => vec![0u8; side * side * 3],
    };
    let has_image = frame
        .background
        .as_ref()
        .is_some_and(|img| img.width() == size && img.height() == size);
    if !has_image {
        draw_grid_background(&mut buf, size, &frame.world);
    }
    draw_heat(&mut buf, size, heat);
    text::draw_text(&mut buf, frame, has_image)?;
    Ok(buf)
}

/// PNG-encodes an RGB buffer; retries with stronger compression if the fast pass is
/// over [`MAX_PNG_BYTES`].
pub fn encode_png(rgb: &[u8], size: u32) -> Result<Vec<u8>, RenderError> {
    let encode = |compression| -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::with_capacity(rgb.len() / 4);
        PngEncoder::new_with_quality(&mut out, compression, FilterType::Adaptive).write_image(
            rgb,
            size,
            size,
            image::ExtendedColorType::Rgb8,
        )?;
        Ok(out)
    };
    let fast = encode(CompressionType::Fast)?;
    if fast.len() <= MAX_PNG_BYTES {
        return Ok(fast);
    }
    encode(CompressionType::Best)
}

pub(super) const BG: [u8; 3] = [22, 25, 31];
const GRID_MINOR: [u8; 3] = [38, 43, 52];
const GRID_AXIS: [u8; 3] = [70, 78, 92];

/// Dark background with a world-unit grid (lines every 512 or 1024 units, the world
/// axes brighter) and the map box outlined.
fn draw_grid_background(buf: &mut [u8], size: u32, world: &WorldBox) {
    for px in buf.chunks_exact_mut(3) {
        px.copy_from_slice(&BG);
    }
    let side = size as usize;
    let step = grid_step(world);
    let mut vline = |x: f64, colour: [u8; 3]| {
        let (px, _) = world.to_pixel(x, world.mins[1], size, size);
        let col = px.round() as i64;
        if (0..side as i64).contains(&col) {
            for row in 0..side {
                let i = (row * side + col as usize) * 3;
                buf[i..i + 3].copy_from_slice(&colour);
            }
        }
    };
    let (x_lo, x_hi) = ordered(world.mins[0], world.maxs[0]);
    let mut x = (x_lo / step).ceil() * step;
    while x <= x_hi {
        vline(x, if x == 0.0 { GRID_AXIS } else { GRID_MINOR });
        x += step;
    }
    let (y_lo, y_hi) = ordered(world.mins[1], world.maxs[1]);
    let mut y = (y_lo / step).ceil() * step;
    while y <= y_hi {
        let (_, py) = world.to_pixel(world.mins[0], y, size, size);
        let row = py.round() as i64;
        if (0..side as i64).contains(&row) {
            let colour = if y == 0.0 { GRID_AXIS } else { GRID_MINOR };
            for px in
                buf[row as usize * side * 3..(row as usize + 1) * side * 3].chunks_exact_mut(3)
            {
                px.copy_from_slice(&colour);
            }
        }
        y += step;
    }
    // The map box is the image frame; outline it so the extent is visible.
    for i in 0..side {
        for (c, r) in [(i, 0), (i, side - 1), (0, i), (side - 1, i)] {
            let k = (r * side + c) * 3;
            buf[k..k + 3].copy_from_slice(&GRID_AXIS);
        }
    }
}

/// Grid spacing in world units: 512 on stock-sized maps, coarser on huge ones.
pub fn grid_step(world: &WorldBox) -> f64 {
    let span = world.span_x().abs().max(world.span_y().abs());
    let mut step = 256.0;
    while span / step > 24.0 {
        step *= 2.0;
    }
    step
}

fn ordered(a: f64, b: f64) -> (f64, f64) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Bilinear upsampling of the intensity grid onto the image, coloured and blended.
fn draw_heat(buf: &mut [u8], size: u32, heat: HeatLayer<'_>) {
    let ramp = ColourRamp::new();
    let side = size as usize;
    // Per output column: the two grid columns and the weight of the right one.
    let sx = heat.cols as f32 / size as f32;
    let xs: Vec<(usize, usize, f32)> = (0..side).map(|px| sample_axis(px, sx, heat.cols)).collect();
    let sy = heat.rows as f32 / size as f32;
    for py in 0..side {
        let (r0, r1, fy) = sample_axis(py, sy, heat.rows);
        let row0 = &heat.intensity[r0 * heat.cols..(r0 + 1) * heat.cols];
        let row1 = &heat.intensity[r1 * heat.cols..(r1 + 1) * heat.cols];
        if row0.iter().all(|v| *v == 0.0) && row1.iter().all(|v| *v == 0.0) {
            continue;
        }
        let out = &mut buf[py * side * 3..(py + 1) * side * 3];
        for (px, &(c0, c1, fx)) in xs.iter().enumerate() {
            let (a, b, c, d) = (row0[c0], row0[c1], row1[c0], row1[c1]);
            if a == 0.0 && b == 0.0 && c == 0.0 && d == 0.0 {
                continue;
            }
            let top = a + (b - a) * fx;
            let bottom = c + (d - c) * fx;
            let t = top + (bottom - top) * fy;
            blend(&mut out[px * 3..px * 3 + 3], ramp.colour(t));
        }
    }
}

/// Grid cells around the centre of output pixel `p` and the weight of the second one.
fn sample_axis(p: usize, scale: f32, cells: usize) -> (usize, usize, f32) {
    let g = ((p as f32 + 0.5) * scale - 0.5).max(0.0);
    let i0 = (g.floor() as usize).min(cells - 1);
    let i1 = (i0 + 1).min(cells - 1);
    (i0, i1, g - i0 as f32)
}

type BackgroundKey = (PathBuf, u32, Option<SystemTime>);

/// Loads a command-map image scaled to `size`×`size`, darkened a little so the heat
/// stands out. Cached per (path, size, mtime): the bot renders the same maps all day.
pub fn load_background(path: &Path, size: u32) -> Result<Arc<RgbImage>, RenderError> {
    static CACHE: OnceLock<Mutex<HashMap<BackgroundKey, Arc<RgbImage>>>> = OnceLock::new();
    let err = |message: String| RenderError::Image {
        path: path.display().to_string(),
        message,
    };
    let mtime = std::fs::metadata(path)
        .map_err(|e| err(e.to_string()))?
        .modified()
        .ok();
    let key = (path.to_path_buf(), size, mtime);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(hit);
    }
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| err(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| err(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| err(e.to_string()))?;
    let mut scaled = image::imageops::resize(
        &img.to_rgb8(),
        size,
        size,
        image::imageops::FilterType::Triangle,
    );
    for p in scaled.pixels_mut() {
        for c in p.0.iter_mut() {
            *c = (u16::from(*c) * 3 / 4) as u8;
        }
    }
    let scaled = Arc::new(scaled);
    if let Ok(mut c) = cache.lock() {
        // Keep the cache small: a handful of maps at one or two sizes.
        if c.len() > 32 {
            c.clear();
        }
        c.insert(key, scaled.clone());
    }
    Ok(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goldrush() -> WorldBox {
        WorldBox::new([-4224.0, 4352.0], [3712.0, -3584.0]).expect("box")
    }

    fn frame(size: u32) -> Frame {
        Frame {
            size,
            world: goldrush(),
            background: None,
            title: "goldrush · deaths".into(),
            filters: vec!["all time".into()],
            kill_count: 12_345,
            scale: Scale::Linear,
            notes: vec!["no map image: run `etprox maps import`".into()],
        }
    }

    #[test]
    fn renders_a_decodable_png_of_the_right_size() {
        let intensity = vec![0.0f32; 64 * 64];
        let png = render_png(
            &frame(256),
            HeatLayer {
                cols: 64,
                rows: 64,
                intensity: &intensity,
            },
        )
        .expect("render");
        let img = image::load_from_memory(&png).expect("decode");
        assert_eq!((img.width(), img.height()), (256, 256));
    }

    #[test]
    fn text_is_drawn() {
        let intensity = vec![0.0f32; 16 * 16];
        let heat = HeatLayer {
            cols: 16,
            rows: 16,
            intensity: &intensity,
        };
        let mut with_text = frame(256);
        let plain = render_rgb(&with_text, heat).expect("render");
        with_text.title = "a much longer title that changes pixels".into();
        let other = render_rgb(&with_text, heat).expect("render");
        assert_ne!(plain, other, "title text reaches the pixels");
    }

    #[test]
    fn refuses_bad_sizes_and_grids() {
        let intensity = vec![0.0f32; 10];
        let heat = HeatLayer {
            cols: 4,
            rows: 4,
            intensity: &intensity,
        };
        assert!(matches!(
            render_png(&frame(256), heat),
            Err(RenderError::GridMismatch { .. })
        ));
        let ok = vec![0.0f32; 16];
        let heat = HeatLayer {
            cols: 4,
            rows: 4,
            intensity: &ok,
        };
        assert!(matches!(
            render_png(&frame(10), heat),
            Err(RenderError::BadSize(10))
        ));
    }

    #[test]
    fn grid_step_scales_with_map_size() {
        assert_eq!(grid_step(&goldrush()), 512.0);
        let huge = WorldBox::new([-30000.0, 30000.0], [30000.0, -30000.0]).expect("box");
        assert!(60000.0 / grid_step(&huge) <= 24.0);
    }
}
