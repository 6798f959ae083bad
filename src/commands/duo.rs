//! `/duo [player] [partner] [period]`: best pairs, a player's partners, or one pair's record.

use super::reply::colour;
use super::text::{self, percent};
use super::{
    chosen_player, page_buttons, page_footer, page_of, pinned, resolve_player, Caller,
    CommandResult, DateRange, Embed, Env, Invocation, Period, Reply, PAGE_SIZE,
};
use crate::db;
use crate::db::players::Player;
use crate::db::synergy::Pair;

pub async fn run(env: &Env, caller: &Caller, inv: &Invocation) -> CommandResult {
    let range = inv.period(Period::Month)?.range(&env.pool).await?;
    let player = chosen_player(env, caller, inv, "player").await?;
    let partner = match inv.get("partner") {
        Some(p) => Some(resolve_player(env, p).await?),
        None => None,
    };
    match (player, partner) {
        (Some(a), Some(b)) => pair(env, &a, &b, range).await,
        (Some(a), None) | (None, Some(a)) => partners(env, inv, &a, range).await,
        (None, None) => best_pairs(env, inv, range).await,
    }
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

async fn best_pairs(env: &Env, inv: &Invocation, range: DateRange) -> CommandResult {
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
    let (page, shown) = page_of(&pairs, inv.page());
    let rows: Vec<Vec<String>> = shown
        .iter()
        .enumerate()
        .map(|(i, p)| pair_row(page * PAGE_SIZE + i + 1, &p.a_name, &p.b_name, p))
        .collect();
    let embed = Embed::new("Best duos", colour::INFO)
        .description(text::table(&HEADER, &rows))
        .footer(format!(
            "{} · in range: kills with the other close by; together: kills within 3 s of each other; trades: deaths avenged within 3 s",
            page_footer(page, pairs.len(), &range)
        ));
    let buttons = page_buttons(&pinned(inv, None), page, pairs.len());
    Ok(Reply::embed(embed).with_buttons(buttons))
}

async fn partners(env: &Env, inv: &Invocation, player: &Player, range: DateRange) -> CommandResult {
    let pairs = db::synergy::partners(&env.pool, &player.guid, range.from, range.to).await?;
    if pairs.is_empty() {
        return Ok(Reply::text(format!(
            "{} has no teammate pairs in {}.",
            text::name(&player.name),
            range.label
        )));
    }
    let (page, shown) = page_of(&pairs, inv.page());
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
    .footer(page_footer(page, pairs.len(), &range));
    let buttons = page_buttons(&pinned(inv, Some(player)), page, pairs.len());
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
            "{} · won = share of fights (kills vs deaths) the two won",
            range.label
        ));
    Ok(Reply::embed(embed))
}
