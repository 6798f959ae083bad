//! Players and their names: lookup by key, name or alias, and autocomplete.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Player {
    pub guid: String,
    /// The current name (colour codes may remain; the reply strips them).
    pub name: String,
    pub is_bot: bool,
    pub last_seen: DateTime<Utc>,
}

/// `%text%` for ILIKE, with the pattern characters of `text` escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Players whose key, current name or an alias equals `text` (case-insensitive); when none
/// does, those whose name or alias contains it. Players whose alias matches come from the
/// trigram indexes of migration 0009 once (a hashed set), not from a probe per player, so a
/// typed name stays cheap with thousands of players and aliases.
pub async fn resolve(pool: &PgPool, text: &str) -> sqlx::Result<Vec<Player>> {
    let rows = sqlx::query!(
        r#"SELECT p.player_guid, p.last_name, p.is_bot, p.last_seen,
                (p.player_guid = $1 OR lower(p.last_name) = lower($1)
                 OR EXISTS (SELECT 1 FROM player_aliases a WHERE a.player_guid = p.player_guid
                            AND (lower(a.display_name) = lower($1) OR lower(a.name) = lower($1)))) AS "exact!"
         FROM players p
         WHERE p.player_guid = $1 OR p.last_name ILIKE $2
            OR p.player_guid IN (SELECT player_guid FROM player_aliases WHERE display_name ILIKE $2
                                 UNION
                                 SELECT player_guid FROM player_aliases WHERE name ILIKE $2)
         ORDER BY p.last_seen DESC
         LIMIT 50"#,
        text,
        contains_pattern(text),
    )
    .fetch_all(pool)
    .await?;
    let any_exact = rows.iter().any(|r| r.exact);
    Ok(rows
        .into_iter()
        .filter(|r| r.exact || !any_exact)
        .map(|r| Player {
            guid: r.player_guid,
            name: r.last_name,
            is_bot: r.is_bot,
            last_seen: r.last_seen,
        })
        .collect())
}

pub async fn by_key(pool: &PgPool, guid: &str) -> sqlx::Result<Option<Player>> {
    sqlx::query_as!(
        Player,
        "SELECT player_guid AS guid, last_name AS name, is_bot, last_seen FROM players WHERE player_guid = $1",
        guid
    )
    .fetch_optional(pool)
    .await
}

/// A player found by a search, with the alias that matched when it is not the current name.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub player: Player,
    pub alias: Option<String>,
}

/// Autocomplete: up to `limit` players whose name or an alias contains `text`, most recently
/// seen first.
pub async fn search(pool: &PgPool, text: &str, limit: i64) -> sqlx::Result<Vec<Found>> {
    let rows = sqlx::query!(
        "SELECT p.player_guid, p.last_name, p.is_bot, p.last_seen,
                (SELECT a.display_name FROM player_aliases a
                 WHERE a.player_guid = p.player_guid AND a.display_name ILIKE $1
                   AND lower(a.display_name) <> lower(p.last_name)
                 ORDER BY a.last_seen DESC LIMIT 1) AS alias
         FROM players p
         WHERE p.last_name ILIKE $1 OR p.player_guid ILIKE $1
            OR EXISTS (SELECT 1 FROM player_aliases a WHERE a.player_guid = p.player_guid
                       AND a.display_name ILIKE $1)
         ORDER BY p.is_bot, p.last_seen DESC
         LIMIT $2",
        contains_pattern(text),
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Found {
            player: Player {
                guid: r.player_guid,
                name: r.last_name,
                is_bot: r.is_bot,
                last_seen: r.last_seen,
            },
            alias: r.alias,
        })
        .collect())
}

/// A name a player used, and how many rounds it was seen in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub display_name: String,
    pub times_seen: i32,
}

/// Names a player used, most recent first.
pub async fn aliases(pool: &PgPool, guid: &str, limit: i64) -> sqlx::Result<Vec<Alias>> {
    sqlx::query_as!(
        Alias,
        "SELECT display_name, times_seen FROM player_aliases WHERE player_guid = $1
         ORDER BY last_seen DESC LIMIT $2",
        guid,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// A map seen in rounds: how many, and the last day it was played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMap {
    pub map_name: String,
    pub rounds: i64,
    pub last_played: NaiveDate,
}

/// Map names seen in rounds, most played first.
pub async fn known_maps(pool: &PgPool) -> sqlx::Result<Vec<KnownMap>> {
    sqlx::query_as!(
        KnownMap,
        r#"SELECT map_name, COUNT(*) AS "rounds!", MAX(session_date) AS "last_played!"
         FROM rounds GROUP BY map_name ORDER BY COUNT(*) DESC, map_name"#
    )
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
