//! `/round [latest|id]`: summary of a round; the same embed is the automatic summary post.

use super::reply::colour;
use super::slash::{Ctx, Error, Front};
use super::text::{self, percent};
use super::{
    user_error, Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply,
};
use crate::db;
use crate::db::round_summary::RoundInfo;

/// The options of `/round`: which round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Latest,
    Id(i64),
}

impl Round {
    /// `latest` (default) or a round id, `#` allowed.
    pub fn parse(which: Option<&str>) -> Result<Round, CommandError> {
        let which = which.map(str::trim).filter(|w| !w.is_empty());
        let which = which.unwrap_or("latest");
        if which.eq_ignore_ascii_case("latest") {
            return Ok(Round::Latest);
        }
        match which.trim_start_matches('#').parse::<i64>() {
            Ok(id) => Ok(Round::Id(id)),
            Err(_) => user_error(format!(
                "{which:?} is not a round id: give a number or latest"
            )),
        }
    }
}

impl Command for Round {
    const NAME: &'static str = "round";
    const DESCRIPTION: &'static str =
        "Summary of a round: kills, top fraggers, best duo, most outnumbered win.";

    fn from_invocation(inv: &Invocation) -> Result<Round, CommandError> {
        Round::parse(inv.get("round"))
    }

    fn to_invocation(&self) -> Invocation {
        let id = match self {
            Round::Latest => None,
            Round::Id(id) => Some(id),
        };
        Invocation::new(Self::NAME).set("round", id)
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        let round = match self {
            Round::Latest => db::round_summary::latest_round(&env.pool).await?,
            Round::Id(id) => db::round_summary::round(&env.pool, id).await?,
        };
        match (round, self) {
            (Some(round), _) => Ok(Reply::embed(summary(&env.pool, &round).await?)),
            (None, Round::Latest) => Ok(Reply::text("No round imported yet.")),
            (None, Round::Id(id)) => user_error(format!("no round with id {id}")),
        }
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "latest (default) or a round id"] round: Option<String>,
) -> Result<(), Error> {
    D::answer(ctx, Round::parse(round.as_deref())).await
}

/// The summary embed of one round.
pub async fn summary(pool: &sqlx::PgPool, round: &RoundInfo) -> Result<Embed, sqlx::Error> {
    let d = db::round_summary::detail(pool, round).await?;
    let duration = match (round.started_at, round.ended_at) {
        (Some(a), Some(b)) => text::duration((b - a).num_seconds()),
        _ => "-".into(),
    };
    let mut embed = Embed::new(
        format!(
            "{} · round {}",
            text::name(&round.map_name),
            round.round_number
        ),
        colour::GOOD,
    )
    .field("Duration", duration, true)
    .field("Kills", d.kills.to_string(), true)
    .field("Team kills", d.team_kills.to_string(), true)
    .field("Top fraggers (kills/deaths)", top_fraggers(&d), false);
    if let Some(duo) = &d.best_duo {
        embed = embed.field("Best duo", best_duo(duo), true);
    }
    if let Some(win) = &d.outnumbered_win {
        embed = embed.field("Most outnumbered win", outnumbered_win(win), true);
    }
    let split = d
        .classes
        .iter()
        .map(|c| format!("{} {}", c.class, percent(c.kills, d.kills)))
        .collect::<Vec<_>>()
        .join(" · ");
    Ok(embed
        .field("Engagements", split, false)
        .footer(footer(round)))
}

fn top_fraggers(d: &db::round_summary::RoundDetail) -> String {
    d.fraggers
        .iter()
        .take(5)
        .map(|f| {
            format!(
                "{} ({}) {}/{}",
                text::name(&f.name),
                f.team,
                f.kills,
                f.deaths
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn best_duo(duo: &db::round_summary::Duo) -> String {
    format!(
        "{} + {} ({} kills in support)",
        text::name(&duo.name1),
        text::name(&duo.name2),
        duo.kills
    )
}

fn outnumbered_win(win: &db::round_summary::OutnumberedWin) -> String {
    format!(
        "{}v{} by {} on {} ({})",
        win.killer_side,
        win.victim_side,
        text::name(&win.killer_name),
        text::name(&win.victim_name),
        text::weapon(win.weapon)
    )
}

/// `round #12 · server · ended 2026-11-20 21:40 UTC · flags`.
fn footer(round: &RoundInfo) -> String {
    let server = round.server_name.as_deref().unwrap_or(&round.server_id);
    let ended = round
        .ended_at
        .map(|t| t.format(" · ended %Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let flags = if round.flags.is_empty() {
        String::new()
    } else {
        format!(" · {}", round.flags.join(", "))
    };
    format!(
        "round #{} · {}{ended}{flags}",
        round.id,
        text::strip_colours(server)
    )
}
