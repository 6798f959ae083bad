//! What a heatmap says besides the heat: the caption lines (filters and period), the notes
//! (warnings and hints drawn on the image and sent with it) and the summary returned to the
//! front ends.

use chrono::NaiveDate;

use super::binned::Binned;
use super::filter::{HeatmapFilter, PositionKind};
use super::plan::{Archived, Plan};
use super::render;
use crate::period::Period;

/// Where the map box came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calibration {
    /// `mapcoordsmins`/`mapcoordsmaxs` from the calibration table.
    Table,
    /// No calibration: the bounding box of the kills.
    KillBounds,
    /// No calibration and no kills: nothing to fit.
    Missing,
}

/// Which data the counts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinSource {
    /// Individual kills in `kill_context`, binned at the output grid.
    Raw,
    /// `kill_heatmap_fine`: 64-unit cells per day.
    Fine64,
    /// `kill_heatmap_fine_total`: 64-unit cells summed over every rolled-up day.
    Fine64AllTime,
    /// `kill_heatmap_cells`: 64-unit cells per day, player, weapon and engagement.
    Cells64,
    /// `kill_heatmap_cube_total`: 64-unit cells by weapon and engagement, all time.
    Cube64AllTime,
    /// `kill_heatmap` 512-unit rollup (archived days, no finer rollup).
    Coarse512,
}

/// What was drawn, for the reply text and logs.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapSummary {
    pub map: String,
    /// Kills drawn (inside the map box).
    pub kills: u64,
    /// Kills that matched but lie outside the map box.
    pub kills_outside: u64,
    pub sources: Vec<BinSource>,
    pub calibration: Calibration,
    pub has_image: bool,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub title: String,
    pub filters: Vec<String>,
    /// Warnings and hints, also drawn on the image.
    pub notes: Vec<String>,
    /// Density drawn at full colour.
    pub reference: f32,
    pub png_bytes: usize,
    pub query_ms: f64,
    pub render_ms: f64,
}

impl HeatmapSummary {
    /// The reply text that goes with the image.
    pub fn message(&self) -> String {
        let mut out = format!(
            "**{}**: {} ({})",
            self.map,
            render::kill_count_text(self.kills),
            self.filters.join(", ")
        );
        for note in &self.notes {
            out.push_str("\n- ");
            out.push_str(note);
        }
        out
    }
}

/// The caption under the title: whose positions, then the period and every filter.
pub fn describe_filters(filter: &HeatmapFilter, from: Option<NaiveDate>) -> Vec<String> {
    let kind = match filter.kind {
        PositionKind::Kills => "where kills were made (killer positions)",
        PositionKind::Deaths => "where players died (victim positions)",
        PositionKind::Presence => "where living players stood (seconds per spot)",
        PositionKind::Objectives(None) => "where objective plays happened",
        PositionKind::Objectives(Some(a)) => {
            return super::fight::describe_objectives(a, filter, from);
        }
    };
    let mut line = period_caption(filter.period, from);
    if let Some(t) = filter.team {
        line.push_str(&format!(" · team {}", t.db_name().to_ascii_lowercase()));
    }
    if let Some(p) = &filter.player {
        line.push_str(&format!(" · player {}", p.label));
    }
    if let Some(w) = &filter.weapon {
        line.push_str(&format!(" · weapon {}", w.label));
    }
    if let Some(e) = &filter.engagement {
        line.push_str(&format!(" · engagement {e}"));
    }
    vec![kind.to_string(), line]
}

/// "session 2026-11-20", "last 7 days (since 2026-11-14)", or the period in words.
fn period_caption(period: Period, from: Option<NaiveDate>) -> String {
    match (period, from) {
        (Period::Session, Some(day)) => format!("session {day}"),
        (Period::LastDays(_), Some(since)) => format!("{} (since {since})", period.describe()),
        _ => period.describe(),
    }
}

/// The note for a map without calibration (its box is fitted to the kills).
pub fn uncalibrated_note(map: &str) -> String {
    format!(
        "{map} is not calibrated: the box is fitted to the kills. \
         Run `etprox maps import <etmain folder or .pk3>` to calibrate it."
    )
}

/// Notes about the data drawn: archived days, blurry rollups, kills off the map, nothing found.
pub fn data_notes(
    map: &str,
    plan: &Plan,
    sources: &[BinSource],
    binned: &Binned,
    no_session: bool,
) -> Vec<String> {
    let mut notes = Vec::new();
    match plan.archived {
        Some(Archived::Before(day)) => notes.push(format!(
            "kills before {day} are archived: player, weapon and engagement filters cover only later days"
        )),
        Some(Archived::All) => notes.push(
            "kills on this map were archived before player, weapon and engagement filters could be kept: none shown".into(),
        ),
        None => {}
    }
    if sources.contains(&BinSource::Coarse512) {
        notes.push("archived days come from 512-unit cells and look blurrier".into());
    }
    if binned.outside > 0 {
        notes.push(format!(
            "{} outside the map box not shown",
            render::kill_count_text(binned.outside)
        ));
    }
    if binned.inside.round() as u64 == 0 {
        notes.push(if no_session {
            format!("no session with kills on {map} yet")
        } else {
            "no kills match these filters".to_string()
        });
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn captions_name_the_period_as_before() {
        let mut f = HeatmapFilter::new("goldrush");
        f.period = Period::Session;
        let lines = describe_filters(&f, Some(d("2026-11-20")));
        assert_eq!(lines[1], "session 2026-11-20");
        assert_eq!(describe_filters(&f, None)[1], "latest session");
        f.period = Period::WEEK;
        f.team = Some(super::super::filter::Team::Axis);
        assert_eq!(
            describe_filters(&f, Some(d("2026-11-14")))[1],
            "last 7 days (since 2026-11-14) · team axis"
        );
        f.period = Period::All;
        f.kind = PositionKind::Kills;
        let lines = describe_filters(&f, None);
        assert_eq!(lines[0], "where kills were made (killer positions)");
        assert!(lines[1].starts_with("all time"), "{lines:?}");
    }

    #[test]
    fn empty_result_message_says_so() {
        let summary = HeatmapSummary {
            map: "goldrush".into(),
            kills: 0,
            kills_outside: 0,
            sources: vec![],
            calibration: Calibration::Table,
            has_image: false,
            from: None,
            to: None,
            title: "goldrush".into(),
            filters: vec!["all time".into()],
            notes: vec!["no kills match these filters".into()],
            reference: 0.0,
            png_bytes: 0,
            query_ms: 0.0,
            render_ms: 0.0,
        };
        assert_eq!(
            summary.message(),
            "**goldrush**: no kills (all time)\n- no kills match these filters"
        );
    }
}
