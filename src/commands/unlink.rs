//! `/unlink [user]`: removes a Discord user's link to a player.

use super::link::target_user;
use super::reply::colour;
use super::Caller;
use super::{CommandResult, Embed, Env, Invocation, Reply};
use crate::db;

pub async fn run(env: &Env, caller: &Caller, inv: &Invocation) -> CommandResult {
    let user = target_user(caller, inv)?;
    let reply = match db::links::unlink(&env.pool, user).await? {
        Some(_) => Reply::embed(
            Embed::new("Unlinked", colour::GOOD)
                .description(format!("<@{user}> is no longer linked to a player.")),
        ),
        None => Reply::text(format!("<@{user}> was not linked to a player.")),
    };
    Ok(reply.ephemeral())
}
