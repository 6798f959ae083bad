//! The per-round tables of each player (weapons, opponents, the round itself) and the heatmap
//! cells, from the counted kills.

use std::collections::HashMap;

use super::{CellStats, PlayerInRound, RoundStats, HEATMAP_CELL};
use crate::round_file::{KillKind, KillRecord, ParsedRound, Team};

/// Per-weapon, per-opponent and per-round rows of each player, from the counted kills.
pub(super) fn per_player_tables(round: &ParsedRound<'_>, stats: &mut RoundStats) {
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

pub(super) fn add_cell(cells: &mut Vec<CellStats>, kill: &KillRecord<'_>) {
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
