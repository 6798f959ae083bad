//! `/solo [player] [period]`: lone-wolf stats, or the best 1v1 players.

use super::reply::colour;
use super::text::{self, percent};
use super::{
    chosen_player, page_buttons, page_footer, page_of, pinned, Caller, CommandResult, Embed, Env,
    Invocation, Period, Reply,
};
use crate::db;

/// Duels (1v1 kills + 1v1 deaths) a player needs to be ranked.
pub const MIN_DUELS: i64 = 10;

pub async fn run(env: &Env, caller: &Caller, inv: &Invocation) -> CommandResult {
    let period = inv.period(Period::Month)?;
    let range = period.range(&env.pool).await?;
    let Some(player) = chosen_player(env, caller, inv, "player").await? else {
        return leaderboard(env, inv, range).await;
    };
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
    .footer(format!("{} · {} rounds", range.label, t.rounds));
    Ok(Reply::embed(embed))
}

async fn leaderboard(env: &Env, inv: &Invocation, range: super::DateRange) -> CommandResult {
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
    let (page, shown) = page_of(&rows, inv.page());
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
            "{} · at least {MIN_DUELS} duels",
            page_footer(page, rows.len(), &range)
        ));
    let buttons = page_buttons(&pinned(inv, None), page, rows.len());
    Ok(Reply::embed(embed).with_buttons(buttons))
}
