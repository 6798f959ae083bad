//! `/link <player> [user]`: ties a Discord user to a player so `[player]` defaults to them.
//! One player per user; admins may link someone else.

use super::reply::colour;
use super::text;
use super::{resolve_player, user_error, Caller, CommandResult, Embed, Env, Invocation, Reply};
use crate::db;

/// The user a link command acts on: the caller, or (admins only) the `user` option.
pub(super) fn target_user(caller: &Caller, inv: &Invocation) -> Result<i64, super::CommandError> {
    let Some(me) = caller.discord_user_id else {
        return user_error("linking needs a Discord user (give user:ID on the console)").or_else(
            |e| match inv.get("user") {
                Some(u) if caller.is_admin => parse_user(u),
                _ => Err(e),
            },
        );
    };
    match inv.get("user") {
        None => Ok(me),
        Some(u) => {
            let id = parse_user(u)?;
            if id != me && !caller.is_admin {
                tracing::warn!(
                    user_id = me,
                    target = id,
                    "refused link change for another user to a non-admin"
                );
                return user_error("Only admins can change another user's link.");
            }
            Ok(id)
        }
    }
}

fn parse_user(text: &str) -> Result<i64, super::CommandError> {
    text.trim()
        .trim_start_matches("<@")
        .trim_start_matches('!')
        .trim_end_matches('>')
        .parse::<i64>()
        .or_else(|_| user_error(format!("{text:?} is not a Discord user id")))
}

pub async fn run(env: &Env, caller: &Caller, inv: &Invocation) -> CommandResult {
    let Some(wanted) = inv.get("player") else {
        return user_error("name the player to link (start typing to get choices)");
    };
    let user = target_user(caller, inv)?;
    let player = resolve_player(env, wanted).await?;
    let by = caller.discord_user_id.unwrap_or(user);
    let before = db::links::link(&env.pool, user, &player.guid, by).await?;
    let note = match before {
        Some(old) if old != player.guid => " (replacing the previous link)",
        _ => "",
    };
    let embed = Embed::new("Linked", colour::GOOD).description(format!(
        "<@{user}> is now {}{note}. Commands default to this player when none is given.",
        text::name(&player.name)
    ));
    Ok(Reply::embed(embed).ephemeral())
}
