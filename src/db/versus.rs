//! Head to head between two players (`/versus`): kills each way from `player_versus_daily`, and
//! the per-round detail of migration 0012 (weapons, engagement classes, maps, longest streak),
//! which the importer writes here with each round and which outlives the raw kills.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

/// Recomputes the head-to-head detail of `round_ids` from their raw kills, in the import's
/// transaction (a round replaced by a longer version keeps its id: its old rows go first).
pub async fn record_rounds(conn: &mut PgConnection, round_ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH d AS (DELETE FROM player_versus_round_detail WHERE round_id = ANY ($1))
         DELETE FROM player_versus_round_streak WHERE round_id = ANY ($1)",
        round_ids,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO player_versus_round_detail
            (round_id, killer_guid, victim_guid, weapon, engagement_class, kills)
         SELECT round_id, killer_guid, victim_guid, weapon, engagement_class, COUNT(*)
         FROM kill_context
         WHERE round_id = ANY ($1) AND kind = 'kill' AND killer_guid <> '' AND victim_guid <> ''
           AND killer_guid <> victim_guid
         GROUP BY 1, 2, 3, 4, 5",
        round_ids,
    )
    .execute(&mut *conn)
    .await?;
    // A run is consecutive kills between the two (in kill order) by the same killer: along a
    // run, the pair's row number minus the killer's own row number stays the same.
    sqlx::query!(
        "INSERT INTO player_versus_round_streak (round_id, killer_guid, victim_guid, longest_streak)
         SELECT round_id, killer_guid, victim_guid, MAX(n) FROM (
             SELECT round_id, killer_guid, victim_guid, run, COUNT(*) AS n FROM (
                 SELECT round_id, killer_guid, victim_guid,
                        ROW_NUMBER() OVER (PARTITION BY round_id, LEAST(killer_guid, victim_guid),
                                           GREATEST(killer_guid, victim_guid) ORDER BY kill_index)
                      - ROW_NUMBER() OVER (PARTITION BY round_id, killer_guid, victim_guid
                                           ORDER BY kill_index) AS run
                 FROM kill_context
                 WHERE round_id = ANY ($1) AND kind = 'kill' AND killer_guid <> ''
                   AND victim_guid <> '' AND killer_guid <> victim_guid) runs
             GROUP BY 1, 2, 3, 4) per_run
         GROUP BY 1, 2, 3",
        round_ids,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Kills of `a` on `b` and of `b` on `a` over the days (exact: the daily aggregate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KillsEachWay {
    pub a_on_b: i64,
    pub b_on_a: i64,
    /// Session days on which either killed the other.
    pub days: i64,
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
}

pub async fn kills_each_way(
    pool: &PgPool,
    a: &str,
    b: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<KillsEachWay> {
    let row = sqlx::query!(
        r#"SELECT COALESCE(SUM(kills) FILTER (WHERE killer_guid = $1), 0)::bigint AS "a_on_b!",
                COALESCE(SUM(kills) FILTER (WHERE killer_guid = $2), 0)::bigint AS "b_on_a!",
                COUNT(DISTINCT session_date) AS "days!",
                MIN(session_date) AS first, MAX(session_date) AS last
         FROM player_versus_daily
         WHERE ((killer_guid = $1 AND victim_guid = $2) OR (killer_guid = $2 AND victim_guid = $1))
           AND session_date BETWEEN $3 AND $4 AND kills > 0"#,
        a,
        b,
        from,
        to,
    )
    .fetch_one(pool)
    .await?;
    Ok(KillsEachWay {
        a_on_b: row.a_on_b,
        b_on_a: row.b_on_a,
        days: row.days,
        first: row.first,
        last: row.last,
    })
}

/// One line of a breakdown: a weapon id, an engagement class or a map, and the kills each way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<K> {
    pub key: K,
    pub a_on_b: i64,
    pub b_on_a: i64,
}

impl<K> Split<K> {
    pub fn total(&self) -> i64 {
        self.a_on_b + self.b_on_a
    }
}

/// The pair's kills per engagement class (as the killer saw it), from the per-round detail.
pub async fn by_class(
    pool: &PgPool,
    a: &str,
    b: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<Split<String>>> {
    let rows = sqlx::query!(
        r#"SELECT d.engagement_class AS "key!",
                COALESCE(SUM(d.kills) FILTER (WHERE d.killer_guid = $1), 0)::bigint AS "a_on_b!",
                COALESCE(SUM(d.kills) FILTER (WHERE d.killer_guid = $2), 0)::bigint AS "b_on_a!"
         FROM player_versus_round_detail d JOIN rounds r ON r.id = d.round_id
         WHERE ((d.killer_guid = $1 AND d.victim_guid = $2) OR (d.killer_guid = $2 AND d.victim_guid = $1))
           AND r.session_date BETWEEN $3 AND $4
         GROUP BY d.engagement_class ORDER BY SUM(d.kills) DESC, d.engagement_class"#,
        a,
        b,
        from,
        to,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Split {
            key: r.key,
            a_on_b: r.a_on_b,
            b_on_a: r.b_on_a,
        })
        .collect())
}

/// The pair's kills per weapon, most used first.
pub async fn by_weapon(
    pool: &PgPool,
    a: &str,
    b: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<Split<i16>>> {
    let rows = sqlx::query!(
        r#"SELECT d.weapon AS "key!",
                COALESCE(SUM(d.kills) FILTER (WHERE d.killer_guid = $1), 0)::bigint AS "a_on_b!",
                COALESCE(SUM(d.kills) FILTER (WHERE d.killer_guid = $2), 0)::bigint AS "b_on_a!"
         FROM player_versus_round_detail d JOIN rounds r ON r.id = d.round_id
         WHERE ((d.killer_guid = $1 AND d.victim_guid = $2) OR (d.killer_guid = $2 AND d.victim_guid = $1))
           AND r.session_date BETWEEN $3 AND $4
         GROUP BY d.weapon ORDER BY SUM(d.kills) DESC, d.weapon"#,
        a,
        b,
        from,
        to,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Split {
            key: r.key,
            a_on_b: r.a_on_b,
            b_on_a: r.b_on_a,
        })
        .collect())
}

/// The pair's kills per map, most contested first.
pub async fn by_map(
    pool: &PgPool,
    a: &str,
    b: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<Split<String>>> {
    let rows = sqlx::query!(
        r#"SELECT r.map_name AS "key!",
                COALESCE(SUM(d.kills) FILTER (WHERE d.killer_guid = $1), 0)::bigint AS "a_on_b!",
                COALESCE(SUM(d.kills) FILTER (WHERE d.killer_guid = $2), 0)::bigint AS "b_on_a!"
         FROM player_versus_round_detail d JOIN rounds r ON r.id = d.round_id
         WHERE ((d.killer_guid = $1 AND d.victim_guid = $2) OR (d.killer_guid = $2 AND d.victim_guid = $1))
           AND r.session_date BETWEEN $3 AND $4
         GROUP BY r.map_name ORDER BY SUM(d.kills) DESC, r.map_name"#,
        a,
        b,
        from,
        to,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Split {
            key: r.key,
            a_on_b: r.a_on_b,
            b_on_a: r.b_on_a,
        })
        .collect())
}

/// The longest run of kills by `killer` on `victim` within one round, and when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streak {
    pub kills: i32,
    pub round_id: i64,
    pub map_name: String,
    pub session_date: NaiveDate,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The longest streak of `killer` on `victim` over the days (the earliest round on a tie).
pub async fn longest_streak(
    pool: &PgPool,
    killer: &str,
    victim: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Option<Streak>> {
    sqlx::query_as!(
        Streak,
        "SELECT s.longest_streak AS kills, s.round_id, r.map_name, r.session_date, r.ended_at
         FROM player_versus_round_streak s JOIN rounds r ON r.id = s.round_id
         WHERE s.killer_guid = $1 AND s.victim_guid = $2 AND r.session_date BETWEEN $3 AND $4
         ORDER BY s.longest_streak DESC, r.session_date, s.round_id LIMIT 1",
        killer,
        victim,
        from,
        to,
    )
    .fetch_optional(pool)
    .await
}
