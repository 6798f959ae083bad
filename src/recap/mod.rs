//! The session recap: the story of one server's session day, computed from its rounds and the
//! day's aggregates. Pure (the numbers in, a [`Recap`] out) so every rule is unit-tested; the
//! SQL is in [`crate::db::recap`], the reading in [`load`], the embed in [`embed`], the chart
//! in [`crate::charts::evening`]. Every formula is documented in docs/stats.md ("Session recap").

pub mod embed;
pub mod load;
pub mod maps;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use crate::db::fight_stats::FightTotals;
use crate::db::recap::{DayPlayer, Duels, PairDay, PlayerRound, SessionRound};
pub use maps::{maps_played, MapPlayed, Outcome};

/// How many players the chart follows.
pub const CHART_PLAYERS: usize = 5;
/// Duels a player needs, on the evening and in the 30 days before, for the 1v1 award.
pub const MIN_DUELS: i64 = 10;
/// Days before the session that make the 1v1 reference.
pub const REFERENCE_DAYS: i64 = 30;
/// Bullet shots a player needs on the evening for the accuracy award.
pub const MIN_RECAP_SHOTS: i64 = 100;
/// Minutes a player needs on the evening for the damage award.
pub const MIN_RECAP_MINUTES: i64 = 10;

/// Everything a recap is computed from.
#[derive(Debug, Clone, Default)]
pub struct SessionInput {
    pub server_id: String,
    pub server_name: String,
    pub date: Option<NaiveDate>,
    /// The server's rounds of the day, in play order.
    pub rounds: Vec<SessionRound>,
    /// Kills and deaths per player and round of those rounds.
    pub player_rounds: Vec<PlayerRound>,
    /// The day aggregates of the players of those rounds.
    pub day: Vec<DayPlayer>,
    /// Teammate pairs of the day among those players.
    pub pairs: Vec<PairDay>,
    /// 1v1 duels of those players in the [`REFERENCE_DAYS`] before the day.
    pub reference_duels: Vec<Duels>,
    /// The day's fight numbers of those players (rounds with fight data only; empty without).
    pub fight: Vec<FightTotals>,
}

/// A player's evening and MVP points.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerEvening {
    pub guid: String,
    pub name: String,
    pub kills: i64,
    pub deaths: i64,
    pub outgunned_kills: i64,
    /// Deaths of teammates this player avenged within 3 s.
    pub trades: i64,
    pub crossfire: i64,
    pub points: f64,
}

/// The MVP points of a player: kills − ½·deaths + outgunned kills + trades + ¼·crossfire.
/// An outgunned kill or a trade thus counts twice (it is a kill too); see docs/stats.md.
pub fn mvp_points(kills: i64, deaths: i64, outgunned: i64, trades: i64, crossfire: i64) -> f64 {
    kills as f64 - 0.5 * deaths as f64 + outgunned as f64 + trades as f64 + 0.25 * crossfire as f64
}

/// One award: who, the number, and how it is computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Award {
    pub title: &'static str,
    pub winner: String,
    /// The number with its unit, e.g. "12 outgunned kills".
    pub value: String,
    /// One line: how the number is computed.
    pub how: &'static str,
}

/// Kills per round of the evening's top players, for the chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EveningSeries {
    /// One label per round, in play order (map and half).
    pub rounds: Vec<String>,
    /// A player's name and kills in each round (0 where absent).
    pub players: Vec<(String, Vec<i64>)>,
}

/// The recap of one server's session day.
#[derive(Debug, Clone, PartialEq)]
pub struct Recap {
    pub server_id: String,
    pub server_name: String,
    pub date: Option<NaiveDate>,
    pub maps: Vec<MapPlayed>,
    pub rounds: usize,
    pub kills: i64,
    /// Seconds of the rounds with a start and an end.
    pub played_seconds: i64,
    /// Best MVP points first.
    pub players: Vec<PlayerEvening>,
    pub awards: Vec<Award>,
    pub series: EveningSeries,
}

impl Recap {
    pub fn mvp(&self) -> Option<&PlayerEvening> {
        self.players.first()
    }
}

/// Computes the recap.
pub fn compute(input: &SessionInput) -> Recap {
    let players = evenings(input);
    let awards = awards(input, &players);
    let series = series(input, &players);
    Recap {
        server_id: input.server_id.clone(),
        server_name: input.server_name.clone(),
        date: input.date,
        maps: maps_played(&input.rounds),
        rounds: input.rounds.len(),
        kills: input.rounds.iter().map(|r| i64::from(r.kill_count)).sum(),
        played_seconds: input.rounds.iter().filter_map(maps::seconds).sum(),
        players,
        awards,
        series,
    }
}

/// The day row of every human player, by key.
fn humans(input: &SessionInput) -> HashMap<&str, &DayPlayer> {
    input
        .day
        .iter()
        .filter(|d| !d.is_bot)
        .map(|d| (d.player_guid.as_str(), d))
        .collect()
}

/// Every human player of the session with their MVP points, best first (ties: more kills, then
/// name, then key, so the order never depends on the rows' order).
fn evenings(input: &SessionInput) -> Vec<PlayerEvening> {
    let day = humans(input);
    let mut totals: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in &input.player_rounds {
        let t = totals.entry(r.player_guid.as_str()).or_default();
        t.0 += i64::from(r.kills);
        t.1 += i64::from(r.deaths);
    }
    let trades = trades_by_avenger(&input.pairs);
    let mut out: Vec<PlayerEvening> = totals
        .into_iter()
        .filter_map(|(guid, (kills, deaths))| {
            let d = day.get(guid)?;
            let outgunned = i64::from(d.outgunned_kills);
            let crossfire = i64::from(d.crossfire);
            let trades = trades.get(guid).copied().unwrap_or(0);
            Some(PlayerEvening {
                guid: guid.to_owned(),
                name: d.player_name.clone(),
                kills,
                deaths,
                outgunned_kills: outgunned,
                trades,
                crossfire,
                points: mvp_points(kills, deaths, outgunned, trades, crossfire),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.points
            .total_cmp(&a.points)
            .then(b.kills.cmp(&a.kills))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.guid.cmp(&b.guid))
    });
    out
}

/// Teammates' deaths each player avenged (`trade_kills` counts player1's deaths avenged by
/// player2).
fn trades_by_avenger(pairs: &[PairDay]) -> HashMap<&str, i64> {
    let mut out: HashMap<&str, i64> = HashMap::new();
    for p in pairs {
        *out.entry(p.player2_guid.as_str()).or_default() += i64::from(p.trade_kills);
    }
    out
}

/// The best of `candidates` by `value` (greater first; ties by name then key), if its value is
/// above zero.
fn best<T: Clone, V: PartialOrd + Default + Copy>(
    candidates: impl IntoIterator<Item = (String, String, V, T)>,
) -> Option<(String, V, T)> {
    let mut all: Vec<(String, String, V, T)> = candidates
        .into_iter()
        .filter(|c| c.2 > V::default())
        .collect();
    all.sort_by(|a, b| {
        b.2.partial_cmp(&a.2)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
            .then_with(|| a.1.cmp(&b.1))
    });
    all.into_iter()
        .next()
        .map(|(name, _, value, extra)| (name, value, extra))
}

fn awards(input: &SessionInput, players: &[PlayerEvening]) -> Vec<Award> {
    let mut out = Vec::new();
    let pick = |stat: fn(&PlayerEvening) -> i64| {
        best(
            players
                .iter()
                .map(|p| (p.name.clone(), p.guid.clone(), stat(p), ())),
        )
    };
    if let Some((winner, n, ())) = pick(|p| p.outgunned_kills) {
        out.push(Award {
            title: "Lone wolf",
            winner,
            value: plural(n, "outgunned kill"),
            how: "kills made while the killer's side had fewer players within 300 units",
        });
    }
    if let Some(duo) = best_duo(input, players) {
        out.push(duo);
    }
    if let Some((winner, n, ())) = pick(|p| p.trades) {
        out.push(Award {
            title: "Trade master",
            winner,
            value: plural(n, "teammate avenged"),
            how: "teammates' deaths whose killer this player killed within 3 s",
        });
    }
    if let Some((winner, n, ())) = pick(|p| p.crossfire) {
        out.push(Award {
            title: "Crossfire",
            winner,
            value: plural(n, "supporting appearance"),
            how: "teammates' kills made with this player among the supporting allies nearby",
        });
    }
    if let Some(longest) = longest_kill(input, players) {
        out.push(longest);
    }
    if let Some(riser) = duel_riser(input, players) {
        out.push(riser);
    }
    out.extend(fight_awards(input, players));
    out
}

/// Awards from the fight numbers: top medic, sharpshooter, damage dealer, objective hero. Only
/// the evening's human players compete; each needs a number above zero (and the minimum
/// shots or minutes where a ratio is ranked).
fn fight_awards(input: &SessionInput, players: &[PlayerEvening]) -> Vec<Award> {
    let names: HashMap<&str, &str> = players
        .iter()
        .map(|p| (p.guid.as_str(), p.name.as_str()))
        .collect();
    let rows: Vec<(&str, &FightTotals)> = input
        .fight
        .iter()
        .filter_map(|f| Some((*names.get(f.guid.as_str())?, f)))
        .collect();
    let pick = |value: &dyn Fn(&FightTotals) -> Option<f64>| {
        best(rows.iter().filter_map(|(name, f)| {
            Some(((*name).to_owned(), f.guid.clone(), value(f)?, (*f).clone()))
        }))
    };
    let mut out = Vec::new();
    if let Some((winner, _, f)) = pick(&|f| Some(f.revives_given as f64)) {
        out.push(Award {
            title: "Top medic",
            winner,
            value: plural(f.revives_given, "revive"),
            how: "teammates this player revived (revives whose medic the engine named)",
        });
    }
    let enough_shots = |f: &FightTotals| f.bullet_shots >= MIN_RECAP_SHOTS;
    if let Some((winner, acc, f)) = pick(&|f| enough_shots(f).then(|| f.accuracy()).flatten()) {
        out.push(Award {
            title: "Sharpshooter",
            winner,
            value: format!(
                "{:.1}% accuracy ({} of {} bullet shots hit)",
                acc * 100.0,
                f.bullet_hits,
                f.bullet_shots
            ),
            how: "bullet hits on enemies / bullet shots fired; 100+ bullet shots",
        });
    }
    let enough_time = |f: &FightTotals| f.time_played_ms >= MIN_RECAP_MINUTES * 60_000;
    if let Some((winner, dpm, f)) =
        pick(&|f| enough_time(f).then(|| f.damage_per_minute()).flatten())
    {
        out.push(Award {
            title: "Damage dealer",
            winner,
            value: format!(
                "{dpm:.1} damage per minute ({} damage in {:.0} min)",
                f.damage_given,
                f.minutes()
            ),
            how: "health taken from enemies / minutes in the rounds; 10+ minutes",
        });
    }
    if let Some((winner, _, f)) = pick(&|f| Some(f.objective_plays() as f64)) {
        out.push(Award {
            title: "Objective hero",
            winner,
            value: format!(
                "{} ({})",
                plural(f.objective_plays(), "objective play"),
                crate::commands::fight::objective_counts(&f)
            ),
            how: "steals, secures, returns, plants, defuses, destroys and builds by this player",
        });
    }
    out
}

fn best_duo(input: &SessionInput, players: &[PlayerEvening]) -> Option<Award> {
    let names: HashMap<&str, &str> = players
        .iter()
        .map(|p| (p.guid.as_str(), p.name.as_str()))
        .collect();
    let mut pairs: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for p in &input.pairs {
        let (a, b) = (p.player1_guid.as_str(), p.player2_guid.as_str());
        if a == b || !names.contains_key(a) || !names.contains_key(b) {
            continue;
        }
        let key = if a < b { (a, b) } else { (b, a) };
        *pairs.entry(key).or_default() += i64::from(p.kills_within_range);
    }
    let candidates = pairs.into_iter().map(|((a, b), n)| {
        let (mut x, mut y) = (names[a].to_owned(), names[b].to_owned());
        if y < x {
            std::mem::swap(&mut x, &mut y);
        }
        (format!("{x} + {y}"), format!("{a}+{b}"), n, ())
    });
    let (winner, n, ()) = best(candidates)?;
    Some(Award {
        title: "Best duo",
        winner,
        value: plural(n, "kill in range"),
        how: "kills either of the two made with the other among the supporting allies",
    })
}

fn longest_kill(input: &SessionInput, players: &[PlayerEvening]) -> Option<Award> {
    let day = humans(input);
    let candidates = players.iter().filter_map(|p| {
        let d = day.get(p.guid.as_str())?.max_kill_distance?;
        Some((p.name.clone(), p.guid.clone(), f64::from(d), ()))
    });
    let (winner, distance, ()) = best(candidates)?;
    Some(Award {
        title: "Longest kill",
        winner,
        value: format!("{} units (~{} m)", distance.round(), metres(distance)),
        how: "the greatest killer-to-victim distance of the day (a player is about 72 units tall)",
    })
}

/// ET units to metres, rounded: a player model is 72 units, about 1.8 m.
fn metres(units: f64) -> i64 {
    (units * 1.8 / 72.0).round() as i64
}

/// A win rate over duels, when there are at least [`MIN_DUELS`].
pub fn duel_rate(won: i64, lost: i64) -> Option<f64> {
    let duels = won + lost;
    (duels >= MIN_DUELS).then(|| won as f64 / duels as f64)
}

fn duel_riser(input: &SessionInput, players: &[PlayerEvening]) -> Option<Award> {
    let day = humans(input);
    let past: HashMap<&str, &Duels> = input
        .reference_duels
        .iter()
        .map(|d| (d.player_guid.as_str(), d))
        .collect();
    let candidates = players.iter().filter_map(|p| {
        let today = day.get(p.guid.as_str())?;
        let now = duel_rate(i64::from(today.solo_kills), i64::from(today.solo_deaths))?;
        let before = past.get(p.guid.as_str())?;
        let then = duel_rate(before.won, before.lost)?;
        Some((p.name.clone(), p.guid.clone(), now - then, (now, then)))
    });
    let (winner, rise, (now, then)) = best(candidates)?;
    Some(Award {
        title: "1v1 riser",
        winner,
        value: format!(
            "{:.0}% tonight vs {:.0}% in the 30 days before (+{:.0} points)",
            now * 100.0,
            then * 100.0,
            rise * 100.0
        ),
        how: "1v1 duels won of duels fought, against their own 30 days before; 10+ duels in both",
    })
}

/// Kills per round of the top [`CHART_PLAYERS`] by MVP points.
fn series(input: &SessionInput, players: &[PlayerEvening]) -> EveningSeries {
    let index: HashMap<i64, usize> = input
        .rounds
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    let rounds = input.rounds.iter().map(maps::round_label).collect();
    let players = players
        .iter()
        .take(CHART_PLAYERS)
        .map(|p| {
            let mut kills = vec![0; input.rounds.len()];
            for r in input
                .player_rounds
                .iter()
                .filter(|r| r.player_guid == p.guid)
            {
                if let Some(&i) = index.get(&r.round_id) {
                    kills[i] += i64::from(r.kills);
                }
            }
            (crate::players::strip_colour_codes(&p.name), kills)
        })
        .collect();
    EveningSeries { rounds, players }
}

/// `n thing` or `n things`.
fn plural(n: i64, thing: &str) -> String {
    if n == 1 {
        format!("{n} {thing}")
    } else if let Some(stem) = thing.strip_suffix(" avenged") {
        format!("{n} {stem}s avenged")
    } else if let Some(stem) = thing.strip_suffix(" in range") {
        format!("{n} {stem}s in range")
    } else {
        format!("{n} {thing}s")
    }
}

#[cfg(test)]
mod tests;
