//! `/engagements [map] [period]`: the mix of 1v1, 2v1, 1v2 … fights, with a text chart.

use super::reply::colour;
use super::slash::{given, period_or, Ctx, Error, Front, PeriodChoice};
use super::text::{self, percent};
use super::{Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply};
use crate::db;
use crate::period::Period;

/// Rows shown in the chart; the rest are summed as "other".
const SHOWN: usize = 12;

/// The options of `/engagements`.
#[derive(Debug, Clone, PartialEq)]
pub struct Engagements {
    /// Only this map (any case).
    pub map: Option<String>,
    pub period: Period,
}

impl Command for Engagements {
    const NAME: &'static str = "engagements";
    const DESCRIPTION: &'static str = "Engagement breakdown (1v1, 2v1, 1v2 …) with a chart.";

    fn from_invocation(inv: &Invocation) -> Result<Engagements, CommandError> {
        Ok(Engagements {
            map: inv.text("map"),
            period: inv.period(Period::Session)?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("map", self.map.as_ref())
            .set("period", Some(self.period))
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        chart(env, self).await
    }
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Only this map"]
    #[autocomplete = "super::slash::maps"]
    map: Option<String>,
    #[description = "Time window (default: latest session)"] period: Option<PeriodChoice>,
) -> Result<(), Error> {
    let engagements = Engagements {
        map: given(map),
        period: period_or(period, Period::Session),
    };
    D::answer(ctx, Ok(engagements)).await
}

async fn chart(env: &Env, options: Engagements) -> CommandResult {
    let range = super::range(env, options.period).await?;
    let map = options.map.map(|m| m.trim().to_ascii_lowercase());
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
