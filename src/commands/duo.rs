//! `/duo [player] [partner] [period]`: best pairs, a player's partners, or one pair's record.

use poise::serenity_prelude as serenity;

use super::link::discord_user;
use super::paging::{page_buttons, page_footer, page_of, pinned, NO_DEFAULT};
use super::reply::colour;
use super::slash::{given, period_or, Ctx, Error, Front, PeriodChoice};
use super::text::{self, percent};
use super::{
    chosen_player, member_option, resolve_player, Caller, Command, CommandError, CommandResult, Embed, Env,
    Invocation, Reply, PAGE_SIZE,
};
use crate::db;
use crate::db::players::Player;
use crate::db::synergy::Pair;
use crate::period::{DateRange, Period};

/// The options of `/duo`.
#[derive(Debug, Clone, PartialEq)]
pub struct Duo {
    /// Absent: the caller's linked player, else the best pairs.
    pub player: Option<String>,
    /// A Discord member linked to the player, instead of `player`.
    pub member: Option<i64>,
    /// With a player: the pair's record; alone: that partner's partners.
    pub partner: Option<String>,
    pub period: Period,
    pub page: usize,
    /// Set by page buttons: no player means the best pairs, whoever presses.
    pub nolink: bool,
}

impl Command for Duo {
    const NAME: &'static str = "duo";
    const DESCRIPTION: &'static str =
        "Teamwork: the best pairs, a player's best partners, or two players' record together.";

    fn from_invocation(inv: &Invocation) -> Result<Duo, CommandError> {
        Ok(Duo {
            player: inv.text("player"),
            member: member_option(inv)?,
            partner: inv.text("partner"),
            period: inv.period(Period::MONTH)?,
            page: inv.page(),
            nolink: inv.flag(NO_DEFAULT)?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("player", self.player.as_ref())
            .set("member", self.member)
            .set("partner", self.partner.as_ref())
            .set("period", Some(self.period))
            .set("page", (self.page > 0).then_some(self.page))
            .set(NO_DEFAULT, self.nolink.then_some(true))
    }

    async fn run(self, env: &Env, caller: &Caller) -> CommandResult {
        let range = super::range(env, self.period).await?;
        let player = chosen_player(
            env,
            caller,
            self.player.as_deref(),
            self.member,
            self.nolink,
        ).await?;
        let partner = match &self.partner {
            Some(p) => Some(resolve_player(env, p).await?),
            None => None,
        };
        match (player, partner) {
            (Some(a), Some(b)) => pair(env, &a, &b, range).await,
            (Some(a), None) | (None, Some(a)) => partners(env, &self, &a, range).await,
            (None, None) => best_pairs(env, &self, range).await,
        }
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Player; default: you, if linked"]
    #[autocomplete = "super::slash::players"]
    player: Option<String>,
    #[description = "Partner, for the pair's record"]
    #[autocomplete = "super::slash::players"]
    partner: Option<String>,
    #[description = "A Discord member linked to a player, instead of player"] member: Option<
        serenity::User,
    >,
    #[description = "Time window (default 30d)"] period: Option<PeriodChoice>,
) -> Result<(), Error> {
    let duo = discord_user(member).map(|member| Duo {
        player: given(player),
        member,
        partner: given(partner),
        period: period_or(period, Period::MONTH),
        page: 0,
        nolink: false,
    });
    D::answer(ctx, duo).await
}

fn pair_row(rank: usize, first: &str, second: &str, p: &Pair) -> Vec<String> {
    vec![
        format!(
            "{rank:>2}. {} + {}",
            text::clip(&text::name_in_code(first), 14),
            text::clip(&text::name_in_code(second), 14)
        ),
        p.kills_within_range.to_string(),
        p.simultaneous_kills.to_string(),
        p.trade_kills.to_string(),
        p.rounds_together.to_string(),
    ]
}

const HEADER: [&str; 5] = ["pair", "in range", "together", "trades", "rounds"];

async fn best_pairs(env: &Env, duo: &Duo, range: DateRange) -> CommandResult {
    let pairs = env
        .cache
        .best_pairs(&env.pool, range.from, range.to)
        .await?;
    if pairs.is_empty() {
        return Ok(Reply::text(format!(
            "No teammate pairs in {}.",
            range.label
        )));
    }
    let (page, shown) = page_of(&pairs, duo.page);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .enumerate()
        .map(|(i, p)| pair_row(page * PAGE_SIZE + i + 1, &p.a_name, &p.b_name, p))
        .collect();
    let embed = Embed::new("Best duos", colour::INFO)
        .description(text::table(&HEADER, &rows))
        .footer(format!(
            "{} · in range: kills with the other close by; together: kills within 3 s of each other; trades: deaths avenged within 3 s · /help trades",
            page_footer(page, pairs.len(), &range)
        ));
    let buttons = page_buttons(&pinned(&duo.to_invocation(), None), page, pairs.len());
    Ok(Reply::embed(embed).with_buttons(buttons))
}

async fn partners(env: &Env, duo: &Duo, player: &Player, range: DateRange) -> CommandResult {
    let pairs = db::synergy::partners(&env.pool, &player.guid, range.from, range.to).await?;
    if pairs.is_empty() {
        return Ok(Reply::text(format!(
            "{} has no teammate pairs in {}.",
            text::name(&player.name),
            range.label
        )));
    }
    let (page, shown) = page_of(&pairs, duo.page);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let other = if p.a_guid == player.guid {
                &p.b_name
            } else {
                &p.a_name
            };
            let mut row = pair_row(page * PAGE_SIZE + i + 1, other, "", p);
            row[0] = format!(
                "{:>2}. {}",
                page * PAGE_SIZE + i + 1,
                text::clip(&text::name_in_code(other), 24)
            );
            row
        })
        .collect();
    let mut header = HEADER;
    header[0] = "partner";
    let embed = Embed::new(
        format!("Best partners of {}", text::name(&player.name)),
        colour::INFO,
    )
    .description(text::table(&header, &rows))
    .footer(format!(
        "{} · /help in range",
        page_footer(page, pairs.len(), &range)
    ));
    let buttons = page_buttons(
        &pinned(&duo.to_invocation(), Some(player)),
        page,
        pairs.len(),
    );
    Ok(Reply::embed(embed).with_buttons(buttons))
}

async fn pair(env: &Env, a: &Player, b: &Player, range: DateRange) -> CommandResult {
    if a.guid == b.guid {
        return super::user_error("pick two different players");
    }
    let pairs = db::synergy::partners(&env.pool, &a.guid, range.from, range.to).await?;
    let record = pairs
        .into_iter()
        .find(|p| p.a_guid == b.guid || p.b_guid == b.guid);
    let (ta, tb) = tokio::try_join!(
        db::stats::player_totals(&env.pool, &a.guid, range.from, range.to),
        db::stats::player_totals(&env.pool, &b.guid, range.from, range.to),
    )?;
    let split =
        db::synergy::together_apart(&env.pool, &a.guid, &b.guid, range.from, range.to).await?;
    let (an, bn) = (text::name(&a.name), text::name(&b.name));
    let mut embed = Embed::new(format!("{an} + {bn}"), colour::INFO);
    match &record {
        Some(p) => {
            embed = embed
                .field("Kills within range", p.kills_within_range.to_string(), true)
                .field("Simultaneous kills", p.simultaneous_kills.to_string(), true)
                .field("Trades", p.trade_kills.to_string(), true)
                .field("Rounds together", p.rounds_together.to_string(), true);
        }
        None => {
            embed = embed.description("These two have no teamwork on record in this period.");
        }
    }
    let crossfire = |t: &Option<db::stats::PlayerTotals>| t.as_ref().map_or(0, |t| t.crossfire);
    embed = embed
        .field(
            "Crossfire participations",
            format!("{an}: {}\n{bn}: {}", crossfire(&ta), crossfire(&tb)),
            true,
        )
        .field(
            "Together (same team)",
            format!(
                "{} rounds, {}-{} ({} won)",
                split.together_rounds,
                split.together_kills,
                split.together_deaths,
                percent(
                    split.together_kills,
                    split.together_kills + split.together_deaths
                )
            ),
            false,
        )
        .field(
            "Apart",
            format!(
                "{} rounds, {}-{} ({} won)",
                split.apart_rounds,
                split.apart_kills,
                split.apart_deaths,
                percent(split.apart_kills, split.apart_kills + split.apart_deaths)
            ),
            false,
        )
        .footer(format!(
            "{} · won = share of fights (kills vs deaths) the two won · /help in range",
            range.label
        ));
    Ok(Reply::embed(embed))
}
