//! `/leaderboard <stat> [period]`: players ranked by one stat.

use super::paging::{page_buttons, page_footer, page_of};
use super::reply::colour;
use super::slash::{period_or, Ctx, Error, Front, PeriodChoice};
use super::text::{self, percent, ratio};
use super::{
    user_error, Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply,
};
use super::fight;
use crate::db::fight_stats::{self, FightTotals};
use crate::db::stats::PlayerTotals;
use crate::period::Period;

/// Rounds a player needs for the ratio stats.
pub const MIN_ROUNDS: i64 = 3;
/// Minutes in the rounds a player needs for damage per minute (help "dpm" says so).
pub const MIN_FIGHT_MINUTES: i64 = 30;
/// Bullet shots a player needs for accuracy (help "accuracy" says so).
pub const MIN_SHOTS: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum Stat {
    #[name = "kills"]
    Kills,
    #[name = "kd"]
    KillDeath,
    #[name = "solo_kills"]
    SoloKills,
    #[name = "outgunned_kills"]
    OutgunnedKills,
    #[name = "solo_winrate"]
    SoloWinRate,
    #[name = "crossfire"]
    Crossfire,
    #[name = "avg_distance"]
    AvgDistance,
    #[name = "rounds"]
    Rounds,
    #[name = "dpm"]
    DamagePerMinute,
    #[name = "accuracy"]
    Accuracy,
    #[name = "revives"]
    Revives,
    #[name = "objective_plays"]
    ObjectivePlays,
}

impl Stat {
    pub const ALL: [Stat; 12] = [
        Stat::Kills,
        Stat::KillDeath,
        Stat::SoloKills,
        Stat::OutgunnedKills,
        Stat::SoloWinRate,
        Stat::Crossfire,
        Stat::AvgDistance,
        Stat::Rounds,
        Stat::DamagePerMinute,
        Stat::Accuracy,
        Stat::Revives,
        Stat::ObjectivePlays,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stat::Kills => "kills",
            Stat::KillDeath => "kd",
            Stat::SoloKills => "solo_kills",
            Stat::OutgunnedKills => "outgunned_kills",
            Stat::SoloWinRate => "solo_winrate",
            Stat::Crossfire => "crossfire",
            Stat::AvgDistance => "avg_distance",
            Stat::Rounds => "rounds",
            Stat::DamagePerMinute => "dpm",
            Stat::Accuracy => "accuracy",
            Stat::Revives => "revives",
            Stat::ObjectivePlays => "objective_plays",
        }
    }

    /// Whether the stat comes from the fight aggregates (tracker 1.2 rounds only).
    fn is_fight(self) -> bool {
        matches!(
            self,
            Stat::DamagePerMinute | Stat::Accuracy | Stat::Revives | Stat::ObjectivePlays
        )
    }

    fn title(self) -> &'static str {
        match self {
            Stat::Kills => "Most kills",
            Stat::KillDeath => "Best kill/death ratio",
            Stat::SoloKills => "Most 1v1 kills",
            Stat::OutgunnedKills => "Most kills while outnumbered",
            Stat::SoloWinRate => "Best 1v1 win rate",
            Stat::Crossfire => "Most crossfire participations",
            Stat::AvgDistance => "Longest average kill distance",
            Stat::Rounds => "Most rounds played",
            Stat::DamagePerMinute => "Most damage per minute",
            Stat::Accuracy => "Best accuracy",
            Stat::Revives => "Most revives given",
            Stat::ObjectivePlays => "Most objective plays",
        }
    }

    pub fn parse(text: &str) -> Result<Stat, super::CommandError> {
        Stat::ALL
            .into_iter()
            .find(|s| s.key().eq_ignore_ascii_case(text.trim()))
            .map_or_else(
                || {
                    let keys: Vec<&str> = Stat::ALL.iter().map(|s| s.key()).collect();
                    user_error(format!(
                        "unknown stat {text:?}: use one of {}",
                        keys.join(", ")
                    ))
                },
                Ok,
            )
    }

    /// The value ranked, or `None` when the player's sample is too small.
    fn value(self, t: &PlayerTotals) -> Option<f64> {
        let enough = t.rounds >= MIN_ROUNDS;
        match self {
            Stat::Kills => Some(t.kills as f64),
            Stat::KillDeath => enough.then(|| t.kills as f64 / t.deaths.max(1) as f64),
            Stat::SoloKills => Some(t.solo_kills as f64),
            Stat::OutgunnedKills => Some(t.outgunned_kills as f64),
            Stat::SoloWinRate => (t.duels() >= super::solo::MIN_DUELS)
                .then(|| t.solo_kills as f64 / t.duels() as f64),
            Stat::Crossfire => Some(t.crossfire as f64),
            Stat::AvgDistance => (enough && t.kills > 0).then(|| t.sum_distance / t.kills as f64),
            Stat::Rounds => Some(t.rounds as f64),
            _ => None,
        }
    }

    fn show(self, t: &PlayerTotals) -> String {
        match self {
            Stat::Kills => t.kills.to_string(),
            Stat::KillDeath => ratio(t.kills, t.deaths),
            Stat::SoloKills => t.solo_kills.to_string(),
            Stat::OutgunnedKills => t.outgunned_kills.to_string(),
            Stat::SoloWinRate => percent(t.solo_kills, t.duels()),
            Stat::Crossfire => t.crossfire.to_string(),
            Stat::AvgDistance => format!("{:.0}", t.sum_distance / t.kills.max(1) as f64),
            Stat::Rounds => t.rounds.to_string(),
            _ => "-".into(),
        }
    }

    /// The fight stat ranked, or `None` below the minimum playing time or shots.
    fn fight_value(self, f: &FightTotals) -> Option<f64> {
        match self {
            Stat::DamagePerMinute => (f.time_played_ms >= MIN_FIGHT_MINUTES * 60_000)
                .then(|| f.damage_per_minute())
                .flatten(),
            Stat::Accuracy => (f.bullet_shots >= MIN_SHOTS).then(|| f.accuracy()).flatten(),
            Stat::Revives => Some(f.revives_given as f64),
            Stat::ObjectivePlays => Some(f.objective_plays() as f64),
            _ => None,
        }
    }

    fn fight_show(self, f: &FightTotals) -> String {
        match self {
            Stat::DamagePerMinute => fight::dpm(f),
            Stat::Accuracy => percent(f.bullet_hits, f.bullet_shots),
            Stat::Revives => f.revives_given.to_string(),
            Stat::ObjectivePlays => f.objective_plays().to_string(),
            _ => "-".into(),
        }
    }

    /// The rule a ranked player met, for the footer.
    fn fight_rule(self) -> Option<String> {
        match self {
            Stat::DamagePerMinute => Some(format!("{MIN_FIGHT_MINUTES}+ minutes played")),
            Stat::Accuracy => Some(format!("{MIN_SHOTS}+ bullet shots")),
            _ => None,
        }
    }
}

/// The options of `/leaderboard`.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaderboard {
    pub stat: Stat,
    pub period: Period,
    pub page: usize,
}

impl Command for Leaderboard {
    const NAME: &'static str = "leaderboard";
    const DESCRIPTION: &'static str = "Players ranked by one stat.";

    fn from_invocation(inv: &Invocation) -> Result<Leaderboard, CommandError> {
        Ok(Leaderboard {
            stat: Stat::parse(inv.get("stat").unwrap_or("kills"))?,
            period: inv.period(Period::MONTH)?,
            page: inv.page(),
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("stat", Some(self.stat.key()))
            .set("period", Some(self.period))
            .set("page", (self.page > 0).then_some(self.page))
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        ranking(env, &self).await
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "What to rank by"] stat: Stat,
    #[description = "Time window (default 30d)"] period: Option<PeriodChoice>,
) -> Result<(), Error> {
    let leaderboard = Leaderboard {
        stat,
        period: period_or(period, Period::MONTH),
        page: 0,
    };
    D::answer(ctx, Ok(leaderboard)).await
}

async fn ranking(env: &Env, options: &Leaderboard) -> CommandResult {
    let stat = options.stat;
    let range = super::range(env, options.period).await?;
    if stat.is_fight() {
        return fight_ranking(env, options, &range).await;
    }
    let all = env.cache.totals(&env.pool, range.from, range.to).await?;
    let ranked = rank(
        all.iter().filter(|t| !t.is_bot),
        |t| stat.value(t),
        |t| &t.guid,
    );
    if ranked.is_empty() {
        return Ok(Reply::text(format!(
            "No one to rank by {} in {}.",
            stat.key(),
            range.label
        )));
    }
    let (page, shown) = page_of(&ranked, options.page);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .enumerate()
        .map(|(i, (_, t))| {
            vec![
                place_and_name(page, i, &t.name),
                stat.show(t),
                t.rounds.to_string(),
            ]
        })
        .collect();
    let embed = Embed::new(stat.title(), colour::INFO)
        .description(text::table(&["player", stat.key(), "rounds"], &rows))
        .footer(page_footer(page, ranked.len(), &range));
    Ok(
        Reply::embed(embed).with_buttons(page_buttons(
            &options.to_invocation(),
            page,
            ranked.len(),
        )),
    )
}

/// Players with a positive value, best first; ties by player key, so the order never depends
/// on the rows' order.
fn rank<'t, T>(
    players: impl Iterator<Item = &'t T>,
    value: impl Fn(&T) -> Option<f64>,
    key: impl Fn(&T) -> &str,
) -> Vec<(f64, &'t T)> {
    let mut ranked: Vec<(f64, &T)> = players
        .filter_map(|t| value(t).map(|v| (v, t)))
        .filter(|(v, _)| *v > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(key(a.1).cmp(key(b.1))));
    ranked
}

/// The first column of a ranking row: place over all pages, and the name.
fn place_and_name(page: usize, index: usize, name: &str) -> String {
    format!(
        "{:>2}. {}",
        page * super::PAGE_SIZE + index + 1,
        text::clip(&text::name_in_code(name), 20)
    )
}

/// A fight stat's ranking: from the fight aggregates, with minutes played beside the value.
async fn fight_ranking(
    env: &Env,
    options: &Leaderboard,
    range: &crate::period::DateRange,
) -> CommandResult {
    let stat = options.stat;
    let all = fight_stats::all_fight(&env.pool, range.from, range.to).await?;
    let ranked = rank(
        all.iter().filter(|t| !t.is_bot),
        |t| stat.fight_value(t),
        |t| &t.guid,
    );
    let rule = stat.fight_rule();
    if ranked.is_empty() {
        let rule = rule.map(|r| format!(" (players need {r})")).unwrap_or_default();
        return Ok(Reply::text(format!(
            "No one to rank by {} in {}{rule}; only rounds recorded by tracker 1.2 have fight data.",
            stat.key(),
            range.label
        )));
    }
    let (page, shown) = page_of(&ranked, options.page);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .enumerate()
        .map(|(i, (_, t))| {
            vec![
                place_and_name(page, i, &t.name),
                stat.fight_show(t),
                format!("{:.0}", t.minutes()),
            ]
        })
        .collect();
    let mut footer = page_footer(page, ranked.len(), range);
    if let Some(rule) = rule {
        footer.push_str(&format!(" · ranked: {rule}"));
    }
    let help = match stat {
        Stat::Accuracy => "accuracy",
        Stat::Revives => "revives",
        Stat::ObjectivePlays => "objective plays",
        _ => "dpm",
    };
    footer.push_str(&format!(" · /help {help}"));
    let embed = Embed::new(stat.title(), colour::INFO)
        .description(text::table(&["player", stat.key(), "minutes"], &rows))
        .footer(footer);
    Ok(
        Reply::embed(embed).with_buttons(page_buttons(
            &options.to_invocation(),
            page,
            ranked.len(),
        )),
    )
}
