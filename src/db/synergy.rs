//! Teammate pairs over a range of session days.

use chrono::NaiveDate;
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Pair {
    pub a_guid: String,
    pub a_name: String,
    pub b_guid: String,
    pub b_name: String,
    pub kills_within_range: i64,
    pub simultaneous_kills: i64,
    pub trade_kills: i64,
    pub rounds_together: i64,
}

impl Pair {
    pub fn score(&self) -> i64 {
        self.kills_within_range + self.simultaneous_kills + self.trade_kills
    }
}

/// Both directions of a pair and day are merged (counters added, rounds together the larger
/// of the two, since each direction counts the same rounds).
const PAIRS: &str = "WITH d AS (
        SELECT LEAST(player1_guid, player2_guid) AS a, GREATEST(player1_guid, player2_guid) AS b,
               session_date, SUM(kills_within_range) AS kwr, SUM(simultaneous_kills) AS sim,
               SUM(trade_kills) AS tr, MAX(rounds_together) AS rt
        FROM teammate_synergy_daily
        WHERE session_date BETWEEN $1 AND $2 AND player1_guid <> player2_guid AND FILTER
        GROUP BY 1, 2, 3)
    SELECT d.a AS a_guid, COALESCE(pa.last_name, d.a) AS a_name,
           d.b AS b_guid, COALESCE(pb.last_name, d.b) AS b_name,
           SUM(d.kwr)::bigint AS kills_within_range, SUM(d.sim)::bigint AS simultaneous_kills,
           SUM(d.tr)::bigint AS trade_kills, SUM(d.rt)::bigint AS rounds_together
    FROM d LEFT JOIN players pa ON pa.player_guid = d.a LEFT JOIN players pb ON pb.player_guid = d.b
    WHERE NOT COALESCE(pa.is_bot, false) AND NOT COALESCE(pb.is_bot, false)
    GROUP BY d.a, d.b, pa.last_name, pb.last_name
    ORDER BY SUM(d.kwr) + SUM(d.sim) + SUM(d.tr) DESC, d.a, d.b
    LIMIT 500";

/// The best pairs of the server.
pub async fn best_pairs(pool: &PgPool, from: NaiveDate, to: NaiveDate) -> sqlx::Result<Vec<Pair>> {
    sqlx::query_as(&PAIRS.replace("FILTER", "true"))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
}

/// Pairs that include `guid` (the player may be `a` or `b`).
pub async fn partners(
    pool: &PgPool,
    guid: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<Pair>> {
    sqlx::query_as(&PAIRS.replace("FILTER", "(player1_guid = $3 OR player2_guid = $3)"))
        .bind(from)
        .bind(to)
        .bind(guid)
        .fetch_all(pool)
        .await
}

/// Kills and deaths of two players in rounds where both played on the same team, and in
/// rounds where only one of them played (from raw kills).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TogetherApart {
    pub together_rounds: i64,
    pub together_kills: i64,
    pub together_deaths: i64,
    pub apart_rounds: i64,
    pub apart_kills: i64,
    pub apart_deaths: i64,
}

pub async fn together_apart(
    pool: &PgPool,
    a: &str,
    b: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<TogetherApart> {
    let rows: Vec<(bool, i64, i64, i64)> = sqlx::query_as(
        "WITH k AS (
            SELECT round_id, killer_guid, victim_guid, killer_team, victim_team FROM kill_context
            WHERE kind = 'kill' AND session_date BETWEEN $3 AND $4
              AND (killer_guid IN ($1, $2) OR victim_guid IN ($1, $2))),
         seen AS (
            SELECT DISTINCT round_id, guid, team FROM (
                SELECT round_id, killer_guid AS guid, killer_team AS team FROM k
                UNION ALL SELECT round_id, victim_guid, victim_team FROM k) s
            WHERE guid IN ($1, $2)),
         together AS (
            SELECT DISTINCT x.round_id FROM seen x JOIN seen y
              ON x.round_id = y.round_id AND x.team = y.team AND x.guid = $1 AND y.guid = $2)
         SELECT (k.round_id IN (SELECT round_id FROM together)) AS together,
                COUNT(DISTINCT k.round_id) AS rounds,
                COUNT(*) FILTER (WHERE k.killer_guid IN ($1, $2)) AS kills,
                COUNT(*) FILTER (WHERE k.victim_guid IN ($1, $2)) AS deaths
         FROM k GROUP BY 1",
    )
    .bind(a)
    .bind(b)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut out = TogetherApart::default();
    for (together, rounds, kills, deaths) in rows {
        if together {
            (out.together_rounds, out.together_kills, out.together_deaths) =
                (rounds, kills, deaths);
        } else {
            (out.apart_rounds, out.apart_kills, out.apart_deaths) = (rounds, kills, deaths);
        }
    }
    Ok(out)
}
