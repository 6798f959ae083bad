//! Rows an import derives from the parsed kills of its batch, in memory, instead of reading
//! `kill_context` back inside the transaction or after it: the heatmap rollups of migration
//! 0010 (`kill_heatmap_cells`, `kill_heatmap_cube_total`, `kill_heatmap_fine_total`) and the
//! per-round head-to-head of migration 0012. Each function computes exactly what the SQL it
//! replaces computes from the stored rows (`heatmap_cells_of_rounds` of migration 0010, the
//! queries of `db::versus::record_rounds`); `tests/import.rs` compares the two on real imports.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::db::rounds::KillsOfRound;
use crate::round_file::KillKind;

/// World size of a `kill_heatmap_cells` cell (migration 0010).
const CELL: f64 = 64.0;

/// The cell of a coordinate, as `floor(greatest(-1e6, least(1e6, x / 64)))::int` computes it on
/// the stored `real` (the division is done in double precision; NaN sorts above every number).
pub fn heatmap_cell(coordinate: f32) -> i32 {
    let scaled = f64::from(coordinate) / CELL;
    let clamped = if scaled.is_nan() {
        1e6
    } else {
        scaled.clamp(-1e6, 1e6)
    };
    clamped.floor() as i32
}

/// A `kill_heatmap_cells` key: day, map, plotted side, that side's player and team, means of
/// death, engagement class, cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey<'a> {
    pub session_date: NaiveDate,
    pub map_name: &'a str,
    pub position: &'static str,
    pub player_guid: &'a str,
    pub team: &'static str,
    pub means_of_death: i16,
    pub engagement_class: &'static str,
    pub cell_x: i32,
    pub cell_y: i32,
}

/// A `kill_heatmap_cube_total` key, in the order of its primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CubeKey<'a> {
    pub map_name: &'a str,
    pub position: &'static str,
    pub means_of_death: i16,
    pub engagement_class: &'static str,
    pub team: &'static str,
    pub cell_x: i32,
    pub cell_y: i32,
}

/// A `kill_heatmap_fine_total` key, in the order of its primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FineKey<'a> {
    pub map_name: &'a str,
    pub position: &'static str,
    pub team: &'static str,
    pub cell_x: i32,
    pub cell_y: i32,
}

/// What a batch of rounds adds to the three heatmap rollups, each sorted by its key (the
/// all-time tables are upserted in key order, so concurrent imports lock rows in one order).
#[derive(Debug, Default, PartialEq)]
pub struct HeatmapRollup<'a> {
    pub cells: Vec<(CellKey<'a>, i32)>,
    pub cube: Vec<(CubeKey<'a>, i64)>,
    pub fine: Vec<(FineKey<'a>, i64)>,
}

/// The counted kills (`kind = 'kill'`) of the rounds, both sides of each, binned and summed.
pub fn heatmap_rollup<'a>(rounds: &'a [KillsOfRound<'_, '_>]) -> HeatmapRollup<'a> {
    let mut cells: HashMap<CellKey<'a>, i32> = HashMap::new();
    for round in rounds {
        let (row, stats) = (round.row, round.stats);
        for (kill, resolved) in round.kills.iter().zip(&stats.kills) {
            if kill.kind != KillKind::Kill {
                continue;
            }
            let killer_guid = resolved.killer.map_or("", |id| stats.key(id));
            let sides = [
                ("victim", stats.key(resolved.victim), &kill.victim),
                ("killer", killer_guid, &kill.killer),
            ];
            for (position, player_guid, side) in sides {
                let key = CellKey {
                    session_date: row.session_date,
                    map_name: &row.map_name,
                    position,
                    player_guid,
                    team: side.team.as_str(),
                    means_of_death: kill.means_of_death,
                    engagement_class: resolved.class.as_str(),
                    cell_x: heatmap_cell(side.pos[0]),
                    cell_y: heatmap_cell(side.pos[1]),
                };
                *cells.entry(key).or_default() += 1;
            }
        }
    }
    let mut cube: HashMap<CubeKey<'a>, i64> = HashMap::new();
    let mut fine: HashMap<FineKey<'a>, i64> = HashMap::new();
    for (c, kills) in &cells {
        let cube_key = CubeKey {
            map_name: c.map_name,
            position: c.position,
            means_of_death: c.means_of_death,
            engagement_class: c.engagement_class,
            team: c.team,
            cell_x: c.cell_x,
            cell_y: c.cell_y,
        };
        *cube.entry(cube_key).or_default() += i64::from(*kills);
        let fine_key = FineKey {
            map_name: c.map_name,
            position: c.position,
            team: c.team,
            cell_x: c.cell_x,
            cell_y: c.cell_y,
        };
        *fine.entry(fine_key).or_default() += i64::from(*kills);
    }
    HeatmapRollup {
        cells: sorted(cells),
        cube: sorted(cube),
        fine: sorted(fine),
    }
}

fn sorted<K: Ord, V>(map: HashMap<K, V>) -> Vec<(K, V)> {
    let mut rows: Vec<(K, V)> = map.into_iter().collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// A `player_versus_round_detail` row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersusDetail<'a> {
    pub round_id: i64,
    pub killer_guid: &'a str,
    pub victim_guid: &'a str,
    pub weapon: i16,
    pub engagement_class: &'static str,
    pub kills: i32,
}

/// A `player_versus_round_streak` row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersusStreak<'a> {
    pub round_id: i64,
    pub killer_guid: &'a str,
    pub victim_guid: &'a str,
    pub longest_streak: i32,
}

/// Head-to-head of each round: counted kills between two different known players per weapon
/// and engagement class, and each one's longest run of kills on the other (consecutive in
/// kill order among the pair's kills, by the same killer).
pub fn versus_rounds<'a>(
    rounds: &'a [KillsOfRound<'_, '_>],
) -> (Vec<VersusDetail<'a>>, Vec<VersusStreak<'a>>) {
    let mut details = Vec::new();
    let mut streaks = Vec::new();
    for round in rounds {
        let stats = round.stats;
        // (kill index, killer, victim) of the kills that count, in kill order.
        let mut kills: Vec<(i32, &'a str, &'a str, i16, &'static str)> = round
            .kills
            .iter()
            .zip(&stats.kills)
            .filter(|(kill, _)| kill.kind == KillKind::Kill)
            .filter_map(|(kill, resolved)| {
                let killer = stats.key(resolved.killer?);
                let victim = stats.key(resolved.victim);
                let counted = !killer.is_empty() && !victim.is_empty() && killer != victim;
                counted.then_some((
                    resolved.index,
                    killer,
                    victim,
                    kill.weapon,
                    resolved.class.as_str(),
                ))
            })
            .collect();
        kills.sort_by_key(|k| k.0);
        let mut detail: HashMap<(&'a str, &'a str, i16, &'static str), i32> = HashMap::new();
        for &(_, killer, victim, weapon, class) in &kills {
            *detail.entry((killer, victim, weapon, class)).or_default() += 1;
        }
        details.extend(
            detail
                .into_iter()
                .map(|((k, v, weapon, class), n)| VersusDetail {
                    round_id: round.round_id,
                    killer_guid: k,
                    victim_guid: v,
                    weapon,
                    engagement_class: class,
                    kills: n,
                }),
        );
        // Per unordered pair: the direction of the last kill and the run it extends.
        let mut runs: HashMap<(&'a str, &'a str), (&'a str, i32)> = HashMap::new();
        let mut longest: HashMap<(&'a str, &'a str), i32> = HashMap::new();
        for &(_, killer, victim, _, _) in &kills {
            let pair = if killer < victim {
                (killer, victim)
            } else {
                (victim, killer)
            };
            let run = runs.entry(pair).or_insert((killer, 0));
            if run.0 == killer {
                run.1 += 1;
            } else {
                *run = (killer, 1);
            }
            let best = longest.entry((killer, victim)).or_default();
            *best = (*best).max(run.1);
        }
        streaks.extend(longest.into_iter().map(|((k, v), n)| VersusStreak {
            round_id: round.round_id,
            killer_guid: k,
            victim_guid: v,
            longest_streak: n,
        }));
    }
    details.sort_unstable();
    streaks.sort_unstable();
    (details, streaks)
}

#[cfg(test)]
mod tests {
    use super::heatmap_cell;

    #[test]
    fn cells_follow_the_sql_binning() {
        assert_eq!(heatmap_cell(0.0), 0);
        assert_eq!(heatmap_cell(63.9), 0);
        assert_eq!(heatmap_cell(64.0), 1);
        assert_eq!(heatmap_cell(-0.5), -1);
        assert_eq!(heatmap_cell(-64.0), -1);
        assert_eq!(heatmap_cell(-64.5), -2);
        assert_eq!(heatmap_cell(f32::INFINITY), 1_000_000);
        assert_eq!(heatmap_cell(f32::NEG_INFINITY), -1_000_000);
        assert_eq!(heatmap_cell(f32::NAN), 1_000_000);
    }
}
