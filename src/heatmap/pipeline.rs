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
    /// Count raw `kill_context` rows even where the 64-unit rollup could answer (slower
    /// on big maps; for comparisons and benches).
    pub raw_only: bool,
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
            raw_only: false,
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
    /// `kill_heatmap_fine`: 64-unit cells per day.
    Fine64,
    /// `kill_heatmap_fine_total`: 64-unit cells summed over every rolled-up day.
    Fine64AllTime,
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

type DateRange = (Option<NaiveDate>, Option<NaiveDate>);

/// Which days come from which table. Ranges are inclusive; None is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Plan {
    raw: Option<DateRange>,
    fine: Option<DateRange>,
    /// The fine segment covers every rolled-up day: read the all-time table instead.
    fine_all_time: bool,
    coarse: Option<DateRange>,
    /// Days before this were archived and cannot be answered (raw-only filters).
    archived_before: Option<NaiveDate>,
}

/// What the database holds for a map: first raw day, and the span of the 64-unit rollup.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Coverage {
    first_raw: Option<NaiveDate>,
    /// Days in the per-day 64-unit rollup (the archived days).
    fine: Option<(NaiveDate, NaiveDate)>,
    /// The all-time 64-unit rollup has cells for the map (it holds every rolled-up round).
    total: bool,
}

fn day_before(d: NaiveDate) -> Option<NaiveDate> {
    d.checked_sub_days(Days::new(1))
}

fn day_after(d: NaiveDate) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(1))
}

/// The part of `range` from `start` on (inclusive), or None when nothing is left.
fn clip_from((from, to): DateRange, start: Option<NaiveDate>) -> Option<DateRange> {
    let from = match (from, start) {
        (Some(f), Some(s)) => Some(f.max(s)),
        (f, s) => f.or(s),
    };
    match (from, to) {
        (Some(f), Some(t)) if f > t => None,
        r => Some(r),
    }
}

/// The part of `range` up to `end` (inclusive), or None when nothing is left.
fn clip_to((from, to): DateRange, end: Option<NaiveDate>) -> Option<DateRange> {
    let to = match (to, end) {
        (Some(t), Some(e)) => Some(t.min(e)),
        (t, e) => t.or(e),
    };
    match (from, to) {
        (Some(f), Some(t)) if f > t => None,
        r => Some(r),
    }
}

/// Splits the requested days between the tables so that no day is counted twice:
/// filters the rollups can answer use `kill_heatmap_fine` for the days it covers (a few
/// thousand rows instead of every kill), raw kills for later days not rolled up yet,
/// and `kill_heatmap` for days archived before the fine rollup existed. Player, weapon
/// and engagement filters need raw kills for every day.
fn plan_sources(range: DateRange, needs_raw: bool, cov: Coverage) -> Plan {
    if needs_raw {
        let archived_before = cov
            .first_raw
            .filter(|first| range.0.map_or(true, |f| f < *first));
        return Plan {
            raw: Some(range),
            archived_before,
            ..Plan::default()
        };
    }
    if cov.total && range == (None, None) {
        return Plan {
            fine: Some(range),
            fine_all_time: true,
            ..Plan::default()
        };
    }
    match cov.fine {
        Some((f0, f1)) => Plan {
            coarse: day_before(f0).and_then(|end| clip_to(range, Some(end))),
            fine: clip_from(range, Some(f0)).and_then(|r| clip_to(r, Some(f1))),
            fine_all_time: false,
            raw: day_after(f1).and_then(|start| clip_from(range, Some(start))),
            archived_before: None,
        },
        None => match cov.first_raw {
            None => Plan {
                coarse: Some(range),
                ..Plan::default()
            },
            Some(first) => Plan {
                coarse: day_before(first).and_then(|end| clip_to(range, Some(end))),
                raw: clip_from(range, Some(first)),
                ..Plan::default()
            },
        },
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
    // Rounds committed since the last roll-up go into the rollups first (cheap when none).
    query::roll_up_pending(pool).await?;
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
    let coverage = Coverage {
        first_raw: query::first_raw_day(pool, &map).await?,
        fine: query::fine_rollup_span(pool, &map).await?,
        total: query::has_fine_total(pool, &map).await?,
    };
    let needs_raw = filter.needs_raw_rows() || opts.raw_only;
    let plan = plan_sources((from, to), needs_raw, coverage);
    let mut notes = Vec::new();
    let no_session = filter.period == Period::LatestSession && latest.is_none();

    // Rollup cells do not depend on the grid, so fetch them first: an uncalibrated
    // map needs them for its box.
    let mut rollups: Vec<(Vec<RollupCount>, f64, BinSource)> = Vec::new();
    if !no_session {
        if let Some((rf, rt)) = plan.fine {
            if plan.fine_all_time {
                let cells = query::fine_total_bins(pool, &resolved).await?;
                rollups.push((cells, FINE_CELL, BinSource::Fine64AllTime));
            } else {
                let cells = query::fine_bins(pool, &resolved, rf, rt).await?;
                rollups.push((cells, FINE_CELL, BinSource::Fine64));
            }
        }
        if let Some((rf, rt)) = plan.coarse {
            let cells = query::coarse_bins(pool, &resolved, rf, rt).await?;
            rollups.push((cells, COARSE_CELL, BinSource::Coarse512));
        }
    }
    rollups.retain(|(cells, _, _)| !cells.is_empty());
    let raw_filter = plan
        .raw
        .filter(|_| !no_session)
        .map(|(rf, rt)| ResolvedFilter {
            from: rf,
            to: rt,
            ..resolved.clone()
        });

    let (world, calibration) = match table.get(&map) {
        Some(entry) => (Some(entry.world_box()?), Calibration::Table),
        None => {
            let mut bounds: Option<(f64, f64, f64, f64)> = None;
            if let Some(rf) = &raw_filter {
                bounds = query::raw_bounds(pool, rf).await?;
            }
            for (cells, size, _) in &rollups {
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
    if let Some(rf) = &raw_filter {
        let cells = query::raw_bins(pool, rf, &spec).await?;
        if !cells.is_empty() {
            sources.push(BinSource::Raw);
        }
        binned.add_cells(&cells);
    }
    for (cells, size, source) in &rollups {
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
        // Decoding and scaling the image is CPU work: keep it off the async workers.
        Some(path) => match tokio::task::spawn_blocking({
            let size = opts.size;
            move || render::load_background(&path, size)
        })
        .await
        .map_err(|e| RenderError::Draw(format!("image task failed: {e}")))
        .and_then(|r| r)
        {
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
        scale: opts.scale,
        notes: notes.clone(),
    };
    let render_started = Instant::now();
    let kills_outside = binned.outside;
    let (smoothing, percentile, scale) = (opts.smoothing, opts.percentile, opts.scale);
    // Smoothing, drawing and PNG encoding take ~10–20 ms of CPU: run them on the
    // blocking pool so a bot's other commands are not held up.
    let (png, reference) = tokio::task::spawn_blocking(move || {
        render_bins(&binned, frame, smoothing, percentile, scale)
    })
    .await
    .map_err(|e| RenderError::Draw(format!("render task failed: {e}")))??;
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
        kills_outside,
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

    fn cov(first_raw: Option<&str>, fine: Option<(&str, &str)>) -> Coverage {
        Coverage {
            first_raw: first_raw.map(d),
            fine: fine.map(|(a, b)| (d(a), d(b))),
            total: false,
        }
    }

    #[test]
    fn all_time_with_the_total_rollup_reads_only_it() {
        let mut c = cov(Some("2026-10-01"), Some(("2026-03-01", "2026-09-30")));
        c.total = true;
        let plan = plan_sources((None, None), false, c);
        assert_eq!(plan.fine, Some((None, None)));
        assert!(plan.fine_all_time);
        assert_eq!((plan.raw, plan.coarse), (None, None));
        // A bounded period does not use the all-time table.
        let week = plan_sources((Some(d("2026-11-01")), None), false, c);
        assert!(!week.fine_all_time);
        assert_eq!(week.raw, Some((Some(d("2026-11-01")), None)));
    }

    #[test]
    fn all_time_uses_coarse_then_fine_then_raw_without_overlap() {
        let plan = plan_sources(
            (None, None),
            false,
            cov(Some("2026-10-01"), Some(("2026-03-01", "2026-11-19"))),
        );
        assert_eq!(plan.coarse, Some((None, Some(d("2026-02-28")))));
        assert_eq!(
            plan.fine,
            Some((Some(d("2026-03-01")), Some(d("2026-11-19"))))
        );
        assert_eq!(plan.raw, Some((Some(d("2026-11-20")), None)));
        assert_eq!(plan.archived_before, None);
    }

    #[test]
    fn without_fine_rollup_archived_days_come_from_coarse() {
        let plan = plan_sources((None, None), false, cov(Some("2026-10-01"), None));
        assert_eq!(plan.coarse, Some((None, Some(d("2026-09-30")))));
        assert_eq!(plan.raw, Some((Some(d("2026-10-01")), None)));
        assert_eq!(plan.fine, None);
        let none = plan_sources((None, None), false, cov(None, None));
        assert_eq!(none.coarse, Some((None, None)));
        assert_eq!(none.raw, None);
    }

    #[test]
    fn raw_only_filters_report_archived_days() {
        let plan = plan_sources(
            (None, None),
            true,
            cov(Some("2026-10-01"), Some(("2026-01-01", "2026-11-20"))),
        );
        assert_eq!(plan.raw, Some((None, None)));
        assert_eq!((plan.fine, plan.coarse), (None, None));
        assert_eq!(plan.archived_before, Some(d("2026-10-01")));
        let recent = plan_sources(
            (Some(d("2026-11-01")), None),
            true,
            cov(Some("2026-10-01"), None),
        );
        assert_eq!(recent.archived_before, None);
    }

    #[test]
    fn period_inside_the_rollup_uses_it_alone() {
        let plan = plan_sources(
            (Some(d("2026-11-01")), Some(d("2026-11-07"))),
            false,
            cov(Some("2026-10-01"), Some(("2026-01-01", "2026-11-20"))),
        );
        assert_eq!(
            plan.fine,
            Some((Some(d("2026-11-01")), Some(d("2026-11-07"))))
        );
        assert_eq!((plan.raw, plan.coarse), (None, None));
    }

    #[test]
    fn days_not_rolled_up_yet_come_from_raw() {
        // Importer not writing the rollup: everything after its last day is raw.
        let plan = plan_sources(
            (Some(d("2026-11-15")), None),
            false,
            cov(Some("2026-10-01"), Some(("2026-10-01", "2026-11-10"))),
        );
        assert_eq!(plan.fine, None);
        assert_eq!(plan.coarse, None);
        assert_eq!(plan.raw, Some((Some(d("2026-11-15")), None)));
    }

    proptest::proptest! {
        /// Every requested day is read from exactly one table.
        #[test]
        fn plans_cover_each_day_once(
            from in proptest::option::of(0u64..60), len in 0u64..60, open_end: bool,
            first_raw in proptest::option::of(0u64..60),
            fine in proptest::option::of((0u64..60, 0u64..30)),
            total: bool,
        ) {
            let base = d("2026-01-01");
            let day = |n: u64| base.checked_add_days(Days::new(n)).expect("day");
            let range = (from.map(day), if open_end { None } else { Some(day(from.unwrap_or(0) + len)) });
            let coverage = Coverage { first_raw: first_raw.map(day), fine: fine.map(|(a, l)| (day(a), day(a + l))), total };
            let plan = plan_sources(range, false, coverage);
            let inside = |r: Option<DateRange>, x: NaiveDate| {
                r.is_some_and(|(f, t)| f.map_or(true, |f| f <= x) && t.map_or(true, |t| x <= t))
            };
            for n in 0..130 {
                let x = day(n);
                let wanted = inside(Some(range), x);
                let hits = [plan.raw, plan.fine, plan.coarse].iter().filter(|r| inside(**r, x)).count();
                proptest::prop_assert_eq!(hits, usize::from(wanted), "day {} plan {:?}", x, plan);
            }
        }
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
