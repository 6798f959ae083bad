//! Heatmap SQL: filters, and kill counts binned in PostgreSQL on the output grid, so
//! the bot never loads individual kills. Raw `kill_context` rows are used where they
//! exist; days whose raw rows were archived come from the rollups (`kill_heatmap_fine`,
//! 64 units, from migration 0002; else `kill_heatmap`, 512 units).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use sqlx::PgPool;

use super::density::GridSpec;

/// Whose position is plotted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionKind {
    /// Where the killer stood when the kill happened.
    Kills,
    /// Where the victim died (the same position `kill_heatmap` records).
    #[default]
    Deaths,
}

impl PositionKind {
    /// The `position` value in `kill_heatmap_fine`.
    pub fn rollup_position(self) -> &'static str {
        match self {
            PositionKind::Kills => "killer",
            PositionKind::Deaths => "victim",
        }
    }
}

impl FromStr for PositionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "kills" | "kill" | "killer" => Ok(PositionKind::Kills),
            "deaths" | "death" | "victim" => Ok(PositionKind::Deaths),
            other => Err(format!("unknown kind `{other}`: use kills or deaths")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Team {
    Axis,
    Allies,
}

impl Team {
    /// The value stored in `killer_team` / `victim_team`.
    pub fn db_name(self) -> &'static str {
        match self {
            Team::Axis => "AXIS",
            Team::Allies => "ALLIES",
        }
    }

    pub fn opponent(self) -> Team {
        match self {
            Team::Axis => Team::Allies,
            Team::Allies => Team::Axis,
        }
    }
}

impl FromStr for Team {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "axis" => Ok(Team::Axis),
            "allies" | "allied" => Ok(Team::Allies),
            other => Err(format!("unknown team `{other}`: use axis or allies")),
        }
    }
}

/// Which session days count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    #[default]
    All,
    /// The most recent session day with kills on the map.
    LatestSession,
    /// Today and the `n − 1` days before it.
    LastDays(u32),
    /// An inclusive range of session days.
    Range(NaiveDate, NaiveDate),
}

impl FromStr for Period {
    type Err = String;
    /// `all`, `session`, `7d` (or `7`), `2026-11-20`, `2026-11-01..2026-11-20`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let bad = || {
            format!(
                "unknown period `{s}`: use all, session, 7d, 2026-11-20 or 2026-11-01..2026-11-20"
            )
        };
        match s.as_str() {
            "all" | "alltime" | "all-time" => return Ok(Period::All),
            "session" | "last" | "latest" => return Ok(Period::LatestSession),
            _ => {}
        }
        let days = s.strip_suffix('d').unwrap_or(&s);
        if let Ok(n) = days.parse::<u32>() {
            return if n == 0 {
                Err(bad())
            } else {
                Ok(Period::LastDays(n))
            };
        }
        let date = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad());
        match s.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (date(a)?, date(b)?);
                if a > b {
                    return Err(format!("period `{s}` ends before it starts"));
                }
                Ok(Period::Range(a, b))
            }
            None => {
                let d = date(&s)?;
                Ok(Period::Range(d, d))
            }
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::All => write!(f, "all time"),
            Period::LatestSession => write!(f, "latest session"),
            Period::LastDays(1) => write!(f, "today"),
            Period::LastDays(n) => write!(f, "last {n} days"),
            Period::Range(a, b) if a == b => write!(f, "{a}"),
            Period::Range(a, b) => write!(f, "{a} to {b}"),
        }
    }
}

/// A weapon or means-of-death class. Kills are matched on the means of death (the
/// killing MOD), not `weapon`, which is only the weapon held at the obituary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeaponFilter {
    /// What the user typed, for the caption.
    pub label: String,
    /// ET:Legacy means-of-death numbers (`assets/mods.csv`).
    pub mods: Vec<i16>,
}

const MODS_CSV: &str = include_str!("../../assets/mods.csv");

impl FromStr for WeaponFilter {
    type Err = String;
    /// A category of `assets/mods.csv` (bullet, explosive, melee, fire, world, self,
    /// other), or one means of death by name (`MOD_MP40`, `mp40`) or label (`Panzerfaust`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let want = s.trim().to_ascii_lowercase();
        let want_mod = format!("mod_{want}");
        let mut by_category = Vec::new();
        let mut by_name = Vec::new();
        for line in MODS_CSV.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            let [value, name, label, category, ..] = fields.as_slice() else {
                continue;
            };
            let Ok(value) = value.parse::<i16>() else {
                continue;
            };
            if category.eq_ignore_ascii_case(&want) {
                by_category.push(value);
            }
            let name = name.to_ascii_lowercase();
            if name == want || name == want_mod || label.eq_ignore_ascii_case(&want) {
                by_name.push(value);
            }
        }
        let mods = if by_category.is_empty() {
            by_name
        } else {
            by_category
        };
        if mods.is_empty() {
            return Err(format!(
                "unknown weapon `{s}`: use a class (bullet, explosive, melee, fire, world) \
                 or a means of death such as mp40, thompson, panzerfaust"
            ));
        }
        Ok(WeaponFilter {
            label: s.trim().to_string(),
            mods,
        })
    }
}

/// An engagement class as the importer stores it in `kill_context.engagement_class`:
/// `solo`, `outnumbering`, `even` or `outnumbered`. The stats words are accepted too:
/// `assisted` / `ganked` (the killer's side had more players) and `outgunned` (fewer).
pub fn parse_engagement(s: &str) -> Result<String, String> {
    let class = match s.trim().to_ascii_lowercase().as_str() {
        "solo" | "1v1" => "solo",
        "outnumbering" | "assisted" | "ganked" => "outnumbering",
        "even" => "even",
        "outnumbered" | "outgunned" => "outnumbered",
        other => {
            return Err(format!(
                "unknown engagement `{other}`: use solo, outnumbering (assisted), even or outnumbered (outgunned)"
            ))
        }
    };
    Ok(class.to_string())
}

/// What to count. Positions are always of `kind = 'kill'` rows (no team kills,
/// suicides or world deaths).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeatmapFilter {
    pub map: String,
    /// GUID, or a name looked up in `player_aliases`. With [`PositionKind::Kills`] the
    /// player is the killer, with [`PositionKind::Deaths`] the victim.
    pub player: Option<String>,
    /// Team of the plotted player (killer for kills, victim for deaths).
    pub team: Option<Team>,
    pub kind: PositionKind,
    pub weapon: Option<WeaponFilter>,
    /// `kill_context.engagement_class` as stored (see [`parse_engagement`]).
    pub engagement: Option<String>,
    pub period: Period,
}

impl HeatmapFilter {
    pub fn new(map: impl Into<String>) -> Self {
        Self {
            map: map.into(),
            ..Self::default()
        }
    }

    /// Player, weapon and engagement need individual kills: the rollups cannot answer them.
    pub fn needs_raw_rows(&self) -> bool {
        self.player.is_some() || self.weapon.is_some() || self.engagement.is_some()
    }
}

/// A filter with the player resolved to a GUID and the period to dates.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedFilter {
    pub map: String,
    pub player_guid: Option<String>,
    pub team: Option<Team>,
    pub kind: PositionKind,
    pub mods: Option<Vec<i16>>,
    pub engagement: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Kills counted in one grid cell (`col`, `row` of the [`GridSpec`]; may lie outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct CellCount {
    pub col: i32,
    pub row: i32,
    pub kills: i64,
}

/// Kills in a rollup cell of `cell` world units at (`cell_x`, `cell_y`) = floor(pos / cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct RollupCount {
    pub cell_x: i32,
    pub cell_y: i32,
    pub kills: i64,
}

/// World size of a `kill_heatmap_fine` cell (migration 0002).
pub const FINE_CELL: f64 = 64.0;
/// World size of a `kill_heatmap` cell (migration 0001).
pub const COARSE_CELL: f64 = 512.0;

/// Output-grid bins straight from `kill_context`. The position columns differ per
/// kind, so there is one statement per kind; every filter is a bind.
const RAW_BINS_VICTIM: &str = r#"
SELECT floor(greatest(-1e6, least(1e6, (victim_x - $2) / $3)))::int AS col,
       floor(greatest(-1e6, least(1e6, (victim_y - $4) / $5)))::int AS row,
       count(*) AS kills
FROM kill_context
WHERE map_name = $1 AND kind = 'kill'
  AND ($6::date IS NULL OR session_date >= $6)
  AND ($7::date IS NULL OR session_date <= $7)
  AND ($8::text IS NULL OR victim_guid = $8)
  AND ($9::text IS NULL OR victim_team = $9)
  AND ($10::smallint[] IS NULL OR means_of_death = ANY($10))
  AND ($11::text IS NULL OR engagement_class = $11)
GROUP BY 1, 2
"#;

const RAW_BINS_KILLER: &str = r#"
SELECT floor(greatest(-1e6, least(1e6, (killer_x - $2) / $3)))::int AS col,
       floor(greatest(-1e6, least(1e6, (killer_y - $4) / $5)))::int AS row,
       count(*) AS kills
FROM kill_context
WHERE map_name = $1 AND kind = 'kill'
  AND ($6::date IS NULL OR session_date >= $6)
  AND ($7::date IS NULL OR session_date <= $7)
  AND ($8::text IS NULL OR killer_guid = $8)
  AND ($9::text IS NULL OR killer_team = $9)
  AND ($10::smallint[] IS NULL OR means_of_death = ANY($10))
  AND ($11::text IS NULL OR engagement_class = $11)
GROUP BY 1, 2
"#;

const RAW_BOUNDS_VICTIM: &str = r#"
SELECT min(victim_x)::float8, max(victim_x)::float8, min(victim_y)::float8, max(victim_y)::float8
FROM kill_context
WHERE map_name = $1 AND kind = 'kill'
  AND ($2::date IS NULL OR session_date >= $2)
  AND ($3::date IS NULL OR session_date <= $3)
  AND ($4::text IS NULL OR victim_guid = $4)
  AND ($5::text IS NULL OR victim_team = $5)
  AND ($6::smallint[] IS NULL OR means_of_death = ANY($6))
  AND ($7::text IS NULL OR engagement_class = $7)
  AND victim_x = victim_x AND victim_y = victim_y
"#;

const RAW_BOUNDS_KILLER: &str = r#"
SELECT min(killer_x)::float8, max(killer_x)::float8, min(killer_y)::float8, max(killer_y)::float8
FROM kill_context
WHERE map_name = $1 AND kind = 'kill'
  AND ($2::date IS NULL OR session_date >= $2)
  AND ($3::date IS NULL OR session_date <= $3)
  AND ($4::text IS NULL OR killer_guid = $4)
  AND ($5::text IS NULL OR killer_team = $5)
  AND ($6::smallint[] IS NULL OR means_of_death = ANY($6))
  AND ($7::text IS NULL OR engagement_class = $7)
  AND killer_x = killer_x AND killer_y = killer_y
"#;

const FINE_BINS: &str = r#"
SELECT cell_x, cell_y, sum(kills)::int8 AS kills
FROM kill_heatmap_fine
WHERE map_name = $1 AND position = $2
  AND ($3::text IS NULL OR team = $3)
  AND ($4::date IS NULL OR session_date >= $4)
  AND ($5::date IS NULL OR session_date <= $5)
GROUP BY 1, 2
"#;

const FINE_TOTAL_BINS: &str = r#"
SELECT cell_x, cell_y, sum(kills)::int8 AS kills
FROM kill_heatmap_fine_total
WHERE map_name = $1 AND position = $2
  AND ($3::text IS NULL OR team = $3)
GROUP BY 1, 2
"#;

/// `kill_heatmap` holds victim positions; `axis_kills` / `allies_kills` are taken as
/// kills made by that team, so deaths of team T are the opponent's kills.
const COARSE_BINS: &str = r#"
SELECT grid_x AS cell_x, grid_y AS cell_y,
       sum(CASE WHEN $2::text IS NULL THEN total_kills
                WHEN $2 = 'AXIS' THEN axis_kills
                ELSE allies_kills END)::int8 AS kills
FROM kill_heatmap
WHERE map_name = $1
  AND ($3::date IS NULL OR session_date >= $3)
  AND ($4::date IS NULL OR session_date <= $4)
GROUP BY 1, 2
"#;

/// Raw output-grid bins for `filter` on `grid`.
pub async fn raw_bins(
    pool: &PgPool,
    filter: &ResolvedFilter,
    grid: &GridSpec,
) -> Result<Vec<CellCount>, sqlx::Error> {
    let sql = match filter.kind {
        PositionKind::Deaths => RAW_BINS_VICTIM,
        PositionKind::Kills => RAW_BINS_KILLER,
    };
    sqlx::query_as::<_, CellCount>(sql)
        .bind(&filter.map)
        .bind(grid.world.mins[0])
        .bind(grid.cell_x())
        .bind(grid.world.mins[1])
        .bind(grid.cell_y())
        .bind(filter.from)
        .bind(filter.to)
        .bind(&filter.player_guid)
        .bind(filter.team.map(Team::db_name))
        .bind(&filter.mods)
        .bind(&filter.engagement)
        .fetch_all(pool)
        .await
}

/// Bounding box (min x, max x, min y, max y) of the raw positions, for maps without calibration.
pub async fn raw_bounds(
    pool: &PgPool,
    filter: &ResolvedFilter,
) -> Result<Option<(f64, f64, f64, f64)>, sqlx::Error> {
    let sql = match filter.kind {
        PositionKind::Deaths => RAW_BOUNDS_VICTIM,
        PositionKind::Kills => RAW_BOUNDS_KILLER,
    };
    let row: (Option<f64>, Option<f64>, Option<f64>, Option<f64>) = sqlx::query_as(sql)
        .bind(&filter.map)
        .bind(filter.from)
        .bind(filter.to)
        .bind(&filter.player_guid)
        .bind(filter.team.map(Team::db_name))
        .bind(&filter.mods)
        .bind(&filter.engagement)
        .fetch_one(pool)
        .await?;
    Ok(match row {
        (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
        _ => None,
    })
}

/// 64-unit rollup cells between `from` and `to`.
pub async fn fine_bins(
    pool: &PgPool,
    filter: &ResolvedFilter,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<RollupCount>, sqlx::Error> {
    sqlx::query_as::<_, RollupCount>(FINE_BINS)
        .bind(&filter.map)
        .bind(filter.kind.rollup_position())
        .bind(filter.team.map(Team::db_name))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
}

/// 64-unit all-time rollup cells: every day `kill_heatmap_fine` holds, summed.
pub async fn fine_total_bins(
    pool: &PgPool,
    filter: &ResolvedFilter,
) -> Result<Vec<RollupCount>, sqlx::Error> {
    sqlx::query_as::<_, RollupCount>(FINE_TOTAL_BINS)
        .bind(&filter.map)
        .bind(filter.kind.rollup_position())
        .bind(filter.team.map(Team::db_name))
        .fetch_all(pool)
        .await
}

/// 512-unit `kill_heatmap` cells between `from` and `to`. Only victim positions exist
/// there, so this is empty for [`PositionKind::Kills`].
pub async fn coarse_bins(
    pool: &PgPool,
    filter: &ResolvedFilter,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<RollupCount>, sqlx::Error> {
    if filter.kind == PositionKind::Kills {
        return Ok(Vec::new());
    }
    let killer_team = filter.team.map(|t| t.opponent().db_name());
    sqlx::query_as::<_, RollupCount>(COARSE_BINS)
        .bind(&filter.map)
        .bind(killer_team)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
}

/// First session day that still has raw kills on the map (earlier days are archived).
pub async fn first_raw_day(pool: &PgPool, map: &str) -> Result<Option<NaiveDate>, sqlx::Error> {
    // Rounds stay when their raw kills are archived, and archived days are exactly the days in
    // kill_heatmap_fine: the first raw day is the first round after them (index, no scan).
    sqlx::query_scalar(
        "SELECT min(session_date) FROM rounds WHERE map_name = $1
           AND session_date > COALESCE((SELECT max(session_date) FROM kill_heatmap_fine
                                        WHERE map_name = $1), '-infinity'::date)",
    )
    .bind(map)
    .fetch_one(pool)
    .await
}

/// Whether the all-time 64-unit rollup has cells for the map.
pub async fn has_fine_total(pool: &PgPool, map: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM kill_heatmap_fine_total WHERE map_name = $1)")
        .bind(map)
        .fetch_one(pool)
        .await
}

/// First and last session day in `kill_heatmap_fine` for the map.
pub async fn fine_rollup_span(
    pool: &PgPool,
    map: &str,
) -> Result<Option<(NaiveDate, NaiveDate)>, sqlx::Error> {
    let (first, last): (Option<NaiveDate>, Option<NaiveDate>) = sqlx::query_as(
        "SELECT min(session_date), max(session_date) FROM kill_heatmap_fine WHERE map_name = $1",
    )
    .bind(map)
    .fetch_one(pool)
    .await?;
    Ok(first.zip(last))
}

/// Latest session day with kills on the map, in raw rows or either rollup.
pub async fn latest_session(pool: &PgPool, map: &str) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT GREATEST(
            (SELECT max(session_date) FROM rounds WHERE map_name = $1),
            (SELECT max(session_date) FROM kill_heatmap_fine WHERE map_name = $1),
            (SELECT max(session_date) FROM kill_heatmap WHERE map_name = $1))",
    )
    .bind(map)
    .fetch_one(pool)
    .await
}

/// A GUID as typed, or the GUID behind a player name (latest alias first, then names
/// in raw kills). None when nobody matches.
pub async fn resolve_player(pool: &PgPool, player: &str) -> Result<Option<String>, sqlx::Error> {
    let p = player.trim();
    let looks_like_guid =
        (p.len() == 32 && p.bytes().all(|b| b.is_ascii_hexdigit())) || p.starts_with("OMNIBOT");
    if looks_like_guid {
        // Human GUIDs are stored upper-case; Omni-bot GUIDs as they are.
        return Ok(Some(if p.starts_with("OMNIBOT") {
            p.to_string()
        } else {
            p.to_ascii_uppercase()
        }));
    }
    let alias: Option<String> = sqlx::query_scalar(
        "SELECT player_guid FROM player_aliases
         WHERE lower(display_name) = lower($1) OR lower(name) = lower($1)
         ORDER BY last_seen DESC LIMIT 1",
    )
    .bind(p)
    .fetch_optional(pool)
    .await?;
    if alias.is_some() {
        return Ok(alias);
    }
    sqlx::query_scalar(
        // Names in kills carry ET colour codes (`^1Ali^7ce`): compare without them.
        r"(SELECT killer_guid FROM kill_context
           WHERE lower(regexp_replace(killer_name, '\^.', '', 'g')) = lower($1) AND killer_guid <> '' LIMIT 1)
         UNION ALL
         (SELECT victim_guid FROM kill_context
           WHERE lower(regexp_replace(victim_name, '\^.', '', 'g')) = lower($1) AND victim_guid <> '' LIMIT 1)
         LIMIT 1",
    )
    .bind(p)
    .fetch_optional(pool)
    .await
}

/// Brings `kill_heatmap_fine` and `kill_heatmap_fine_total` up to date with every committed
/// round (SQL function `roll_up_heatmap`, migration 0003): each round is added exactly once,
/// after its import commits. Cheap when nothing is pending. Returns the rounds rolled up.
pub async fn roll_up_pending<'c, E>(executor: E) -> Result<i32, sqlx::Error>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query_scalar("SELECT roll_up_heatmap(NULL)")
        .fetch_one(executor)
        .await
}

/// Takes a round's counted kills back out of both rollups. Call it before deleting the
/// round (its `kill_context` rows must still be there), in the same transaction.
pub async fn unroll_round<'c, E>(executor: E, round_id: i64) -> Result<u64, sqlx::Error>
where
    E: sqlx::PgExecutor<'c>,
{
    let done = sqlx::query(UNROLL_SQL_ROUND)
        .bind(round_id)
        .execute(executor)
        .await?;
    Ok(done.rows_affected())
}

/// Recomputes `kill_heatmap_fine_total` from the archived days (`kill_heatmap_fine`) and the
/// raw kills, and marks every round rolled up.
pub async fn rebuild_fine_rollup(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM kill_heatmap_fine_total")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(TOTAL_FROM_ARCHIVED_AND_RAW)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE rounds SET heatmap_rolled_up = true WHERE NOT heatmap_rolled_up")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

const UNROLL_SQL_ROUND: &str = r#"
WITH was_rolled_up AS (
    UPDATE rounds SET heatmap_rolled_up = false WHERE id = $1 AND heatmap_rolled_up RETURNING id
), k AS (
    SELECT session_date, map_name, 'victim'::text AS position, victim_team AS team,
           floor(greatest(-1e6, least(1e6, victim_x / 64)))::int AS cell_x,
           floor(greatest(-1e6, least(1e6, victim_y / 64)))::int AS cell_y,
           count(*)::int AS kills
    FROM kill_context WHERE round_id = $1 AND kind = 'kill'
    GROUP BY 1, 2, 3, 4, 5, 6
    UNION ALL
    SELECT session_date, map_name, 'killer'::text, killer_team,
           floor(greatest(-1e6, least(1e6, killer_x / 64)))::int,
           floor(greatest(-1e6, least(1e6, killer_y / 64)))::int,
           count(*)::int
    FROM kill_context WHERE round_id = $1 AND kind = 'kill'
    GROUP BY 1, 2, 3, 4, 5, 6
), k_rolled AS (
    SELECT k.* FROM k WHERE EXISTS (SELECT 1 FROM was_rolled_up)
)
UPDATE kill_heatmap_fine_total t SET kills = t.kills - s.kills
FROM (SELECT map_name, position, team, cell_x, cell_y, sum(kills) AS kills
      FROM k_rolled GROUP BY 1, 2, 3, 4, 5) s
WHERE t.map_name = s.map_name AND t.position = s.position AND t.team = s.team
  AND t.cell_x = s.cell_x AND t.cell_y = s.cell_y
"#;

const TOTAL_FROM_ARCHIVED_AND_RAW: &str = r#"
INSERT INTO kill_heatmap_fine_total (map_name, position, team, cell_x, cell_y, kills)
SELECT map_name, position, team, cell_x, cell_y, sum(kills)
FROM (
    SELECT map_name, position, team, cell_x, cell_y, kills FROM kill_heatmap_fine
    UNION ALL
    SELECT map_name, 'victim', victim_team,
           floor(greatest(-1e6, least(1e6, victim_x / 64)))::int,
           floor(greatest(-1e6, least(1e6, victim_y / 64)))::int, 1
    FROM kill_context WHERE kind = 'kill'
    UNION ALL
    SELECT map_name, 'killer', killer_team,
           floor(greatest(-1e6, least(1e6, killer_x / 64)))::int,
           floor(greatest(-1e6, least(1e6, killer_y / 64)))::int, 1
    FROM kill_context WHERE kind = 'kill'
) c
GROUP BY 1, 2, 3, 4, 5
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse() {
        assert_eq!("all".parse::<Period>(), Ok(Period::All));
        assert_eq!("session".parse::<Period>(), Ok(Period::LatestSession));
        assert_eq!("7d".parse::<Period>(), Ok(Period::LastDays(7)));
        assert_eq!("30".parse::<Period>(), Ok(Period::LastDays(30)));
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(
            "2026-11-20".parse::<Period>(),
            Ok(Period::Range(d("2026-11-20"), d("2026-11-20")))
        );
        assert_eq!(
            "2026-11-01..2026-11-20".parse::<Period>(),
            Ok(Period::Range(d("2026-11-01"), d("2026-11-20")))
        );
        assert!("2026-11-20..2026-11-01".parse::<Period>().is_err());
        assert!("0d".parse::<Period>().is_err());
        assert!("yesterday".parse::<Period>().is_err());
    }

    #[test]
    fn weapons_resolve_to_means_of_death() {
        let mp40: WeaponFilter = "mp40".parse().expect("mp40");
        assert_eq!(mp40.mods, vec![8]);
        let panzer: WeaponFilter = "Panzerfaust".parse().expect("label");
        assert_eq!(panzer.mods, vec![15]);
        let melee: WeaponFilter = "melee".parse().expect("category");
        assert_eq!(melee.mods, vec![5, 61, 65]);
        let explosive: WeaponFilter = "explosive".parse().expect("category");
        assert!(explosive.mods.contains(&26) && explosive.mods.contains(&64));
        assert!("banana".parse::<WeaponFilter>().is_err());
    }

    #[test]
    fn engagement_words_map_to_stored_classes() {
        assert_eq!(parse_engagement("Assisted").as_deref(), Ok("outnumbering"));
        assert_eq!(parse_engagement("outgunned").as_deref(), Ok("outnumbered"));
        assert_eq!(parse_engagement("solo").as_deref(), Ok("solo"));
        assert!(parse_engagement("2v1").is_err());
    }

    #[test]
    fn teams_and_kinds_parse() {
        assert_eq!("Axis".parse::<Team>(), Ok(Team::Axis));
        assert_eq!("allies".parse::<Team>(), Ok(Team::Allies));
        assert!("spectator".parse::<Team>().is_err());
        assert_eq!("kills".parse::<PositionKind>(), Ok(PositionKind::Kills));
        assert_eq!("deaths".parse::<PositionKind>(), Ok(PositionKind::Deaths));
    }

    #[test]
    fn raw_filters_are_detected() {
        let mut f = HeatmapFilter::new("goldrush");
        f.team = Some(Team::Axis);
        assert!(!f.needs_raw_rows());
        f.engagement = Some("solo".into());
        assert!(f.needs_raw_rows());
    }
}
