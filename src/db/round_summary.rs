//! One round for `/round` and the summary post: its row, top fraggers, best duo, the most
//! outnumbered win, the engagement split; and which summaries were posted.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RoundInfo {
    pub id: i64,
    pub server_id: String,
    pub server_name: Option<String>,
    pub map_name: String,
    pub round_number: i16,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub session_date: NaiveDate,
    pub kill_count: i32,
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundDetail {
    /// (name, team, kills, deaths), most kills first.
    pub fraggers: Vec<(String, String, i64, i64)>,
    /// (name, name, kills one made with the other in support).
    pub best_duo: Option<(String, String, i64)>,
    /// (killer name, victim name, killer side size, victim side size, weapon).
    pub outnumbered_win: Option<(String, String, i32, i32, i16)>,
    /// (class, kills).
    pub classes: Vec<(String, i64)>,
    pub team_kills: i64,
    pub kills: i64,
}

const ROUND: &str =
    "SELECT id, server_id, server_name, map_name, round_number, started_at, ended_at,
        session_date, kill_count, flags FROM rounds";

pub async fn round(pool: &PgPool, id: i64) -> sqlx::Result<Option<RoundInfo>> {
    sqlx::query_as(&format!("{ROUND} WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn latest_round(pool: &PgPool) -> sqlx::Result<Option<RoundInfo>> {
    sqlx::query_as(&format!(
        "{ROUND} ORDER BY COALESCE(ended_at, started_at, imported_at) DESC, id DESC LIMIT 1"
    ))
    .fetch_optional(pool)
    .await
}

/// The first half of a stopwatch map: round 1 of the same server and map, ended within
/// `within` before this round started.
pub async fn first_half(
    pool: &PgPool,
    second: &RoundInfo,
    within: chrono::Duration,
) -> sqlx::Result<Option<RoundInfo>> {
    let Some(start) = second.started_at.or(second.ended_at) else {
        return Ok(None);
    };
    sqlx::query_as(&format!(
        "{ROUND} WHERE server_id = $1 AND map_name = $2 AND round_number = 1 AND id <> $3
           AND ended_at BETWEEN $4 AND $5 ORDER BY ended_at DESC LIMIT 1"
    ))
    .bind(&second.server_id)
    .bind(&second.map_name)
    .bind(second.id)
    .bind(start - within)
    .bind(start + chrono::Duration::minutes(1))
    .fetch_optional(pool)
    .await
}

pub async fn detail(pool: &PgPool, round: &RoundInfo) -> sqlx::Result<RoundDetail> {
    // session_date lets the BRIN index on it help too.
    let fraggers: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "WITH k AS (SELECT * FROM kill_context WHERE round_id = $1 AND session_date = $2 AND kind = 'kill'),
         p AS (SELECT killer_guid AS guid, killer_name AS name, killer_team AS team, 1 AS kill, 0 AS death FROM k
               UNION ALL SELECT victim_guid, victim_name, victim_team, 0, 1 FROM k)
         SELECT MAX(name), MAX(team), SUM(kill)::bigint AS kills, SUM(death)::bigint AS deaths
         FROM p WHERE guid <> '' GROUP BY guid ORDER BY kills DESC, deaths, MAX(name) LIMIT 10",
    )
    .bind(round.id)
    .bind(round.session_date)
    .fetch_all(pool)
    .await?;
    let best_duo: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT MIN(name1), MIN(name2), COUNT(*) AS n FROM (
            SELECT LEAST(k.killer_guid, a->>'guid') AS g1, GREATEST(k.killer_guid, a->>'guid') AS g2,
                   CASE WHEN k.killer_guid < a->>'guid' THEN k.killer_name ELSE a->>'name' END AS name1,
                   CASE WHEN k.killer_guid < a->>'guid' THEN a->>'name' ELSE k.killer_name END AS name2
            FROM kill_context k, jsonb_array_elements(k.supporting_allies) a
            WHERE k.round_id = $1 AND k.session_date = $2 AND k.kind = 'kill'
              AND a->>'guid' IS NOT NULL AND a->>'guid' <> k.killer_guid) s
         GROUP BY g1, g2 ORDER BY n DESC, g1, g2 LIMIT 1",
    )
    .bind(round.id)
    .bind(round.session_date)
    .fetch_optional(pool)
    .await?;
    let outnumbered_win: Option<(String, String, i32, i32, i16)> = sqlx::query_as(
        "SELECT killer_name, victim_name, killer_allies::int + 1, victim_allies::int + 1, weapon
         FROM kill_context WHERE round_id = $1 AND session_date = $2 AND kind = 'kill'
           AND victim_allies > killer_allies
         ORDER BY victim_allies - killer_allies DESC, victim_allies DESC, kill_index LIMIT 1",
    )
    .bind(round.id)
    .bind(round.session_date)
    .fetch_optional(pool)
    .await?;
    let classes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT engagement_class, COUNT(*) FROM kill_context
         WHERE round_id = $1 AND session_date = $2 AND kind = 'kill'
         GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .bind(round.id)
    .bind(round.session_date)
    .fetch_all(pool)
    .await?;
    let team_kills: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM kill_context WHERE round_id = $1 AND session_date = $2 AND kind = 'teamkill'",
    )
    .bind(round.id)
    .bind(round.session_date)
    .fetch_one(pool)
    .await?;
    let kills = classes.iter().map(|c| c.1).sum();
    Ok(RoundDetail {
        fraggers,
        best_duo,
        outnumbered_win,
        classes,
        team_kills,
        kills,
    })
}

/// Records a posted summary; false when the round was posted already.
pub async fn record_post(
    pool: &PgPool,
    round_id: i64,
    channel_id: i64,
    message_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO posted_summaries (round_id, channel_id, message_id) VALUES ($1, $2, $3)
         ON CONFLICT (round_id) DO NOTHING",
    )
    .bind(round_id)
    .bind(channel_id)
    .bind(message_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// (channel, message) of a round's posted summary.
pub async fn posted(pool: &PgPool, round_id: i64) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT channel_id, message_id FROM posted_summaries WHERE round_id = $1")
        .bind(round_id)
        .fetch_optional(pool)
        .await
}

/// Recent imports and import-log entries for `/import status`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LogEntry {
    pub source_path: String,
    pub outcome: String,
    pub message: Option<String>,
    pub logged_at: DateTime<Utc>,
    pub rejected_lines: i64,
}

pub async fn import_log(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<LogEntry>> {
    sqlx::query_as(
        "SELECT l.source_path, l.outcome, l.message, l.logged_at,
                (SELECT COUNT(*) FROM import_rejected_lines r WHERE r.import_log_id = l.id) AS rejected_lines
         FROM import_log l ORDER BY l.logged_at DESC, l.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn recent_rounds(
    pool: &PgPool,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String, i16, i32, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT id, map_name, round_number, kill_count, imported_at FROM rounds ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// (rounds, kills, rounds imported in the last 24 h).
pub async fn import_counts(pool: &PgPool) -> sqlx::Result<(i64, i64, i64)> {
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(kill_count), 0)::bigint,
                COUNT(*) FILTER (WHERE imported_at > now() - interval '24 hours') FROM rounds",
    )
    .fetch_one(pool)
    .await
}
