//! Teammate pairs over a range of session days: all time from `pair_totals` (migration 0009,
//! top pairs by its score index), other ranges from the daily rows.

use chrono::NaiveDate;
use sqlx::PgPool;

use super::stats::is_all_time;

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

// Both directions of a pair are merged: counters added; rounds together is the larger of
// the two directions' counts (each direction counts the rounds it saw teamwork in). The two
// statements differ only in the player filter; each is written out so both are checked.

/// The best pairs of the server.
pub async fn best_pairs(pool: &PgPool, from: NaiveDate, to: NaiveDate) -> sqlx::Result<Vec<Pair>> {
    if is_all_time(from, to) {
        return best_pairs_all_time(pool).await;
    }
    sqlx::query_as!(
        Pair,
        r#"WITH d AS (
            SELECT LEAST(player1_guid, player2_guid) AS a, GREATEST(player1_guid, player2_guid) AS b,
                   SUM(kills_within_range)::bigint AS kwr, SUM(simultaneous_kills)::bigint AS sim,
                   SUM(trade_kills)::bigint AS tr,
                   GREATEST(SUM(rounds_together) FILTER (WHERE player1_guid < player2_guid),
                            SUM(rounds_together) FILTER (WHERE player1_guid > player2_guid))::bigint AS rt
            FROM teammate_synergy_daily
            WHERE session_date BETWEEN $1 AND $2 AND player1_guid <> player2_guid
            GROUP BY 1, 2
            ORDER BY SUM(kills_within_range) + SUM(simultaneous_kills) + SUM(trade_kills) DESC, 1, 2
            LIMIT 600)
        SELECT d.a AS "a_guid!", COALESCE(pa.last_name, d.a) AS "a_name!",
               d.b AS "b_guid!", COALESCE(pb.last_name, d.b) AS "b_name!",
               d.kwr AS "kills_within_range!", d.sim AS "simultaneous_kills!",
               d.tr AS "trade_kills!", COALESCE(d.rt, 0) AS "rounds_together!"
        FROM d LEFT JOIN players pa ON pa.player_guid = d.a LEFT JOIN players pb ON pb.player_guid = d.b
        WHERE NOT COALESCE(pa.is_bot, false) AND NOT COALESCE(pb.is_bot, false)
        ORDER BY d.kwr + d.sim + d.tr DESC, d.a, d.b
        LIMIT 500"#,
        from,
        to,
    )
    .fetch_all(pool)
    .await
}

// The all-time statements keep the daily statements' rules: the 600 best pairs by score (then
// keys) before bots are left out, at most 500 after; rounds together the larger direction. A
// pair whose rows were all taken out again (a replaced round) has no rounds in either direction.

async fn best_pairs_all_time(pool: &PgPool) -> sqlx::Result<Vec<Pair>> {
    sqlx::query_as!(
        Pair,
        r#"WITH d AS (
            SELECT player_a AS a, player_b AS b, kills_within_range AS kwr,
                   simultaneous_kills AS sim, trade_kills AS tr, GREATEST(rounds_ab, rounds_ba) AS rt,
                   score
            FROM pair_totals WHERE rounds_ab > 0 OR rounds_ba > 0
            ORDER BY score DESC, player_a, player_b
            LIMIT 600)
        SELECT d.a AS "a_guid!", COALESCE(pa.last_name, d.a) AS "a_name!",
               d.b AS "b_guid!", COALESCE(pb.last_name, d.b) AS "b_name!",
               d.kwr AS "kills_within_range!", d.sim AS "simultaneous_kills!",
               d.tr AS "trade_kills!", d.rt AS "rounds_together!"
        FROM d LEFT JOIN players pa ON pa.player_guid = d.a LEFT JOIN players pb ON pb.player_guid = d.b
        WHERE NOT COALESCE(pa.is_bot, false) AND NOT COALESCE(pb.is_bot, false)
        ORDER BY d.score DESC, d.a, d.b
        LIMIT 500"#
    )
    .fetch_all(pool)
    .await
}

async fn partners_all_time(pool: &PgPool, guid: &str) -> sqlx::Result<Vec<Pair>> {
    sqlx::query_as!(
        Pair,
        r#"WITH d AS (
            SELECT player_a AS a, player_b AS b, kills_within_range AS kwr,
                   simultaneous_kills AS sim, trade_kills AS tr, GREATEST(rounds_ab, rounds_ba) AS rt,
                   score
            FROM (SELECT * FROM pair_totals WHERE player_a = $1
                  UNION ALL
                  SELECT * FROM pair_totals WHERE player_b = $1) t
            WHERE rounds_ab > 0 OR rounds_ba > 0
            ORDER BY score DESC, player_a, player_b
            LIMIT 600)
        SELECT d.a AS "a_guid!", COALESCE(pa.last_name, d.a) AS "a_name!",
               d.b AS "b_guid!", COALESCE(pb.last_name, d.b) AS "b_name!",
               d.kwr AS "kills_within_range!", d.sim AS "simultaneous_kills!",
               d.tr AS "trade_kills!", d.rt AS "rounds_together!"
        FROM d LEFT JOIN players pa ON pa.player_guid = d.a LEFT JOIN players pb ON pb.player_guid = d.b
        WHERE NOT COALESCE(pa.is_bot, false) AND NOT COALESCE(pb.is_bot, false)
        ORDER BY d.score DESC, d.a, d.b
        LIMIT 500"#,
        guid,
    )
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
    if is_all_time(from, to) {
        return partners_all_time(pool, guid).await;
    }
    sqlx::query_as!(
        Pair,
        r#"WITH d AS (
            SELECT LEAST(player1_guid, player2_guid) AS a, GREATEST(player1_guid, player2_guid) AS b,
                   SUM(kills_within_range)::bigint AS kwr, SUM(simultaneous_kills)::bigint AS sim,
                   SUM(trade_kills)::bigint AS tr,
                   GREATEST(SUM(rounds_together) FILTER (WHERE player1_guid < player2_guid),
                            SUM(rounds_together) FILTER (WHERE player1_guid > player2_guid))::bigint AS rt
            FROM teammate_synergy_daily
            WHERE session_date BETWEEN $1 AND $2 AND player1_guid <> player2_guid
              AND (player1_guid = $3 OR player2_guid = $3)
            GROUP BY 1, 2
            ORDER BY SUM(kills_within_range) + SUM(simultaneous_kills) + SUM(trade_kills) DESC, 1, 2
            LIMIT 600)
        SELECT d.a AS "a_guid!", COALESCE(pa.last_name, d.a) AS "a_name!",
               d.b AS "b_guid!", COALESCE(pb.last_name, d.b) AS "b_name!",
               d.kwr AS "kills_within_range!", d.sim AS "simultaneous_kills!",
               d.tr AS "trade_kills!", COALESCE(d.rt, 0) AS "rounds_together!"
        FROM d LEFT JOIN players pa ON pa.player_guid = d.a LEFT JOIN players pb ON pb.player_guid = d.b
        WHERE NOT COALESCE(pa.is_bot, false) AND NOT COALESCE(pb.is_bot, false)
        ORDER BY d.kwr + d.sim + d.tr DESC, d.a, d.b
        LIMIT 500"#,
        from,
        to,
        guid,
    )
    .fetch_all(pool)
    .await
}

/// Kills and deaths of two players in rounds where both played on the same team, and in
/// rounds where only one of them played.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TogetherApart {
    pub together_rounds: i64,
    pub together_kills: i64,
    pub together_deaths: i64,
    pub apart_rounds: i64,
    pub apart_kills: i64,
    pub apart_deaths: i64,
}

/// From `player_rounds` (kept forever; migration 0005 filled it for rounds imported before
/// 0004): per round of either player, whether both played on one team, with their kills and
/// deaths added up.
pub async fn together_apart(
    pool: &PgPool,
    a: &str,
    b: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<TogetherApart> {
    let rows = sqlx::query!(
        r#"WITH r AS (SELECT player_guid, round_id, team, kills, deaths FROM player_rounds
                     WHERE player_guid IN ($1, $2) AND session_date BETWEEN $3 AND $4),
         a AS (SELECT * FROM r WHERE player_guid = $1),
         b AS (SELECT * FROM r WHERE player_guid = $2)
         SELECT COALESCE(a.team = b.team, false) AS "together!", COUNT(*)::bigint AS "rounds!",
                SUM(COALESCE(a.kills, 0) + COALESCE(b.kills, 0))::bigint AS "kills!",
                SUM(COALESCE(a.deaths, 0) + COALESCE(b.deaths, 0))::bigint AS "deaths!"
         FROM a FULL JOIN b USING (round_id) GROUP BY 1"#,
        a,
        b,
        from,
        to,
    )
    .fetch_all(pool)
    .await?;
    let mut out = TogetherApart::default();
    for r in rows {
        if r.together {
            (out.together_rounds, out.together_kills, out.together_deaths) =
                (r.rounds, r.kills, r.deaths);
        } else {
            (out.apart_rounds, out.apart_kills, out.apart_deaths) = (r.rounds, r.kills, r.deaths);
        }
    }
    Ok(out)
}
