//! `/round [latest|id] [server]`: summary of a round (the latest, of one server when given);
//! the same embed is the automatic summary post.

use super::reply::colour;
use super::slash::{given, Ctx, Error, Front};
use super::text::{self, percent};
use super::{
    user_error, Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply,
};
use crate::db;
use crate::db::round_summary::RoundInfo;

/// The options of `/round`: which round, and for the latest, of which server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    pub which: Which,
    /// A server id or name: its latest round (a round id names its server already).
    pub server: Option<String>,
}

/// Which round `/round` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Latest,
    Id(i64),
}

impl Which {
    /// `latest` (default) or a round id, `#` allowed.
    pub fn parse(which: Option<&str>) -> Result<Which, CommandError> {
        let which = which.map(str::trim).filter(|w| !w.is_empty());
        let which = which.unwrap_or("latest");
        if which.eq_ignore_ascii_case("latest") {
            return Ok(Which::Latest);
        }
        match which.trim_start_matches('#').parse::<i64>() {
            Ok(id) => Ok(Which::Id(id)),
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
        Ok(Round {
            which: Which::parse(inv.get("round"))?,
            server: inv.text("server"),
        })
    }

    fn to_invocation(&self) -> Invocation {
        let id = match self.which {
            Which::Latest => None,
            Which::Id(id) => Some(id),
        };
        Invocation::new(Self::NAME)
            .set("round", id)
            .set("server", self.server.as_ref())
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        let server = match &self.server {
            Some(s) => Some(super::resolve_server(env, s).await?),
            None => None,
        };
        let round = match (self.which, &server) {
            (Which::Latest, None) => db::round_summary::latest_round(&env.pool).await?,
            (Which::Latest, Some(s)) => db::servers::latest_round_on(&env.pool, s).await?,
            (Which::Id(id), _) => db::round_summary::round(&env.pool, id)
                .await?
                .filter(|r| server.as_ref().is_none_or(|s| *s == r.server_id)),
        };
        match (round, self.which) {
            (Some(round), _) => Ok(Reply::embed(summary(&env.pool, &round).await?)),
            (None, Which::Latest) => Ok(Reply::text("No round imported yet.")),
            (None, Which::Id(id)) => match self.server {
                Some(s) => user_error(format!("no round with id {id} on server {s}")),
                None => user_error(format!("no round with id {id}")),
            },
        }
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "latest (default) or a round id"] round: Option<String>,
    #[description = "The latest round of this server"]
    #[autocomplete = "super::slash::servers"]
    server: Option<String>,
) -> Result<(), Error> {
    let round = Which::parse(round.as_deref()).map(|which| Round {
        which,
        server: given(server),
    });
    D::answer(ctx, round).await
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
    );
    // Discord shows timestamps in fields, not in footers.
    if let Some(ended) = round.ended_at {
        embed = embed.field(
            "Ended",
            text::timestamp(ended, text::TimeStyle::Full),
            false,
        );
    }
    embed = embed
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
        .map(|c| {
            let label = super::versus::class_label(&c.class);
            format!("{label} {}", percent(c.kills, d.kills))
        })
        .collect::<Vec<_>>()
        .join(" · ");
    embed = embed.field("Engagements", split, false);
    embed = super::fight::round_fields(pool, embed, round.id).await?;
    Ok(embed.footer(format!("{} · /help outgunned", footer(round))))
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

/// `round #12 · server · session 2026-11-20 · flags`.
fn footer(round: &RoundInfo) -> String {
    let server = round.server_name.as_deref().unwrap_or(&round.server_id);
    let ended = format!(" · session {}", round.session_date);
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
