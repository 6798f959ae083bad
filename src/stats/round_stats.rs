//! What one round adds to the aggregates: resolved kills, per-player counters, teammate pairs and
//! heatmap cells. Computed once per round in memory, then written by the importer in one statement.

use std::collections::{BTreeMap, HashMap};

use super::engagement::{engagement_type, EngagementClass};
use super::identity::{is_bot_guid, player_key};
use crate::round_file::name::{decode_name, display_name};
use crate::round_file::{Combatant, KillKind, KillRecord, ParsedRound, Team, WORLD_SLOT};

/// Two kills this close (ms) count as simultaneous; a revenge kill this soon counts as a trade.
pub const PAIR_WINDOW_MS: i64 = 3_000;
/// Side of a heatmap cell in world units (the v2 grid).
pub const HEATMAP_CELL: f32 = 512.0;

/// A kill with players resolved to keys and names decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedKill {
    pub index: i32,
    pub killer_key: String,
    pub killer_name: String,
    pub victim_key: String,
    pub victim_name: String,
    pub engagement_type: String,
    pub class: EngagementClass,
    /// `[{"guid": key or null, "name": display name}]`
    pub supporting_allies: serde_json::Value,
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
    /// Sorted by key (a fixed lock order for concurrent imports).
    pub players: Vec<PlayerRoundStats>,
    /// Sorted by (player1, player2); both directions of every pair of teammates.
    pub pairs: Vec<PairRoundStats>,
    pub cells: Vec<CellStats>,
    pub aliases: Vec<AliasSeen>,
    /// v2 ally names that match no player of the round.
    pub unresolved_allies: u32,
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

struct Builder {
    players: BTreeMap<String, PlayerRoundStats>,
    teams: HashMap<String, Team>,
    aliases: BTreeMap<(String, Vec<u8>), AliasSeen>,
}

impl Builder {
    fn see(&mut self, side: &Combatant<'_>) -> String {
        let key = player_key(side.guid, &side.name);
        self.see_named(&key, side.guid, &side.name);
        if matches!(side.team, Team::Axis | Team::Allies) {
            self.teams.insert(key.clone(), side.team);
        }
        key
    }

    fn see_named(&mut self, key: &str, guid: &[u8], raw_name: &[u8]) {
        let display = display_name(raw_name);
        let entry = self.players.entry(key.to_owned()).or_default();
        entry.key = key.to_owned();
        entry.is_bot |= is_bot_guid(guid);
        if !display.is_empty() {
            entry.name.clone_from(&display);
        }
        let alias_key = (key.to_owned(), raw_name.to_vec());
        self.aliases.entry(alias_key).or_insert_with(|| AliasSeen {
            key: key.to_owned(),
            raw_name: raw_name.to_vec(),
            name: decode_name(raw_name).into_owned(),
            display_name: display,
        });
    }

    fn player(&mut self, key: &str) -> &mut PlayerRoundStats {
        self.players.entry(key.to_owned()).or_default()
    }
}

/// Computes everything one round adds. Pure: the same round always gives the same result.
pub fn aggregate_round(round: &ParsedRound<'_>) -> RoundStats {
    let mut b = Builder {
        players: BTreeMap::new(),
        teams: HashMap::new(),
        aliases: BTreeMap::new(),
    };

    // Pass 1: every killer and victim, so v2 ally names can be found whatever the line order.
    let mut sides: Vec<(Option<String>, String)> = Vec::with_capacity(round.kills.len());
    for kill in &round.kills {
        let killer = is_player_killer(kill).then(|| b.see(&kill.killer));
        let victim = b.see(&kill.victim);
        sides.push((killer, victim));
    }
    let mut by_name: HashMap<&[u8], Vec<String>> = HashMap::new();
    for kill in &round.kills {
        for side in [&kill.killer, &kill.victim] {
            if side.slot == WORLD_SLOT {
                continue;
            }
            let keys = by_name.entry(side.name.as_ref()).or_default();
            let key = player_key(side.guid, &side.name);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }

    let mut stats = RoundStats::default();
    let mut kills_with_allies: Vec<(usize, Vec<String>)> = Vec::new();
    for (index, (kill, (killer_key, victim_key))) in round.kills.iter().zip(&sides).enumerate() {
        let class = EngagementClass::classify(kill.killer_allies, kill.victim_allies);
        let mut ally_keys = Vec::with_capacity(kill.supporting_allies.len());
        let mut ally_json = Vec::with_capacity(kill.supporting_allies.len());
        for ally in &kill.supporting_allies {
            let key =
                if ally.guid.is_empty() && round.format == crate::round_file::FormatVersion::V2 {
                    resolve_by_name(&by_name, &b.teams, &ally.name, kill.killer.team)
                } else {
                    let key = player_key(ally.guid, &ally.name);
                    b.see_named(&key, ally.guid, &ally.name);
                    Some(key)
                };
            if key.is_none() {
                stats.unresolved_allies += 1;
            }
            ally_json.push(serde_json::json!({
                "guid": key,
                "name": display_name(&ally.name),
            }));
            if let Some(key) = key {
                if Some(&key) != killer_key.as_ref() && !ally_keys.contains(&key) {
                    ally_keys.push(key);
                }
            }
        }

        match kill.kind {
            KillKind::Kill => {
                if let Some(killer) = killer_key {
                    let p = b.player(killer);
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
                    for ally in &ally_keys {
                        b.player(ally).crossfire += 1;
                    }
                    kills_with_allies.push((index, ally_keys));
                }
                b.player(victim_key).deaths[class_index(class)] += 1;
                add_cell(&mut stats.cells, kill);
            }
            KillKind::TeamKill => {
                if let Some(killer) = killer_key {
                    b.player(killer).team_kills += 1;
                }
                b.player(victim_key).team_deaths += 1;
            }
            KillKind::Suicide => b.player(victim_key).suicides += 1,
            KillKind::World => b.player(victim_key).world_deaths += 1,
        }

        stats.kills.push(ResolvedKill {
            index: index as i32,
            killer_key: killer_key.clone().unwrap_or_default(),
            killer_name: decode_name(&kill.killer.name).into_owned(),
            victim_key: victim_key.clone(),
            victim_name: decode_name(&kill.victim.name).into_owned(),
            engagement_type: engagement_type(kill.killer_allies, kill.victim_allies),
            class,
            supporting_allies: serde_json::Value::Array(ally_json),
        });
    }

    stats.pairs = pair_stats(round, &sides, &kills_with_allies, &b.teams);
    stats.cells.sort_by_key(|c| (c.grid_x, c.grid_y));
    stats.players = b.players.into_values().collect();
    stats.aliases = b.aliases.into_values().collect();
    stats
}

fn is_player_killer(kill: &KillRecord<'_>) -> bool {
    kill.kind != KillKind::World && kill.killer.slot != WORLD_SLOT
}

/// A v2 ally name → key: prefer a player of the killer's team with that name.
fn resolve_by_name(
    by_name: &HashMap<&[u8], Vec<String>>,
    teams: &HashMap<String, Team>,
    name: &[u8],
    killer_team: Team,
) -> Option<String> {
    let keys = by_name.get(name)?;
    keys.iter()
        .find(|k| teams.get(*k) == Some(&killer_team))
        .or_else(|| keys.first())
        .cloned()
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

/// Pair counters for the round: kills within range (ally present), simultaneous kills (both
/// killed within 3 s), trades (player2 killed player1's killer within 3 s after player1 died).
/// Every pair of teammates gets a row in both directions, even with all counters at zero, so
/// "rounds together" can be counted.
fn pair_stats(
    round: &ParsedRound<'_>,
    sides: &[(Option<String>, String)],
    kills_with_allies: &[(usize, Vec<String>)],
    teams: &HashMap<String, Team>,
) -> Vec<PairRoundStats> {
    let mut pairs: BTreeMap<(String, String), PairRoundStats> = BTreeMap::new();
    let mut by_team: BTreeMap<Team, Vec<&String>> = BTreeMap::new();
    for (key, team) in teams {
        by_team.entry(*team).or_default().push(key);
    }
    for members in by_team.values() {
        for a in members {
            for b in members {
                if a != b {
                    let id = ((*a).clone(), (*b).clone());
                    pairs.entry(id).or_insert_with(|| PairRoundStats {
                        player1: (*a).clone(),
                        player2: (*b).clone(),
                        ..PairRoundStats::default()
                    });
                }
            }
        }
    }

    for (index, allies) in kills_with_allies {
        if let Some(killer) = &sides[*index].0 {
            for ally in allies {
                pair(&mut pairs, killer, ally).kills_within_range += 1;
            }
        }
    }

    // Counted kills in time order: (time, killer, killer team, victim).
    let mut timeline: Vec<(i64, &str, Team, &str)> = round
        .kills
        .iter()
        .zip(sides)
        .filter(|(k, _)| k.kind == KillKind::Kill)
        .filter_map(|(k, (killer, victim))| {
            Some((
                k.game_time,
                killer.as_deref()?,
                k.killer.team,
                victim.as_str(),
            ))
        })
        .collect();
    timeline.sort_by_key(|t| t.0);

    for (i, &(t1, p1, team1, victim1)) in timeline.iter().enumerate() {
        // Simultaneous: once per kill of p1 for each teammate p2 who also killed within 3 s.
        let mut partners: Vec<&str> = Vec::new();
        for &(_, p2, team2, _) in window(&timeline, i, t1) {
            if p2 != p1 && team2 == team1 && !partners.contains(&p2) {
                partners.push(p2);
            }
        }
        for p2 in partners {
            pair(&mut pairs, p1, p2).simultaneous_kills += 1;
        }
        // Trade: victim1 died; a teammate of victim1 kills p1 within 3 s after.
        let mut avengers: Vec<&str> = Vec::new();
        for &(t2, p2, team2, victim2) in &timeline[i + 1..] {
            if t2 - t1 > PAIR_WINDOW_MS {
                break;
            }
            if victim2 == p1 && p2 != victim1 && team2 != team1 && !avengers.contains(&p2) {
                avengers.push(p2);
            }
        }
        for p2 in avengers {
            pair(&mut pairs, victim1, p2).trade_kills += 1;
        }
    }
    pairs.into_values().collect()
}

fn pair<'p>(
    pairs: &'p mut BTreeMap<(String, String), PairRoundStats>,
    p1: &str,
    p2: &str,
) -> &'p mut PairRoundStats {
    pairs
        .entry((p1.to_owned(), p2.to_owned()))
        .or_insert_with(|| PairRoundStats {
            player1: p1.to_owned(),
            player2: p2.to_owned(),
            ..PairRoundStats::default()
        })
}

/// The kills within ±3 s of `t` around position `i` of a time-sorted timeline.
fn window<'t, T>(
    timeline: &'t [(i64, T, Team, T)],
    i: usize,
    t: i64,
) -> impl Iterator<Item = &'t (i64, T, Team, T)> {
    let start = timeline[..i].partition_point(|e| e.0 < t - PAIR_WINDOW_MS);
    let end = i + timeline[i..].partition_point(|e| e.0 <= t + PAIR_WINDOW_MS);
    timeline[start..end].iter()
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
        assert_eq!(
            pair(&s, "C", "A").kills_within_range,
            0,
            "directional; both rows exist"
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
        assert_eq!(
            pair(&s, "B", "D").simultaneous_kills,
            0,
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
        assert_eq!(s.kills[0].supporting_allies[0]["guid"], "NOGUID:ghost");
    }

    #[test]
    fn unknown_ally_names_are_counted() {
        let s = stats_of(
            "1000|1|A|alpha|AXIS|0.0|0.0|0.0|2|B|bravo|ALLIES|1.0|0.0|0.0|1.0|8|9|2v1|1|0|nobody\n",
        );
        assert_eq!(s.unresolved_allies, 1);
        assert_eq!(
            s.kills[0].supporting_allies[0]["guid"],
            serde_json::Value::Null
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
}
