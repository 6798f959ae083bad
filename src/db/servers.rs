//! Game servers as the rounds name them (`rounds.server_id`, `server_name`): the list for the
//! `server` option's autocomplete, and the per-server forms of `/round` and `/maps`. The
//! aggregates have no server dimension, so only commands that read rounds take a server.

use chrono::NaiveDate;
use sqlx::PgPool;

use super::players::KnownMap;
use super::round_summary::RoundInfo;

/// A server seen in the rounds, with its latest name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub server_id: String,
    /// The name of its latest round that carried one.
    pub name: Option<String>,
    pub rounds: i64,
    pub last_played: NaiveDate,
}

/// Every server seen, most recently played first.
pub async fn known_servers(pool: &PgPool) -> sqlx::Result<Vec<Server>> {
    sqlx::query_as!(
        Server,
        r#"SELECT server_id AS "server_id!",
                (array_agg(server_name ORDER BY COALESCE(ended_at, started_at, imported_at) DESC)
                    FILTER (WHERE server_name IS NOT NULL))[1] AS name,
                COUNT(*) AS "rounds!", MAX(session_date) AS "last_played!"
         FROM rounds GROUP BY server_id ORDER BY MAX(session_date) DESC, server_id"#
    )
    .fetch_all(pool)
    .await
}

/// The latest round of one server.
pub async fn latest_round_on(pool: &PgPool, server_id: &str) -> sqlx::Result<Option<RoundInfo>> {
    sqlx::query_as!(
        RoundInfo,
        "SELECT id, server_id, server_name, map_name, round_number, started_at, ended_at,
                session_date, kill_count, flags FROM rounds WHERE server_id = $1
         ORDER BY COALESCE(ended_at, started_at, imported_at) DESC, id DESC LIMIT 1",
        server_id,
    )
    .fetch_optional(pool)
    .await
}

/// The maps one server played, most played first.
pub async fn maps_on(pool: &PgPool, server_id: &str) -> sqlx::Result<Vec<KnownMap>> {
    sqlx::query_as!(
        KnownMap,
        r#"SELECT map_name, COUNT(*) AS "rounds!", MAX(session_date) AS "last_played!"
         FROM rounds WHERE server_id = $1 GROUP BY map_name ORDER BY COUNT(*) DESC, map_name"#,
        server_id,
    )
    .fetch_all(pool)
    .await
}
