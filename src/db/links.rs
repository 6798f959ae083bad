//! Discord users linked to players.

use sqlx::PgPool;

use super::players::Player;

pub async fn linked_player(pool: &PgPool, discord_user_id: i64) -> sqlx::Result<Option<Player>> {
    sqlx::query_as!(
        Player,
        "SELECT p.player_guid AS guid, p.last_name AS name, p.is_bot, p.last_seen
         FROM discord_links l JOIN players p ON p.player_guid = l.player_guid
         WHERE l.discord_user_id = $1",
        discord_user_id,
    )
    .fetch_optional(pool)
    .await
}

/// Links (or re-links) a user; returns the GUID linked before, if any.
pub async fn link(
    pool: &PgPool,
    discord_user_id: i64,
    guid: &str,
    linked_by: i64,
) -> sqlx::Result<Option<String>> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!(
        "SELECT player_guid FROM discord_links WHERE discord_user_id = $1 FOR UPDATE",
        discord_user_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO discord_links (discord_user_id, player_guid, linked_by) VALUES ($1, $2, $3)
         ON CONFLICT (discord_user_id) DO UPDATE
         SET player_guid = EXCLUDED.player_guid, linked_by = EXCLUDED.linked_by, linked_at = now()",
        discord_user_id,
        guid,
        linked_by,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(before)
}

/// Removes a user's link; returns the GUID it pointed to.
pub async fn unlink(pool: &PgPool, discord_user_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "DELETE FROM discord_links WHERE discord_user_id = $1 RETURNING player_guid",
        discord_user_id,
    )
    .fetch_optional(pool)
    .await
}
