//! `/unlink [user]`: removes a Discord user's link to a player.

use poise::serenity_prelude as serenity;

use super::link::{discord_user, target_user, user_option};
use super::reply::colour;
use super::slash::{Ctx, Error, Front};
use super::{Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply};
use crate::db;

/// The options of `/unlink`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unlink {
    /// Admins: the Discord user to unlink instead of oneself.
    pub user: Option<i64>,
}

impl Command for Unlink {
    const NAME: &'static str = "unlink";
    const DESCRIPTION: &'static str = "Remove the tie between your Discord account and a player.";
    const PRIVATE: bool = true;

    fn from_invocation(inv: &Invocation) -> Result<Unlink, CommandError> {
        Ok(Unlink {
            user: user_option(inv)?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME).set("user", self.user)
    }

    async fn run(self, env: &Env, caller: &Caller) -> CommandResult {
        let user = target_user(caller, self.user)?;
        let reply = match db::links::unlink(&env.pool, user).await? {
            Some(_) => Reply::embed(
                Embed::new("Unlinked", colour::GOOD)
                    .description(format!("<@{user}> is no longer linked to a player.")),
            ),
            None => Reply::text(format!("<@{user}> was not linked to a player.")),
        };
        Ok(reply.ephemeral())
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Admins: unlink this user instead"] user: Option<serenity::User>,
) -> Result<(), Error> {
    D::answer(ctx, discord_user(user).map(|user| Unlink { user })).await
}
