//! Players and their names: lookup by key, name or alias, and autocomplete.

use chrono::{DateTime, Utc};
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
/// does, those whose name or alias contains it.
pub async fn resolve(pool: &PgPool, text: &str) -> sqlx::Result<Vec<Player>> {
    let rows: Vec<(String, String, bool, DateTime<Utc>, bool)> = sqlx::query_as(
        "SELECT p.player_guid, p.last_name, p.is_bot, p.last_seen,
                (p.player_guid = $1 OR lower(p.last_name) = lower($1)
                 OR EXISTS (SELECT 1 FROM player_aliases a WHERE a.player_guid = p.player_guid
                            AND (lower(a.display_name) = lower($1) OR lower(a.name) = lower($1)))) AS exact
         FROM players p
         WHERE p.player_guid = $1 OR p.last_name ILIKE $2
            OR EXISTS (SELECT 1 FROM player_aliases a WHERE a.player_guid = p.player_guid
                       AND (a.display_name ILIKE $2 OR a.name ILIKE $2))
         ORDER BY p.last_seen DESC
         LIMIT 50",
    )
    .bind(text)
    .bind(contains_pattern(text))
    .fetch_all(pool)
    .await?;
    let exact: Vec<Player> = rows
        .iter()
        .filter(|r| r.4)
        .map(|r| Player {
            guid: r.0.clone(),
            name: r.1.clone(),
            is_bot: r.2,
            last_seen: r.3,
        })
        .collect();
    if !exact.is_empty() {
        return Ok(exact);
    }
    Ok(rows
        .into_iter()
        .map(|(guid, name, is_bot, last_seen, _)| Player {
            guid,
            name,
            is_bot,
            last_seen,
        })
        .collect())
}

pub async fn by_key(pool: &PgPool, guid: &str) -> sqlx::Result<Option<Player>> {
    sqlx::query_as(
        "SELECT player_guid AS guid, last_name AS name, is_bot, last_seen FROM players WHERE player_guid = $1",
    )
    .bind(guid)
    .fetch_optional(pool)
    .await
}

/// A player row with the alias that matched a search.
type SearchRow = (String, String, bool, DateTime<Utc>, Option<String>);

/// Autocomplete: up to `limit` players whose name or an alias contains `text`, most recently
/// seen first, with the alias that matched when it is not the current name.
pub async fn search(
    pool: &PgPool,
    text: &str,
    limit: i64,
) -> sqlx::Result<Vec<(Player, Option<String>)>> {
    let rows: Vec<SearchRow> = sqlx::query_as(
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
    )
    .bind(contains_pattern(text))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(guid, name, is_bot, last_seen, alias)| {
            (
                Player {
                    guid,
                    name,
                    is_bot,
                    last_seen,
                },
                alias,
            )
        })
        .collect())
}

/// Names a player used, most recent first.
pub async fn aliases(pool: &PgPool, guid: &str, limit: i64) -> sqlx::Result<Vec<(String, i32)>> {
    sqlx::query_as(
        "SELECT display_name, times_seen FROM player_aliases WHERE player_guid = $1
         ORDER BY last_seen DESC LIMIT $2",
    )
    .bind(guid)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Map names seen in rounds, with round counts and the last day played.
pub async fn known_maps(pool: &PgPool) -> sqlx::Result<Vec<(String, i64, chrono::NaiveDate)>> {
    sqlx::query_as(
        "SELECT map_name, COUNT(*), MAX(session_date) FROM rounds GROUP BY map_name ORDER BY COUNT(*) DESC, map_name",
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
