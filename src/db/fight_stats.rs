//! What the bot reads of the whole fight (migration 0013, all-time totals of 0017): a
//! player's damage, accuracy, revives and objective plays over a range of session days, weapons
//! ranked, a round's objective plays and medics, a session day's fight numbers for the recap,
//! and the presence and objective heatmap cells.
//!
//! All time is read from `player_fight_totals` / `player_weapon_fight_totals` (one row per
//! player, or player and weapon); other ranges sum the daily rows, whose keys start with the
//! player (one player) or whose `session_date` index bounds the days (everyone).

use chrono::NaiveDate;
use sqlx::PgPool;

use super::heatmap::RollupCount;
use super::stats::is_all_time;

/// Weapons that fire bullets (`WP_*` numbers, as `et_WeaponFire` reports them): accuracy and
/// headshot share are counted over these only, since a grenade or a panzerfaust "hit" is
/// splash, not aim.
pub const BULLET_WEAPONS: [i16; 24] = [
    2, 3, 7, 8, 10, 14, 23, 24, 25, 30, 31, 32, 33, 35, 36, 39, 40, 41, 42, 45, 46, 47, 49, 50,
];

/// A player's fight numbers over a range of days: sums and counts only.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct FightTotals {
    pub guid: String,
    pub name: String,
    pub is_bot: bool,
    pub time_played_ms: i64,
    /// Health taken from enemies (the `effective` damage).
    pub damage_given: i64,
    pub damage_received: i64,
    pub team_damage_given: i64,
    /// Shots, hits and headshots with [`BULLET_WEAPONS`].
    pub bullet_shots: i64,
    pub bullet_hits: i64,
    pub bullet_headshots: i64,
    pub revives_given: i64,
    pub revives_received: i64,
    pub obj_steals: i64,
    pub obj_secures: i64,
    pub obj_returns: i64,
    pub obj_plants: i64,
    pub obj_defuses: i64,
    pub obj_destroys: i64,
    pub obj_builds: i64,
}

impl FightTotals {
    /// Every objective play: steals, secures, returns, plants, defuses, destroys and builds.
    pub fn objective_plays(&self) -> i64 {
        self.obj_steals
            + self.obj_secures
            + self.obj_returns
            + self.obj_plants
            + self.obj_defuses
            + self.obj_destroys
            + self.obj_builds
    }

    /// Minutes played (the players section's time in the rounds).
    pub fn minutes(&self) -> f64 {
        self.time_played_ms as f64 / 60_000.0
    }

    /// Damage given to enemies per minute played; `None` without playing time.
    pub fn damage_per_minute(&self) -> Option<f64> {
        (self.time_played_ms > 0).then(|| self.damage_given as f64 / self.minutes())
    }

    /// Bullet hits of bullet shots; `None` without a shot.
    pub fn accuracy(&self) -> Option<f64> {
        (self.bullet_shots > 0).then(|| self.bullet_hits as f64 / self.bullet_shots as f64)
    }

    /// Headshots of bullet hits; `None` without a hit.
    pub fn headshot_share(&self) -> Option<f64> {
        (self.bullet_hits > 0).then(|| self.bullet_headshots as f64 / self.bullet_hits as f64)
    }
}

/// One player's fight numbers over the days; `None` when the player has no fight data there
/// (files without fight sections, v2 files).
pub async fn player_fight(
    pool: &PgPool,
    guid: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Option<FightTotals>> {
    let guids = [guid.to_owned()];
    let mut rows = if is_all_time(from, to) {
        all_time_fight(pool, Some(&guids)).await?
    } else {
        daily_fight(pool, Some(&guids), from, to).await?
    };
    Ok(rows.pop())
}

/// Every player's fight numbers over the days (bots included; callers filter).
pub async fn all_fight(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<FightTotals>> {
    if is_all_time(from, to) {
        all_time_fight(pool, None).await
    } else {
        daily_fight(pool, None, from, to).await
    }
}

/// The fight numbers of `guids` on one session day (the recap's day).
pub async fn day_fight(
    pool: &PgPool,
    day: NaiveDate,
    guids: &[String],
) -> sqlx::Result<Vec<FightTotals>> {
    daily_fight(pool, Some(guids), day, day).await
}

async fn all_time_fight(pool: &PgPool, guids: Option<&[String]>) -> sqlx::Result<Vec<FightTotals>> {
    sqlx::query_as!(
        FightTotals,
        r#"SELECT t.player_guid AS "guid!", COALESCE(p.last_name, t.player_guid) AS "name!",
            COALESCE(p.is_bot, false) AS "is_bot!",
            t.time_played_ms, t.damage_given, t.damage_received, t.team_damage_given,
            COALESCE(w.shots, 0)::bigint AS "bullet_shots!",
            COALESCE(w.hits, 0)::bigint AS "bullet_hits!",
            COALESCE(w.headshots, 0)::bigint AS "bullet_headshots!",
            t.revives_given, t.revives_received, t.obj_steals, t.obj_secures, t.obj_returns,
            t.obj_plants, t.obj_defuses, t.obj_destroys, t.obj_builds
        FROM player_fight_totals t
        LEFT JOIN players p ON p.player_guid = t.player_guid
        LEFT JOIN (SELECT player_guid, SUM(shots) AS shots, SUM(hits) AS hits,
                          SUM(headshots) AS headshots
                   FROM player_weapon_fight_totals
                   WHERE weapon = ANY ($2) AND ($1::text[] IS NULL OR player_guid = ANY ($1))
                   GROUP BY player_guid) w ON w.player_guid = t.player_guid
        WHERE t.days_played > 0 AND ($1::text[] IS NULL OR t.player_guid = ANY ($1))
        ORDER BY t.player_guid"#,
        guids as Option<&[String]>,
        &BULLET_WEAPONS[..],
    )
    .fetch_all(pool)
    .await
}

async fn daily_fight(
    pool: &PgPool,
    guids: Option<&[String]>,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<FightTotals>> {
    sqlx::query_as!(
        FightTotals,
        r#"SELECT d.player_guid AS "guid!", COALESCE(p.last_name, d.player_guid) AS "name!",
            COALESCE(p.is_bot, false) AS "is_bot!",
            d.time_played_ms AS "time_played_ms!", d.damage_given AS "damage_given!",
            d.damage_received AS "damage_received!", d.team_damage_given AS "team_damage_given!",
            COALESCE(w.shots, 0)::bigint AS "bullet_shots!",
            COALESCE(w.hits, 0)::bigint AS "bullet_hits!",
            COALESCE(w.headshots, 0)::bigint AS "bullet_headshots!",
            d.revives_given AS "revives_given!", d.revives_received AS "revives_received!",
            d.obj_steals AS "obj_steals!", d.obj_secures AS "obj_secures!",
            d.obj_returns AS "obj_returns!", d.obj_plants AS "obj_plants!",
            d.obj_defuses AS "obj_defuses!", d.obj_destroys AS "obj_destroys!",
            d.obj_builds AS "obj_builds!"
        FROM (SELECT player_guid, SUM(time_played_ms)::bigint AS time_played_ms,
                     SUM(damage_given)::bigint AS damage_given,
                     SUM(damage_received)::bigint AS damage_received,
                     SUM(team_damage_given)::bigint AS team_damage_given,
                     SUM(revives_given)::bigint AS revives_given,
                     SUM(revives_received)::bigint AS revives_received,
                     SUM(obj_steals)::bigint AS obj_steals, SUM(obj_secures)::bigint AS obj_secures,
                     SUM(obj_returns)::bigint AS obj_returns, SUM(obj_plants)::bigint AS obj_plants,
                     SUM(obj_defuses)::bigint AS obj_defuses,
                     SUM(obj_destroys)::bigint AS obj_destroys,
                     SUM(obj_builds)::bigint AS obj_builds
              FROM player_fight_daily
              WHERE session_date BETWEEN $2 AND $3
                AND ($1::text[] IS NULL OR player_guid = ANY ($1))
              GROUP BY player_guid) d
        LEFT JOIN players p ON p.player_guid = d.player_guid
        LEFT JOIN (SELECT player_guid, SUM(shots) AS shots, SUM(hits) AS hits,
                          SUM(headshots) AS headshots
                   FROM player_weapon_fight_daily
                   WHERE weapon = ANY ($4) AND session_date BETWEEN $2 AND $3
                     AND ($1::text[] IS NULL OR player_guid = ANY ($1))
                   GROUP BY player_guid) w ON w.player_guid = d.player_guid
        ORDER BY d.player_guid"#,
        guids as Option<&[String]>,
        from,
        to,
        &BULLET_WEAPONS[..],
    )
    .fetch_all(pool)
    .await
}

/// A weapon's kills and fight numbers for one player or everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct WeaponFight {
    pub weapon: i16,
    pub kills: i64,
    pub shots: i64,
    pub hits: i64,
    pub headshots: i64,
    /// Health taken from enemies with it.
    pub damage: i64,
}

impl WeaponFight {
    /// Hits of shots; `None` without a shot (explosives and the like fire no counted shots).
    /// Hits per shot, for a bullet weapon with shots; splash weapons hit several players per
    /// shot and tools (syringe, pliers) fire without aiming at enemies, so they have none.
    pub fn accuracy(&self) -> Option<f64> {
        (self.aimed() && self.shots > 0).then(|| self.hits as f64 / self.shots as f64)
    }

    /// Headshots per hit, for a bullet weapon with hits.
    pub fn headshot_share(&self) -> Option<f64> {
        (self.aimed() && self.hits > 0).then(|| self.headshots as f64 / self.hits as f64)
    }

    /// One of [`BULLET_WEAPONS`].
    pub fn aimed(&self) -> bool {
        BULLET_WEAPONS.contains(&self.weapon)
    }
}

/// Kills (from the kill aggregates) and shots, hits, headshots and damage (from the fight
/// aggregates) per weapon, for `guid` or, without one, every player; weapons with neither a
/// kill nor a shot nor damage are left out. Unordered: the command ranks them.
pub async fn weapons(
    pool: &PgPool,
    guid: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<WeaponFight>> {
    if is_all_time(from, to) {
        sqlx::query_as!(
            WeaponFight,
            r#"SELECT COALESCE(k.weapon, f.weapon) AS "weapon!",
                COALESCE(k.kills, 0)::bigint AS "kills!", COALESCE(f.shots, 0)::bigint AS "shots!",
                COALESCE(f.hits, 0)::bigint AS "hits!",
                COALESCE(f.headshots, 0)::bigint AS "headshots!",
                COALESCE(f.damage, 0)::bigint AS "damage!"
            FROM (SELECT weapon, SUM(kills) AS kills FROM player_weapon_totals
                  WHERE ($1::text IS NULL OR player_guid = $1) GROUP BY weapon) k
            FULL JOIN (SELECT weapon, SUM(shots) AS shots, SUM(hits) AS hits,
                              SUM(headshots) AS headshots, SUM(damage) AS damage
                       FROM player_weapon_fight_totals
                       WHERE ($1::text IS NULL OR player_guid = $1) GROUP BY weapon) f
                ON f.weapon = k.weapon
            WHERE COALESCE(k.kills, 0) > 0 OR COALESCE(f.shots, 0) > 0
               OR COALESCE(f.damage, 0) > 0"#,
            guid,
        )
        .fetch_all(pool)
        .await
    } else {
        sqlx::query_as!(
            WeaponFight,
            r#"SELECT COALESCE(k.weapon, f.weapon) AS "weapon!",
                COALESCE(k.kills, 0)::bigint AS "kills!", COALESCE(f.shots, 0)::bigint AS "shots!",
                COALESCE(f.hits, 0)::bigint AS "hits!",
                COALESCE(f.headshots, 0)::bigint AS "headshots!",
                COALESCE(f.damage, 0)::bigint AS "damage!"
            FROM (SELECT weapon, SUM(kills) AS kills FROM player_weapon_daily
                  WHERE ($1::text IS NULL OR player_guid = $1)
                    AND session_date BETWEEN $2 AND $3 GROUP BY weapon) k
            FULL JOIN (SELECT weapon, SUM(shots) AS shots, SUM(hits) AS hits,
                              SUM(headshots) AS headshots, SUM(damage) AS damage
                       FROM player_weapon_fight_daily
                       WHERE ($1::text IS NULL OR player_guid = $1)
                         AND session_date BETWEEN $2 AND $3 GROUP BY weapon) f
                ON f.weapon = k.weapon
            WHERE COALESCE(k.kills, 0) > 0 OR COALESCE(f.shots, 0) > 0
               OR COALESCE(f.damage, 0) > 0"#,
            guid,
            from,
            to,
        )
        .fetch_all(pool)
        .await
    }
}

/// One objective play of a round, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectivePlay {
    pub t_ms: i32,
    /// The player's current name; `None` for a return by time-out.
    pub name: Option<String>,
    pub team: String,
    pub action: String,
    pub target: String,
}

/// The objective plays of a round (steals, secures, returns, plants, defuses, destroys,
/// builds; drops are not plays), in time order.
pub async fn round_objectives(pool: &PgPool, round_id: i64) -> sqlx::Result<Vec<ObjectivePlay>> {
    sqlx::query_as!(
        ObjectivePlay,
        r#"SELECT o.t_ms, COALESCE(p.last_name, o.player_guid) AS name, o.team, o.action,
                o.target
         FROM objective_event o LEFT JOIN players p ON p.player_guid = o.player_guid
         WHERE o.round_id = $1 AND o.action <> 'drop'
         ORDER BY o.t_ms, o.action, o.player_guid"#,
        round_id,
    )
    .fetch_all(pool)
    .await
}

/// A medic and the revives they gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medic {
    pub guid: String,
    pub name: String,
    pub revives: i64,
}

/// The medics of a round by revives given, most first (ties by key); revives whose medic the
/// engine did not name are not counted.
pub async fn round_medics(pool: &PgPool, round_id: i64) -> sqlx::Result<Vec<Medic>> {
    sqlx::query_as!(
        Medic,
        r#"SELECT r.medic_guid AS "guid!", COALESCE(p.last_name, r.medic_guid) AS "name!",
                COUNT(*) AS "revives!"
         FROM revive_event r LEFT JOIN players p ON p.player_guid = r.medic_guid
         WHERE r.round_id = $1 AND r.medic_guid IS NOT NULL
         GROUP BY r.medic_guid, p.last_name
         ORDER BY 3 DESC, 1"#,
        round_id,
    )
    .fetch_all(pool)
    .await
}

/// What a fight heatmap reads: the map, the days (inclusive), an optional team (`AXIS`,
/// `ALLIES`) and player key, and for objective cells an optional action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellFilter {
    pub map: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub team: Option<String>,
    pub player: Option<String>,
    pub action: Option<String>,
}

/// Seconds living players spent per 64-unit cell (`kills` holds the seconds).
pub async fn presence_cells(pool: &PgPool, f: &CellFilter) -> sqlx::Result<Vec<RollupCount>> {
    sqlx::query_as!(
        RollupCount,
        r#"SELECT cell_x, cell_y, SUM(seconds)::bigint AS "kills!"
         FROM presence_cells_daily
         WHERE map_name = $1 AND session_date BETWEEN $2 AND $3
           AND ($4::text IS NULL OR team = $4) AND ($5::text IS NULL OR player_guid = $5)
         GROUP BY cell_x, cell_y"#,
        f.map,
        f.from,
        f.to,
        f.team,
        f.player,
    )
    .fetch_all(pool)
    .await
}

/// Objective plays per 64-unit cell (`kills` holds the plays); drops are not plays.
pub async fn objective_cells(pool: &PgPool, f: &CellFilter) -> sqlx::Result<Vec<RollupCount>> {
    sqlx::query_as!(
        RollupCount,
        r#"SELECT cell_x, cell_y, SUM(plays)::bigint AS "kills!"
         FROM objective_cells_daily
         WHERE map_name = $1 AND session_date BETWEEN $2 AND $3
           AND ($4::text IS NULL OR team = $4) AND ($5::text IS NULL OR player_guid = $5)
           AND ($6::text IS NULL OR action = $6) AND action <> 'drop'
         GROUP BY cell_x, cell_y"#,
        f.map,
        f.from,
        f.to,
        f.team,
        f.player,
        f.action,
    )
    .fetch_all(pool)
    .await
}

/// The last session day with presence (`objectives`: objective plays) on the map.
pub async fn latest_fight_day(
    pool: &PgPool,
    map: &str,
    objectives: bool,
) -> sqlx::Result<Option<NaiveDate>> {
    if objectives {
        sqlx::query_scalar!(
            "SELECT MAX(session_date) FROM objective_cells_daily WHERE map_name = $1",
            map
        )
        .fetch_one(pool)
        .await
    } else {
        sqlx::query_scalar!(
            "SELECT MAX(session_date) FROM presence_cells_daily WHERE map_name = $1",
            map
        )
        .fetch_one(pool)
        .await
    }
}
