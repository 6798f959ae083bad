//! What one round adds to the aggregates: resolved kills, per-player counters, teammate pairs and
//! heatmap cells. Computed once per round in memory; the importer writes it.
//!
//! Each distinct (GUID, name) pair of the round is resolved once to an *identity* ([`resolve`]);
//! players, kills and pairs then refer to small indices instead of strings, which keeps this
//! step cheap. [`pairs`] counts teammate pairs, [`tables`] the per-player tables and cells.

mod pairs;
mod resolve;
mod tables;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt::Write as _;

use super::engagement::EngagementClass;
use crate::round_file::{KillKind, KillRecord, ParsedRound, Team};
use resolve::{Resolver, Sides};

/// Two kills this close (ms) count as simultaneous; a revenge kill this soon counts as a trade.
pub const PAIR_WINDOW_MS: i64 = 3_000;
/// Side of a heatmap cell in world units (the v2 grid).
pub const HEATMAP_CELL: f32 = 512.0;

/// One (GUID, name) pair seen in the round.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// Index into [`RoundStats::players`].
    pub player: u32,
    /// The name as written, decoded (colour codes kept).
    pub name: String,
    /// The name without colour codes.
    pub display_name: String,
}

/// A nearby ally of the killer as the importer understood it.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedAlly {
    /// Matched to an identity of the round.
    Known(u32),
    /// A v2 ally name that matches no player of the round (display form).
    Unknown(String),
}

/// A kill with players resolved to identities.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedKill {
    pub index: i32,
    /// `None` for a world kill.
    pub killer: Option<u32>,
    pub victim: u32,
    pub class: EngagementClass,
    pub allies: Vec<ResolvedAlly>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayerRoundStats {
    pub key: String,
    pub name: String,
    pub is_bot: bool,
    pub kills: [i32; 4],
    pub deaths: [i32; 4],
    pub team_kills: i32,
    pub team_deaths: i32,
    pub suicides: i32,
    pub world_deaths: i32,
    pub crossfire: i32,
    pub sum_distance: f64,
    pub min_distance: Option<f32>,
    pub max_distance: Option<f32>,
}

impl PlayerRoundStats {
    pub fn total_kills(&self) -> i32 {
        self.kills.iter().sum()
    }
    pub fn total_deaths(&self) -> i32 {
        self.deaths.iter().sum()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairRoundStats {
    pub player1: String,
    pub player2: String,
    pub kills_within_range: i32,
    pub simultaneous_kills: i32,
    pub trade_kills: i32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CellStats {
    pub grid_x: i32,
    pub grid_y: i32,
    pub axis_kills: i32,
    pub allies_kills: i32,
}

/// What one player did in the round (counted kills only): for `player_rounds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerInRound {
    pub key: String,
    /// The side of most of the player's kills and deaths (ALLIES on a tie).
    pub team: Team,
    pub kills: i32,
    pub deaths: i32,
}

/// One alias seen in the round: the raw bytes and their readings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasSeen {
    pub key: String,
    pub raw_name: Vec<u8>,
    pub name: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundStats {
    pub kills: Vec<ResolvedKill>,
    pub identities: Vec<Identity>,
    /// Sorted by key (a fixed lock order for concurrent imports).
    pub players: Vec<PlayerRoundStats>,
    /// Sorted by (player1, player2); a directed pair appears when it interacted.
    pub pairs: Vec<PairRoundStats>,
    pub cells: Vec<CellStats>,
    /// Counted kills and deaths per (player key, weapon held by the killer), sorted.
    pub weapons: Vec<(String, i16, i32, i32)>,
    /// Counted kills per (killer key, victim key), sorted.
    pub versus: Vec<(String, String, i32)>,
    /// Players with a counted kill or death, sorted by key.
    pub in_round: Vec<PlayerInRound>,
    pub aliases: Vec<AliasSeen>,
    /// v2 ally names that match no player of the round.
    pub unresolved_allies: u32,
}

impl RoundStats {
    /// The player key of an identity.
    pub fn key(&self, identity: u32) -> &str {
        &self.players[self.identities[identity as usize].player as usize].key
    }

    /// The decoded name an identity was written with.
    pub fn name(&self, identity: u32) -> &str {
        &self.identities[identity as usize].name
    }

    /// `[{"guid": key or null, "name": display name}, …]` for a kill's allies.
    pub fn allies_json(&self, kill: &ResolvedKill) -> String {
        let mut out = String::with_capacity(2 + kill.allies.len() * 64);
        out.push('[');
        for (i, ally) in kill.allies.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"guid\":");
            match ally {
                ResolvedAlly::Known(id) => {
                    push_json_string(&mut out, self.key(*id));
                    out.push_str(",\"name\":");
                    push_json_string(&mut out, &self.identities[*id as usize].display_name);
                }
                ResolvedAlly::Unknown(name) => {
                    out.push_str("null,\"name\":");
                    push_json_string(&mut out, name);
                }
            }
            out.push('}');
        }
        out.push(']');
        out
    }
}

fn push_json_string(out: &mut String, value: &str) {
    // serde_json writes a correctly escaped JSON string.
    match serde_json::to_string(value) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

/// The `NvM` label: killer side size v victim side size.
pub fn write_engagement_type(out: &mut String, killer_allies: u16, victim_allies: u16) {
    let _ = write!(
        out,
        "{}v{}",
        u32::from(killer_allies) + 1,
        u32::from(victim_allies) + 1
    );
}

fn class_index(class: EngagementClass) -> usize {
    match class {
        EngagementClass::Solo => 0,
        EngagementClass::Outnumbering => 1,
        EngagementClass::Even => 2,
        EngagementClass::Outnumbered => 3,
    }
}

/// Index into [`PlayerRoundStats::kills`]: solo, assisted (outnumbering), even, outgunned.
pub const KILL_SOLO: usize = 0;
pub const KILL_ASSISTED: usize = 1;
pub const KILL_EVEN: usize = 2;
pub const KILL_OUTGUNNED: usize = 3;
/// Index into [`PlayerRoundStats::deaths`]: solo, ganked (killer side larger), even, outnumbering.
pub const DEATH_SOLO: usize = 0;
pub const DEATH_GANKED: usize = 1;
pub const DEATH_EVEN: usize = 2;
pub const DEATH_OUTNUMBERING: usize = 3;

/// Computes everything one round adds. Pure: the same round always gives the same result.
pub fn aggregate_round(round: &ParsedRound<'_>) -> RoundStats {
    let mut r = Resolver::default();
    let sides = r.sides(round);
    let by_name = r.by_name();
    let mut stats = RoundStats::default();
    let mut crossfire_pairs: Vec<(usize, usize)> = Vec::new();
    let mut kills_out = Vec::with_capacity(round.kills.len());
    for (index, (kill, &(killer, victim))) in round.kills.iter().zip(&sides).enumerate() {
        if let Some(k) = killer {
            r.appear(k, Some(kill.killer.team));
        }
        r.appear(victim, Some(kill.victim.team));
        let class = EngagementClass::classify(kill.killer_allies, kill.victim_allies);
        let allies = r.allies(round.format, kill, killer, &by_name);
        stats.unresolved_allies += allies.unresolved;
        let counted = Counted {
            kill,
            class,
            killer: killer.map(|k| r.player_of(k)),
            victim: r.player_of(victim),
            allies: &allies.players,
        };
        counted.add_to(&mut r.players, &mut stats.cells, &mut crossfire_pairs);
        kills_out.push(ResolvedKill {
            index: index as i32,
            killer,
            victim,
            class,
            allies: allies.resolved,
        });
    }
    r.roster_only(round);
    let timeline = timeline(round, &sides, &r);
    let pair_counts = pairs::pair_stats(timeline, &crossfire_pairs);
    finish(r, pair_counts, &mut stats);
    stats.kills = kills_out;
    stats.cells.sort_by_key(|c| (c.grid_x, c.grid_y));
    tables::per_player_tables(round, &mut stats);
    stats
}

/// One obituary with its players resolved, to add to the players' counters.
struct Counted<'a, 'k> {
    kill: &'a KillRecord<'k>,
    class: EngagementClass,
    killer: Option<usize>,
    victim: usize,
    /// Players near the killer (other than the killer).
    allies: &'a [usize],
}

impl Counted<'_, '_> {
    fn add_to(
        &self,
        players: &mut [PlayerRoundStats],
        cells: &mut Vec<CellStats>,
        crossfire_pairs: &mut Vec<(usize, usize)>,
    ) {
        let (kill, class) = (self.kill, class_index(self.class));
        match kill.kind {
            KillKind::Kill => {
                if let Some(kp) = self.killer {
                    let p = &mut players[kp];
                    p.kills[class] += 1;
                    p.sum_distance += f64::from(kill.distance);
                    p.min_distance = Some(
                        p.min_distance
                            .map_or(kill.distance, |m| m.min(kill.distance)),
                    );
                    p.max_distance = Some(
                        p.max_distance
                            .map_or(kill.distance, |m| m.max(kill.distance)),
                    );
                    for &ally in self.allies {
                        players[ally].crossfire += 1;
                        crossfire_pairs.push((kp, ally));
                    }
                }
                players[self.victim].deaths[class] += 1;
                tables::add_cell(cells, kill);
            }
            KillKind::TeamKill => {
                if let Some(kp) = self.killer {
                    players[kp].team_kills += 1;
                }
                players[self.victim].team_deaths += 1;
            }
            KillKind::Suicide => players[self.victim].suicides += 1,
            KillKind::World => players[self.victim].world_deaths += 1,
        }
    }
}

/// Counted kills as (time, killer player, killer team, victim player), for the pair counters.
fn timeline(
    round: &ParsedRound<'_>,
    sides: &Sides,
    r: &Resolver<'_>,
) -> Vec<(i64, usize, Team, usize)> {
    round
        .kills
        .iter()
        .zip(sides)
        .filter(|(k, _)| k.kind == KillKind::Kill)
        .filter_map(|(k, (killer, victim))| {
            Some((
                k.game_time,
                r.player_of((*killer)?),
                k.killer.team,
                r.player_of(*victim),
            ))
        })
        .collect()
}

/// Sorts the players by key and renumbers everything that points at them; names the pairs and
/// lists the aliases by key.
fn finish(r: Resolver<'_>, pair_counts: HashMap<(usize, usize), [i32; 3]>, stats: &mut RoundStats) {
    let mut order: Vec<usize> = (0..r.players.len()).collect();
    order.sort_by(|&a, &b| r.players[a].key.cmp(&r.players[b].key));
    let mut new_index = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new as u32;
    }
    let mut identities = r.identities;
    for identity in &mut identities {
        identity.player = new_index[identity.player as usize];
    }
    let mut players_by_old: Vec<Option<PlayerRoundStats>> =
        r.players.into_iter().map(Some).collect();
    stats.players = order
        .iter()
        .map(|&old| players_by_old[old].take().unwrap_or_default())
        .collect();

    let mut pairs: Vec<PairRoundStats> = pair_counts
        .into_iter()
        .map(|((a, b), c)| PairRoundStats {
            player1: stats.players[new_index[a] as usize].key.clone(),
            player2: stats.players[new_index[b] as usize].key.clone(),
            kills_within_range: c[0],
            simultaneous_kills: c[1],
            trade_kills: c[2],
        })
        .collect();
    pairs.sort_by(|x, y| (&x.player1, &x.player2).cmp(&(&y.player1, &y.player2)));
    stats.pairs = pairs;

    let mut aliases: Vec<AliasSeen> = identities
        .iter()
        .zip(&r.raw_names)
        .map(|(identity, raw)| AliasSeen {
            key: stats.players[identity.player as usize].key.clone(),
            raw_name: raw.to_vec(),
            name: identity.name.clone(),
            display_name: identity.display_name.clone(),
        })
        .collect();
    aliases.sort_by(|a, b| (&a.key, &a.raw_name).cmp(&(&b.key, &b.raw_name)));
    aliases.dedup_by(|a, b| a.key == b.key && a.raw_name == b.raw_name);
    stats.aliases = aliases;
    stats.identities = identities;
}
