//! `/versus [player] opponent [period]`: two players head to head: kills each way, in which
//! engagement classes, with which weapons, on which maps, and each one's longest streak on the
//! other. Kills each way come from `player_versus_daily`; the breakdowns from the per-round
//! detail of migration 0012 (`db::versus`), which covers rounds whose raw kills were still
//! stored when it was first kept: the reply says so when it covers fewer kills.

use poise::serenity_prelude as serenity;

use super::link::discord_user;
use super::reply::colour;
use super::slash::{given, period_or, Ctx, Error, Front, PeriodChoice};
use super::text::{self, percent};
use super::{
    member_option, player_or_member, resolve_player, user_error, Caller, Command, CommandError,
    CommandResult, Embed, Env, Invocation, Reply,
};
use crate::db;
use crate::db::players::Player;
use crate::db::versus::{KillsEachWay, Split, Streak};
use crate::period::{DateRange, Period};

/// How many weapons and maps a breakdown lists.
const TOP: usize = 5;

/// The options of `/versus`.
#[derive(Debug, Clone, PartialEq)]
pub struct Versus {
    /// Absent (and no member): the caller's linked player.
    pub player: Option<String>,
    /// A Discord member linked to the player, instead of `player`.
    pub member: Option<i64>,
    /// The other player (a name, or a member's mention `<@id>`).
    pub opponent: Option<String>,
    pub period: Period,
}

impl Command for Versus {
    const NAME: &'static str = "versus";
    const DESCRIPTION: &'static str =
        "Head to head: kills each way, by engagement, weapon and map, and the longest streaks.";

    fn from_invocation(inv: &Invocation) -> Result<Versus, CommandError> {
        Ok(Versus {
            player: inv.text("player"),
            member: member_option(inv)?,
            opponent: inv.text("opponent"),
            period: inv.period(Period::All)?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("player", self.player.as_ref())
            .set("member", self.member)
            .set("opponent", self.opponent.as_ref())
            .set("period", Some(self.period))
    }

    async fn run(self, env: &Env, caller: &Caller) -> CommandResult {
        let Some(opponent) = &self.opponent else {
            return user_error("name the opponent: /versus opponent:NAME (and player:NAME)");
        };
        let opponent = resolve_player(env, opponent).await?;
        let player = player_or_member(env, caller, self.player.as_deref(), self.member).await?;
        let Some(player) = player else {
            return user_error("name a player (or /link yourself to a player first)");
        };
        if player.guid == opponent.guid {
            return user_error(format!(
                "{} against themselves: name two different players",
                text::name(&player.name)
            ));
        }
        let range = super::range(env, self.period).await?;
        head_to_head(env, &player, &opponent, &range).await
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Opponent (name, alias or GUID)"]
    #[autocomplete = "super::slash::players"]
    opponent: String,
    #[description = "Player; default: you, if linked"]
    #[autocomplete = "super::slash::players"]
    player: Option<String>,
    #[description = "A Discord member linked to a player, instead of player"] member: Option<
        serenity::User,
    >,
    #[description = "Time window (default all)"] period: Option<PeriodChoice>,
) -> Result<(), Error> {
    let versus = discord_user(member).map(|member| Versus {
        player: given(player),
        member,
        opponent: given(Some(opponent)),
        period: period_or(period, Period::All),
    });
    D::answer(ctx, versus).await
}

/// Everything the reply shows about one pair.
struct HeadToHead {
    each_way: KillsEachWay,
    classes: Vec<Split<String>>,
    weapons: Vec<Split<i16>>,
    maps: Vec<Split<String>>,
    a_streak: Option<Streak>,
    b_streak: Option<Streak>,
}

async fn head_to_head(env: &Env, a: &Player, b: &Player, range: &DateRange) -> CommandResult {
    let (pool, (ga, gb), (from, to)) = (&env.pool, (&a.guid, &b.guid), (range.from, range.to));
    let (each_way, classes, weapons, maps, a_streak, b_streak) = tokio::try_join!(
        db::versus::kills_each_way(pool, ga, gb, from, to),
        db::versus::by_class(pool, ga, gb, from, to),
        db::versus::by_weapon(pool, ga, gb, from, to),
        db::versus::by_map(pool, ga, gb, from, to),
        db::versus::longest_streak(pool, ga, gb, from, to),
        db::versus::longest_streak(pool, gb, ga, from, to),
    )?;
    let h = HeadToHead {
        each_way,
        classes,
        weapons,
        maps,
        a_streak,
        b_streak,
    };
    Ok(Reply::embed(embed(a, b, range, &h)))
}

fn embed(a: &Player, b: &Player, range: &DateRange, h: &HeadToHead) -> Embed {
    let (an, bn) = (text::name(&a.name), text::name(&b.name));
    let title = format!("{an} vs {bn}");
    let w = &h.each_way;
    let total = w.a_on_b + w.b_on_a;
    if total == 0 {
        return Embed::new(title, colour::INFO)
            .description(format!("Neither killed the other in {}.", range.label))
            .footer(format!("{} · /help versus", range.label));
    }
    let mut embed = Embed::new(title, colour::INFO)
        .description(summary_line(&an, &bn, w))
        .field(
            "Kills each way",
            format!(
                "{an} → {bn}: {} ({})\n{bn} → {an}: {} ({})",
                w.a_on_b,
                percent(w.a_on_b, total),
                w.b_on_a,
                percent(w.b_on_a, total)
            ),
            false,
        );
    embed = embed.field("By engagement (killer's side)", class_lines(&h.classes), false);
    embed = embed.field("Weapons", weapon_lines(&h.weapons), false);
    embed = embed.field("Maps", map_lines(&h.maps), false);
    embed = embed.field(
        "Longest streak",
        format!(
            "{an}: {}\n{bn}: {}",
            streak_text(h.a_streak.as_ref()),
            streak_text(h.b_streak.as_ref())
        ),
        false,
    );
    embed.footer(footer(range, (&an, &bn), w, detail_kills(&h.classes)))
}

/// "SlomiX leads 12–9 over 3 session days (2025-11-17 to 2025-11-18)".
fn summary_line(an: &str, bn: &str, w: &KillsEachWay) -> String {
    let lead = match w.a_on_b.cmp(&w.b_on_a) {
        std::cmp::Ordering::Greater => format!("{an} leads {}–{}", w.a_on_b, w.b_on_a),
        std::cmp::Ordering::Less => format!("{bn} leads {}–{}", w.b_on_a, w.a_on_b),
        std::cmp::Ordering::Equal => format!("Level at {}–{}", w.a_on_b, w.b_on_a),
    };
    let days = match (w.first, w.last) {
        (Some(f), Some(l)) if f != l => format!(" ({f} to {l})"),
        (Some(f), _) => format!(" ({f})"),
        _ => String::new(),
    };
    let plural = if w.days == 1 { "" } else { "s" };
    format!("{lead} over {} session day{plural}{days}.", w.days)
}

/// The words a reply uses for an engagement class, seen from the killer's side.
pub fn class_label(class: &str) -> &str {
    match class {
        "solo" => "1v1 (solo)",
        "outnumbered" => "outgunned",
        "outnumbering" => "ganking",
        "even" => "even",
        other => other,
    }
}

fn class_lines(classes: &[Split<String>]) -> String {
    lines(classes, |c| class_label(c).to_owned(), usize::MAX)
}

fn weapon_lines(weapons: &[Split<i16>]) -> String {
    lines(weapons, |w| text::weapon(*w), TOP)
}

fn map_lines(maps: &[Split<String>]) -> String {
    lines(maps, |m| m.clone(), TOP)
}

/// One `label: a–b` line per key, at most `top`, with "… n more" after.
fn lines<K>(splits: &[Split<K>], label: impl Fn(&K) -> String, top: usize) -> String {
    if splits.is_empty() {
        return "-".into();
    }
    let mut out: Vec<String> = splits
        .iter()
        .take(top)
        .map(|s| format!("{}: {}–{}", label(&s.key), s.a_on_b, s.b_on_a))
        .collect();
    if splits.len() > top {
        out.push(format!("… {} more", splits.len() - top));
    }
    out.join("\n")
}

/// "4 in a row on goldrush, <t:…:f>"; the session day when the round has no end time.
fn streak_text(streak: Option<&Streak>) -> String {
    match streak {
        None => "-".into(),
        Some(s) => {
            let when = match s.ended_at {
                Some(t) => text::timestamp(t, text::TimeStyle::Full),
                None => s.session_date.to_string(),
            };
            format!("{} in a row on {}, {when} (round #{})", s.kills, s.map_name, s.round_id)
        }
    }
}

/// Kills the breakdowns count (every kill of the pair is in exactly one class).
fn detail_kills(classes: &[Split<String>]) -> i64 {
    classes.iter().map(Split::total).sum()
}

/// The period, what the columns read as, and the coverage of the breakdowns when partial.
fn footer(range: &DateRange, names: (&str, &str), w: &KillsEachWay, detail: i64) -> String {
    let total = w.a_on_b + w.b_on_a;
    let coverage = if detail < total {
        format!(
            " · engagement, weapon, map and streak cover {detail} of the {total} kills (the other rounds were archived before this detail was kept)"
        )
    } else {
        String::new()
    };
    let (an, bn) = names;
    format!("{} · a–b reads {an}–{bn}{coverage} · /help versus", range.label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(key: &str, a: i64, b: i64) -> Split<String> {
        Split {
            key: key.into(),
            a_on_b: a,
            b_on_a: b,
        }
    }

    #[test]
    fn breakdowns_list_the_top_and_count_the_rest() {
        let maps: Vec<_> = (0..7).map(|i| split(&format!("m{i}"), 7 - i, i)).collect();
        let text = map_lines(&maps);
        assert!(text.starts_with("m0: 7–0\nm1: 6–1"));
        assert!(text.ends_with("… 2 more"));
        assert_eq!(map_lines(&[]), "-");
    }

    #[test]
    fn the_summary_names_the_leader_and_the_days() {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2025, 11, d);
        let w = KillsEachWay {
            a_on_b: 3,
            b_on_a: 5,
            days: 2,
            first: day(17),
            last: day(18),
        };
        assert_eq!(
            summary_line("a", "b", &w),
            "b leads 5–3 over 2 session days (2025-11-17 to 2025-11-18)."
        );
        let level = KillsEachWay { a_on_b: 5, ..w };
        assert!(summary_line("a", "b", &level).starts_with("Level at 5–5"));
    }

    #[test]
    fn a_partial_detail_is_said_in_the_footer() {
        let range = DateRange::everything("all time");
        let w = KillsEachWay {
            a_on_b: 3,
            b_on_a: 5,
            ..KillsEachWay::default()
        };
        assert!(footer(&range, ("a", "b"), &w, 6).contains("cover 6 of the 8 kills"));
        assert!(!footer(&range, ("a", "b"), &w, 8).contains("cover"));
    }
}
