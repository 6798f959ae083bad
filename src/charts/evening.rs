//! The session recap's chart: kills per round of the evening's top players, one line each, the
//! rounds in play order along the bottom. Drawn on the shared look of [`super`].

use plotters::prelude::*;

use super::{font, render_png, series_colour, ChartError, GRID, MUTED, TEXT};
use crate::recap::EveningSeries;

/// Rounds up to this many get their map as label; more get their number only (the labels
/// would overlap at phone width).
const NAMED_ROUNDS: usize = 8;
/// Characters of a round label.
const LABEL_CHARS: usize = 11;

/// The PNG of `series` under `title` (e.g. the server and the day).
pub fn kills_per_round_png(title: &str, series: &EveningSeries) -> Result<Vec<u8>, ChartError> {
    render_png(|root| draw(root, title, series))
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw(root: &Area<'_>, title: &str, series: &EveningSeries) -> Result<(), ChartError> {
    let rounds = series.rounds.len().max(1);
    let top = series
        .players
        .iter()
        .flat_map(|(_, kills)| kills.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    // Headroom above the highest point for the legend.
    let y_max = (top as f64 * 1.25).ceil() as i64 + 1;
    let caption = format!("Kills per round, top {} · {title}", series.players.len());
    let mut chart = ChartBuilder::on(root)
        .caption(caption, font(24.0, TEXT))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.3f64..(rounds as f64 - 0.7), 0i64..y_max)
        .map_err(ChartError::draw)?;
    let label = |x: &f64| round_label(series, *x);
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.0))
        .bold_line_style(GRID)
        .axis_style(MUTED)
        .x_labels(rounds.min(NAMED_ROUNDS.max(12)))
        .x_label_formatter(&label)
        .x_desc(if rounds > NAMED_ROUNDS {
            "round, in play order (maps: see the recap)"
        } else {
            "round, in play order"
        })
        .y_desc("kills")
        .label_style(font(16.0, TEXT))
        .axis_desc_style(font(16.0, MUTED))
        .draw()
        .map_err(ChartError::draw)?;
    for (i, (name, kills)) in series.players.iter().enumerate() {
        let colour = series_colour(i);
        let points: Vec<(f64, i64)> = kills
            .iter()
            .enumerate()
            .map(|(x, k)| (x as f64, *k))
            .collect();
        chart
            // A path, not plotters' LineSeries: that needs a feature the crate does not enable.
            .draw_series(std::iter::once(PathElement::new(
                points.clone(),
                colour.stroke_width(3),
            )))
            .map_err(ChartError::draw)?
            .label(crate::commands::text::clip(name, 18))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, colour.filled())),
            )
            .map_err(ChartError::draw)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(super::BACKGROUND.mix(0.85))
        .border_style(GRID)
        .label_font(font(16.0, TEXT))
        .draw()
        .map_err(ChartError::draw)
}

/// The label under tick `x`: the round's map when few rounds, else its number; nothing
/// between rounds.
fn round_label(series: &EveningSeries, x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 0.01 || i < 0.0 {
        return String::new();
    }
    let i = i as usize;
    match series.rounds.get(i) {
        Some(name) if series.rounds.len() <= NAMED_ROUNDS => {
            crate::commands::text::clip(name, LABEL_CHARS)
        }
        Some(_) => (i + 1).to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(rounds: usize, players: usize) -> EveningSeries {
        EveningSeries {
            rounds: (0..rounds).map(|i| format!("map{i}")).collect(),
            players: (0..players)
                .map(|p| {
                    let kills = (0..rounds).map(|r| ((r * 7 + p * 3) % 25) as i64).collect();
                    (format!("player {p}"), kills)
                })
                .collect(),
        }
    }

    #[test]
    fn draws_a_phone_sized_png_with_a_line_per_player() {
        let png = kills_per_round_png("eu-1 · 2025-11-21", &series(9, 5)).expect("render");
        let img = image::load_from_memory(&png).expect("decode").to_rgb8();
        assert_eq!(
            (img.width(), img.height()),
            (super::super::WIDTH, super::super::HEIGHT)
        );
        // Each series colour is drawn somewhere (lines, markers, legend).
        for i in 0..5 {
            let c = series_colour(i);
            assert!(
                img.pixels().any(|p| p.0 == [c.0, c.1, c.2]),
                "series {i} not drawn"
            );
        }
    }

    #[test]
    fn one_round_and_no_kills_still_draw() {
        let mut s = series(1, 1);
        s.players[0].1 = vec![0];
        kills_per_round_png("x", &s).expect("render");
    }

    #[test]
    fn labels_name_few_rounds_and_number_many() {
        let few = series(3, 1);
        assert_eq!(round_label(&few, 1.0), "map1");
        assert_eq!(round_label(&few, 1.5), "");
        let many = series(NAMED_ROUNDS + 1, 1);
        assert_eq!(round_label(&many, 2.0), "3");
        assert_eq!(round_label(&many, 20.0), "");
    }
}
