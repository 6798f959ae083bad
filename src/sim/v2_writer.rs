//! What the public "Proximity Tracker v2" module writes for a round, reproduced from the
//! behaviour described in docs/round-file-format.md, so a test can count what v2
//! loses that v3 keeps. It writes from the simulator's truth, not from a Lua VM:
//! - `round=` is the 0-based `g_currentRound` of the round;
//! - `game_time` is `trap_Milliseconds()` minus the level time at map load (an offset clock);
//! - names are written raw, unescaped; `supporting_allies` joins names with `,` or says `NONE`;
//! - suicides and world kills are dropped; team kills are kept;
//! - a kill is lost (the module raises a Lua error) when the killer, the victim or an ally
//!   counted on either side has no `cl_guid`;
//! - a round with no written kill, or cut short, writes no file;
//! - a `# HEATMAP` section counts kills per 512-unit cell of the victim's unrounded position.

use super::match_sim::{ObituaryKind, ObituaryTruth, PlayerAtKill, RoundStatus, RoundTruth};
use crate::round_file::writer::{v2_file_name, write_v2, V2Cell, V2Kill, V2Side};
use crate::sim::et_mock::Team;

/// Why v2 did not record an obituary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V2Loss {
    Suicide,
    WorldKill,
    /// Killer, victim or a nearby ally had no `cl_guid` (a Lua error in v2).
    MissingGuid,
    /// The round wrote no file: zero kills or cut short.
    NoFile,
}

/// The v2 output of one round.
#[derive(Debug, Clone, PartialEq)]
pub struct V2Round {
    /// `None` when v2 writes no file for the round.
    pub file: Option<(String, Vec<u8>)>,
    /// For each obituary of the round (same order), `None` if written, or why it was lost.
    pub losses: Vec<Option<V2Loss>>,
}

impl V2Round {
    pub fn written_kills(&self) -> usize {
        if self.file.is_none() {
            return 0;
        }
        self.losses.iter().filter(|l| l.is_none()).count()
    }

    pub fn lost(&self, reason: V2Loss) -> usize {
        self.losses.iter().filter(|l| **l == Some(reason)).count()
    }
}

/// v2 has no GUID for a client without `cl_guid`: reading it raises.
fn has_guid(p: &PlayerAtKill) -> bool {
    p.raw_guid.as_deref().is_some_and(|g| !g.is_empty())
}

fn loss_of(o: &ObituaryTruth) -> Option<V2Loss> {
    match o.kind {
        ObituaryKind::Suicide => return Some(V2Loss::Suicide),
        ObituaryKind::World => return Some(V2Loss::WorldKill),
        ObituaryKind::Kill | ObituaryKind::Teamkill => {}
    }
    let everyone = o
        .killer
        .iter()
        .chain(std::iter::once(&o.victim))
        .chain(&o.killer_allies)
        .chain(&o.victim_allies);
    for p in everyone {
        if !has_guid(p) {
            return Some(V2Loss::MissingGuid);
        }
    }
    None
}

fn v2_side(p: &PlayerAtKill) -> V2Side<'_> {
    V2Side {
        slot: p.slot,
        guid: p.raw_guid.as_deref().unwrap_or("").as_bytes(),
        name: &p.name,
        team: p.team.label(),
        pos: p.origin,
    }
}

fn v2_kill<'a>(o: &'a ObituaryTruth, game_time: i64, killer: &'a PlayerAtKill) -> V2Kill<'a> {
    V2Kill {
        game_time,
        killer: v2_side(killer),
        victim: v2_side(&o.victim),
        distance: o.distance,
        weapon: o.weapon,
        means_of_death: o.means_of_death,
        killer_allies: o.killer_allies.len(),
        victim_allies: o.victim_allies.len(),
        ally_names: o.killer_allies.iter().map(|a| a.name.as_slice()).collect(),
    }
}

/// Kills per 512-unit cell of the victim's unrounded position, by the killer's team, in
/// first-seen order like the module's table walk.
fn heatmap_cells<'a>(
    written: impl Iterator<Item = (&'a ObituaryTruth, &'a PlayerAtKill)>,
) -> Vec<V2Cell> {
    let mut cells: Vec<V2Cell> = Vec::new();
    for (o, killer) in written {
        let cell = (
            (o.victim.origin[0] / 512.0).floor() as i64,
            (o.victim.origin[1] / 512.0).floor() as i64,
        );
        let idx = match cells.iter().position(|c| c.0 == cell) {
            Some(i) => i,
            None => {
                cells.push((cell, 0, 0));
                cells.len() - 1
            }
        };
        if let Some(entry) = cells.get_mut(idx) {
            match killer.team {
                Team::Axis => entry.1 += 1,
                Team::Allies => entry.2 += 1,
                _ => {}
            }
        }
    }
    cells
}

/// The v2 file (if any) and per-obituary losses for one simulated round.
pub fn write_v2_round(round: &RoundTruth) -> V2Round {
    let losses: Vec<Option<V2Loss>> = round.obituaries.iter().map(loss_of).collect();
    let written: Vec<(&ObituaryTruth, &PlayerAtKill)> = round
        .obituaries
        .iter()
        .zip(&losses)
        .filter(|(_, l)| l.is_none())
        .filter_map(|(o, _)| o.killer.as_ref().map(|k| (o, k)))
        .collect();
    if round.status == RoundStatus::Incomplete || written.is_empty() {
        let losses = losses
            .into_iter()
            .map(|l| l.or(Some(V2Loss::NoFile)))
            .collect();
        return V2Round { file: None, losses };
    }
    let kills: Vec<V2Kill<'_>> = written
        .iter()
        .map(|(o, killer)| v2_kill(o, o.process_ms - round.init_level_time, killer))
        .collect();
    let cells = heatmap_cells(written.iter().copied());
    let bytes = write_v2(&round.map, round.current_round, &kills, &cells);
    let ended = chrono::DateTime::from_timestamp(round.end_unix, 0).unwrap_or_default();
    let name = v2_file_name(ended.naive_utc(), &round.map, round.current_round);
    V2Round {
        file: Some((name, bytes)),
        losses,
    }
}

/// Writes the v2 files of every round of a run into `dir`; returns the paths written.
pub fn write_v2_files(
    truth: &super::match_sim::MatchTruth,
    dir: &std::path::Path,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for round in &truth.rounds {
        if let Some((name, bytes)) = write_v2_round(round).file {
            let path = dir.join(name);
            std::fs::write(&path, bytes)?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::match_sim::FightTruth;
    use crate::sim::match_sim::RoundStatus;

    fn player(slot: i64, guid: Option<&str>, name: &[u8], team: Team, x: f64) -> PlayerAtKill {
        PlayerAtKill {
            slot,
            raw_guid: guid.map(str::to_string),
            name: name.to_vec(),
            team,
            origin: [x, -0.04, 16.0],
        }
    }

    fn round(obituaries: Vec<ObituaryTruth>, status: RoundStatus) -> RoundTruth {
        RoundTruth {
            map: "goldrush".into(),
            gametype: 3,
            current_round: 1,
            round: 2,
            status,
            server_id: "eu-1".into(),
            seq: 1,
            init_level_time: 1000,
            start_level_time: 1000,
            start_unix: 1_763_498_302,
            end_unix: 1_763_499_502,
            obituaries,
            warmup_obituaries: 0,
            fight: FightTruth::default(),
        }
    }

    fn kill(kind: ObituaryKind, killer: PlayerAtKill, victim: PlayerAtKill) -> ObituaryTruth {
        ObituaryTruth {
            t_ms: 500,
            process_ms: 61_500,
            kind,
            killer_slot: killer.slot,
            distance: 10.0,
            killer: Some(killer),
            victim,
            weapon: 3,
            means_of_death: 8,
            killer_allies: Vec::new(),
            victim_allies: Vec::new(),
        }
    }

    #[test]
    fn writes_raw_names_offset_clock_and_heatmap() {
        let mut k = kill(
            ObituaryKind::Kill,
            player(3, Some("AAA"), b"Al|pha", Team::Axis, 10.0),
            player(7, Some("BBB"), b"NONE", Team::Allies, 20.0),
        );
        k.killer_allies
            .push(player(4, Some("CCC"), b"a,b", Team::Axis, 11.0));
        let out = write_v2_round(&round(vec![k], RoundStatus::Complete));
        let (name, bytes) = out.file.expect("a file");
        assert_eq!(name, "2025-11-18-205822-goldrush-round-1_proximity.txt");
        let text = String::from_utf8(bytes).expect("ascii");
        assert!(text.starts_with("# PROXIMITY_TRACKER_V2\n# map=goldrush\n# round=1\n"));
        assert!(text.contains(
            "\n60500|3|AAA|Al|pha|AXIS|10.0|-0.0|16.0|7|BBB|NONE|ALLIES|20.0|-0.0|16.0|10.0|3|8|2v1|1|0|a,b\n"
        ));
        // -0.04 prints as -0.0 but lies in cell -1.
        assert!(text.ends_with("\n# HEATMAP\n# grid_x|grid_y|axis_kills|allies_kills\n0|-1|1|0\n"));
    }

    #[test]
    fn loses_suicides_world_kills_guidless_players_and_whole_rounds() {
        let a = player(1, Some("AAA"), b"a", Team::Axis, 0.0);
        let b = player(2, Some("BBB"), b"b", Team::Allies, 0.0);
        let nog = player(5, None, b"nog", Team::Axis, 0.0);
        let mut with_guidless_ally = kill(ObituaryKind::Kill, b.clone(), a.clone());
        with_guidless_ally.victim_allies.push(nog.clone());
        let obits = vec![
            kill(ObituaryKind::Kill, a.clone(), b.clone()),
            kill(ObituaryKind::Suicide, a.clone(), a.clone()),
            kill(ObituaryKind::Kill, nog.clone(), b.clone()),
            with_guidless_ally,
            kill(ObituaryKind::Teamkill, a.clone(), nog.clone()),
        ];
        let out = write_v2_round(&round(obits.clone(), RoundStatus::Complete));
        assert_eq!(out.written_kills(), 1);
        assert_eq!(out.lost(V2Loss::Suicide), 1);
        assert_eq!(out.lost(V2Loss::MissingGuid), 3);

        let cut = write_v2_round(&round(obits, RoundStatus::Incomplete));
        assert!(cut.file.is_none());
        assert_eq!(cut.written_kills(), 0);
        assert_eq!(cut.lost(V2Loss::NoFile), 1);

        let empty = write_v2_round(&round(Vec::new(), RoundStatus::Complete));
        assert!(empty.file.is_none());
    }
}
