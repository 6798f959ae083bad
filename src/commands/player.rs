//! `/player <player>`: profile card: aliases, totals, favourite weapons, best partner, nemesis,
//! and, for rounds with fight data, damage per minute, accuracy, revives and objective plays.

use poise::serenity_prelude as serenity;

use super::link::discord_user;
use super::reply::colour;
use super::slash::{given, Ctx, Error, Front};
use super::text::{self, percent, ratio};
use super::{
    member_option, player_or_member, user_error, Caller, Command, CommandError, CommandResult, Embed, Env,
    Invocation, Reply,
};
use crate::db;
use crate::period::Period;

/// The options of `/player`.
#[derive(Debug, Clone, PartialEq)]
pub struct Player {
    /// Absent: the caller's linked player.
    pub player: Option<String>,
    /// A Discord member linked to the player, instead of `player`.
    pub member: Option<i64>,
}

impl Command for Player {
    const NAME: &'static str = "player";
    const DESCRIPTION: &'static str =
        "Profile card: aliases, totals, favourite weapons, best partner, nemesis.";

    fn from_invocation(inv: &Invocation) -> Result<Player, CommandError> {
        Ok(Player {
            player: inv.text("player"),
            member: member_option(inv)?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("player", self.player.as_ref())
            .set("member", self.member)
    }

    async fn run(self, env: &Env, caller: &Caller) -> CommandResult {
        let Some(player) = player_or_member(env, caller, self.player.as_deref(), self.member).await? else {
            return user_error("name a player (or /link yourself to a player first)");
        };
        profile(env, &player).await
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Player (name, alias or GUID); default: you, if linked"]
    #[autocomplete = "super::slash::players"]
    player: Option<String>,
    #[description = "A Discord member linked to a player, instead of player"] member: Option<
        serenity::User,
    >,
) -> Result<(), Error> {
    let player = given(player);
    let command = discord_user(member).map(|member| Player { player, member });
    D::answer(ctx, command).await
}

async fn profile(env: &Env, player: &db::players::Player) -> CommandResult {
    let range = super::range(env, Period::All).await?;
    let pool = &env.pool;
    let (aliases, totals, weapons, nemesis, victims, partners, fight) = tokio::try_join!(
        db::players::aliases(pool, &player.guid, 8),
        db::stats::player_totals(pool, &player.guid, range.from, range.to),
        db::stats::favourite_weapons(pool, &player.guid, 3),
        db::stats::versus(pool, &player.guid, false, 1),
        db::stats::versus(pool, &player.guid, true, 1),
        db::synergy::partners(pool, &player.guid, range.from, range.to),
        db::fight_stats::player_fight(pool, &player.guid, range.from, range.to),
    )?;
    let t = totals.unwrap_or_default();
    let mut embed = Embed::new(text::name(&player.name), colour::INFO);
    let other_names: Vec<String> = aliases
        .iter()
        .filter(|a| text::strip_colours(&a.display_name) != text::strip_colours(&player.name))
        .map(|a| text::name(&a.display_name))
        .collect();
    if !other_names.is_empty() {
        embed = embed.description(format!("Also known as {}", other_names.join(", ")));
    }
    embed = totals_fields(embed, &t);
    let weapons = weapons
        .iter()
        .map(|w| format!("{} ({})", text::weapon(w.weapon), w.kills))
        .collect::<Vec<_>>()
        .join(", ");
    embed = embed.field("Favourite weapons", weapons, false);
    // Only rounds recorded by tracker 1.2 have fight data: others show what they always did.
    if let Some(fight) = &fight {
        embed = super::fight::profile_fields(embed, fight);
    }
    if let Some(p) = partners.first() {
        let other = if p.a_guid == player.guid {
            &p.b_name
        } else {
            &p.a_name
        };
        embed = embed.field(
            "Best partner",
            format!(
                "{} ({} kills within range, {} trades)",
                text::name(other),
                p.kills_within_range,
                p.trade_kills
            ),
            true,
        );
    }
    if let Some(db::stats::Opponent { name, kills: n, .. }) = nemesis.first() {
        embed = embed.field(
            "Nemesis",
            format!("{} (killed them {n}×)", text::name(name)),
            true,
        );
    }
    if let Some(db::stats::Opponent { name, kills: n, .. }) = victims.first() {
        embed = embed.field(
            "Favourite victim",
            format!("{} ({n}×)", text::name(name)),
            true,
        );
    }
    // Discord shows timestamps in fields, not in footers.
    embed = embed.field(
        "Last seen",
        text::timestamp(player.last_seen, text::TimeStyle::Full),
        true,
    );
    let bot = if player.is_bot { " · bot" } else { "" };
    let help = if fight.is_some() { "/help dpm" } else { "/help outgunned" };
    embed = embed.footer(format!("all time{bot} · {help}"));
    Ok(Reply::embed(embed))
}

/// Kills, deaths, rounds and the proximity totals of all time.
fn totals_fields(embed: Embed, t: &db::stats::PlayerTotals) -> Embed {
    embed
        .field(
            "Kills / deaths",
            format!(
                "{} / {} (K/D {})",
                t.kills,
                t.deaths,
                ratio(t.kills, t.deaths)
            ),
            true,
        )
        .field("Rounds", t.rounds.to_string(), true)
        .field("1v1 win rate", percent(t.solo_kills, t.duels()), true)
        .field("Outgunned kills", t.outgunned_kills.to_string(), true)
        .field("Ganked deaths", t.ganked_deaths.to_string(), true)
        .field(
            "Avg kill distance",
            if t.kills > 0 {
                format!("{:.0}", t.sum_distance / t.kills as f64)
            } else {
                "-".into()
            },
            true,
        )
}
