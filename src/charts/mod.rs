//! Charts the bot attaches to replies (session recaps, trends, head-to-heads): one look for all
//! of them, drawn with plotters in the bundled font and PNG-encoded.
//!
//! Every chart draws its own opaque background, so it reads the same on Discord's dark and light
//! themes, and is sized for a phone: Discord scales an 800 px wide image to the screen's width,
//! and text at these sizes stays legible there.

pub mod evening;
pub mod trend;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::ImageEncoder;
use plotters::prelude::*;
use plotters::style::RGBColor;

/// Width and height of a chart in pixels.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 450;

/// The chart's own background: Discord's dark embed colour, which also frames well on the light
/// theme.
pub const BACKGROUND: RGBColor = RGBColor(43, 45, 49);
/// Titles and labels.
pub const TEXT: RGBColor = RGBColor(235, 236, 238);
/// Axis descriptions, notes and reference lines.
pub const MUTED: RGBColor = RGBColor(160, 166, 176);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(70, 73, 80);

/// Series colours, in order: distinguishable from each other and from the background, also for
/// the common red-green colour blindness (blue, orange, and light tones first).
pub const SERIES: [RGBColor; 6] = [
    RGBColor(88, 166, 255),
    RGBColor(255, 159, 67),
    RGBColor(120, 220, 160),
    RGBColor(240, 110, 170),
    RGBColor(250, 220, 90),
    RGBColor(190, 150, 255),
];

/// The colour of the `i`-th series (wrapping around).
pub fn series_colour(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// A text style in the bundled font at `size` pixels.
pub fn font(size: f64, colour: RGBColor) -> TextStyle<'static> {
    crate::heatmap::text::register_font();
    (crate::heatmap::text::FONT_FAMILY, size)
        .into_font()
        .color(&colour)
}

/// A chart could not be drawn or encoded.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("encoding the chart as PNG failed: {0}")]
    Encode(#[from] image::ImageError),
}

impl ChartError {
    /// Wraps a plotters drawing error (its types are generic over the backend).
    pub fn draw<E: std::fmt::Debug>(e: E) -> ChartError {
        ChartError::Draw(format!("{e:?}"))
    }
}

/// Draws on a fresh [`WIDTH`] x [`HEIGHT`] canvas filled with [`BACKGROUND`] and returns the PNG.
pub fn render_png<F>(draw: F) -> Result<Vec<u8>, ChartError>
where
    F: FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), ChartError>,
{
    crate::heatmap::text::register_font();
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&BACKGROUND).map_err(ChartError::draw)?;
        draw(&root)?;
        root.present().map_err(ChartError::draw)?;
    }
    let mut out = Vec::with_capacity(rgb.len() / 8);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(&rgb, WIDTH, HEIGHT, image::ExtendedColorType::Rgb8)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_png_of_the_chart_size_with_the_background() {
        let png = render_png(|area| {
            area.draw(&Text::new("x", (10, 10), font(20.0, TEXT)))
                .map_err(ChartError::draw)
        })
        .expect("render");
        let img = image::load_from_memory(&png).expect("decode").to_rgb8();
        assert_eq!((img.width(), img.height()), (WIDTH, HEIGHT));
        let corner = img.get_pixel(WIDTH - 1, HEIGHT - 1);
        assert_eq!(corner.0, [BACKGROUND.0, BACKGROUND.1, BACKGROUND.2]);
    }
}
