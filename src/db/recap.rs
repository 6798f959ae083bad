//! The SQL of session recaps (`/session` and the automatic post): a server's rounds of a
//! session day, its players' numbers from the aggregates, which recaps were posted, and the
//! positions of one round's kills for the round summary's small heatmap.
//!
//! Per-round kills and deaths come from `player_rounds` (which knows the round, hence the
//! server); the engagement classes, crossfire, longest kill, duels and teammate pairs come
//! from the day aggregates, which do not separate servers (see docs/stats.md).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

/// A round of the session, in play order.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRound {
    pub id: i64,
    pub server_name: Option<String>,
    pub map_name: String,
    pub round_number: i16,
    pub gametype: Option<i16>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub kill_count: i32,
}

/// A player's kills and deaths in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerRound {
    pub player_guid: String,
    pub round_id: i64,
    pub kills: i32,
    pub deaths: i32,
}

/// A player's day aggregates (`player_proximity_stats`).
#[derive(Debug, Clone, PartialEq)]
pub struct DayPlayer {
    pub player_guid: String,
    pub player_name: String,
    pub outgunned_kills: i32,
    pub crossfire: i32,
    pub solo_kills: i32,
    pub solo_deaths: i32,
    pub max_kill_distance: Option<f32>,
    pub is_bot: bool,
}

/// A player's 1v1 duels over a span of days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duels {
    pub player_guid: String,
    pub won: i64,
    pub lost: i64,
}

/// A teammate pair of the day in one direction (`teammate_synergy_daily`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairDay {
    pub player1_guid: String,
    pub player2_guid: String,
    pub kills_within_range: i32,
    pub trade_kills: i32,
}

/// A server and one of its session days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDay {
    pub server_id: String,
    pub server_name: Option<String>,
    pub session_date: NaiveDate,
}

/// A server's latest round: when it ended and on which session day.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRound {
    pub server_id: String,
    pub session_date: NaiveDate,
    pub ended_at: DateTime<Utc>,
}

/// The rounds of `server` on `day`, in the order they were played.
pub async fn session_rounds(
    pool: &PgPool,
    server: &str,
    day: NaiveDate,
) -> sqlx::Result<Vec<SessionRound>> {
    sqlx::query_as!(
        SessionRound,
        "SELECT id, server_name, map_name, round_number, gametype, started_at, ended_at,
                kill_count
         FROM rounds WHERE server_id = $1 AND session_date = $2
         ORDER BY COALESCE(started_at, ended_at, imported_at), round_number, id",
        server,
        day
    )
    .fetch_all(pool)
    .await
}

/// Every player's kills and deaths in `rounds`.
pub async fn player_rounds(pool: &PgPool, rounds: &[i64]) -> sqlx::Result<Vec<PlayerRound>> {
    sqlx::query_as!(
        PlayerRound,
        "SELECT player_guid, round_id, kills, deaths FROM player_rounds
         WHERE round_id = ANY($1::bigint[])
         ORDER BY round_id, player_guid",
        rounds
    )
    .fetch_all(pool)
    .await
}

/// The day aggregates of `players` on `day`.
pub async fn day_players(
    pool: &PgPool,
    day: NaiveDate,
    players: &[String],
) -> sqlx::Result<Vec<DayPlayer>> {
    sqlx::query_as!(
        DayPlayer,
        "SELECT player_guid, player_name, outgunned_kills,
                crossfire_participations AS crossfire, solo_kills, solo_deaths,
                max_kill_distance, is_bot
         FROM player_proximity_stats
         WHERE session_date = $1 AND player_guid = ANY($2::text[])
         ORDER BY player_guid",
        day,
        players
    )
    .fetch_all(pool)
    .await
}

/// The 1v1 duels (solo kills won, solo deaths lost) of `players` from `from` to `to`.
pub async fn duels(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    players: &[String],
) -> sqlx::Result<Vec<Duels>> {
    sqlx::query_as!(
        Duels,
        r#"SELECT player_guid, SUM(solo_kills)::bigint AS "won!", SUM(solo_deaths)::bigint AS "lost!"
         FROM player_proximity_stats
         WHERE session_date BETWEEN $1 AND $2 AND player_guid = ANY($3::text[])
         GROUP BY player_guid ORDER BY player_guid"#,
        from,
        to,
        players
    )
    .fetch_all(pool)
    .await
}

/// The teammate pairs of `day` among `players`, both directions as stored.
pub async fn pairs(
    pool: &PgPool,
    day: NaiveDate,
    players: &[String],
) -> sqlx::Result<Vec<PairDay>> {
    sqlx::query_as!(
        PairDay,
        "SELECT player1_guid, player2_guid, kills_within_range, trade_kills
         FROM teammate_synergy_daily
         WHERE session_date = $1 AND player1_guid = ANY($2::text[])
           AND player2_guid = ANY($2::text[])
         ORDER BY player1_guid, player2_guid",
        day,
        players
    )
    .fetch_all(pool)
    .await
}

/// The latest round's server and session day, of `server` and on `day` when given.
pub async fn latest_session(
    pool: &PgPool,
    server: Option<&str>,
    day: Option<NaiveDate>,
) -> sqlx::Result<Option<ServerDay>> {
    sqlx::query_as!(
        ServerDay,
        "SELECT server_id, server_name, session_date FROM rounds
         WHERE ($1::text IS NULL OR server_id = $1) AND ($2::date IS NULL OR session_date = $2)
         ORDER BY session_date DESC, COALESCE(ended_at, started_at, imported_at) DESC, id DESC
         LIMIT 1",
        server,
        day
    )
    .fetch_optional(pool)
    .await
}

/// The server whose id or name (colour codes and case ignored) is `text`, with its latest
/// name; the id wins over a name.
pub async fn find_server(pool: &PgPool, text: &str) -> sqlx::Result<Option<(String, String)>> {
    let row = sqlx::query!(
        r#"SELECT server_id AS "server_id!", COALESCE(server_name, server_id) AS "name!"
         FROM rounds
         WHERE lower(server_id) = lower($1)
            OR lower(regexp_replace(COALESCE(server_name, ''), '\^.', '', 'g')) = lower($1)
         ORDER BY (lower(server_id) = lower($1)) DESC, ended_at DESC NULLS LAST, id DESC
         LIMIT 1"#,
        text.trim()
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.server_id, r.name)))
}

/// Every server's latest round that has an end time.
pub async fn last_rounds(pool: &PgPool) -> sqlx::Result<Vec<LastRound>> {
    sqlx::query_as!(
        LastRound,
        r#"SELECT DISTINCT ON (server_id) server_id, session_date, ended_at AS "ended_at!"
         FROM rounds WHERE ended_at IS NOT NULL
         ORDER BY server_id, ended_at DESC, id DESC"#
    )
    .fetch_all(pool)
    .await
}

/// Claims the recap of `server` on `day` for posting: true when nobody had (a recap is
/// posted once, also across restarts).
pub async fn claim_recap(pool: &PgPool, server: &str, day: NaiveDate) -> sqlx::Result<bool> {
    let claimed = sqlx::query_scalar!(
        "INSERT INTO posted_recaps (server_id, session_date) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING 1",
        server,
        day
    )
    .fetch_optional(pool)
    .await?;
    Ok(claimed.is_some())
}

/// Records where the claimed recap was posted.
pub async fn record_recap(
    pool: &PgPool,
    server: &str,
    day: NaiveDate,
    channel_id: i64,
    message_id: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE posted_recaps SET channel_id = $3, message_id = $4
         WHERE server_id = $1 AND session_date = $2",
        server,
        day,
        channel_id,
        message_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives a claim back after a failed post, so the next attempt posts.
pub async fn release_recap(pool: &PgPool, server: &str, day: NaiveDate) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM posted_recaps
         WHERE server_id = $1 AND session_date = $2 AND message_id IS NULL",
        server,
        day
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Where one round's counted kills happened (victims' positions), for its small heatmap.
pub async fn round_kill_positions(
    pool: &PgPool,
    round_id: i64,
    day: NaiveDate,
) -> sqlx::Result<Vec<(f32, f32)>> {
    let rows = sqlx::query!(
        "SELECT victim_x, victim_y FROM kill_context
         WHERE round_id = $1 AND session_date = $2 AND kind = 'kill'",
        round_id,
        day
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.victim_x, r.victim_y)).collect())
}
