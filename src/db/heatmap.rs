//! Heatmap SQL: the 64-unit rollups that answer every filter (`kill_heatmap_cells` per day and
//! player, `kill_heatmap_cube_total` all time, migration 0010; `kill_heatmap_fine_total`,
//! 0002), the older ones kept for days archived before them (`kill_heatmap_fine`, 64 units;
//! `kill_heatmap`, 512 units), raw kills binned on the output grid (for comparisons), and the
//! rollups' upkeep. Every statement is checked at build time; optional filters that no index
//! serves are binds (`$n IS NULL OR …`), and the indexed ones get a statement each, so every
//! statement keeps one good plan shape when PostgreSQL switches to a generic plan.

use chrono::NaiveDate;
use sqlx::PgPool;

/// World size of a `kill_heatmap_fine` cell (migration 0002).
pub const FINE_CELL: f64 = 64.0;
/// World size of a `kill_heatmap` cell (migration 0001).
pub const COARSE_CELL: f64 = 512.0;

/// Whose position a kill is counted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    Killer,
    #[default]
    Victim,
}

impl Side {
    /// The `position` value in `kill_heatmap_fine`.
    pub fn rollup_position(self) -> &'static str {
        match self {
            Side::Killer => "killer",
            Side::Victim => "victim",
        }
    }
}

/// Which raw kills count: `kind = 'kill'` rows of one map, each filter optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KillFilter {
    pub map: String,
    /// The plotted side: its position, GUID and team are the ones filtered.
    pub side: Side,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// A stored player key (`players.player_guid`).
    pub player: Option<String>,
    /// `AXIS` or `ALLIES`.
    pub team: Option<&'static str>,
    /// Means of death.
    pub mods: Option<Vec<i16>>,
    /// `kill_context.engagement_class`.
    pub engagement: Option<String>,
}

/// The output grid in world units: column = floor((x − x0) / cell_x), likewise rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridOrigin {
    pub x0: f64,
    pub cell_x: f64,
    pub y0: f64,
    pub cell_y: f64,
}

/// Kills counted in one grid cell (`col`, `row` of the grid; may lie outside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellCount {
    pub col: i32,
    pub row: i32,
    pub kills: i64,
}

/// Kills in a rollup cell of `cell` world units at (`cell_x`, `cell_y`) = floor(pos / cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupCount {
    pub cell_x: i32,
    pub cell_y: i32,
    pub kills: i64,
}

/// Bounding box of raw kill positions; all `None` when no kill matches.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RawBounds {
    pub min_x: Option<f64>,
    pub max_x: Option<f64>,
    pub min_y: Option<f64>,
    pub max_y: Option<f64>,
}

/// Raw output-grid bins for `filter` on `grid`. The position columns differ per side, so
/// there is one statement per side.
pub async fn raw_bins(
    pool: &PgPool,
    filter: &KillFilter,
    grid: GridOrigin,
) -> sqlx::Result<Vec<CellCount>> {
    let f = filter;
    let GridOrigin {
        x0,
        cell_x,
        y0,
        cell_y,
    } = grid;
    match f.side {
        Side::Victim => {
            sqlx::query_as!(
                CellCount,
                r#"SELECT floor(greatest(-1e6, least(1e6, (victim_x - $2::float8) / $3::float8)))::int AS "col!",
                          floor(greatest(-1e6, least(1e6, (victim_y - $4::float8) / $5::float8)))::int AS "row!",
                          count(*) AS "kills!"
                   FROM kill_context
                   WHERE map_name = $1 AND kind = 'kill'
                     AND ($6::date IS NULL OR session_date >= $6)
                     AND ($7::date IS NULL OR session_date <= $7)
                     AND ($8::text IS NULL OR victim_guid = $8)
                     AND ($9::text IS NULL OR victim_team = $9)
                     AND ($10::smallint[] IS NULL OR means_of_death = ANY($10))
                     AND ($11::text IS NULL OR engagement_class = $11)
                   GROUP BY 1, 2"#,
                f.map, x0, cell_x, y0, cell_y, f.from, f.to, f.player, f.team,
                f.mods.as_deref(), f.engagement,
            )
            .fetch_all(pool)
            .await
        }
        Side::Killer => {
            sqlx::query_as!(
                CellCount,
                r#"SELECT floor(greatest(-1e6, least(1e6, (killer_x - $2::float8) / $3::float8)))::int AS "col!",
                          floor(greatest(-1e6, least(1e6, (killer_y - $4::float8) / $5::float8)))::int AS "row!",
                          count(*) AS "kills!"
                   FROM kill_context
                   WHERE map_name = $1 AND kind = 'kill'
                     AND ($6::date IS NULL OR session_date >= $6)
                     AND ($7::date IS NULL OR session_date <= $7)
                     AND ($8::text IS NULL OR killer_guid = $8)
                     AND ($9::text IS NULL OR killer_team = $9)
                     AND ($10::smallint[] IS NULL OR means_of_death = ANY($10))
                     AND ($11::text IS NULL OR engagement_class = $11)
                   GROUP BY 1, 2"#,
                f.map, x0, cell_x, y0, cell_y, f.from, f.to, f.player, f.team,
                f.mods.as_deref(), f.engagement,
            )
            .fetch_all(pool)
            .await
        }
    }
}

/// Bounding box of the raw positions, for maps without calibration.
pub async fn raw_bounds(pool: &PgPool, filter: &KillFilter) -> sqlx::Result<RawBounds> {
    let f = filter;
    match f.side {
        Side::Victim => {
            sqlx::query_as!(
                RawBounds,
                r#"SELECT min(victim_x)::float8 AS min_x, max(victim_x)::float8 AS max_x,
                          min(victim_y)::float8 AS min_y, max(victim_y)::float8 AS max_y
                   FROM kill_context
                   WHERE map_name = $1 AND kind = 'kill'
                     AND ($2::date IS NULL OR session_date >= $2)
                     AND ($3::date IS NULL OR session_date <= $3)
                     AND ($4::text IS NULL OR victim_guid = $4)
                     AND ($5::text IS NULL OR victim_team = $5)
                     AND ($6::smallint[] IS NULL OR means_of_death = ANY($6))
                     AND ($7::text IS NULL OR engagement_class = $7)
                     AND victim_x = victim_x AND victim_y = victim_y"#,
                f.map,
                f.from,
                f.to,
                f.player,
                f.team,
                f.mods.as_deref(),
                f.engagement,
            )
            .fetch_one(pool)
            .await
        }
        Side::Killer => {
            sqlx::query_as!(
                RawBounds,
                r#"SELECT min(killer_x)::float8 AS min_x, max(killer_x)::float8 AS max_x,
                          min(killer_y)::float8 AS min_y, max(killer_y)::float8 AS max_y
                   FROM kill_context
                   WHERE map_name = $1 AND kind = 'kill'
                     AND ($2::date IS NULL OR session_date >= $2)
                     AND ($3::date IS NULL OR session_date <= $3)
                     AND ($4::text IS NULL OR killer_guid = $4)
                     AND ($5::text IS NULL OR killer_team = $5)
                     AND ($6::smallint[] IS NULL OR means_of_death = ANY($6))
                     AND ($7::text IS NULL OR engagement_class = $7)
                     AND killer_x = killer_x AND killer_y = killer_y"#,
                f.map,
                f.from,
                f.to,
                f.player,
                f.team,
                f.mods.as_deref(),
                f.engagement,
            )
            .fetch_one(pool)
            .await
        }
    }
}

/// 64-unit cells of `kill_heatmap_cells` (0010) matching every filter, summed over the days
/// of `range`. With a player the player's index answers, else the map's days.
pub async fn cells_bins(
    pool: &PgPool,
    filter: &KillFilter,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
) -> sqlx::Result<Vec<RollupCount>> {
    let f = filter;
    let position = f.side.rollup_position();
    match &f.player {
        Some(player) => {
            sqlx::query_as!(
                RollupCount,
                r#"SELECT cell_x, cell_y, sum(kills)::int8 AS "kills!"
                   FROM kill_heatmap_cells
                   WHERE player_guid = $1 AND map_name = $2 AND position = $3
                     AND session_date BETWEEN COALESCE($4::date, '-infinity') AND COALESCE($5::date, 'infinity')
                     AND ($6::text IS NULL OR team = $6)
                     AND ($7::smallint[] IS NULL OR means_of_death = ANY($7))
                     AND ($8::text IS NULL OR engagement_class = $8)
                   GROUP BY 1, 2 HAVING sum(kills) <> 0"#,
                player,
                f.map,
                position,
                from,
                to,
                f.team,
                f.mods.as_deref(),
                f.engagement,
            )
            .fetch_all(pool)
            .await
        }
        None => {
            sqlx::query_as!(
                RollupCount,
                r#"SELECT cell_x, cell_y, sum(kills)::int8 AS "kills!"
                   FROM kill_heatmap_cells
                   WHERE map_name = $1 AND position = $2
                     AND session_date BETWEEN COALESCE($3::date, '-infinity') AND COALESCE($4::date, 'infinity')
                     AND ($5::text IS NULL OR team = $5)
                     AND ($6::smallint[] IS NULL OR means_of_death = ANY($6))
                     AND ($7::text IS NULL OR engagement_class = $7)
                   GROUP BY 1, 2 HAVING sum(kills) <> 0"#,
                f.map,
                position,
                from,
                to,
                f.team,
                f.mods.as_deref(),
                f.engagement,
            )
            .fetch_all(pool)
            .await
        }
    }
}

/// 64-unit cells of `kill_heatmap_cube_total` (0010): every rolled-up day, any filter but a
/// player (and the days, which `filter` must leave open).
pub async fn cube_total_bins(pool: &PgPool, filter: &KillFilter) -> sqlx::Result<Vec<RollupCount>> {
    let f = filter;
    sqlx::query_as!(
        RollupCount,
        r#"SELECT cell_x, cell_y, sum(kills)::int8 AS "kills!"
           FROM kill_heatmap_cube_total
           WHERE map_name = $1 AND position = $2
             AND ($3::text IS NULL OR team = $3)
             AND ($4::smallint[] IS NULL OR means_of_death = ANY($4))
             AND ($5::text IS NULL OR engagement_class = $5)
           GROUP BY 1, 2"#,
        f.map,
        f.side.rollup_position(),
        f.team,
        f.mods.as_deref(),
        f.engagement,
    )
    .fetch_all(pool)
    .await
}

/// First session day in `kill_heatmap_cells` for the map: from it on, every filter is answered
/// from the 0010 rollups (earlier days were archived before they existed).
pub async fn first_cells_day(pool: &PgPool, map: &str) -> sqlx::Result<Option<NaiveDate>> {
    // Each kill has both positions: the victim rows alone give the days (index order).
    sqlx::query_scalar!(
        "SELECT min(session_date) FROM kill_heatmap_cells
         WHERE map_name = $1 AND position = 'victim'",
        map,
    )
    .fetch_one(pool)
    .await
}

/// First session day in the 512-unit `kill_heatmap` for the map.
pub async fn first_coarse_day(pool: &PgPool, map: &str) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar!(
        "SELECT min(session_date) FROM kill_heatmap WHERE map_name = $1",
        map,
    )
    .fetch_one(pool)
    .await
}

/// 64-unit rollup cells of `side` (and `team`, when given) between `from` and `to`.
pub async fn fine_bins(
    pool: &PgPool,
    map: &str,
    side: Side,
    team: Option<&str>,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
) -> sqlx::Result<Vec<RollupCount>> {
    sqlx::query_as!(
        RollupCount,
        r#"SELECT cell_x, cell_y, sum(kills)::int8 AS "kills!"
           FROM kill_heatmap_fine
           WHERE map_name = $1 AND position = $2
             AND ($3::text IS NULL OR team = $3)
             AND ($4::date IS NULL OR session_date >= $4)
             AND ($5::date IS NULL OR session_date <= $5)
           GROUP BY 1, 2"#,
        map,
        side.rollup_position(),
        team,
        from,
        to,
    )
    .fetch_all(pool)
    .await
}

/// 64-unit all-time rollup cells: every day `kill_heatmap_fine` holds, summed.
pub async fn fine_total_bins(
    pool: &PgPool,
    map: &str,
    side: Side,
    team: Option<&str>,
) -> sqlx::Result<Vec<RollupCount>> {
    sqlx::query_as!(
        RollupCount,
        r#"SELECT cell_x, cell_y, sum(kills)::int8 AS "kills!"
           FROM kill_heatmap_fine_total
           WHERE map_name = $1 AND position = $2
             AND ($3::text IS NULL OR team = $3)
           GROUP BY 1, 2"#,
        map,
        side.rollup_position(),
        team,
    )
    .fetch_all(pool)
    .await
}

/// 512-unit `kill_heatmap` cells between `from` and `to`: victim positions of kills made by
/// `killer_team` (all kills when `None`). `axis_kills` / `allies_kills` are kills made by
/// that team, so deaths of team T are the opponent's kills.
pub async fn coarse_bins(
    pool: &PgPool,
    map: &str,
    killer_team: Option<&str>,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
) -> sqlx::Result<Vec<RollupCount>> {
    sqlx::query_as!(
        RollupCount,
        r#"SELECT grid_x AS cell_x, grid_y AS cell_y,
                  sum(CASE WHEN $2::text IS NULL THEN total_kills
                           WHEN $2 = 'AXIS' THEN axis_kills
                           ELSE allies_kills END)::int8 AS "kills!"
           FROM kill_heatmap
           WHERE map_name = $1
             AND ($3::date IS NULL OR session_date >= $3)
             AND ($4::date IS NULL OR session_date <= $4)
           GROUP BY 1, 2"#,
        map,
        killer_team,
        from,
        to,
    )
    .fetch_all(pool)
    .await
}

/// First session day that still has raw kills on the map (earlier days are archived).
pub async fn first_raw_day(pool: &PgPool, map: &str) -> sqlx::Result<Option<NaiveDate>> {
    // Rounds stay when their raw kills are archived, and archived days are exactly the days in
    // kill_heatmap_fine: the first raw day is the first round after them (index, no scan).
    sqlx::query_scalar!(
        "SELECT min(session_date) FROM rounds WHERE map_name = $1
           AND session_date > COALESCE((SELECT max(session_date) FROM kill_heatmap_fine
                                        WHERE map_name = $1), '-infinity'::date)",
        map,
    )
    .fetch_one(pool)
    .await
}

/// Whether the all-time 64-unit rollup has cells for the map.
pub async fn has_fine_total(pool: &PgPool, map: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM kill_heatmap_fine_total WHERE map_name = $1) AS "exists!""#,
        map,
    )
    .fetch_one(pool)
    .await
}

/// First and last session day in `kill_heatmap_fine` for the map.
pub async fn fine_rollup_span(
    pool: &PgPool,
    map: &str,
) -> sqlx::Result<Option<(NaiveDate, NaiveDate)>> {
    let span = sqlx::query!(
        "SELECT min(session_date) AS first, max(session_date) AS last
         FROM kill_heatmap_fine WHERE map_name = $1",
        map,
    )
    .fetch_one(pool)
    .await?;
    Ok(span.first.zip(span.last))
}

/// Latest session day with kills on one map, in raw rows or either rollup. Unlike
/// [`super::stats::latest_session`] (the latest day of any round), this is per map and sees
/// days whose rounds are gone but whose rollups remain.
pub async fn latest_session_on_map(pool: &PgPool, map: &str) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar!(
        "SELECT GREATEST(
            (SELECT max(session_date) FROM rounds WHERE map_name = $1),
            (SELECT max(session_date) FROM kill_heatmap_fine WHERE map_name = $1),
            (SELECT max(session_date) FROM kill_heatmap WHERE map_name = $1))",
        map,
    )
    .fetch_one(pool)
    .await
}

/// Brings the rollups up to date with every committed round (SQL function `roll_up_heatmap`,
/// migrations 0003 and 0010): each round is added exactly once, after its import commits, to
/// `kill_heatmap_cells`, `kill_heatmap_cube_total` and `kill_heatmap_fine_total`, in one
/// statement per batch. Cheap when nothing is pending. Returns the rounds rolled up.
pub async fn roll_up_pending<'c, E>(executor: E) -> sqlx::Result<i32>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query_scalar!(r#"SELECT roll_up_heatmap(NULL) AS "rolled!""#)
        .fetch_one(executor)
        .await
}

/// Rolls up at most `max_rounds` pending committed rounds (oldest first, SQL function
/// `roll_up_heatmap`); returns how many. For catching up on many rounds in bounded steps.
pub async fn roll_up_at_most(pool: &PgPool, max_rounds: i32) -> sqlx::Result<i32> {
    sqlx::query_scalar!(r#"SELECT roll_up_heatmap($1) AS "rolled!""#, max_rounds)
        .fetch_one(pool)
        .await
}

/// Committed rounds not rolled up into the heatmap rollups yet (partial index, 0003).
pub async fn pending_roll_ups(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT COUNT(*) AS "pending!" FROM rounds WHERE NOT heatmap_rolled_up"#)
        .fetch_one(pool)
        .await
}

/// Takes a round's counted kills back out of the rollups (SQL function `heatmap_unroll_round`,
/// 0010); total cells left at zero are deleted. Call it before deleting or replacing the round
/// (its `kill_context` rows must still be there), in the same transaction. Returns 1 when the
/// round had been rolled up, 0 when there was nothing to take out.
pub async fn unroll_round<'c, E>(executor: E, round_id: i64) -> sqlx::Result<u64>
where
    E: sqlx::PgExecutor<'c>,
{
    let unrolled = sqlx::query_scalar!(
        r#"SELECT heatmap_unroll_round($1) AS "unrolled!""#,
        round_id
    )
    .fetch_one(executor)
    .await?;
    Ok(u64::from(unrolled))
}

/// Recomputes the rollups from what they are made of and marks every round rolled up:
/// pending rounds are rolled up first; days that still have raw kills (and were never
/// archived) get their `kill_heatmap_cells` rows rebuilt from them, compacted; the all-time
/// tables are summed again from what is kept forever: `kill_heatmap_fine_total` from the days
/// archived before migration 0010 (`kill_heatmap_fine`) and the cells (every day rolled up
/// since, archived or not), `kill_heatmap_cube_total` from the cells.
/// Returns the cells written to `kill_heatmap_fine_total`.
pub async fn rebuild_fine_rollup(pool: &PgPool) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query_scalar!(r#"SELECT roll_up_heatmap(NULL) AS "rolled!""#)
        .fetch_one(&mut *tx)
        .await?;
    rebuild_raw_days_cells(&mut tx).await?;
    sqlx::query!("DELETE FROM kill_heatmap_cube_total")
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "INSERT INTO kill_heatmap_cube_total
         SELECT map_name, position, team, means_of_death, engagement_class, cell_x, cell_y,
                sum(kills)
         FROM kill_heatmap_cells
         GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(kills) <> 0"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM kill_heatmap_fine_total")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query!(
        r#"
INSERT INTO kill_heatmap_fine_total (map_name, position, team, cell_x, cell_y, kills)
SELECT map_name, position, team, cell_x, cell_y, sum(kills)
FROM (
    SELECT map_name, position, team, cell_x, cell_y, kills FROM kill_heatmap_fine
    UNION ALL
    SELECT map_name, position, team, cell_x, cell_y, kills FROM kill_heatmap_cells
) c
GROUP BY 1, 2, 3, 4, 5 HAVING sum(kills) <> 0
"#
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// `kill_heatmap_cells` of the (map, day)s whose kills are all still raw, recounted from them:
/// undoes any drift there and merges the delta rows of many roll-ups into one row per key.
async fn rebuild_raw_days_cells(tx: &mut sqlx::PgConnection) -> sqlx::Result<()> {
    // One statement: the DELETE does not see the rows the INSERT adds (same snapshot).
    sqlx::query!(
        "WITH raw_days AS (
             SELECT DISTINCT map_name, session_date FROM kill_context k
             WHERE NOT EXISTS (SELECT 1 FROM kill_heatmap_fine f
                               WHERE f.map_name = k.map_name
                                 AND f.session_date = k.session_date)
         ), gone AS (
             DELETE FROM kill_heatmap_cells c USING raw_days r
             WHERE c.map_name = r.map_name AND c.session_date = r.session_date
         )
         INSERT INTO kill_heatmap_cells
         SELECT c.* FROM heatmap_cells_of_rounds(
             (SELECT array_agg(id ORDER BY id) FROM rounds r
              WHERE EXISTS (SELECT 1 FROM raw_days d
                            WHERE d.map_name = r.map_name
                              AND d.session_date = r.session_date))) c"
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Adds a batch's heatmap rollup, computed from its parsed kills (`ingest::derived`), to the
/// three rollups, in the import's transaction (whose rounds are stored rolled up) and one round
/// trip: the same rows `heatmap_roll_up_rounds` would add from their `kill_context` after the
/// commit, without reading the kills back. The all-time rows come sorted by key, so
/// concurrent imports take their row locks in one order.
pub async fn add_rollup(
    conn: &mut sqlx::PgConnection,
    rollup: &crate::ingest::derived::HeatmapRollup<'_>,
) -> sqlx::Result<()> {
    let ce = RollupCellColumns::new(&rollup.cells);
    let cu = RollupCubeColumns::new(&rollup.cube);
    let fi = RollupFineColumns::new(&rollup.fine);
    sqlx::query!(
        "WITH cells AS (
             INSERT INTO kill_heatmap_cells (session_date, map_name, position, player_guid, team,
                 means_of_death, engagement_class, cell_x, cell_y, kills)
             SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::int2[], $7::text[], $8::int4[], $9::int4[], $10::int4[])
         ), cube AS (
             INSERT INTO kill_heatmap_cube_total AS t (map_name, position, means_of_death,
                 engagement_class, team, cell_x, cell_y, kills)
             SELECT * FROM unnest($11::text[], $12::text[], $13::int2[], $14::text[],
                                  $15::text[], $16::int4[], $17::int4[], $18::int8[])
             ON CONFLICT (map_name, position, means_of_death, engagement_class, team, cell_x,
                          cell_y)
             DO UPDATE SET kills = t.kills + EXCLUDED.kills
         )
         INSERT INTO kill_heatmap_fine_total AS f (map_name, position, team, cell_x, cell_y,
                                                   kills)
         SELECT * FROM unnest($19::text[], $20::text[], $21::text[], $22::int4[], $23::int4[],
                              $24::int8[])
         ON CONFLICT (map_name, position, team, cell_x, cell_y)
         DO UPDATE SET kills = f.kills + EXCLUDED.kills",
        &ce.session_date,
        &ce.map_name as &[&str],
        &ce.position as &[&str],
        &ce.player_guid as &[&str],
        &ce.team as &[&str],
        &ce.means_of_death,
        &ce.engagement_class as &[&str],
        &ce.cell_x,
        &ce.cell_y,
        &ce.kills,
        &cu.map_name as &[&str],
        &cu.position as &[&str],
        &cu.means_of_death,
        &cu.engagement_class as &[&str],
        &cu.team as &[&str],
        &cu.cell_x,
        &cu.cell_y,
        &cu.kills,
        &fi.map_name as &[&str],
        &fi.position as &[&str],
        &fi.team as &[&str],
        &fi.cell_x,
        &fi.cell_y,
        &fi.kills,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

columns!(RollupCellColumns<'a> from (crate::ingest::derived::CellKey<'a>, i32) {
    session_date: NaiveDate = |c| c.0.session_date,
    map_name: &'a str = |c| c.0.map_name,
    position: &'a str = |c| c.0.position,
    player_guid: &'a str = |c| c.0.player_guid,
    team: &'a str = |c| c.0.team,
    means_of_death: i16 = |c| c.0.means_of_death,
    engagement_class: &'a str = |c| c.0.engagement_class,
    cell_x: i32 = |c| c.0.cell_x,
    cell_y: i32 = |c| c.0.cell_y,
    kills: i32 = |c| c.1,
});

columns!(RollupCubeColumns<'a> from (crate::ingest::derived::CubeKey<'a>, i64) {
    map_name: &'a str = |c| c.0.map_name,
    position: &'a str = |c| c.0.position,
    means_of_death: i16 = |c| c.0.means_of_death,
    engagement_class: &'a str = |c| c.0.engagement_class,
    team: &'a str = |c| c.0.team,
    cell_x: i32 = |c| c.0.cell_x,
    cell_y: i32 = |c| c.0.cell_y,
    kills: i64 = |c| c.1,
});

columns!(RollupFineColumns<'a> from (crate::ingest::derived::FineKey<'a>, i64) {
    map_name: &'a str = |c| c.0.map_name,
    position: &'a str = |c| c.0.position,
    team: &'a str = |c| c.0.team,
    cell_x: i32 = |c| c.0.cell_x,
    cell_y: i32 = |c| c.0.cell_y,
    kills: i64 = |c| c.1,
});
