//! Presence and objective heatmaps (`kind presence` / `kind objectives`): the per-day 64-unit
//! cells of the fight tables (migration 0013), drawn by the kill heatmap's smoothing and
//! rendering. Presence weighs each cell by the seconds living players spent in it, objectives
//! by the plays made there. The kill path ([`super::pipeline`]) hands these kinds here.

use std::time::Instant;

use chrono::NaiveDate;
use sqlx::PgPool;

use super::binned::Binned;
use super::calibration::WorldBox;
use super::density::GridSpec;
use super::filter::{HeatmapFilter, ObjectiveAction, PositionKind, Team};
use super::pipeline::{checked_map, map_image, render_off_thread, HeatmapError, HeatmapOptions};
use super::render::Frame;
use super::summary::{self, BinSource, Calibration, HeatmapSummary};
use crate::clock::Clock;
use crate::db::fight_stats::{self, CellFilter};
use crate::db::heatmap::{RollupCount, FINE_CELL};
use crate::period::Period;

/// Renders a presence or objectives heatmap (`opts.filter.kind` is one of them).
pub async fn render_fight_png(
    pool: &PgPool,
    clock: &Clock,
    opts: &HeatmapOptions,
) -> Result<(Vec<u8>, HeatmapSummary), HeatmapError> {
    let started = Instant::now();
    let map = checked_map(opts)?;
    let table = match &opts.table {
        Some(t) => t.clone(),
        None => opts.assets.load_table()?,
    };
    let filter = &opts.filter;
    let action = match filter.kind {
        PositionKind::Objectives(action) => Some(action),
        _ => None,
    };
    let latest = match filter.period {
        Period::Session => fight_stats::latest_fight_day(pool, &map, action.is_some()).await?,
        _ => None,
    };
    let range = filter.period.resolve(clock.today(), latest);
    let no_session = filter.period == Period::Session && latest.is_none();
    let cells_filter = CellFilter {
        map: map.clone(),
        from: range.from,
        to: range.to,
        team: filter.team.map(|t: Team| t.db_name().to_owned()),
        player: filter.player.as_ref().map(|p| p.key.as_str().to_owned()),
        action: action.flatten().map(|a| a.db_name().to_owned()),
    };
    let cells = match (no_session, action) {
        (true, _) => Vec::new(),
        (false, Some(_)) => fight_stats::objective_cells(pool, &cells_filter).await?,
        (false, None) => fight_stats::presence_cells(pool, &cells_filter).await?,
    };
    let (world, calibration) = match table.get(&map) {
        Some(entry) => (entry.world_box()?, Calibration::Table),
        None => fitted_box(&cells)?,
    };
    let spec = GridSpec::for_output(world, opts.size);
    let mut binned = Binned::new(spec);
    binned.add_rollup(&cells, FINE_CELL);
    let total: i64 = cells.iter().map(|c| c.kills.max(0)).sum();
    let query_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut notes = Vec::new();
    if calibration != Calibration::Table {
        notes.push(summary::uncalibrated_note(&map));
    }
    let image_path = table.get(&map).and_then(|e| opts.assets.image_path(e));
    let background = map_image(image_path, opts.size, calibration, &map, &mut notes).await;
    if total == 0 {
        notes.push(nothing_note(&map, filter.kind, no_session));
    }
    let from = (!range.is_unbounded_below()).then_some(range.from);
    let to = (!range.is_unbounded_above()).then_some(range.to);
    let mut filters = summary::describe_filters(filter, from);
    filters.push(count_text(filter.kind, total));
    let frame = Frame {
        size: opts.size,
        world,
        background: background.clone(),
        title: format!("{map} · {}", kind_word(filter.kind)),
        filters: filters.clone(),
        kill_count: Frame::NO_COUNT,
        scale: opts.scale,
        notes: notes.clone(),
    };
    let summary = HeatmapSummary {
        map: map.clone(),
        kills: total.max(0) as u64,
        kills_outside: binned.outside,
        sources: if cells.is_empty() {
            Vec::new()
        } else {
            vec![BinSource::Cells64]
        },
        calibration,
        has_image: background.is_some(),
        from,
        to,
        title: map,
        filters,
        notes,
        reference: 0.0,
        png_bytes: 0,
        query_ms,
        render_ms: 0.0,
    };
    render_off_thread(binned, frame, opts, summary).await
}

/// The reply text of a fight heatmap: the map, then what was counted and the filters.
pub fn message(summary: &HeatmapSummary) -> String {
    let mut out = format!("**{}**: {}", summary.map, summary.filters.join(", "));
    for note in &summary.notes {
        out.push_str("\n- ");
        out.push_str(note);
    }
    out
}

/// The caption of an objectives heatmap limited to one action.
pub fn describe_objectives(
    action: ObjectiveAction,
    filter: &HeatmapFilter,
    from: Option<NaiveDate>,
) -> Vec<String> {
    let mut all = filter.clone();
    all.kind = PositionKind::Objectives(None);
    let mut lines = summary::describe_filters(&all, from);
    lines[0] = format!("where objective plays happened ({} only)", action.db_name());
    lines
}

fn kind_word(kind: PositionKind) -> &'static str {
    match kind {
        PositionKind::Presence => "presence",
        _ => "objectives",
    }
}

/// `12h 05m of presence` or `17 objective plays`.
fn count_text(kind: PositionKind, total: i64) -> String {
    match kind {
        PositionKind::Presence => {
            let (h, m) = (total / 3600, total / 60 % 60);
            if h > 0 {
                format!("{h}h {m:02}m of presence")
            } else {
                format!("{m}m {:02}s of presence", total % 60)
            }
        }
        _ if total == 1 => "1 objective play".into(),
        _ => format!("{total} objective plays"),
    }
}

fn nothing_note(map: &str, kind: PositionKind, no_session: bool) -> String {
    let what = match kind {
        PositionKind::Presence => "presence",
        _ => "objective plays",
    };
    if no_session {
        format!("no session with {what} on {map} yet")
    } else {
        format!("no {what} match these filters (only rounds recorded by tracker 1.2 have {what})")
    }
}

/// The box of the cells for a map without calibration, or a default square without cells.
fn fitted_box(cells: &[RollupCount]) -> Result<(WorldBox, Calibration), HeatmapError> {
    let mut bounds: Option<(f64, f64, f64, f64)> = None;
    for c in cells {
        let (x0, y0) = (
            f64::from(c.cell_x) * FINE_CELL,
            f64::from(c.cell_y) * FINE_CELL,
        );
        let (x1, y1) = (x0 + FINE_CELL, y0 + FINE_CELL);
        bounds = Some(match bounds {
            None => (x0, x1, y0, y1),
            Some((a, b, c, d)) => (a.min(x0), b.max(x1), c.min(y0), d.max(y1)),
        });
    }
    match bounds.and_then(|(a, b, c, d)| WorldBox::from_bounds(a, b, c, d)) {
        Some(world) => Ok((world, Calibration::KillBounds)),
        None => {
            let world = WorldBox::new([-4096.0, 4096.0], [4096.0, -4096.0])
                .map_err(HeatmapError::InvalidOption)?;
            Ok((world, Calibration::Missing))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_what_was_counted() {
        assert_eq!(
            count_text(PositionKind::Presence, 3725),
            "1h 02m of presence"
        );
        assert_eq!(count_text(PositionKind::Presence, 75), "1m 15s of presence");
        assert_eq!(
            count_text(PositionKind::Objectives(None), 1),
            "1 objective play"
        );
        assert_eq!(
            count_text(PositionKind::Objectives(None), 4),
            "4 objective plays"
        );
    }

    #[test]
    fn the_box_fits_the_cells() {
        let cells = [
            RollupCount {
                cell_x: -2,
                cell_y: 1,
                kills: 5,
            },
            RollupCount {
                cell_x: 3,
                cell_y: 4,
                kills: 1,
            },
        ];
        let (_, calibration) = fitted_box(&cells).expect("box");
        assert_eq!(calibration, Calibration::KillBounds);
        assert_eq!(fitted_box(&[]).expect("box").1, Calibration::Missing);
    }
}
