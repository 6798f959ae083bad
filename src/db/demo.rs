//! What the demo, its scripted tour and the command bench read to report on (and set up) their
//! own databases: rounds of a run, one round's facts, the top fragger and pair, and the
//! aggregates the command bench fills itself.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Rounds whose source path starts with `prefix` (the demo's work folder).
pub async fn rounds_under(pool: &PgPool, prefix: &str) -> sqlx::Result<i64> {
    let pattern = format!("{prefix}%");
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!" FROM rounds WHERE source_path LIKE $1"#,
        pattern
    )
    .fetch_one(pool)
    .await
}

/// A round's row as the demo prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundFacts {
    pub map_name: String,
    pub round_number: i16,
    pub server_id: String,
    pub kill_count: i32,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

pub async fn round_facts(pool: &PgPool, round_id: i64) -> sqlx::Result<RoundFacts> {
    sqlx::query_as!(
        RoundFacts,
        "SELECT map_name, round_number, server_id, kill_count, started_at, ended_at
         FROM rounds WHERE id = $1",
        round_id
    )
    .fetch_one(pool)
    .await
}

/// A killer's name and kills in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillerCount {
    pub killer_name: String,
    pub kills: i64,
}

/// The round's top three killers.
pub async fn top_killers(pool: &PgPool, round_id: i64) -> sqlx::Result<Vec<KillerCount>> {
    sqlx::query_as!(
        KillerCount,
        r#"SELECT killer_name, COUNT(*) AS "kills!" FROM kill_context
         WHERE round_id = $1 AND kind = 'kill'
         GROUP BY killer_guid, killer_name ORDER BY 2 DESC, 1 LIMIT 3"#,
        round_id
    )
    .fetch_all(pool)
    .await
}

/// The kill of the round made most outnumbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutnumberedKill {
    pub killer_name: String,
    pub engagement_type: String,
}

pub async fn most_outnumbered_kill(
    pool: &PgPool,
    round_id: i64,
) -> sqlx::Result<Option<OutnumberedKill>> {
    sqlx::query_as!(
        OutnumberedKill,
        "SELECT killer_name, engagement_type FROM kill_context
         WHERE round_id = $1 AND kind = 'kill' AND engagement_class = 'outnumbered'
         ORDER BY victim_allies - killer_allies DESC, kill_index LIMIT 1",
        round_id
    )
    .fetch_optional(pool)
    .await
}

/// The name of the human player with the most kills, all time, among names no other player has.
pub async fn top_fragger_name(pool: &PgPool) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT s.player_name FROM player_proximity_stats s WHERE NOT s.is_bot
           AND NOT EXISTS (SELECT 1 FROM players p WHERE p.player_guid <> s.player_guid
                           AND lower(p.last_name) = lower(s.player_name))
         GROUP BY s.player_guid, s.player_name ORDER BY SUM(s.total_kills) DESC, s.player_name
         LIMIT 1"
    )
    .fetch_optional(pool)
    .await
}

/// Kills (not team kills or suicides) stored as raw rows.
pub async fn raw_kills(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n!" FROM kill_context WHERE kind = 'kill'"#)
        .fetch_one(pool)
        .await
}

/// Two teammates (their keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairKeys {
    pub player1_guid: String,
    pub player2_guid: String,
}

/// The pair with the most kills within range of each other, all time.
pub async fn strongest_pair(pool: &PgPool) -> sqlx::Result<Option<PairKeys>> {
    sqlx::query_as!(
        PairKeys,
        "SELECT player1_guid, player2_guid FROM teammate_synergy_daily
         GROUP BY 1, 2 ORDER BY SUM(kills_within_range) DESC LIMIT 1"
    )
    .fetch_optional(pool)
    .await
}

/// Fills the per-player aggregates of migration 0004 from raw kills (as the importer does).
pub async fn backfill_player_aggregates(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query_scalar!("SELECT backfill_player_aggregates()")
        .fetch_one(pool)
        .await?;
    sqlx::query!("ANALYZE player_weapon_daily, player_versus_daily, player_rounds")
        .execute(pool)
        .await?;
    Ok(())
}

/// Empties the per-player aggregates, so they can be filled again by [`backfill_player_aggregates`].
pub async fn clear_player_aggregates(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query!("TRUNCATE player_weapon_daily, player_versus_daily, player_rounds")
        .execute(pool)
        .await?;
    Ok(())
}
