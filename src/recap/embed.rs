//! A [`Recap`] as the embed both `/session` and the automatic post send.

use super::{Award, MapPlayed, Outcome, Recap};
use crate::commands::reply::colour;
use crate::commands::text::{self, duration};
use crate::commands::Embed;

/// Lines of the map list before it is cut (an embed field holds 1,024 characters).
const MAX_MAP_LINES: usize = 15;

/// The recap embed: the evening in numbers, the maps, the MVP and the awards.
pub fn recap_embed(recap: &Recap) -> Embed {
    let day = recap
        .date
        .map(|d| d.format("%a %Y-%m-%d").to_string())
        .unwrap_or_default();
    let mut embed = Embed::new(
        format!(
            "Session recap · {} · {day}",
            text::strip_colours(&recap.server_name)
        ),
        colour::INFO,
    )
    .description(headline(recap));
    if !recap.maps.is_empty() {
        embed = embed.field("Maps played", map_lines(&recap.maps), false);
    }
    if let Some(mvp) = recap.mvp() {
        let value = format!(
            "**{}** · {:.1} points\n{}, {}, {}, {}, {} crossfire\n\
             _points = kills − ½ × deaths + outgunned kills + trades + ¼ × crossfire_",
            text::name(&mvp.name),
            mvp.points,
            count(mvp.kills, "kill"),
            count(mvp.deaths, "death"),
            count(mvp.outgunned_kills, "outgunned kill"),
            count(mvp.trades, "trade"),
            mvp.crossfire
        );
        embed = embed.field("MVP", value, false);
    }
    for award in &recap.awards {
        embed = embed.field(award.title, award_value(award), false);
    }
    embed.footer(format!(
        "server {} · session day {} · every formula: docs/stats.md (Session recap)",
        recap.server_id,
        recap.date.map(|d| d.to_string()).unwrap_or_default()
    ))
}

/// `5 maps · 9 rounds · 1,204 kills · 14 players · 1h 32m played`.
fn headline(recap: &Recap) -> String {
    if recap.rounds == 0 {
        return "No round was imported for this server on this session day.".into();
    }
    let mut parts = vec![
        count(recap.maps.len() as i64, "map"),
        count(recap.rounds as i64, "round"),
        count(recap.kills, "kill"),
        count(recap.players.len() as i64, "player"),
    ];
    if recap.played_seconds > 0 {
        let (h, m) = (recap.played_seconds / 3600, recap.played_seconds / 60 % 60);
        parts.push(if h > 0 {
            format!("{h}h {m:02}m played")
        } else {
            format!("{m}m played")
        });
    }
    parts.join(" · ")
}

fn count(n: i64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// `1. goldrush · 7m 12s + 6m 40s · stopwatch: the 2nd half beat the time`, one per map.
fn map_lines(maps: &[MapPlayed]) -> String {
    let mut lines: Vec<String> = maps
        .iter()
        .take(MAX_MAP_LINES)
        .enumerate()
        .map(|(i, m)| {
            // v2 files carry the end only: no duration to show.
            let halves = if m.halves.iter().all(Option::is_none) {
                String::new()
            } else {
                let each: Vec<String> = m
                    .halves
                    .iter()
                    .map(|h| h.map(duration).unwrap_or_else(|| "-".into()))
                    .collect();
                format!("{} · ", each.join(" + "))
            };
            let result = match m.outcome {
                Outcome::NotInFiles => "winner not in the files",
                Outcome::TimeBeaten => "stopwatch: the 2nd half beat the time",
                Outcome::TimeHeld => "stopwatch: the 1st half's time held",
                Outcome::Unknown => "stopwatch: one half only",
            };
            format!("{}. {} · {halves}{result}", i + 1, text::name(&m.map))
        })
        .collect();
    if maps.len() > MAX_MAP_LINES {
        lines.push(format!("… and {} more", maps.len() - MAX_MAP_LINES));
    }
    lines.join("\n")
}

fn award_value(award: &Award) -> String {
    format!(
        "**{}** · {}\n_{}_",
        text::name(&award.winner),
        award.value,
        award.how
    )
}
