//! `/link <player> [user]`: ties a Discord user to a player so `[player]` defaults to them.
//! One player per user; admins may link someone else.

use poise::serenity_prelude as serenity;

use super::reply::colour;
use super::slash::{given, Ctx, Error, Front};
use super::text;
use super::{
    resolve_player, user_error, Caller, Command, CommandError, CommandResult, Embed, Env,
    Invocation, Reply,
};
use crate::db;

/// The options of `/link`.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Name, alias or key of the player.
    pub player: String,
    /// Admins: the Discord user to link instead of oneself.
    pub user: Option<i64>,
}

impl Link {
    fn new(player: Option<String>, user: Option<i64>) -> Result<Link, CommandError> {
        match given(player) {
            Some(player) => Ok(Link { player, user }),
            None => user_error("name the player to link (start typing to get choices)"),
        }
    }
}

impl Command for Link {
    const NAME: &'static str = "link";
    const DESCRIPTION: &'static str =
        "Tie your Discord account to a player, so commands default to you.";
    const PRIVATE: bool = true;

    fn from_invocation(inv: &Invocation) -> Result<Link, CommandError> {
        // A missing player is reported before a malformed user, as the form reads.
        let link = Link::new(inv.text("player"), None)?;
        Ok(Link {
            user: user_option(inv)?,
            ..link
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("player", Some(&self.player))
            .set("user", self.user)
    }

    async fn run(self, env: &Env, caller: &Caller) -> CommandResult {
        let user = target_user(caller, self.user)?;
        let player = resolve_player(env, &self.player).await?;
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
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Your player (name, alias or GUID)"]
    #[autocomplete = "super::slash::players"]
    player: String,
    #[description = "Admins: link this user instead"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let link = discord_user(user).and_then(|user| Link::new(Some(player), user));
    D::answer(ctx, link).await
}

/// A Discord user option as the id links store.
pub(super) fn discord_user(user: Option<serenity::User>) -> Result<Option<i64>, CommandError> {
    user.map(|u| parse_user(&u.id.get().to_string()))
        .transpose()
}

/// The `user` option of a typed line: an id or a mention `<@id>`.
pub(super) fn user_option(inv: &Invocation) -> Result<Option<i64>, CommandError> {
    inv.get("user").map(parse_user).transpose()
}

/// The user a link command acts on: the caller, or (admins only) `user`.
pub(super) fn target_user(caller: &Caller, user: Option<i64>) -> Result<i64, CommandError> {
    let Some(me) = caller.discord_user_id else {
        return match user {
            Some(id) if caller.is_admin => Ok(id),
            _ => user_error("linking needs a Discord user (give user:ID on the console)"),
        };
    };
    match user {
        None => Ok(me),
        Some(id) => {
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

pub(super) fn parse_user(text: &str) -> Result<i64, CommandError> {
    text.trim()
        .trim_start_matches("<@")
        .trim_start_matches('!')
        .trim_end_matches('>')
        .parse::<i64>()
        .or_else(|_| user_error(format!("{text:?} is not a Discord user id")))
}
