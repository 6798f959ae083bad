//! The whole heatmap path for one request: resolve the filter, pick the data sources,
//! bin in SQL, smooth, normalise, render. Transport-free: the CLI writes the bytes to a
//! file, the bot attaches them to a reply.

use std::time::Instant;

use chrono::{Days, NaiveDate, Utc};
use sqlx::PgPool;
use tracing::instrument;

use super::calibration::{CalibrationError, CalibrationTable, MapAssets, WorldBox};
use super::density::{normalise, DensityGrid, GridSpec, Scale};
use super::query::{
    self, CellCount, HeatmapFilter, Period, PositionKind, ResolvedFilter, RollupCount, COARSE_CELL,
    FINE_CELL,
};
use super::render::{self, Frame, HeatLayer, RenderError};

#[derive(Debug, thiserror::Error)]
pub enum HeatmapError {
    #[error("database error while building the heatmap: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("no player matches `{0}`: give a GUID or a name the bot has seen")]
    UnknownPlayer(String),
    #[error("{0}")]
    InvalidOption(String),
}

/// How to draw one heatmap.
#[derive(Debug, Clone)]
pub struct HeatmapOptions {
    pub filter: HeatmapFilter,
    /// Output width and height in pixels (64 to 4096).
    pub size: u32,
    pub scale: Scale,
    /// Standard deviation of the smoothing kernel in world units. Small enough that a
    /// doorway and the corridor behind it stay apart.
    pub smoothing: f64,
    /// Percentile of non-empty cells drawn at full colour.
    pub percentile: f64,
    pub assets: MapAssets,
    /// Calibration table to use; None loads `assets.table_path` (or the built-in table).
    pub table: Option<CalibrationTable>,
}

impl HeatmapOptions {
    pub const DEFAULT_SMOOTHING: f64 = 80.0;

    pub fn new(filter: HeatmapFilter) -> Self {
        Self {
            filter,
            size: 1024,
            scale: Scale::Linear,
            smoothing: Self::DEFAULT_SMOOTHING,
            percentile: 99.0,
            assets: MapAssets::default(),
            table: None,
        }
    }
}

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
    /// `kill_heatmap_fine` 64-unit rollup (archived days).
    Fine64,
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
    frame.reference = reference;
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

/// Which days come from raw kills and which from rollups.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    raw: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    rollup: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Days before this were archived and cannot be answered (raw-only filters).
    archived_before: Option<NaiveDate>,
}

fn plan_sources(filter: &ResolvedFilter, needs_raw: bool, first_raw: Option<NaiveDate>) -> Plan {
    let (from, to) = (filter.from, filter.to);
    let Some(first_raw) = first_raw else {
        // Every raw kill of this map is archived (or none was ever imported).
        return if needs_raw {
            Plan {
                raw: Some((from, to)),
                rollup: None,
                archived_before: None,
            }
        } else {
            Plan {
                raw: None,
                rollup: Some((from, to)),
                archived_before: None,
            }
        };
    };
    let starts_before_raw = from.map_or(true, |f| f < first_raw);
    let ends_before_raw = to.is_some_and(|t| t < first_raw);
    let day_before = first_raw.checked_sub_days(Days::new(1));
    if ends_before_raw {
        return if needs_raw {
            Plan {
                raw: Some((from, to)),
                rollup: None,
                archived_before: Some(first_raw),
            }
        } else {
            Plan {
                raw: None,
                rollup: Some((from, to)),
                archived_before: None,
            }
        };
    }
    let raw_from = if starts_before_raw {
        Some(first_raw)
    } else {
        from
    };
    Plan {
        raw: Some((raw_from, to)),
        rollup: (starts_before_raw && !needs_raw).then_some((from, day_before)),
        archived_before: (starts_before_raw && needs_raw).then_some(first_raw),
    }
}

fn period_dates(
    period: Period,
    latest: Option<NaiveDate>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    match period {
        Period::All => (None, None),
        Period::LatestSession => (latest, latest),
        Period::LastDays(n) => {
            let today = Utc::now().date_naive();
            (
                today.checked_sub_days(Days::new(u64::from(n.max(1)) - 1)),
                None,
            )
        }
        Period::Range(a, b) => (Some(a), Some(b)),
    }
}

fn describe_filters(filter: &HeatmapFilter, resolved: &ResolvedFilter) -> Vec<String> {
    let mut parts = vec![match filter.kind {
        PositionKind::Kills => "where kills were made (killer positions)".to_string(),
        PositionKind::Deaths => "where players died (victim positions)".to_string(),
    }];
    let mut line = match (filter.period, resolved.from, resolved.to) {
        (Period::LatestSession, Some(d), _) => format!("session {d}"),
        (Period::LastDays(_), Some(f), _) => format!("{} (since {f})", filter.period),
        (p, _, _) => p.to_string(),
    };
    if let Some(t) = filter.team {
        line.push_str(&format!(" · team {}", t.db_name().to_ascii_lowercase()));
    }
    if let Some(p) = &filter.player {
        line.push_str(&format!(" · player {p}"));
    }
    if let Some(w) = &filter.weapon {
        line.push_str(&format!(" · weapon {}", w.label));
    }
    if let Some(e) = &filter.engagement {
        line.push_str(&format!(" · engagement {e}"));
    }
    parts.push(line);
    parts
}

/// Renders the heatmap for `opts` from the database: the same code for the CLI and the bot.
#[instrument(skip_all, fields(map = %opts.filter.map, size = opts.size))]
pub async fn render_heatmap_png(
    pool: &PgPool,
    opts: &HeatmapOptions,
) -> Result<(Vec<u8>, HeatmapSummary), HeatmapError> {
    let started = Instant::now();
    let filter = &opts.filter;
    let map = filter.map.trim().to_ascii_lowercase();
    if map.is_empty() || map.len() > 64 {
        return Err(HeatmapError::InvalidOption(
            "give a map name, e.g. goldrush".into(),
        ));
    }
    if !(64..=4096).contains(&opts.size) {
        return Err(HeatmapError::InvalidOption(format!(
            "size {} is out of range: use 64 to 4096 pixels",
            opts.size
        )));
    }
    let table = match &opts.table {
        Some(t) => t.clone(),
        None => CalibrationTable::load_or_builtin(&opts.assets.table_path)?,
    };
    let player_guid = match &filter.player {
        Some(p) => Some(
            query::resolve_player(pool, p)
                .await?
                .ok_or_else(|| HeatmapError::UnknownPlayer(p.clone()))?,
        ),
        None => None,
    };
    let latest = match filter.period {
        Period::LatestSession => query::latest_session(pool, &map).await?,
        _ => None,
    };
    let (from, to) = period_dates(filter.period, latest);
    let resolved = ResolvedFilter {
        map: map.clone(),
        player_guid,
        team: filter.team,
        kind: filter.kind,
        mods: filter.weapon.as_ref().map(|w| w.mods.clone()),
        engagement: filter.engagement.clone(),
        from,
        to,
    };
    let first_raw = query::first_raw_day(pool, &map).await?;
    let plan = plan_sources(&resolved, filter.needs_raw_rows(), first_raw);
    let mut notes = Vec::new();
    let no_session = filter.period == Period::LatestSession && latest.is_none();

    // Rollup cells do not depend on the grid, so fetch them first: an uncalibrated
    // map needs them for its box.
    let mut rollup: Option<(Vec<RollupCount>, f64, BinSource)> = None;
    if let (Some((rf, rt)), false) = (plan.rollup, no_session) {
        let fine = query::fine_bins(pool, &resolved, rf, rt).await?;
        rollup = if !fine.is_empty() {
            Some((fine, FINE_CELL, BinSource::Fine64))
        } else {
            let coarse = query::coarse_bins(pool, &resolved, rf, rt).await?;
            (!coarse.is_empty()).then_some((coarse, COARSE_CELL, BinSource::Coarse512))
        };
    }
    let raw_filter = plan.raw.map(|(rf, rt)| ResolvedFilter {
        from: rf,
        to: rt,
        ..resolved.clone()
    });

    let (world, calibration) = match table.get(&map) {
        Some(entry) => (Some(entry.world_box()?), Calibration::Table),
        None => {
            let mut bounds: Option<(f64, f64, f64, f64)> = None;
            if let (Some(rf), false) = (&raw_filter, no_session) {
                bounds = query::raw_bounds(pool, rf).await?;
            }
            if let Some((cells, size, _)) = &rollup {
                for c in cells {
                    let (x0, y0) = (f64::from(c.cell_x) * size, f64::from(c.cell_y) * size);
                    let b = bounds.unwrap_or((x0, x0 + size, y0, y0 + size));
                    bounds = Some((
                        b.0.min(x0),
                        b.1.max(x0 + size),
                        b.2.min(y0),
                        b.3.max(y0 + size),
                    ));
                }
            }
            match bounds.and_then(|(a, b, c, d)| WorldBox::from_bounds(a, b, c, d)) {
                Some(w) => (Some(w), Calibration::KillBounds),
                None => (None, Calibration::Missing),
            }
        }
    };
    // A map we know nothing about and have no kills for still gets an image.
    let world = match world {
        Some(w) => w,
        None => WorldBox::new([-4096.0, 4096.0], [4096.0, -4096.0])
            .map_err(HeatmapError::InvalidOption)?,
    };
    let spec = GridSpec::for_output(world, opts.size);
    let mut binned = Binned::new(spec);
    let mut sources = Vec::new();
    if let (Some(rf), false) = (&raw_filter, no_session) {
        let cells = query::raw_bins(pool, rf, &spec).await?;
        if !cells.is_empty() {
            sources.push(BinSource::Raw);
        }
        binned.add_cells(&cells);
    }
    if let Some((cells, size, source)) = &rollup {
        binned.add_rollup(cells, *size);
        sources.push(*source);
    }
    let query_ms = started.elapsed().as_secs_f64() * 1e3;

    match calibration {
        Calibration::Table => {}
        Calibration::KillBounds | Calibration::Missing => notes.push(format!(
            "{map} is not calibrated: the box is fitted to the kills. \
             Run `etprox maps import <etmain folder or .pk3>` to calibrate it."
        )),
    }
    let background = match table.get(&map).and_then(|e| opts.assets.image_path(e)) {
        Some(path) => match render::load_background(&path, opts.size) {
            Ok(img) => Some(img),
            Err(e) => {
                tracing::warn!(error = %e, "map image unreadable, drawing the grid instead");
                notes.push(format!(
                    "map image unreadable ({e}); showing the world grid"
                ));
                None
            }
        },
        None => {
            if calibration == Calibration::Table {
                notes.push(format!(
                    "no command-map image for {map}: `etprox maps import <pk3 with levelshots/{map}_cc.tga>` adds it"
                ));
            }
            None
        }
    };
    if let Some(day) = plan.archived_before {
        notes.push(format!(
            "kills before {day} are archived: player, weapon and engagement filters cover only later days"
        ));
    }
    if sources.contains(&BinSource::Coarse512) {
        notes.push("archived days come from 512-unit cells and look blurrier".into());
    }
    let kills = binned.inside.round() as u64;
    if binned.outside > 0 {
        notes.push(format!(
            "{} outside the map box not shown",
            render::kill_count_text(binned.outside)
        ));
    }
    if kills == 0 {
        notes.push(if no_session {
            format!("no session with kills on {map} yet")
        } else {
            "no kills match these filters".to_string()
        });
    }
    let filters = describe_filters(filter, &resolved);
    let title = map.clone();
    let frame = Frame {
        size: opts.size,
        world,
        background: background.clone(),
        title: title.clone(),
        filters: filters.clone(),
        kill_count: kills,
        reference: 0.0,
        scale: opts.scale,
        notes: notes.clone(),
    };
    let render_started = Instant::now();
    let (png, reference) =
        render_bins(&binned, frame, opts.smoothing, opts.percentile, opts.scale)?;
    let render_ms = render_started.elapsed().as_secs_f64() * 1e3;
    tracing::info!(
        kills,
        query_ms,
        render_ms,
        bytes = png.len(),
        "heatmap rendered"
    );
    let summary = HeatmapSummary {
        map,
        kills,
        kills_outside: binned.outside,
        sources,
        calibration,
        has_image: background.is_some(),
        from: resolved.from,
        to: resolved.to,
        title,
        filters,
        notes,
        reference,
        png_bytes: png.len(),
        query_ms,
        render_ms,
    };
    Ok((png, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn filter(from: Option<NaiveDate>, to: Option<NaiveDate>) -> ResolvedFilter {
        ResolvedFilter {
            map: "goldrush".into(),
            player_guid: None,
            team: None,
            kind: PositionKind::Deaths,
            mods: None,
            engagement: None,
            from,
            to,
        }
    }

    #[test]
    fn all_time_splits_into_rollup_then_raw() {
        let plan = plan_sources(&filter(None, None), false, Some(d("2026-10-01")));
        assert_eq!(plan.raw, Some((Some(d("2026-10-01")), None)));
        assert_eq!(plan.rollup, Some((None, Some(d("2026-09-30")))));
        assert_eq!(plan.archived_before, None);
    }

    #[test]
    fn raw_only_filters_report_archived_days() {
        let plan = plan_sources(&filter(None, None), true, Some(d("2026-10-01")));
        assert_eq!(plan.rollup, None);
        assert_eq!(plan.archived_before, Some(d("2026-10-01")));
    }

    #[test]
    fn recent_period_uses_raw_only() {
        let plan = plan_sources(
            &filter(Some(d("2026-11-01")), None),
            false,
            Some(d("2026-10-01")),
        );
        assert_eq!(plan.raw, Some((Some(d("2026-11-01")), None)));
        assert_eq!(plan.rollup, None);
    }

    #[test]
    fn fully_archived_map_uses_rollup() {
        let plan = plan_sources(&filter(None, None), false, None);
        assert_eq!(plan.raw, None);
        assert_eq!(plan.rollup, Some((None, None)));
        let old = plan_sources(
            &filter(Some(d("2026-01-01")), Some(d("2026-01-31"))),
            false,
            Some(d("2026-10-01")),
        );
        assert_eq!(old.raw, None);
        assert_eq!(
            old.rollup,
            Some((Some(d("2026-01-01")), Some(d("2026-01-31"))))
        );
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
