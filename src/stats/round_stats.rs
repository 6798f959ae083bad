//! What one round adds to the aggregates: resolved kills, per-player counters, teammate pairs and
//! heatmap cells. Computed once per round in memory; the importer writes it.
//!
//! Each distinct (GUID, name) pair of the round is resolved once to an *identity*; players,
//! kills and pairs then refer to small indices instead of strings, which keeps this step cheap.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::engagement::EngagementClass;
use super::identity::{is_bot_guid, player_key};
use crate::round_file::name::{decode_name, display_name};
use crate::round_file::{FormatVersion, KillKind, KillRecord, ParsedRound, Team, WORLD_SLOT};

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

/// Resolves (GUID, name) pairs to identities and players, once each.
struct Resolver<'r> {
    by_pair: HashMap<(&'r [u8], &'r [u8]), u32>,
    by_key: HashMap<String, u32>,
    identities: Vec<Identity>,
    raw_names: Vec<&'r [u8]>,
    players: Vec<PlayerRoundStats>,
    teams: Vec<Option<Team>>,
}

impl<'r> Resolver<'r> {
    fn identity(&mut self, guid: &'r [u8], raw_name: &'r [u8]) -> u32 {
        if let Some(&id) = self.by_pair.get(&(guid, raw_name)) {
            return id;
        }
        let key = player_key(guid, raw_name);
        let player = match self.by_key.get(&key) {
            Some(&p) => p,
            None => {
                let p = self.players.len() as u32;
                self.players.push(PlayerRoundStats {
                    key: key.clone(),
                    ..PlayerRoundStats::default()
                });
                self.teams.push(None);
                self.by_key.insert(key, p);
                p
            }
        };
        self.players[player as usize].is_bot |= is_bot_guid(guid);
        let id = self.identities.len() as u32;
        self.identities.push(Identity {
            player,
            name: decode_name(raw_name).into_owned(),
            display_name: display_name(raw_name),
        });
        self.raw_names.push(raw_name);
        self.by_pair.insert((guid, raw_name), id);
        id
    }

    /// Records that the identity appeared (in line order): the latest name and team win.
    fn appear(&mut self, id: u32, team: Option<Team>) {
        let identity = &self.identities[id as usize];
        let player = &mut self.players[identity.player as usize];
        if !identity.display_name.is_empty() && player.name != identity.display_name {
            player.name.clone_from(&identity.display_name);
        }
        let player = identity.player as usize;
        if let Some(team @ (Team::Axis | Team::Allies)) = team {
            self.teams[player] = Some(team);
        }
    }

    fn player_of(&self, id: u32) -> usize {
        self.identities[id as usize].player as usize
    }
}

/// Computes everything one round adds. Pure: the same round always gives the same result.
pub fn aggregate_round(round: &ParsedRound<'_>) -> RoundStats {
    let mut r = Resolver {
        by_pair: HashMap::new(),
        by_key: HashMap::new(),
        identities: Vec::new(),
        raw_names: Vec::new(),
        players: Vec::new(),
        teams: Vec::new(),
    };

    // Pass 1: killers and victims, so v2 ally names can be found whatever the line order.
    let mut sides: Vec<(Option<u32>, u32)> = Vec::with_capacity(round.kills.len());
    for kill in &round.kills {
        let killer =
            is_player_killer(kill).then(|| r.identity(&kill.killer.guid, &kill.killer.name));
        let victim = r.identity(&kill.victim.guid, &kill.victim.name);
        sides.push((killer, victim));
    }
    // v2 ally names → identities, preferring one on the killer's team.
    let mut by_name: HashMap<&[u8], Vec<u32>> = HashMap::new();
    for (id, raw) in r.raw_names.iter().enumerate() {
        by_name.entry(raw).or_default().push(id as u32);
    }
    let side_team: Vec<(Option<Team>, Team)> = round
        .kills
        .iter()
        .map(|k| (Some(k.killer.team), k.victim.team))
        .collect();

    let mut stats = RoundStats::default();
    let mut crossfire_pairs: Vec<(usize, usize)> = Vec::new();
    let mut kills_out = Vec::with_capacity(round.kills.len());
    for (index, (kill, &(killer, victim))) in round.kills.iter().zip(&sides).enumerate() {
        if let Some(k) = killer {
            r.appear(k, side_team[index].0);
        }
        r.appear(victim, Some(side_team[index].1));
        let class = EngagementClass::classify(kill.killer_allies, kill.victim_allies);
        let mut allies = Vec::with_capacity(kill.supporting_allies.len());
        let mut ally_players: Vec<usize> = Vec::with_capacity(kill.supporting_allies.len());
        for ally in &kill.supporting_allies {
            let identity = if ally.guid.is_empty() && round.format == FormatVersion::V2 {
                by_name.get(ally.name.as_ref()).and_then(|ids| {
                    ids.iter()
                        .copied()
                        .find(|&id| r.teams[r.player_of(id)] == Some(kill.killer.team))
                        .or_else(|| ids.first().copied())
                })
            } else {
                let id = r.identity(&ally.guid, &ally.name);
                r.appear(id, None);
                Some(id)
            };
            match identity {
                Some(id) => {
                    let p = r.player_of(id);
                    if killer.map(|k| r.player_of(k)) != Some(p) && !ally_players.contains(&p) {
                        ally_players.push(p);
                    }
                    allies.push(ResolvedAlly::Known(id));
                }
                None => {
                    stats.unresolved_allies += 1;
                    allies.push(ResolvedAlly::Unknown(display_name(&ally.name)));
                }
            }
        }

        let killer_player = killer.map(|k| r.player_of(k));
        let victim_player = r.player_of(victim);
        match kill.kind {
            KillKind::Kill => {
                if let Some(kp) = killer_player {
                    let p = &mut r.players[kp];
                    p.kills[class_index(class)] += 1;
                    p.sum_distance += f64::from(kill.distance);
                    p.min_distance = Some(
                        p.min_distance
                            .map_or(kill.distance, |m| m.min(kill.distance)),
                    );
                    p.max_distance = Some(
                        p.max_distance
                            .map_or(kill.distance, |m| m.max(kill.distance)),
                    );
                    for &ally in &ally_players {
                        r.players[ally].crossfire += 1;
                        crossfire_pairs.push((kp, ally));
                    }
                }
                r.players[victim_player].deaths[class_index(class)] += 1;
                add_cell(&mut stats.cells, kill);
            }
            KillKind::TeamKill => {
                if let Some(kp) = killer_player {
                    r.players[kp].team_kills += 1;
                }
                r.players[victim_player].team_deaths += 1;
            }
            KillKind::Suicide => r.players[victim_player].suicides += 1,
            KillKind::World => r.players[victim_player].world_deaths += 1,
        }
        kills_out.push(ResolvedKill {
            index: index as i32,
            killer,
            victim,
            class,
            allies,
        });
    }

    let timeline: Vec<(i64, usize, Team, usize)> = round
        .kills
        .iter()
        .zip(&sides)
        .filter(|(k, _)| k.kind == KillKind::Kill)
        .filter_map(|(k, (killer, victim))| {
            Some((
                k.game_time,
                r.player_of((*killer)?),
                k.killer.team,
                r.player_of(*victim),
            ))
        })
        .collect();
    let pair_counts = pair_stats(timeline, &crossfire_pairs);

    // Sort players by key and renumber everything that points at them.
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
    stats.kills = kills_out;
    stats.cells.sort_by_key(|c| (c.grid_x, c.grid_y));
    per_player_tables(round, &mut stats);
    stats
}

/// Per-weapon, per-opponent and per-round rows of each player, from the counted kills.
fn per_player_tables(round: &ParsedRound<'_>, stats: &mut RoundStats) {
    let mut weapons: HashMap<(u32, i16), (i32, i32)> = HashMap::new();
    let mut versus: HashMap<(u32, u32), i32> = HashMap::new();
    // (kills, deaths, kills+deaths on AXIS, on ALLIES)
    let mut rounds: HashMap<u32, [i32; 4]> = HashMap::new();
    for (kill, resolved) in round.kills.iter().zip(&stats.kills) {
        if kill.kind != KillKind::Kill {
            continue;
        }
        let Some(killer) = resolved.killer else {
            continue;
        };
        let killer = stats.identities[killer as usize].player;
        let victim = stats.identities[resolved.victim as usize].player;
        weapons.entry((killer, kill.weapon)).or_default().0 += 1;
        weapons.entry((victim, kill.weapon)).or_default().1 += 1;
        *versus.entry((killer, victim)).or_default() += 1;
        for (player, team, is_kill) in [
            (killer, kill.killer.team, true),
            (victim, kill.victim.team, false),
        ] {
            let row = rounds.entry(player).or_default();
            row[if is_kill { 0 } else { 1 }] += 1;
            match team {
                Team::Axis => row[2] += 1,
                Team::Allies => row[3] += 1,
                _ => {}
            }
        }
    }
    let key = |p: u32| stats.players[p as usize].key.clone();
    let mut w: Vec<(String, i16, i32, i32)> = weapons
        .into_iter()
        .map(|((p, weapon), (k, d))| (key(p), weapon, k, d))
        .filter(|row| !row.0.is_empty())
        .collect();
    w.sort();
    let mut v: Vec<(String, String, i32)> = versus
        .into_iter()
        .map(|((a, b), n)| (key(a), key(b), n))
        .filter(|row| !row.0.is_empty() && !row.1.is_empty())
        .collect();
    v.sort();
    let mut r: Vec<PlayerInRound> = rounds
        .into_iter()
        .map(|(p, [kills, deaths, axis, allies])| PlayerInRound {
            key: key(p),
            team: if axis > allies {
                Team::Axis
            } else {
                Team::Allies
            },
            kills,
            deaths,
        })
        .filter(|row| !row.key.is_empty())
        .collect();
    r.sort_by(|a, b| a.key.cmp(&b.key));
    stats.weapons = w;
    stats.versus = v;
    stats.in_round = r;
}

fn is_player_killer(kill: &KillRecord<'_>) -> bool {
    kill.kind != KillKind::World && kill.killer.slot != WORLD_SLOT
}

fn add_cell(cells: &mut Vec<CellStats>, kill: &KillRecord<'_>) {
    let grid_x = (kill.victim.pos[0] / HEATMAP_CELL).floor() as i32;
    let grid_y = (kill.victim.pos[1] / HEATMAP_CELL).floor() as i32;
    let pos = match cells
        .iter()
        .position(|c| c.grid_x == grid_x && c.grid_y == grid_y)
    {
        Some(pos) => pos,
        None => {
            cells.push(CellStats {
                grid_x,
                grid_y,
                ..CellStats::default()
            });
            cells.len() - 1
        }
    };
    match kill.killer.team {
        Team::Axis => cells[pos].axis_kills += 1,
        Team::Allies => cells[pos].allies_kills += 1,
        _ => {}
    }
}

/// Pair counters by (player1, player2): kills within range (player2 was a supporting ally of
/// player1's kill), simultaneous kills (both killed within 3 s) and trades (player2 killed
/// player1's killer within 3 s after player1 died).
fn pair_stats(
    mut timeline: Vec<(i64, usize, Team, usize)>,
    crossfire: &[(usize, usize)],
) -> HashMap<(usize, usize), [i32; 3]> {
    let mut pairs: HashMap<(usize, usize), [i32; 3]> = HashMap::new();
    for &(killer, ally) in crossfire {
        pairs.entry((killer, ally)).or_default()[0] += 1;
    }
    timeline.sort_by_key(|t| t.0);
    let mut partners: Vec<usize> = Vec::new();
    for (i, &(t1, p1, team1, victim1)) in timeline.iter().enumerate() {
        // Simultaneous: once per kill of p1 for each teammate p2 who also killed within 3 s.
        partners.clear();
        // Times come from the file: saturate rather than overflow at the ends of i64.
        let start = timeline[..i].partition_point(|e| e.0 < t1.saturating_sub(PAIR_WINDOW_MS));
        for &(t2, p2, team2, _) in &timeline[start..] {
            if t2 > t1.saturating_add(PAIR_WINDOW_MS) {
                break;
            }
            if p2 != p1 && team2 == team1 && !partners.contains(&p2) {
                partners.push(p2);
            }
        }
        for &p2 in &partners {
            pairs.entry((p1, p2)).or_default()[1] += 1;
        }
        // Trade: victim1 died; a teammate of victim1 kills p1 within 3 s after.
        partners.clear();
        for &(t2, p2, team2, victim2) in &timeline[i + 1..] {
            if t2.saturating_sub(t1) > PAIR_WINDOW_MS {
                break;
            }
            if victim2 == p1 && p2 != victim1 && team2 != team1 && !partners.contains(&p2) {
                partners.push(p2);
            }
        }
        for &p2 in &partners {
            pairs.entry((victim1, p2)).or_default()[2] += 1;
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round_file::parse_round_file;
    use proptest::prelude::*;

    const HEADER: &str = "# PROXIMITY_TRACKER_V2\n# map=goldrush\n# round=0\n";
    const NAME: &str = "2025-11-18-211955-goldrush-round-0_proximity.txt";

    fn stats_of(body: &str) -> RoundStats {
        let text = format!("{HEADER}{body}");
        let round = parse_round_file(text.as_bytes(), NAME).unwrap();
        assert!(round.rejected.is_empty(), "{:?}", round.rejected);
        aggregate_round(&round)
    }

    fn player<'s>(s: &'s RoundStats, key: &str) -> &'s PlayerRoundStats {
        s.players
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no player {key}"))
    }

    fn pair<'s>(s: &'s RoundStats, a: &str, b: &str) -> &'s PairRoundStats {
        s.pairs
            .iter()
            .find(|p| p.player1 == a && p.player2 == b)
            .unwrap_or_else(|| panic!("no pair {a} {b}"))
    }

    #[test]
    fn kills_and_deaths_land_in_exactly_one_class() {
        let s = stats_of(concat!(
            "1000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|100.0|8|9|1v1|0|0|NONE\n",
            "2000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|300.0|8|9|2v1|1|0|charlie\n",
            "3000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|200.0|8|9|1v3|0|2|NONE\n",
            "4000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|100.0|0.0|0.0|50.0|8|9|2v2|1|1|charlie\n",
            "5000|9|C|charlie|AXIS|0.0|0.0|0.0|1|A|alpha|AXIS|0.0|0.0|0.0|10.0|8|9|1v1|0|0|NONE\n",
        ));
        let a = player(&s, "A");
        assert_eq!(a.kills, [1, 1, 1, 1]);
        assert_eq!(a.total_kills(), 4);
        assert_eq!(a.team_deaths, 1);
        assert_eq!(
            a.total_deaths(),
            0,
            "a team kill is not a death in the stats"
        );
        assert_eq!(a.sum_distance, 650.0);
        assert_eq!((a.min_distance, a.max_distance), (Some(50.0), Some(300.0)));
        let b = player(&s, "B");
        assert_eq!(b.deaths, [1, 1, 1, 1]);
        let c = player(&s, "C");
        assert_eq!(c.crossfire, 2);
        assert_eq!(c.team_kills, 1);
        assert_eq!(c.total_kills(), 0);
        assert_eq!(pair(&s, "A", "C").kills_within_range, 2);
        assert!(
            !s.pairs.iter().any(|p| p.player1 == "C" && p.player2 == "A"),
            "directional: C never killed with A near"
        );
        // Heatmap: 4 counted kills, all in cell (0,0) for axis.
        assert_eq!(
            s.cells,
            [CellStats {
                grid_x: 0,
                grid_y: 0,
                axis_kills: 4,
                allies_kills: 0
            }]
        );
    }

    #[test]
    fn simultaneous_and_trade_kills() {
        let s = stats_of(concat!(
            // t=1000 alpha kills bravo; t=2500 charlie (alpha's mate) kills delta: simultaneous.
            "1000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
            "2500|3|C|charlie|AXIS|0.0|0.0|0.0|4|D|delta|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
            // t=9000 echo kills alpha; t=11000 charlie kills echo: charlie traded alpha.
            "9000|5|E|echo|ALLIES|0.0|0.0|0.0|1|A|alpha|AXIS|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
            "11000|3|C|charlie|AXIS|0.0|0.0|0.0|5|E|echo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
            // t=20000 echo... a kill 3.5 s later is not a trade.
            "20000|5|E|echo|ALLIES|0.0|0.0|0.0|1|A|alpha|AXIS|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
            "23500|3|C|charlie|AXIS|0.0|0.0|0.0|5|E|echo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        ));
        assert_eq!(pair(&s, "A", "C").simultaneous_kills, 1);
        assert_eq!(pair(&s, "C", "A").simultaneous_kills, 1);
        assert_eq!(pair(&s, "A", "C").trade_kills, 1);
        assert_eq!(pair(&s, "C", "A").trade_kills, 0);
        assert!(
            s.pairs.iter().all(|p| p.player1 != "B" && p.player2 != "B"),
            "deaths are not kills"
        );
    }

    #[test]
    fn guidless_players_stay_apart_and_allies_resolve_by_name_in_any_order() {
        let s = stats_of(concat!(
            // The ally "ghost" only appears as a killer in a later line.
            "1000|1|UNKNOWN|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|2v1|1|0|ghost\n",
            "2000|3|UNKNOWN|ghost|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
            "3000|4|OMNIBOT0400000000000000000000000|[BOT]x|ALLIES|0.0|0.0|0.0|1|UNKNOWN|alpha|AXIS|1.0|0.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        ));
        assert_eq!(player(&s, "NOGUID:alpha").kills[KILL_ASSISTED], 1);
        assert_eq!(player(&s, "NOGUID:ghost").crossfire, 1);
        assert_eq!(player(&s, "NOGUID:ghost").kills[KILL_SOLO], 1);
        assert!(player(&s, "OMNIBOT0400000000000000000000000").is_bot);
        assert!(!player(&s, "NOGUID:alpha").is_bot);
        assert_eq!(s.unresolved_allies, 0);
        assert_eq!(
            s.allies_json(&s.kills[0]),
            r#"[{"guid":"NOGUID:ghost","name":"ghost"}]"#
        );
    }

    #[test]
    fn unknown_ally_names_are_counted() {
        let s = stats_of(
            "1000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|2v1|1|0|nobody\n",
        );
        assert_eq!(s.unresolved_allies, 1);
        assert_eq!(
            s.allies_json(&s.kills[0]),
            r#"[{"guid":null,"name":"nobody"}]"#
        );
    }

    #[test]
    fn cells_use_the_floor_of_the_position() {
        let s = stats_of(
            "1000|1|A|alpha|ALLIES|0.0|0.0|0.0|2|B|bravo|AXIS|-0.1|-512.0|0.0|1.0|8|9|1v1|0|0|NONE\n",
        );
        assert_eq!(
            s.cells,
            [CellStats {
                grid_x: -1,
                grid_y: -1,
                axis_kills: 0,
                allies_kills: 1
            }]
        );
    }

    proptest! {
        // Whatever the kills, counted kills = counted deaths = heatmap total, and every
        // player's class counters add up to the totals.
        #[test]
        fn counters_add_up(kills in proptest::collection::vec(
            (0usize..6, 0usize..6, 0u16..4, 0u16..4, 0i64..100_000), 0..60)) {
            let teams = ["AXIS", "AXIS", "AXIS", "ALLIES", "ALLIES", "ALLIES"];
            let mut body = String::new();
            for (k, v, ka, va, t) in &kills {
                body.push_str(&format!(
                    "{t}|{k}|G{k}|p{k}|{}|0.0|0.0|0.0|{v}|G{v}|p{v}|{}|10.0|20.0|0.0|5.0|8|9|{}v{}|{ka}|{va}|NONE\n",
                    teams[*k], teams[*v], ka + 1, va + 1));
            }
            let s = stats_of(&body);
            let counted = kills.iter().filter(|(k, v, ..)| teams[*k] != teams[*v]).count() as i32;
            let total_kills: i32 = s.players.iter().map(|p| p.total_kills()).sum();
            let total_deaths: i32 = s.players.iter().map(|p| p.total_deaths()).sum();
            let cells: i32 = s.cells.iter().map(|c| c.axis_kills + c.allies_kills).sum();
            prop_assert_eq!(total_kills, counted);
            prop_assert_eq!(total_deaths, counted);
            prop_assert_eq!(cells, counted);
        }
    }

    fn combatant(
        slot: i16,
        name: &'static str,
        team: Team,
        pos: [f32; 3],
    ) -> crate::round_file::Combatant<'static> {
        crate::round_file::Combatant {
            slot,
            guid: std::borrow::Cow::Borrowed(name.as_bytes()),
            name: std::borrow::Cow::Borrowed(name.as_bytes()),
            team,
            pos,
        }
    }

    proptest! {
        // Aggregation is a public function over public fields: it must not overflow or panic
        // whatever the numbers, even ones the parser never lets through (i64 ends, NaN, inf).
        #[test]
        fn extreme_values_never_panic(kills in proptest::collection::vec(
            (prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX)],
             prop_oneof![any::<f32>(), Just(f32::NAN), Just(f32::INFINITY), Just(f32::MAX)],
             0usize..4, any::<i16>(), any::<u16>(), any::<u16>()), 0..24)) {
            let names = ["a", "b", "c", "d"];
            let teams = [Team::Axis, Team::Allies, Team::Axis, Team::Allies];
            let records: Vec<KillRecord<'static>> = kills.iter().enumerate().map(|(i, (t, f, who, weapon, ka, va))| {
                let victim = (who + 1) % 4;
                KillRecord {
                    line: i as u32 + 2,
                    game_time: *t,
                    time_ms: Some(*t),
                    kind: KillKind::Kill,
                    killer: combatant(*who as i16, names[*who], teams[*who], [*f, -*f, 0.0]),
                    victim: combatant(victim as i16, names[victim], teams[victim], [*f, *f, *f]),
                    distance: *f,
                    weapon: *weapon,
                    means_of_death: *weapon,
                    killer_allies: *ka,
                    victim_allies: *va,
                    supporting_allies: vec![crate::round_file::AllyRef {
                        guid: std::borrow::Cow::Borrowed(b""),
                        name: std::borrow::Cow::Borrowed(names[(who + 2) % 4].as_bytes()),
                    }],
                }
            }).collect();
            let mut round = ParsedRound::empty(FormatVersion::V2, 0);
            round.kills = records;
            let s = aggregate_round(&round);
            let counted = round.kills.iter().filter(|k| k.killer.team != k.victim.team).count() as i32;
            let kills: i32 = s.players.iter().map(|p| p.total_kills()).sum();
            prop_assert_eq!(kills, counted);
        }
    }
}
