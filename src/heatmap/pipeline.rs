//! The whole heatmap path for one request: check the options, resolve the period with the
//! clock, pick the data sources, bin in SQL, fit the map box, load the map image, render.
//! Transport-free: the CLI writes the bytes to a file, the bot attaches them to a reply.

use std::sync::Arc;
use std::time::Instant;

use image::RgbImage;
use sqlx::PgPool;
use tracing::instrument;

use super::binned::{render_bins, Binned};
use super::calibration::{CalibrationError, CalibrationTable, WorldBox};
use super::density::{GridSpec, Scale};
use super::filter::{HeatmapFilter, PositionKind, Team};
use super::plan::{plan_sources, Coverage, Need, Plan, Total};
use super::render::{self, Frame, RenderError};
use super::summary::{self, BinSource, Calibration, HeatmapSummary};
use crate::assets::Assets;
use crate::clock::Clock;
use crate::db::heatmap::{self as db, GridOrigin, KillFilter, RollupCount, COARSE_CELL, FINE_CELL};
use crate::period::Period;
use crate::players::LookupError;

#[derive(Debug, thiserror::Error)]
pub enum HeatmapError {
    #[error("database error while building the heatmap: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The player a person typed names nobody, or several players.
    #[error("{}", super::filter::lookup_message(.0))]
    Player(LookupError),
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
    /// Where the calibration table and map images are.
    pub assets: Assets,
    /// Calibration table to use; None loads the one in `assets` (or the built-in table).
    pub table: Option<CalibrationTable>,
    /// Count raw `kill_context` rows for every day instead of the rollups (slower on big
    /// maps, blind to archived days; for comparisons and benches).
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
            assets: Assets::default(),
            table: None,
            raw_only: false,
        }
    }
}

/// The request with its days resolved and the SQL filter built.
struct Request {
    map: String,
    kills: KillFilter,
    /// `session` asked for and the map has no session with kills: nothing to read.
    no_session: bool,
}

/// Rollup cells fetched for one source.
struct Rollup {
    cells: Vec<RollupCount>,
    cell: f64,
    source: BinSource,
}

/// Renders the heatmap for `opts` from the database: the same code for the CLI and the bot.
/// `clock` says which session day today is (for `7d` and the like).
#[instrument(skip_all, fields(map = %opts.filter.map, size = opts.size))]
pub async fn render_heatmap_png(
    pool: &PgPool,
    clock: &Clock,
    opts: &HeatmapOptions,
) -> Result<(Vec<u8>, HeatmapSummary), HeatmapError> {
    // Presence and objective plays come from the fight tables: their own path.
    if opts.filter.kind.is_fight() {
        return super::fight::render_fight_png(pool, clock, opts).await;
    }
    let started = Instant::now();
    let map = checked_map(opts)?;
    let table = match &opts.table {
        Some(t) => t.clone(),
        None => opts.assets.load_table()?,
    };
    // Rounds committed since the last roll-up go into the rollups first (cheap when none).
    db::roll_up_pending(pool).await?;
    let request = resolve_request(pool, clock, &map, &opts.filter).await?;
    let plan = plan_for(pool, &request, opts).await?;
    // Rollup cells do not depend on the grid, so fetch them first: an uncalibrated map
    // needs them for its box.
    let rollups = fetch_rollups(pool, &request, &opts.filter, &plan).await?;
    let raw = raw_filter(&request, &plan);
    let (world, calibration) = world_box(pool, &table, &map, raw.as_ref(), &rollups).await?;
    let spec = GridSpec::for_output(world, opts.size);
    let (binned, sources) = bin(pool, spec, raw.as_ref(), &rollups).await?;
    let query_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut notes = Vec::new();
    if calibration != Calibration::Table {
        notes.push(summary::uncalibrated_note(&map));
    }
    let image_path = table.get(&map).and_then(|e| opts.assets.image_path(e));
    let background = map_image(image_path, opts.size, calibration, &map, &mut notes).await;
    notes.extend(summary::data_notes(
        &map,
        &plan,
        &sources,
        &binned,
        request.no_session,
    ));
    let filters = summary::describe_filters(&opts.filter, request.kills.from);
    let frame = Frame {
        size: opts.size,
        world,
        background: background.clone(),
        title: map.clone(),
        filters: filters.clone(),
        kill_count: binned.inside.round() as u64,
        scale: opts.scale,
        notes: notes.clone(),
    };
    let summary = HeatmapSummary {
        map: map.clone(),
        kills: binned.inside.round() as u64,
        kills_outside: binned.outside,
        sources,
        calibration,
        has_image: background.is_some(),
        from: request.kills.from,
        to: request.kills.to,
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

/// The map name, lower-case, after checking it and the size.
pub(super) fn checked_map(opts: &HeatmapOptions) -> Result<String, HeatmapError> {
    let map = opts.filter.map.trim().to_ascii_lowercase();
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
    Ok(map)
}

/// The period as dates (`session` is the latest day with kills on this map; `7d` counts back
/// from the clock's session day) and the filter as the SQL sees it.
async fn resolve_request(
    pool: &PgPool,
    clock: &Clock,
    map: &str,
    filter: &HeatmapFilter,
) -> Result<Request, HeatmapError> {
    let latest = match filter.period {
        Period::Session => db::latest_session_on_map(pool, map).await?,
        _ => None,
    };
    let range = filter.period.resolve(clock.today(), latest);
    let kills = KillFilter {
        map: map.to_string(),
        side: filter.kind.side(),
        from: (!range.is_unbounded_below()).then_some(range.from),
        to: (!range.is_unbounded_above()).then_some(range.to),
        player: filter.player.as_ref().map(|p| p.key.as_str().to_string()),
        team: filter.team.map(Team::db_name),
        mods: filter.weapon.as_ref().map(|w| w.mods.clone()),
        engagement: filter.engagement.clone(),
    };
    Ok(Request {
        map: map.to_string(),
        kills,
        no_session: filter.period == Period::Session && latest.is_none(),
    })
}

/// What the database holds for the map, and the tables to read for the requested days.
async fn plan_for(
    pool: &PgPool,
    request: &Request,
    opts: &HeatmapOptions,
) -> Result<Plan, HeatmapError> {
    let map = &request.map;
    let need = if opts.raw_only {
        Need::Raw
    } else {
        opts.filter.need()
    };
    let coverage = Coverage {
        first_raw: match need {
            Need::Raw => db::first_raw_day(pool, map).await?,
            _ => None,
        },
        first_cells: db::first_cells_day(pool, map).await?,
        fine: db::fine_rollup_span(pool, map).await?,
        first_coarse: db::first_coarse_day(pool, map).await?,
        total: db::has_fine_total(pool, map).await?,
    };
    let range = (request.kills.from, request.kills.to);
    Ok(plan_sources(range, need, coverage))
}

/// The rollup cells the plan asks for; sources with no cells are left out.
async fn fetch_rollups(
    pool: &PgPool,
    request: &Request,
    filter: &HeatmapFilter,
    plan: &Plan,
) -> Result<Vec<Rollup>, HeatmapError> {
    let mut rollups = Vec::new();
    if request.no_session {
        return Ok(rollups);
    }
    let kills = &request.kills;
    let (map, side) = (kills.map.as_str(), kills.side);
    let fine = |cells, source| Rollup {
        cells,
        cell: FINE_CELL,
        source,
    };
    match plan.total {
        Some(Total::Fine) => {
            let cells = db::fine_total_bins(pool, map, side, kills.team).await?;
            rollups.push(fine(cells, BinSource::Fine64AllTime));
        }
        Some(Total::Cube) => {
            let cells = db::cube_total_bins(pool, kills).await?;
            rollups.push(fine(cells, BinSource::Cube64AllTime));
        }
        None => {}
    }
    if let Some(range) = plan.cells {
        let cells = db::cells_bins(pool, kills, range).await?;
        rollups.push(fine(cells, BinSource::Cells64));
    }
    if let Some(range) = plan.fine {
        let cells = db::fine_bins(pool, map, side, kills.team, range).await?;
        rollups.push(fine(cells, BinSource::Fine64));
    }
    // `kill_heatmap` holds victim positions only: killer maps get nothing from it.
    if let (Some(range), PositionKind::Deaths) = (plan.coarse, filter.kind) {
        let killer_team = filter.team.map(|t| t.opponent().db_name());
        rollups.push(Rollup {
            cells: db::coarse_bins(pool, map, killer_team, range).await?,
            cell: COARSE_CELL,
            source: BinSource::Coarse512,
        });
    }
    rollups.retain(|r| !r.cells.is_empty());
    Ok(rollups)
}

/// The raw-kill query for the days the plan reads raw, if any.
fn raw_filter(request: &Request, plan: &Plan) -> Option<KillFilter> {
    let (from, to) = plan.raw.filter(|_| !request.no_session)?;
    Some(KillFilter {
        from,
        to,
        ..request.kills.clone()
    })
}

/// The map box: the calibration table's, else fitted to the kills, else a default square
/// (a map we know nothing about and have no kills for still gets an image).
async fn world_box(
    pool: &PgPool,
    table: &CalibrationTable,
    map: &str,
    raw: Option<&KillFilter>,
    rollups: &[Rollup],
) -> Result<(WorldBox, Calibration), HeatmapError> {
    if let Some(entry) = table.get(map) {
        return Ok((entry.world_box()?, Calibration::Table));
    }
    let mut bounds = None;
    if let Some(filter) = raw {
        let b = db::raw_bounds(pool, filter).await?;
        bounds = b.min_x.zip(b.max_x).zip(b.min_y.zip(b.max_y));
    }
    for rollup in rollups {
        for c in &rollup.cells {
            bounds = Some(grow(bounds, c, rollup.cell));
        }
    }
    let fitted = bounds.and_then(|((a, b), (c, d))| WorldBox::from_bounds(a, b, c, d));
    match fitted {
        Some(world) => Ok((world, Calibration::KillBounds)),
        None => {
            let world = WorldBox::new([-4096.0, 4096.0], [4096.0, -4096.0])
                .map_err(HeatmapError::InvalidOption)?;
            Ok((world, Calibration::Missing))
        }
    }
}

type Bounds = ((f64, f64), (f64, f64));

/// `bounds` grown to hold a rollup cell of `size` world units.
fn grow(bounds: Option<Bounds>, c: &RollupCount, size: f64) -> Bounds {
    let (x0, y0) = (f64::from(c.cell_x) * size, f64::from(c.cell_y) * size);
    let ((min_x, max_x), (min_y, max_y)) = bounds.unwrap_or(((x0, x0 + size), (y0, y0 + size)));
    (
        (min_x.min(x0), max_x.max(x0 + size)),
        (min_y.min(y0), max_y.max(y0 + size)),
    )
}

/// Raw bins (counted in SQL on the output grid) and rollup cells on the density grid.
async fn bin(
    pool: &PgPool,
    spec: GridSpec,
    raw: Option<&KillFilter>,
    rollups: &[Rollup],
) -> Result<(Binned, Vec<BinSource>), HeatmapError> {
    let mut binned = Binned::new(spec);
    let mut sources = Vec::new();
    if let Some(filter) = raw {
        let grid = GridOrigin {
            x0: spec.world.mins[0],
            cell_x: spec.cell_x(),
            y0: spec.world.mins[1],
            cell_y: spec.cell_y(),
        };
        let cells = db::raw_bins(pool, filter, grid).await?;
        if !cells.is_empty() {
            sources.push(BinSource::Raw);
        }
        binned.add_cells(&cells);
    }
    for rollup in rollups {
        binned.add_rollup(&rollup.cells, rollup.cell);
        sources.push(rollup.source);
    }
    Ok((binned, sources))
}

/// The command-map image scaled to `size`, or None (with a note saying why) for the grid.
pub(super) async fn map_image(
    path: Option<std::path::PathBuf>,
    size: u32,
    calibration: Calibration,
    map: &str,
    notes: &mut Vec<String>,
) -> Option<Arc<RgbImage>> {
    let Some(path) = path else {
        if calibration == Calibration::Table {
            notes.push(format!(
                "no command-map image for {map}: `etprox maps import <pk3 with levelshots/{map}_cc.tga>` adds it"
            ));
        }
        return None;
    };
    // Decoding and scaling the image is CPU work: keep it off the async workers.
    let loaded = tokio::task::spawn_blocking(move || render::load_background(&path, size))
        .await
        .map_err(|e| RenderError::Draw(format!("image task failed: {e}")))
        .and_then(|r| r);
    match loaded {
        Ok(img) => Some(img),
        Err(e) => {
            tracing::warn!(error = %e, "map image unreadable, drawing the grid instead");
            notes.push(format!(
                "map image unreadable ({e}); showing the world grid"
            ));
            None
        }
    }
}

/// Smooths, draws and encodes on the blocking pool (~10–20 ms of CPU), so a bot's other
/// commands are not held up; completes the summary with what was drawn.
pub(super) async fn render_off_thread(
    binned: Binned,
    frame: Frame,
    opts: &HeatmapOptions,
    mut summary: HeatmapSummary,
) -> Result<(Vec<u8>, HeatmapSummary), HeatmapError> {
    let render_started = Instant::now();
    let (smoothing, percentile, scale) = (opts.smoothing, opts.percentile, opts.scale);
    let (png, reference) = tokio::task::spawn_blocking(move || {
        render_bins(&binned, frame, smoothing, percentile, scale)
    })
    .await
    .map_err(|e| RenderError::Draw(format!("render task failed: {e}")))??;
    summary.render_ms = render_started.elapsed().as_secs_f64() * 1e3;
    summary.reference = reference;
    summary.png_bytes = png.len();
    tracing::info!(
        kills = summary.kills,
        query_ms = summary.query_ms,
        render_ms = summary.render_ms,
        bytes = png.len(),
        "heatmap rendered"
    );
    Ok((png, summary))
}
