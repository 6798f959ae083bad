//! Which player a person means when they type a name, an alias or a key: one resolution for
//! every front end (slash commands, the heatmap, the console), returning a typed
//! [`PlayerKey`] or saying why not — no match, or several (ambiguity is reported, never
//! guessed away by taking the newest alias).

use std::fmt;

use sqlx::PgPool;

use crate::db::players::{self, Player};

/// A player's stored key: the 32-hex GUID (upper-case), an Omni-bot key, or `NOGUID:<name>` for
/// players the server gave no GUID. Only [`resolve_one`] and rows read from the database make
/// one, so a key always names a stored player.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayerKey(String);

impl PlayerKey {
    /// A key read back from the database or from a button id the bot wrote.
    pub fn from_stored(key: impl Into<String>) -> PlayerKey {
        PlayerKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlayerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a typed name names no single player. Names are kept raw (colour codes and all); the
/// front end makes them safe for where it shows them.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("empty player name")]
    Empty,
    #[error("no player matches {wanted:?}")]
    NotFound { wanted: String },
    #[error("{} players match {wanted:?}", candidates.len())]
    Ambiguous {
        wanted: String,
        /// Every match, most recently seen first.
        candidates: Vec<Player>,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The one stored player `text` names: its key, its current name or an alias (case-insensitive,
/// ET colour codes ignored); an exact match wins over players whose name merely contains it.
pub async fn resolve_one(pool: &PgPool, text: &str) -> Result<Player, LookupError> {
    let wanted = strip_colour_codes(text.trim());
    if wanted.is_empty() {
        return Err(LookupError::Empty);
    }
    let mut found = players::resolve(pool, &wanted).await?;
    match found.len() {
        0 => Err(LookupError::NotFound { wanted }),
        1 => Ok(found.remove(0)),
        _ => Err(LookupError::Ambiguous {
            wanted,
            candidates: found,
        }),
    }
}

/// Like [`resolve_one`], giving the key.
pub async fn resolve_key(pool: &PgPool, text: &str) -> Result<PlayerKey, LookupError> {
    resolve_one(pool, text)
        .await
        .map(|p| PlayerKey::from_stored(p.guid))
}

/// Removes ET colour codes (`^` + a printable character; `^^` leaves a literal `^`).
pub fn strip_colour_codes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            match chars.peek() {
                Some(&next) if next != '^' && next != '\0' && !next.is_whitespace() => {
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}
