//! The text on a heatmap: the title block (map, filters, kill count), the legend with the
//! colour ramp, and the notes wrapped at the bottom, drawn with plotters in the bundled font.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::density::Scale;
use super::ramp::{blend, ColourRamp};
use super::render::{Frame, RenderError, BG};

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/DejaVu-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(crate) const FONT_FAMILY: &str = "etprox-sans";

/// Registers the bundled font once per process (heatmaps and charts draw with it).
pub(crate) fn register_font() {
    static ONCE: OnceLock<bool> = OnceLock::new();
    ONCE.get_or_init(|| {
        register_font_inner(FontStyle::Normal) && register_font_inner(FontStyle::Bold)
    });
}

fn register_font_inner(style: FontStyle) -> bool {
    plotters::style::register_font(FONT_FAMILY, style, FONT).is_ok()
}

fn draw_error<E: std::fmt::Debug>(e: E) -> RenderError {
    RenderError::Draw(format!("{e:?}"))
}

/// The drawing area over the RGB buffer.
type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Fonts, colours and spacing of the text, scaled with the image.
struct TextStyles {
    /// Text shrinks slower than the image so small renders stay legible.
    k: f64,
    title: TextStyle<'static>,
    body: TextStyle<'static>,
    note: TextStyle<'static>,
    small: TextStyle<'static>,
    panel: ShapeStyle,
    margin: i32,
}

impl TextStyles {
    fn new(size: u32) -> TextStyles {
        let k = (f64::from(size) / 1024.0).sqrt();
        let white = RGBColor(240, 240, 240);
        let grey = RGBColor(190, 196, 205);
        let mut styles = TextStyles {
            k,
            title: (FONT_FAMILY, 30.0 * k, FontStyle::Bold)
                .into_font()
                .color(&white),
            body: (FONT_FAMILY, 18.0 * k).into_font().color(&grey),
            note: (FONT_FAMILY, 17.0 * k)
                .into_font()
                .color(&RGBColor(255, 214, 120)),
            small: (FONT_FAMILY, 15.0 * k).into_font().color(&grey),
            panel: RGBAColor(0, 0, 0, 0.62).filled(),
            margin: 0,
        };
        styles.margin = styles.px(14.0);
        styles
    }

    /// `v` pixels at 1024, scaled.
    fn px(&self, v: f64) -> i32 {
        (v * self.k).round().max(1.0) as i32
    }
}

/// Title block (top-left), legend (bottom-right) and notes (bottom-left, wrapped to the
/// space left of the legend).
pub(super) fn draw_text(buf: &mut [u8], frame: &Frame, has_image: bool) -> Result<(), RenderError> {
    let size = frame.size;
    let root = BitMapBackend::with_buffer(buf, (size, size)).into_drawing_area();
    let st = TextStyles::new(size);
    draw_title_block(&root, frame, &st)?;
    let legend_left = draw_legend(&root, frame, &st, has_image)?;
    let max_w = (legend_left - 3 * st.margin).max(st.px(120.0));
    let wrapped = wrap_notes(&root, &frame.notes, &st.note, max_w)?;
    draw_notes(&root, &wrapped, &st, size)?;
    root.present().map_err(draw_error)?;
    Ok(())
}

/// Map name, filter lines and kill count on a dark panel.
fn draw_title_block(root: &Area<'_>, frame: &Frame, st: &TextStyles) -> Result<(), RenderError> {
    let mut lines: Vec<(String, &TextStyle)> = vec![(frame.title.clone(), &st.title)];
    for f in &frame.filters {
        lines.push((f.clone(), &st.body));
    }
    // Fight heatmaps say what they count in their filter lines.
    if frame.kill_count != Frame::NO_COUNT {
        lines.push((kill_count_text(frame.kill_count), &st.body));
    }
    let margin = st.margin;
    let mut width = 0i32;
    let mut height = 0i32;
    for (text, style) in &lines {
        let (w, h) = root.estimate_text_size(text, style).map_err(draw_error)?;
        width = width.max(w as i32);
        height += h as i32 + st.px(6.0);
    }
    root.draw(&Rectangle::new(
        [(0, 0), (width + 2 * margin, height + 2 * margin)],
        st.panel,
    ))
    .map_err(draw_error)?;
    let mut y = margin;
    for (text, style) in &lines {
        root.draw(&Text::new(text.clone(), (margin, y), (*style).clone()))
            .map_err(draw_error)?;
        let (_, h) = root.estimate_text_size(text, style).map_err(draw_error)?;
        y += h as i32 + st.px(6.0);
    }
    Ok(())
}

/// The colour ramp and what its ends mean, laid out upwards from the bottom edge so nothing
/// is clipped. Returns the legend panel's left edge.
fn draw_legend(
    root: &Area<'_>,
    frame: &Frame,
    st: &TextStyles,
    has_image: bool,
) -> Result<i32, RenderError> {
    let size = frame.size as i32;
    // Fight heatmaps (no kill count) weigh seconds or objective plays, not kills.
    let kills = frame.kill_count != Frame::NO_COUNT;
    let legend_label = match (frame.scale, kills) {
        (Scale::Linear, true) => "kill density (linear)",
        (Scale::Log, true) => "kill density (log)",
        (Scale::Linear, false) => "density (linear)",
        (Scale::Log, false) => "density (log)",
    };
    let (_, small_h) = root
        .estimate_text_size("≥ 99th pct", &st.small)
        .map_err(draw_error)?;
    let (_, body_h) = root
        .estimate_text_size(legend_label, &st.body)
        .map_err(draw_error)?;
    let bar_w = st.px(240.0);
    let x1 = size - st.margin;
    let x0 = x1 - bar_w;
    let labels_top = size - st.margin - small_h as i32;
    let y1 = labels_top - st.px(4.0);
    let y0 = y1 - st.px(16.0);
    let title_top = y0 - st.px(6.0) - body_h as i32;
    let legend_left = x0 - st.margin;
    root.draw(&Rectangle::new(
        [(legend_left, title_top - st.px(8.0)), (size, size)],
        st.panel,
    ))
    .map_err(draw_error)?;
    root.draw(&Text::new(legend_label, (x0, title_top), st.body.clone()))
        .map_err(draw_error)?;
    draw_ramp_bar(root, (x0, y0), (bar_w, y1), has_image)?;
    root.draw(&Text::new("low", (x0, labels_top), st.small.clone()))
        .map_err(draw_error)?;
    root.draw(&Text::new(
        "≥ 99th pct",
        (x1, labels_top),
        st.small.pos(Pos::new(HPos::Right, VPos::Top)),
    ))
    .map_err(draw_error)?;
    Ok(legend_left)
}

/// The ramp from `(x0, y0)`, `bar_w` pixels wide down to `y1`, blended over the background
/// the heat is blended over.
fn draw_ramp_bar(
    root: &Area<'_>,
    (x0, y0): (i32, i32),
    (bar_w, y1): (i32, i32),
    has_image: bool,
) -> Result<(), RenderError> {
    let ramp = ColourRamp::new();
    let bar_bg = if has_image { [60u8, 60, 60] } else { BG };
    for i in 0..bar_w {
        let t = (i as f32 + 0.5) / bar_w as f32;
        let mut px_rgb = bar_bg;
        blend(&mut px_rgb, ramp.colour(t));
        root.draw(&Rectangle::new(
            [(x0 + i, y0), (x0 + i + 1, y1)],
            RGBColor(px_rgb[0], px_rgb[1], px_rgb[2]).filled(),
        ))
        .map_err(draw_error)?;
    }
    Ok(())
}

/// The notes as lines at most `max_w` pixels wide (a single long word may exceed it).
fn wrap_notes(
    root: &Area<'_>,
    notes: &[String],
    font: &TextStyle,
    max_w: i32,
) -> Result<Vec<String>, RenderError> {
    let mut wrapped: Vec<String> = Vec::new();
    for note in notes {
        let mut line = String::new();
        for word in note.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            let (w, _) = root
                .estimate_text_size(&candidate, font)
                .map_err(draw_error)?;
            if w as i32 > max_w && !line.is_empty() {
                wrapped.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            wrapped.push(line);
        }
    }
    Ok(wrapped)
}

/// The wrapped notes on a panel at the bottom-left.
fn draw_notes(
    root: &Area<'_>,
    wrapped: &[String],
    st: &TextStyles,
    size: u32,
) -> Result<(), RenderError> {
    if wrapped.is_empty() {
        return Ok(());
    }
    let (_, line_h) = root
        .estimate_text_size("Ag", &st.note)
        .map_err(draw_error)?;
    let step = line_h as i32 + st.px(4.0);
    let mut widest = 0;
    for line in wrapped {
        let (w, _) = root
            .estimate_text_size(line, &st.note)
            .map_err(draw_error)?;
        widest = widest.max(w as i32);
    }
    let top = size as i32 - st.margin - step * wrapped.len() as i32;
    root.draw(&Rectangle::new(
        [(0, top - st.px(8.0)), (widest + 2 * st.margin, size as i32)],
        st.panel,
    ))
    .map_err(draw_error)?;
    for (i, line) in wrapped.iter().enumerate() {
        root.draw(&Text::new(
            line.clone(),
            (st.margin, top + step * i as i32),
            st.note.clone(),
        ))
        .map_err(draw_error)?;
    }
    Ok(())
}

pub fn kill_count_text(n: u64) -> String {
    match n {
        0 => "no kills".to_string(),
        1 => "1 kill".to_string(),
        n => format!("{} kills", group_thousands(n)),
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(kill_count_text(1_000_000), "1,000,000 kills");
        assert_eq!(kill_count_text(999), "999 kills");
        assert_eq!(kill_count_text(1), "1 kill");
        assert_eq!(kill_count_text(0), "no kills");
    }
}
