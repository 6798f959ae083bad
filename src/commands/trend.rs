//! `/trend [player] [stat] [sessions]`: a chart of the player's stat per session day over their
//! last sessions, with the community's median of the same days as the reference line.

use poise::serenity_prelude as serenity;

use super::link::discord_user;
use super::reply::colour;
use super::slash::{given, Ctx, Error, Front};
use super::text;
use super::{
    member_option, player_or_member, user_error, Attachment, Caller, Command, CommandError,
    CommandResult, Embed, Env, Invocation, Reply,
};
use crate::charts::trend::{self as chart, TrendChart};
use crate::db;
use crate::db::players::Player;
use crate::db::trend::SessionPoint;

/// Sessions drawn when none are asked for, and the most a chart takes.
pub const DEFAULT_SESSIONS: i64 = 20;
pub const MAX_SESSIONS: i64 = 100;

/// The stats a trend can follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum Stat {
    #[name = "1v1 win rate"]
    WinRate,
    #[name = "K/D"]
    KillDeath,
    #[name = "outgunned kills"]
    Outgunned,
    #[name = "crossfire"]
    Crossfire,
}

impl Stat {
    const ALL: [Stat; 4] = [Stat::WinRate, Stat::KillDeath, Stat::Outgunned, Stat::Crossfire];

    /// The word typed on the console (`stat:kd`).
    pub fn key(self) -> &'static str {
        match self {
            Stat::WinRate => "winrate",
            Stat::KillDeath => "kd",
            Stat::Outgunned => "outgunned",
            Stat::Crossfire => "crossfire",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Stat::WinRate => "1v1 win rate",
            Stat::KillDeath => "K/D",
            Stat::Outgunned => "outgunned kills",
            Stat::Crossfire => "crossfire appearances",
        }
    }

    /// The glossary entry that explains the stat.
    fn help_topic(self) -> &'static str {
        match self {
            Stat::WinRate => "solo",
            Stat::KillDeath => "trend",
            Stat::Outgunned => "outgunned",
            Stat::Crossfire => "crossfire",
        }
    }

    fn parse(text: &str) -> Result<Stat, CommandError> {
        let t = text.trim().to_ascii_lowercase().replace([' ', '/', '_', '-'], "");
        let found = match t.as_str() {
            "winrate" | "1v1" | "1v1winrate" | "solo" => Some(Stat::WinRate),
            "kd" | "kdr" | "killdeath" => Some(Stat::KillDeath),
            "outgunned" | "outgunnedkills" => Some(Stat::Outgunned),
            "crossfire" => Some(Stat::Crossfire),
            _ => None,
        };
        found.map_or_else(
            || {
                let keys: Vec<&str> = Stat::ALL.iter().map(|s| s.key()).collect();
                user_error(format!("stat: {text:?} is not one of {}", keys.join(", ")))
            },
            Ok,
        )
    }

    fn player_value(self, p: &SessionPoint) -> Option<f64> {
        match self {
            Stat::WinRate => p.win_rate,
            Stat::KillDeath => p.kill_death,
            Stat::Outgunned => Some(p.outgunned as f64),
            Stat::Crossfire => Some(p.crossfire as f64),
        }
    }

    fn median(self, p: &SessionPoint) -> Option<f64> {
        match self {
            Stat::WinRate => p.median_win_rate,
            Stat::KillDeath => p.median_kill_death,
            Stat::Outgunned => p.median_outgunned,
            Stat::Crossfire => p.median_crossfire,
        }
    }
}

/// The options of `/trend`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// Absent (and no member): the caller's linked player.
    pub player: Option<String>,
    /// A Discord member linked to the player, instead of `player`.
    pub member: Option<i64>,
    pub stat: Stat,
    pub sessions: i64,
}

impl Command for Trend {
    const NAME: &'static str = "trend";
    const DESCRIPTION: &'static str =
        "Chart of a player's 1v1 win rate, K/D, outgunned kills or crossfire per session.";

    fn from_invocation(inv: &Invocation) -> Result<Trend, CommandError> {
        Ok(Trend {
            player: inv.text("player"),
            member: member_option(inv)?,
            stat: inv.get("stat").map_or(Ok(Stat::WinRate), Stat::parse)?,
            sessions: inv.number(
                "sessions",
                2..=MAX_SESSIONS,
                DEFAULT_SESSIONS,
                "a number of sessions from 2 to 100",
            )?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("player", self.player.as_ref())
            .set("member", self.member)
            .set("stat", Some(self.stat.key()))
            .set("sessions", Some(self.sessions))
    }

    async fn run(self, env: &Env, caller: &Caller) -> CommandResult {
        let player = player_or_member(env, caller, self.player.as_deref(), self.member).await?;
        let Some(player) = player else {
            return user_error("name a player (or /link yourself to a player first)");
        };
        let points = db::trend::sessions(&env.pool, &player.guid, self.sessions).await?;
        if points.is_empty() {
            return Ok(Reply::text(format!(
                "{} has played no round yet.",
                text::name(&player.name)
            )));
        }
        trend_reply(&player, self.stat, &points)
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Player; default: you, if linked"]
    #[autocomplete = "super::slash::players"]
    player: Option<String>,
    #[description = "A Discord member linked to a player, instead of player"] member: Option<
        serenity::User,
    >,
    #[description = "What to follow (default 1v1 win rate)"] stat: Option<Stat>,
    #[description = "How many of their last sessions (default 20)"]
    #[min = 2]
    #[max = 100]
    sessions: Option<i64>,
) -> Result<(), Error> {
    let trend = discord_user(member).map(|member| Trend {
        player: given(player),
        member,
        stat: stat.unwrap_or(Stat::WinRate),
        sessions: sessions.unwrap_or(DEFAULT_SESSIONS).clamp(2, MAX_SESSIONS),
    });
    D::answer(ctx, trend).await
}

/// The chart, with the numbers of the latest session and the run's average in the embed.
fn trend_reply(player: &Player, stat: Stat, points: &[SessionPoint]) -> CommandResult {
    let name = text::strip_colours(&player.name);
    let spec = TrendChart {
        title: format!("{name} · {} per session", stat.label()),
        y_label: stat.label().into(),
        percent: stat == Stat::WinRate,
        days: points
            .iter()
            .map(|p| p.session_date.format("%m-%d").to_string())
            .collect(),
        player: points.iter().map(|p| stat.player_value(p)).collect(),
        median: points.iter().map(|p| stat.median(p)).collect(),
        player_name: name.clone(),
    };
    let png = chart::render(&spec).map_err(anyhow::Error::from)?;
    let file = format!("trend-{}.png", stat.key());
    let last = points.last().expect("points is not empty");
    let embed = Embed::new(
        format!("{} · {}", text::name(&player.name), stat.label()),
        colour::INFO,
    )
    .description(format!(
        "{} session{}, {} to {}: {} per session day against the median of everyone who played that day.",
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        points[0].session_date,
        last.session_date,
        stat.label()
    ))
    .field(
        format!("Latest ({})", last.session_date),
        format!(
            "{} (median {})",
            shown(stat, stat.player_value(last)),
            shown(stat, stat.median(last))
        ),
        true,
    )
    .field("Average of the sessions", shown(stat, average(stat, points)), true)
    .footer(format!("chart: {file} · /help {}", stat.help_topic()));
    Ok(Reply {
        attachments: vec![Attachment {
            name: file,
            bytes: png,
        }],
        ..Reply::embed(embed)
    })
}

/// The mean of the defined values.
fn average(stat: Stat, points: &[SessionPoint]) -> Option<f64> {
    let values: Vec<f64> = points.iter().filter_map(|p| stat.player_value(p)).collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn shown(stat: Stat, value: Option<f64>) -> String {
    match (stat, value) {
        (_, None) => "-".into(),
        (Stat::WinRate, Some(v)) => format!("{:.1}%", v * 100.0),
        (Stat::KillDeath, Some(v)) => format!("{v:.2}"),
        (_, Some(v)) => format!("{v:.1}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_read_in_their_usual_spellings() {
        assert_eq!(Stat::parse("K/D").unwrap(), Stat::KillDeath);
        assert_eq!(Stat::parse("1v1 win rate").unwrap(), Stat::WinRate);
        assert_eq!(Stat::parse("crossfire").unwrap(), Stat::Crossfire);
        let err = Stat::parse("headshots").unwrap_err().to_string();
        assert!(err.contains("winrate, kd, outgunned, crossfire"), "{err}");
        for s in Stat::ALL {
            assert_eq!(Stat::parse(s.key()).unwrap(), s);
        }
    }

    #[test]
    fn values_are_shown_in_their_unit() {
        assert_eq!(shown(Stat::WinRate, Some(0.4567)), "45.7%");
        assert_eq!(shown(Stat::KillDeath, Some(1.5)), "1.50");
        assert_eq!(shown(Stat::Crossfire, None), "-");
    }
}
