//! `/engagements [map] [period]`: the mix of 1v1, 2v1, 1v2 … fights, with a text chart.

use super::reply::colour;
use super::text::{self, percent};
use super::{CommandResult, Embed, Env, Invocation, Period, Reply};
use crate::db;

/// Rows shown in the chart; the rest are summed as "other".
const SHOWN: usize = 12;

pub async fn run(env: &Env, inv: &Invocation) -> CommandResult {
    let range = inv.period(Period::Session)?.range(&env.pool).await?;
    let map = inv.get("map").map(|m| m.trim().to_ascii_lowercase());
    let rows = db::stats::engagements(&env.pool, range.from, range.to, map.as_deref()).await?;
    let on_map = map
        .as_deref()
        .map(|m| format!(" on {}", text::name(m)))
        .unwrap_or_default();
    if rows.is_empty() {
        return Ok(Reply::text(format!(
            "No kills{on_map} in {} (raw kills are kept for the retention period only).",
            range.label
        )));
    }
    let total: i64 = rows.iter().map(|r| r.kills).sum();
    let max = rows.iter().map(|r| r.kills).max().unwrap_or(1);
    let mut chart = String::from("```\n");
    for r in rows.iter().take(SHOWN) {
        chart.push_str(&format!(
            "{:<5} {:>6} {:>6}  {}\n",
            text::clip(&r.engagement_type, 5),
            r.kills,
            percent(r.kills, total),
            text::bar(r.kills, max, 16)
        ));
    }
    let other: i64 = rows.iter().skip(SHOWN).map(|r| r.kills).sum();
    if other > 0 {
        chart.push_str(&format!(
            "{:<5} {:>6} {:>6}\n",
            "other",
            other,
            percent(other, total)
        ));
    }
    chart.push_str("```");
    let mut by_class: Vec<(String, i64)> = Vec::new();
    for r in &rows {
        match by_class.iter_mut().find(|(c, _)| *c == r.engagement_class) {
            Some(entry) => entry.1 += r.kills,
            None => by_class.push((r.engagement_class.clone(), r.kills)),
        }
    }
    let classes = by_class
        .iter()
        .map(|(c, n)| format!("{c}: {n} ({})", percent(*n, total)))
        .collect::<Vec<_>>()
        .join("\n");
    let embed = Embed::new(format!("Engagements{on_map}"), colour::INFO)
        .description(chart)
        .field("By class", classes, true)
        .field("Kills", total.to_string(), true)
        .footer(format!("{} · killer side v victim side", range.label));
    Ok(Reply::embed(embed))
}
