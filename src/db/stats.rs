//! Per-player totals over a range of session days (all time from the all-time rows of
//! migration 0009, other ranges from the daily rows); weapon and versus counts; the engagement
//! mix per day and map, and how an import adds to it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use crate::db::rounds::KillsOfRound;
use crate::period::{FIRST_DAY, LAST_DAY};
use crate::round_file::KillKind;
use crate::stats::round_stats::write_engagement_type;

/// Whether a range covers every day, so the all-time rows answer it.
pub fn is_all_time(from: NaiveDate, to: NaiveDate) -> bool {
    from <= FIRST_DAY && to >= LAST_DAY
}

#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct PlayerTotals {
    pub guid: String,
    pub name: String,
    pub is_bot: bool,
    pub kills: i64,
    pub deaths: i64,
    pub solo_kills: i64,
    pub assisted_kills: i64,
    pub even_kills: i64,
    pub outgunned_kills: i64,
    pub solo_deaths: i64,
    pub ganked_deaths: i64,
    pub even_deaths: i64,
    pub outnumbering_deaths: i64,
    pub team_kills: i64,
    pub suicides: i64,
    pub crossfire: i64,
    pub sum_distance: f64,
    pub rounds: i64,
    pub days: i64,
}

impl PlayerTotals {
    /// 1v1 duels fought (won or lost).
    pub fn duels(&self) -> i64 {
        self.solo_kills + self.solo_deaths
    }
}

// The two totals statements differ only in their WHERE clause; each is written out in full so
// both are checked (a macro takes one literal, not a composed string).

/// Totals of every player (bots included; callers filter) over the days.
pub async fn all_totals(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<PlayerTotals>> {
    if is_all_time(from, to) {
        all_time_totals(pool).await
    } else {
        daily_totals(pool, from, to).await
    }
}

/// Every player's all-time row. A player whose daily rows were all taken out again (a replaced
/// round) keeps a row at zero rounds; the daily sums know no such player, so neither does this.
async fn all_time_totals(pool: &PgPool) -> sqlx::Result<Vec<PlayerTotals>> {
    sqlx::query_as!(
        PlayerTotals,
        r#"SELECT t.player_guid AS "guid!", COALESCE(p.last_name, t.player_guid) AS "name!",
            COALESCE(p.is_bot, t.is_bot) AS "is_bot!",
            t.total_kills AS "kills!", t.total_deaths AS "deaths!",
            t.solo_kills AS "solo_kills!", t.assisted_kills AS "assisted_kills!",
            t.even_kills AS "even_kills!", t.outgunned_kills AS "outgunned_kills!",
            t.solo_deaths AS "solo_deaths!", t.ganked_deaths AS "ganked_deaths!",
            t.even_deaths AS "even_deaths!", t.outnumbering_deaths AS "outnumbering_deaths!",
            t.team_kills AS "team_kills!", t.suicides AS "suicides!",
            t.crossfire_participations AS "crossfire!", t.sum_kill_distance AS "sum_distance!",
            t.rounds_played AS "rounds!", t.days_played::bigint AS "days!"
        FROM player_totals t LEFT JOIN players p ON p.player_guid = t.player_guid
        WHERE t.days_played > 0"#
    )
    .fetch_all(pool)
    .await
}

async fn daily_totals(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<PlayerTotals>> {
    sqlx::query_as!(
        PlayerTotals,
        r#"SELECT s.player_guid AS guid, COALESCE(p.last_name, MAX(s.player_name)) AS "name!",
            COALESCE(p.is_bot, bool_or(s.is_bot)) AS "is_bot!",
            SUM(s.total_kills)::bigint AS "kills!", SUM(s.total_deaths)::bigint AS "deaths!",
            SUM(s.solo_kills)::bigint AS "solo_kills!",
            SUM(s.assisted_kills)::bigint AS "assisted_kills!",
            SUM(s.even_kills)::bigint AS "even_kills!",
            SUM(s.outgunned_kills)::bigint AS "outgunned_kills!",
            SUM(s.solo_deaths)::bigint AS "solo_deaths!",
            SUM(s.ganked_deaths)::bigint AS "ganked_deaths!",
            SUM(s.even_deaths)::bigint AS "even_deaths!",
            SUM(s.outnumbering_deaths)::bigint AS "outnumbering_deaths!",
            SUM(s.team_kills)::bigint AS "team_kills!", SUM(s.suicides)::bigint AS "suicides!",
            SUM(s.crossfire_participations)::bigint AS "crossfire!",
            SUM(s.sum_kill_distance)::float8 AS "sum_distance!",
            SUM(s.rounds_played)::bigint AS "rounds!", COUNT(*)::bigint AS "days!"
        FROM player_proximity_stats s LEFT JOIN players p ON p.player_guid = s.player_guid
        WHERE s.session_date BETWEEN $1 AND $2 GROUP BY s.player_guid, p.last_name, p.is_bot"#,
        from,
        to,
    )
    .fetch_all(pool)
    .await
}

/// One player's totals; `None` when the player has no stats in the range.
pub async fn player_totals(
    pool: &PgPool,
    guid: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Option<PlayerTotals>> {
    if is_all_time(from, to) {
        player_all_time(pool, guid).await
    } else {
        player_daily_totals(pool, guid, from, to).await
    }
}

async fn player_all_time(pool: &PgPool, guid: &str) -> sqlx::Result<Option<PlayerTotals>> {
    sqlx::query_as!(
        PlayerTotals,
        r#"SELECT t.player_guid AS "guid!", COALESCE(p.last_name, t.player_guid) AS "name!",
            COALESCE(p.is_bot, t.is_bot) AS "is_bot!",
            t.total_kills AS "kills!", t.total_deaths AS "deaths!",
            t.solo_kills AS "solo_kills!", t.assisted_kills AS "assisted_kills!",
            t.even_kills AS "even_kills!", t.outgunned_kills AS "outgunned_kills!",
            t.solo_deaths AS "solo_deaths!", t.ganked_deaths AS "ganked_deaths!",
            t.even_deaths AS "even_deaths!", t.outnumbering_deaths AS "outnumbering_deaths!",
            t.team_kills AS "team_kills!", t.suicides AS "suicides!",
            t.crossfire_participations AS "crossfire!", t.sum_kill_distance AS "sum_distance!",
            t.rounds_played AS "rounds!", t.days_played::bigint AS "days!"
        FROM player_totals t LEFT JOIN players p ON p.player_guid = t.player_guid
        WHERE t.player_guid = $1 AND t.days_played > 0"#,
        guid,
    )
    .fetch_optional(pool)
    .await
}

async fn player_daily_totals(
    pool: &PgPool,
    guid: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Option<PlayerTotals>> {
    sqlx::query_as!(
        PlayerTotals,
        r#"SELECT s.player_guid AS guid, COALESCE(p.last_name, MAX(s.player_name)) AS "name!",
            COALESCE(p.is_bot, bool_or(s.is_bot)) AS "is_bot!",
            SUM(s.total_kills)::bigint AS "kills!", SUM(s.total_deaths)::bigint AS "deaths!",
            SUM(s.solo_kills)::bigint AS "solo_kills!",
            SUM(s.assisted_kills)::bigint AS "assisted_kills!",
            SUM(s.even_kills)::bigint AS "even_kills!",
            SUM(s.outgunned_kills)::bigint AS "outgunned_kills!",
            SUM(s.solo_deaths)::bigint AS "solo_deaths!",
            SUM(s.ganked_deaths)::bigint AS "ganked_deaths!",
            SUM(s.even_deaths)::bigint AS "even_deaths!",
            SUM(s.outnumbering_deaths)::bigint AS "outnumbering_deaths!",
            SUM(s.team_kills)::bigint AS "team_kills!", SUM(s.suicides)::bigint AS "suicides!",
            SUM(s.crossfire_participations)::bigint AS "crossfire!",
            SUM(s.sum_kill_distance)::float8 AS "sum_distance!",
            SUM(s.rounds_played)::bigint AS "rounds!", COUNT(*)::bigint AS "days!"
        FROM player_proximity_stats s LEFT JOIN players p ON p.player_guid = s.player_guid
        WHERE s.player_guid = $3 AND s.session_date BETWEEN $1 AND $2
        GROUP BY s.player_guid, p.last_name, p.is_bot"#,
        from,
        to,
        guid,
    )
    .fetch_optional(pool)
    .await
}

/// The last session day with a round, if any.
pub async fn latest_session(pool: &PgPool) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar!("SELECT MAX(session_date) FROM rounds")
        .fetch_one(pool)
        .await
}

/// A weapon and the kills a player made with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeaponKills {
    pub weapon: i16,
    pub kills: i64,
}

/// A player's most used weapons, all time (`player_weapon_totals`, the sums of
/// `player_weapon_daily`).
pub async fn favourite_weapons(
    pool: &PgPool,
    guid: &str,
    limit: i64,
) -> sqlx::Result<Vec<WeaponKills>> {
    sqlx::query_as!(
        WeaponKills,
        r#"SELECT weapon, kills FROM player_weapon_totals
         WHERE player_guid = $1 AND kills > 0 ORDER BY 2 DESC, weapon LIMIT $2"#,
        guid,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// The other player of a `versus` row, and the kills between the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opponent {
    pub guid: String,
    /// The current name (the key when the player is unknown).
    pub name: String,
    pub kills: i64,
}

/// Who killed the player most (nemesis) or whom the player killed most (`victims`), all time,
/// from `player_versus_totals` (the sums of `player_versus_daily`). Two statements: the columns swap roles, and each keeps its index.
pub async fn versus(
    pool: &PgPool,
    guid: &str,
    victims: bool,
    limit: i64,
) -> sqlx::Result<Vec<Opponent>> {
    if victims {
        sqlx::query_as!(
            Opponent,
            r#"SELECT v.other AS "guid!", COALESCE(p.last_name, v.other) AS "name!", v.n AS "kills!"
             FROM (SELECT victim_guid AS other, kills AS n FROM player_versus_totals
                   WHERE killer_guid = $1 AND victim_guid <> $1 AND kills > 0) v
             LEFT JOIN players p ON p.player_guid = v.other ORDER BY v.n DESC, v.other LIMIT $2"#,
            guid,
            limit,
        )
        .fetch_all(pool)
        .await
    } else {
        sqlx::query_as!(
            Opponent,
            r#"SELECT v.other AS "guid!", COALESCE(p.last_name, v.other) AS "name!", v.n AS "kills!"
             FROM (SELECT killer_guid AS other, kills AS n FROM player_versus_totals
                   WHERE victim_guid = $1 AND killer_guid <> $1 AND kills > 0) v
             LEFT JOIN players p ON p.player_guid = v.other ORDER BY v.n DESC, v.other LIMIT $2"#,
            guid,
            limit,
        )
        .fetch_all(pool)
        .await
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EngagementRow {
    pub engagement_type: String,
    pub engagement_class: String,
    pub kills: i64,
    pub avg_distance: Option<f64>,
}

/// Kills per engagement type (1v1, 2v1 …) over the days, optionally on one map: from
/// `engagement_totals` for all time, else from `engagement_daily` (kept when raw kills are
/// archived). The average distance is the stored sum over the count.
pub async fn engagements(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    map: Option<&str>,
) -> sqlx::Result<Vec<EngagementRow>> {
    if is_all_time(from, to) {
        sqlx::query_as!(
            EngagementRow,
            r#"SELECT engagement_type, engagement_class, SUM(kills)::bigint AS "kills!",
                    (SUM(sum_distance) / SUM(kills))::float8 AS avg_distance
             FROM engagement_totals
             WHERE kills > 0 AND ($1::text IS NULL OR map_name = $1)
             GROUP BY engagement_type, engagement_class ORDER BY 3 DESC, engagement_type"#,
            map,
        )
        .fetch_all(pool)
        .await
    } else {
        sqlx::query_as!(
            EngagementRow,
            r#"SELECT engagement_type, engagement_class, SUM(kills)::bigint AS "kills!",
                    (SUM(sum_distance) / SUM(kills))::float8 AS avg_distance
             FROM engagement_daily
             WHERE kills > 0 AND session_date BETWEEN $1 AND $2
               AND ($3::text IS NULL OR map_name = $3)
             GROUP BY engagement_type, engagement_class ORDER BY 3 DESC, engagement_type"#,
            from,
            to,
            map,
        )
        .fetch_all(pool)
        .await
    }
}

/// Adds the counted kills of rounds being imported to the engagement rows, from the kills in
/// hand (reading them back from `kill_context` would go through BRIN ranges not summarized yet:
/// ~240 ms a round right after a bulk load). One statement; rows in key order.
pub async fn add_round_engagements(
    conn: &mut PgConnection,
    rounds: &[KillsOfRound<'_, '_>],
) -> sqlx::Result<()> {
    let mut merged: BTreeMap<(NaiveDate, String, String, String), (i32, f64)> = BTreeMap::new();
    for round in rounds {
        for (kill, resolved) in round.kills.iter().zip(&round.stats.kills) {
            if kill.kind != KillKind::Kill {
                continue;
            }
            let mut kind = String::with_capacity(8);
            write_engagement_type(&mut kind, kill.killer_allies, kill.victim_allies);
            let key = (
                round.row.session_date,
                round.row.map_name.clone(),
                kind,
                resolved.class.as_str().to_owned(),
            );
            let row = merged.entry(key).or_default();
            row.0 += 1;
            row.1 += f64::from(kill.distance);
        }
    }
    if merged.is_empty() {
        return Ok(());
    }
    let days: Vec<NaiveDate> = merged.keys().map(|k| k.0).collect();
    let maps: Vec<&str> = merged.keys().map(|k| k.1.as_str()).collect();
    let types: Vec<&str> = merged.keys().map(|k| k.2.as_str()).collect();
    let classes: Vec<&str> = merged.keys().map(|k| k.3.as_str()).collect();
    let kills: Vec<i32> = merged.values().map(|v| v.0).collect();
    let distances: Vec<f64> = merged.values().map(|v| v.1).collect();
    sqlx::query!(
        r#"WITH e AS (
            SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::int4[],
                                 $6::float8[])
                   AS t(session_date, map_name, engagement_type, engagement_class, kills,
                        sum_distance)),
         d AS (
            INSERT INTO engagement_daily AS g (session_date, map_name, engagement_type,
                engagement_class, kills, sum_distance)
            SELECT * FROM e ORDER BY 1, 2, 3, 4
            ON CONFLICT (session_date, map_name, engagement_type, engagement_class) DO UPDATE SET
                kills = g.kills + EXCLUDED.kills, sum_distance = g.sum_distance + EXCLUDED.sum_distance)
         INSERT INTO engagement_totals AS g (map_name, engagement_type, engagement_class, kills,
             sum_distance)
         SELECT map_name, engagement_type, engagement_class, SUM(kills), SUM(sum_distance)
         FROM e GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
         ON CONFLICT (map_name, engagement_type, engagement_class) DO UPDATE SET
             kills = g.kills + EXCLUDED.kills, sum_distance = g.sum_distance + EXCLUDED.sum_distance"#,
        &days,
        &maps as &[&str],
        &types as &[&str],
        &classes as &[&str],
        &kills,
        &distances,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds (`sign` 1) or takes out again (`sign` -1) the counted kills of stored rounds to the
/// engagement rows, from their raw kills: called before a replaced round's kills are deleted.
/// Rows are locked in key order.
pub async fn add_engagements(
    conn: &mut PgConnection,
    round_ids: &[i64],
    sign: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"WITH e AS (
            SELECT session_date, map_name, engagement_type, engagement_class,
                   COUNT(*)::int * $2 AS kills, SUM(distance::float8) * $2 AS sum_distance
            FROM kill_context
            WHERE round_id BETWEEN (SELECT MIN(r) FROM unnest($1::int8[]) r)
                               AND (SELECT MAX(r) FROM unnest($1::int8[]) r)
              AND round_id = ANY ($1) AND kind = 'kill'
            GROUP BY 1, 2, 3, 4),
         d AS (
            INSERT INTO engagement_daily AS g (session_date, map_name, engagement_type,
                engagement_class, kills, sum_distance)
            SELECT * FROM e ORDER BY 1, 2, 3, 4
            ON CONFLICT (session_date, map_name, engagement_type, engagement_class) DO UPDATE SET
                kills = g.kills + EXCLUDED.kills, sum_distance = g.sum_distance + EXCLUDED.sum_distance)
         INSERT INTO engagement_totals AS g (map_name, engagement_type, engagement_class, kills,
             sum_distance)
         SELECT map_name, engagement_type, engagement_class, SUM(kills), SUM(sum_distance)
         FROM e GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
         ON CONFLICT (map_name, engagement_type, engagement_class) DO UPDATE SET
             kills = g.kills + EXCLUDED.kills, sum_distance = g.sum_distance + EXCLUDED.sum_distance"#,
        round_ids,
        sign,
    )
    .execute(conn)
    .await?;
    Ok(())
}
