//! One round for `/round` and the summary post: its row, top fraggers, best duo, the most
//! outnumbered win, the engagement split; and which summaries were posted.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq)]
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

/// A player's kills and deaths in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragger {
    pub name: String,
    pub team: String,
    pub kills: i64,
    pub deaths: i64,
}

/// Two players and the kills one made with the other in support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duo {
    pub name1: String,
    pub name2: String,
    pub kills: i64,
}

/// A kill made by the smaller side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutnumberedWin {
    pub killer_name: String,
    pub victim_name: String,
    /// Players on the killer's side, the killer included.
    pub killer_side: i32,
    pub victim_side: i32,
    pub weapon: i16,
}

/// Kills of one engagement class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassKills {
    pub class: String,
    pub kills: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundDetail {
    /// Most kills first.
    pub fraggers: Vec<Fragger>,
    pub best_duo: Option<Duo>,
    pub outnumbered_win: Option<OutnumberedWin>,
    pub classes: Vec<ClassKills>,
    pub team_kills: i64,
    pub kills: i64,
}

// The round statements share their columns and differ in what they pick; each is written out
// so all are checked.

pub async fn round(pool: &PgPool, id: i64) -> sqlx::Result<Option<RoundInfo>> {
    sqlx::query_as!(
        RoundInfo,
        "SELECT id, server_id, server_name, map_name, round_number, started_at, ended_at,
                session_date, kill_count, flags FROM rounds WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await
}

pub async fn latest_round(pool: &PgPool) -> sqlx::Result<Option<RoundInfo>> {
    sqlx::query_as!(
        RoundInfo,
        "SELECT id, server_id, server_name, map_name, round_number, started_at, ended_at,
                session_date, kill_count, flags FROM rounds
         ORDER BY COALESCE(ended_at, started_at, imported_at) DESC, id DESC LIMIT 1"
    )
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
    sqlx::query_as!(
        RoundInfo,
        "SELECT id, server_id, server_name, map_name, round_number, started_at, ended_at,
                session_date, kill_count, flags FROM rounds
         WHERE server_id = $1 AND map_name = $2 AND round_number = 1 AND id <> $3
           AND ended_at BETWEEN $4 AND $5 ORDER BY ended_at DESC LIMIT 1",
        second.server_id,
        second.map_name,
        second.id,
        start - within,
        start + chrono::Duration::minutes(1),
    )
    .fetch_optional(pool)
    .await
}

/// Top fraggers, best duo, the most outnumbered win and the engagement split of a round.
pub async fn detail(pool: &PgPool, round: &RoundInfo) -> sqlx::Result<RoundDetail> {
    let (id, day) = (round.id, round.session_date);
    let fraggers = fraggers(pool, id, day).await?;
    let best_duo = best_duo(pool, id, day).await?;
    let outnumbered_win = outnumbered_win(pool, id, day).await?;
    let classes = classes(pool, id, day).await?;
    let team_kills = team_kills(pool, id, day).await?;
    let kills = classes.iter().map(|c| c.kills).sum();
    Ok(RoundDetail {
        fraggers,
        best_duo,
        outnumbered_win,
        classes,
        team_kills,
        kills,
    })
}

// In the statements below, session_date lets the BRIN index on it help too.

async fn fraggers(pool: &PgPool, id: i64, day: NaiveDate) -> sqlx::Result<Vec<Fragger>> {
    sqlx::query_as!(
        Fragger,
        r#"WITH k AS (SELECT * FROM kill_context WHERE round_id = $1 AND session_date = $2 AND kind = 'kill'),
         p AS (SELECT killer_guid AS guid, killer_name AS name, killer_team AS team, 1 AS kill, 0 AS death FROM k
               UNION ALL SELECT victim_guid, victim_name, victim_team, 0, 1 FROM k)
         SELECT MAX(name) AS "name!", MAX(team) AS "team!", SUM(kill)::bigint AS "kills!",
                SUM(death)::bigint AS "deaths!"
         FROM p WHERE guid <> '' GROUP BY guid ORDER BY 3 DESC, 4, 1 LIMIT 10"#,
        id,
        day,
    )
    .fetch_all(pool)
    .await
}

async fn best_duo(pool: &PgPool, id: i64, day: NaiveDate) -> sqlx::Result<Option<Duo>> {
    sqlx::query_as!(
        Duo,
        r#"SELECT MIN(name1) AS "name1!", MIN(name2) AS "name2!", COUNT(*) AS "kills!" FROM (
            SELECT LEAST(k.killer_guid, a->>'guid') AS g1, GREATEST(k.killer_guid, a->>'guid') AS g2,
                   CASE WHEN k.killer_guid < a->>'guid' THEN k.killer_name ELSE a->>'name' END AS name1,
                   CASE WHEN k.killer_guid < a->>'guid' THEN a->>'name' ELSE k.killer_name END AS name2
            FROM kill_context k, jsonb_array_elements(k.supporting_allies) a
            WHERE k.round_id = $1 AND k.session_date = $2 AND k.kind = 'kill'
              AND a->>'guid' IS NOT NULL AND a->>'guid' <> k.killer_guid) s
         GROUP BY g1, g2 ORDER BY 3 DESC, g1, g2 LIMIT 1"#,
        id,
        day,
    )
    .fetch_optional(pool)
    .await
}

async fn outnumbered_win(
    pool: &PgPool,
    id: i64,
    day: NaiveDate,
) -> sqlx::Result<Option<OutnumberedWin>> {
    sqlx::query_as!(
        OutnumberedWin,
        r#"SELECT killer_name, victim_name, killer_allies::int + 1 AS "killer_side!",
                victim_allies::int + 1 AS "victim_side!", weapon
         FROM kill_context WHERE round_id = $1 AND session_date = $2 AND kind = 'kill'
           AND victim_allies > killer_allies
         ORDER BY victim_allies - killer_allies DESC, victim_allies DESC, kill_index LIMIT 1"#,
        id,
        day,
    )
    .fetch_optional(pool)
    .await
}

async fn classes(pool: &PgPool, id: i64, day: NaiveDate) -> sqlx::Result<Vec<ClassKills>> {
    sqlx::query_as!(
        ClassKills,
        r#"SELECT engagement_class AS class, COUNT(*) AS "kills!" FROM kill_context
         WHERE round_id = $1 AND session_date = $2 AND kind = 'kill'
         GROUP BY 1 ORDER BY 2 DESC, 1"#,
        id,
        day,
    )
    .fetch_all(pool)
    .await
}

async fn team_kills(pool: &PgPool, id: i64, day: NaiveDate) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!" FROM kill_context
         WHERE round_id = $1 AND session_date = $2 AND kind = 'teamkill'"#,
        id,
        day,
    )
    .fetch_one(pool)
    .await
}

/// Records a posted summary; false when the round was posted already.
pub async fn record_post(
    pool: &PgPool,
    round_id: i64,
    channel_id: i64,
    message_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO posted_summaries (round_id, channel_id, message_id) VALUES ($1, $2, $3)
         ON CONFLICT (round_id) DO NOTHING",
        round_id,
        channel_id,
        message_id,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Where a round's summary was posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub channel_id: i64,
    pub message_id: i64,
}

pub async fn posted(pool: &PgPool, round_id: i64) -> sqlx::Result<Option<Posted>> {
    sqlx::query_as!(
        Posted,
        "SELECT channel_id, message_id FROM posted_summaries WHERE round_id = $1",
        round_id
    )
    .fetch_optional(pool)
    .await
}

/// Recent imports and import-log entries for `/import status`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub source_path: String,
    pub outcome: String,
    pub message: Option<String>,
    pub logged_at: DateTime<Utc>,
    pub rejected_lines: i64,
}

pub async fn import_log(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<LogEntry>> {
    sqlx::query_as!(
        LogEntry,
        r#"SELECT l.source_path, l.outcome, l.message, l.logged_at,
                (SELECT COUNT(*) FROM import_rejected_lines r WHERE r.import_log_id = l.id)
                    AS "rejected_lines!"
         FROM import_log l ORDER BY l.logged_at DESC, l.id DESC LIMIT $1"#,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// A recently imported round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentRound {
    pub id: i64,
    pub map_name: String,
    pub round_number: i16,
    pub kill_count: i32,
    pub imported_at: DateTime<Utc>,
}

pub async fn recent_rounds(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<RecentRound>> {
    sqlx::query_as!(
        RecentRound,
        "SELECT id, map_name, round_number, kill_count, imported_at FROM rounds
         ORDER BY id DESC LIMIT $1",
        limit,
    )
    .fetch_all(pool)
    .await
}

/// What was imported, all told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    pub rounds: i64,
    pub kills: i64,
    /// Rounds imported in the last 24 hours.
    pub rounds_last_day: i64,
}

pub async fn import_counts(pool: &PgPool) -> sqlx::Result<ImportCounts> {
    sqlx::query_as!(
        ImportCounts,
        r#"SELECT COUNT(*) AS "rounds!", COALESCE(SUM(kill_count), 0)::bigint AS "kills!",
                COUNT(*) FILTER (WHERE imported_at > now() - interval '24 hours')
                    AS "rounds_last_day!"
         FROM rounds"#
    )
    .fetch_one(pool)
    .await
}
