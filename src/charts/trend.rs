//! The `/trend` chart: one player's stat per session day, a line with a dot per session, over
//! the community's median of the same days as a dashed reference line.

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{font, render_png, series_colour, ChartError, GRID, MUTED, TEXT};

/// What the chart shows; the values are in the stat's own unit (a rate as a fraction).
#[derive(Debug, Clone, PartialEq)]
pub struct TrendChart {
    /// "SlomiX · 1v1 win rate" (colour codes already removed).
    pub title: String,
    /// The y axis description: "1v1 win rate".
    pub y_label: String,
    /// Whether values are fractions shown as percentages.
    pub percent: bool,
    /// One per session day, oldest first: the label under the x axis ("11-18").
    pub days: Vec<String>,
    /// The player's value per day; `None` where it is undefined (no duel, no death).
    pub player: Vec<Option<f64>>,
    /// The community's median per day.
    pub median: Vec<Option<f64>>,
    /// The player's name for the legend.
    pub player_name: String,
}

/// Draws the chart as a PNG of the shared chart size.
pub fn render(chart: &TrendChart) -> Result<Vec<u8>, ChartError> {
    render_png(|root| draw(root, chart))
}

fn draw(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    chart: &TrendChart,
) -> Result<(), ChartError> {
    let n = chart.days.len().max(1);
    let top = y_top(chart);
    let mut ctx = ChartBuilder::on(root)
        .caption(&chart.title, font(26.0, TEXT))
        .margin(16)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
        .map_err(ChartError::draw)?;
    let days = chart.days.clone();
    let percent = chart.percent;
    ctx.configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(BACKGROUND_LINE)
        .axis_style(MUTED)
        .label_style(font(17.0, TEXT))
        .axis_desc_style(font(18.0, MUTED))
        .x_desc("session day")
        .y_desc(&chart.y_label)
        .x_labels(n.min(10))
        .x_label_formatter(&|x| day_label(&days, *x))
        .y_labels(6)
        .y_label_formatter(&|y| value_label(*y, percent))
        .draw()
        .map_err(ChartError::draw)?;
    draw_median(&mut ctx, &chart.median)?;
    draw_player(&mut ctx, chart)?;
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(super::BACKGROUND.mix(0.85))
        .border_style(GRID)
        .label_font(font(17.0, TEXT))
        .draw()
        .map_err(ChartError::draw)?;
    Ok(())
}

/// The minor grid is left out: on a phone it only adds noise.
const BACKGROUND_LINE: RGBAColor = RGBAColor(0, 0, 0, 0.0);

type Ctx<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_median(ctx: &mut Ctx<'_, '_>, median: &[Option<f64>]) -> Result<(), ChartError> {
    let style = ShapeStyle::from(MUTED).stroke_width(2);
    let mut first = true;
    for run in runs(median) {
        let series = ctx
            .draw_series(std::iter::once(DashedPathElement::new(run, 8, 6, style)))
            .map_err(ChartError::draw)?;
        if std::mem::take(&mut first) {
            series.label("community median").legend(move |(x, y)| {
                DashedPathElement::new(vec![(x, y), (x + 20, y)], 5, 4, style)
            });
        }
    }
    Ok(())
}

fn draw_player(ctx: &mut Ctx<'_, '_>, chart: &TrendChart) -> Result<(), ChartError> {
    let colour = series_colour(0);
    let line = ShapeStyle::from(colour).stroke_width(3);
    let mut first = true;
    for run in runs(&chart.player) {
        let series = ctx
            .draw_series(std::iter::once(PathElement::new(run, line)))
            .map_err(ChartError::draw)?;
        if std::mem::take(&mut first) {
            series
                .label(chart.player_name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        }
    }
    let dots = chart
        .player
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| Circle::new((i as f64, v), 5, colour.filled())));
    ctx.draw_series(dots).map_err(ChartError::draw)?;
    Ok(())
}

/// The stretches of consecutive defined values as chart points (a gap breaks the line).
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((i as f64, *v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The top of the y axis: 100 % for rates, else a little above the highest value.
fn y_top(chart: &TrendChart) -> f64 {
    let highest = chart
        .player
        .iter()
        .chain(&chart.median)
        .flatten()
        .fold(0.0f64, |a, b| a.max(*b));
    if chart.percent || highest <= 0.0 {
        1.0
    } else {
        highest * 1.15
    }
}

/// The day under an x position; nothing between days.
fn day_label(days: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    days.get(i as usize).cloned().unwrap_or_default()
}

fn value_label(y: f64, percent: bool) -> String {
    if percent {
        format!("{:.0}%", y * 100.0)
    } else if y.fract().abs() < 1e-9 {
        format!("{y:.0}")
    } else {
        format!("{y:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(n: usize) -> TrendChart {
        TrendChart {
            title: "SlomiX · 1v1 win rate".into(),
            y_label: "1v1 win rate".into(),
            percent: true,
            days: (0..n).map(|i| format!("11-{:02}", i + 1)).collect(),
            player: (0..n)
                .map(|i| (i % 4 != 2).then_some(i as f64 / n as f64))
                .collect(),
            median: vec![Some(0.5); n],
            player_name: "SlomiX".into(),
        }
    }

    #[test]
    fn gaps_break_the_line() {
        let r = runs(&[Some(1.0), None, Some(2.0), Some(3.0), None]);
        assert_eq!(r, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
        assert!(runs(&[None, None]).is_empty());
    }

    #[test]
    fn labels_sit_on_whole_days_only() {
        let days = vec!["11-01".to_string(), "11-02".to_string()];
        assert_eq!(day_label(&days, 1.0), "11-02");
        assert_eq!(day_label(&days, 0.5), "");
        assert_eq!(day_label(&days, 2.0), "");
        assert_eq!(value_label(0.25, true), "25%");
        assert_eq!(value_label(2.5, false), "2.5");
    }

    #[test]
    fn renders_a_chart_of_the_shared_size_with_the_player_colour() {
        for n in [1, 2, 20, 100] {
            let png = render(&chart(n)).expect("render");
            let img = image::load_from_memory(&png).expect("decode").to_rgb8();
            assert_eq!(
                (img.width(), img.height()),
                (super::super::WIDTH, super::super::HEIGHT)
            );
            let c = series_colour(0);
            let drawn = img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
            assert!(
                drawn > 50,
                "{n} sessions: {drawn} pixels of the player's colour"
            );
        }
    }
}
