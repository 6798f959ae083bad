//! `/solo [player|member] [period]`: lone-wolf stats, or the best 1v1 players.

use poise::serenity_prelude as serenity;

use super::link::discord_user;
use super::paging::{page_buttons, page_footer, page_of, pinned, NO_DEFAULT};
use super::reply::colour;
use super::slash::{given, period_or, Ctx, Error, Front, PeriodChoice};
use super::text::{self, percent};
use super::{
    chosen_player, member_option, Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply,
};
use crate::db;
use crate::period::{DateRange, Period};

/// Duels (1v1 kills + 1v1 deaths) a player needs to be ranked.
pub const MIN_DUELS: i64 = 10;

/// The options of `/solo`.
#[derive(Debug, Clone, PartialEq)]
pub struct Solo {
    /// Name, alias or key; absent: the caller's linked player, else the 1v1 ranking.
    pub player: Option<String>,
    /// A Discord member linked to the player, instead of `player`.
    pub member: Option<i64>,
    pub period: Period,
    /// Page of the ranking.
    pub page: usize,
    /// Set by page buttons: no player means the ranking, whoever presses.
    pub nolink: bool,
}

impl Command for Solo {
    const NAME: &'static str = "solo";
    const DESCRIPTION: &'static str = "Lone-wolf stats: 1v1 record, outgunned kills, ganked deaths; without a player, the best 1v1 players.";

    fn from_invocation(inv: &Invocation) -> Result<Solo, CommandError> {
        Ok(Solo {
            player: inv.text("player"),
            member: member_option(inv)?,
            period: inv.period(Period::MONTH)?,
            page: inv.page(),
            nolink: inv.flag(NO_DEFAULT)?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("player", self.player.as_ref())
            .set("member", self.member)
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
        match player {
            Some(player) => lone_wolf(env, &player, &range).await,
            None => leaderboard(env, &self, range).await,
        }
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
    #[description = "Time window (default 30d)"] period: Option<PeriodChoice>,
) -> Result<(), Error> {
    let solo = discord_user(member).map(|member| Solo {
        player: given(player),
        member,
        period: period_or(period, Period::MONTH),
        page: 0,
        nolink: false,
    });
    D::answer(ctx, solo).await
}

async fn lone_wolf(env: &Env, player: &db::players::Player, range: &DateRange) -> CommandResult {
    let Some(t) = db::stats::player_totals(&env.pool, &player.guid, range.from, range.to).await?
    else {
        return Ok(Reply::text(format!(
            "{} has no stats in {}.",
            text::name(&player.name),
            range.label
        )));
    };
    let embed = Embed::new(
        format!("Lone wolf: {}", text::name(&player.name)),
        colour::INFO,
    )
    .field(
        "1v1 record",
        format!("{} won, {} lost", t.solo_kills, t.solo_deaths),
        true,
    )
    .field("1v1 win rate", percent(t.solo_kills, t.duels()), true)
    .field(
        "Solo kills",
        format!(
            "{} of {} kills ({})",
            t.solo_kills,
            t.kills,
            percent(t.solo_kills, t.kills)
        ),
        true,
    )
    .field(
        "Outgunned kills",
        format!("{} (won while outnumbered)", t.outgunned_kills),
        true,
    )
    .field(
        "Ganked deaths",
        format!(
            "{} of {} deaths ({})",
            t.ganked_deaths,
            t.deaths,
            percent(t.ganked_deaths, t.deaths)
        ),
        true,
    )
    .field("Solo deaths", t.solo_deaths.to_string(), true)
    .footer(format!(
        "{} · {} rounds · /help solo, /help outgunned",
        range.label, t.rounds
    ));
    Ok(Reply::embed(embed))
}

async fn leaderboard(env: &Env, solo: &Solo, range: DateRange) -> CommandResult {
    let all = env.cache.totals(&env.pool, range.from, range.to).await?;
    let mut rows: Vec<_> = all
        .iter()
        .filter(|t| !t.is_bot && t.duels() >= MIN_DUELS)
        .collect();
    // Win rate first, then more duels, then the key for a stable order.
    rows.sort_by(|a, b| {
        let ra = a.solo_kills as f64 / a.duels() as f64;
        let rb = b.solo_kills as f64 / b.duels() as f64;
        rb.total_cmp(&ra)
            .then(b.duels().cmp(&a.duels()))
            .then(a.guid.cmp(&b.guid))
    });
    if rows.is_empty() {
        return Ok(Reply::text(format!(
            "No player has {MIN_DUELS} or more 1v1 duels in {}.",
            range.label
        )));
    }
    let (page, shown) = page_of(&rows, solo.page);
    let table_rows: Vec<Vec<String>> = shown
        .iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                format!(
                    "{:>2}. {}",
                    page * super::PAGE_SIZE + i + 1,
                    text::clip(&text::name_in_code(&t.name), 20)
                ),
                percent(t.solo_kills, t.duels()),
                format!("{}-{}", t.solo_kills, t.solo_deaths),
                t.outgunned_kills.to_string(),
            ]
        })
        .collect();
    let embed = Embed::new("Best 1v1 players", colour::INFO)
        .description(text::table(
            &["player", "1v1 win", "W-L", "outgunned"],
            &table_rows,
        ))
        .footer(format!(
            "{} · at least {MIN_DUELS} duels · /help solo",
            page_footer(page, rows.len(), &range)
        ));
    let buttons = page_buttons(&pinned(&solo.to_invocation(), None), page, rows.len());
    Ok(Reply::embed(embed).with_buttons(buttons))
}
