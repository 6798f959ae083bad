//! What a command's Discord handler needs, without knowing the Discord front end: the
//! [`Front`] it answers through, autocomplete of players and maps, the period choices, and
//! [`declare`], which gives each slash command its registry name, description and admin
//! permission. Each command's poise handler (`slash`, generic over the front) lives in the
//! command's own file next to its options.

use std::future::Future;

use poise::serenity_prelude as serenity;

use super::registry::Command;
use super::{text, CommandError, Env};
use crate::db;
use crate::period::Period;

pub type Error = anyhow::Error;
pub type Ctx<'a, D> = poise::Context<'a, D, Error>;

/// A Discord front end: poise's user data, which runs a command and sends its reply.
pub trait Front: Send + Sync + Sized + 'static {
    fn env(&self) -> &Env;
    /// Runs `command` for the interaction and answers it (privately when `C::PRIVATE`); an
    /// option the handler could not read is answered as the caller's mistake.
    fn answer<C: Command>(
        ctx: Ctx<'_, Self>,
        command: Result<C, CommandError>,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// The slash command `handler` as the registry declares `C`: its name, description, and for
/// admin commands Manage Server (in guilds only; Discord hides it from other members).
pub fn declare<C: Command, D: Front>(
    mut handler: poise::Command<D, Error>,
) -> poise::Command<D, Error> {
    handler.name = C::NAME.into();
    handler.identifying_name = C::NAME.into();
    handler.qualified_name = C::NAME.into();
    handler.description = Some(C::DESCRIPTION.into());
    if C::ADMIN {
        handler.guild_only = true;
        handler.default_member_permissions = serenity::Permissions::MANAGE_GUILD;
        for sub in &mut handler.subcommands {
            sub.default_member_permissions = serenity::Permissions::MANAGE_GUILD;
        }
    }
    handler
}

/// The windows Discord offers as choices (the console takes every [`Period`] form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum PeriodChoice {
    #[name = "session"]
    Session,
    #[name = "7d"]
    Week,
    #[name = "30d"]
    Month,
    #[name = "all"]
    All,
}

impl From<PeriodChoice> for Period {
    fn from(choice: PeriodChoice) -> Period {
        match choice {
            PeriodChoice::Session => Period::Session,
            PeriodChoice::Week => Period::WEEK,
            PeriodChoice::Month => Period::MONTH,
            PeriodChoice::All => Period::All,
        }
    }
}

/// A text option as the console reads it: blank is absent.
pub fn given(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

/// The period chosen, or `default`.
pub fn period_or(choice: Option<PeriodChoice>, default: Period) -> Period {
    choice.map_or(default, Period::from)
}

const AUTOCOMPLETE_WITHIN: std::time::Duration = std::time::Duration::from_millis(2500);

/// Players whose name or an alias contains what was typed; the value is the player key.
pub async fn players<D: Front>(
    ctx: Ctx<'_, D>,
    partial: &str,
) -> impl Iterator<Item = serenity::AutocompleteChoice> {
    let wanted = text::strip_colours(partial.trim());
    let search = db::players::search(&ctx.data().env().pool, &wanted, 25);
    // Suggestions are useless after Discord's 3 s; with the database away, offer none.
    let found = match tokio::time::timeout(AUTOCOMPLETE_WITHIN, search).await {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "player autocomplete failed");
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    found
        .into_iter()
        .filter(|f| f.player.guid.chars().count() <= 100)
        .map(|db::players::Found { player: p, alias }| {
            let current = text::strip_colours(&p.name);
            let label = match alias {
                Some(a) => format!("{current} (alias {})", text::strip_colours(&a)),
                None => current,
            };
            serenity::AutocompleteChoice::new(text::clip(&label, 100), p.guid)
        })
        .collect::<Vec<_>>()
        .into_iter()
}

/// Servers whose id or name contains what was typed; the value is the server id.
pub async fn servers<D: Front>(
    ctx: Ctx<'_, D>,
    partial: &str,
) -> impl Iterator<Item = serenity::AutocompleteChoice> {
    let wanted = partial.trim().to_lowercase();
    let servers = tokio::time::timeout(
        AUTOCOMPLETE_WITHIN,
        db::servers::known_servers(&ctx.data().env().pool),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    servers
        .into_iter()
        .filter(|s| s.server_id.chars().count() <= 100)
        .map(|s| (server_label(&s), s.server_id))
        .filter(|(label, _)| label.to_lowercase().contains(&wanted))
        .take(25)
        .map(|(label, id)| serenity::AutocompleteChoice::new(text::clip(&label, 100), id))
        .collect::<Vec<_>>()
        .into_iter()
}

/// "eu-1 · ^1Legacy EU (212 rounds)" without colour codes.
pub fn server_label(s: &db::servers::Server) -> String {
    let name = s
        .name
        .as_deref()
        .map(text::strip_colours)
        .filter(|n| !n.is_empty() && *n != s.server_id);
    match name {
        Some(n) => format!("{} · {n} ({} rounds)", s.server_id, s.rounds),
        None => format!("{} ({} rounds)", s.server_id, s.rounds),
    }
}

/// Maps whose name contains what was typed, with their round counts.
pub async fn maps<D: Front>(
    ctx: Ctx<'_, D>,
    partial: &str,
) -> impl Iterator<Item = serenity::AutocompleteChoice> {
    let wanted = partial.trim().to_ascii_lowercase();
    let maps = tokio::time::timeout(
        AUTOCOMPLETE_WITHIN,
        db::players::known_maps(&ctx.data().env().pool),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    maps.into_iter()
        .filter(|m| {
            let m = &m.map_name;
            m.to_ascii_lowercase().contains(&wanted) && m.chars().count() <= 100
        })
        .take(25)
        .map(
            |db::players::KnownMap {
                 map_name: m,
                 rounds,
                 ..
             }| {
                serenity::AutocompleteChoice::new(
                    text::clip(&format!("{m} ({rounds} rounds)"), 100),
                    m,
                )
            },
        )
        .collect::<Vec<_>>()
        .into_iter()
}
