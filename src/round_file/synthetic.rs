//! Deterministic synthetic rounds of realistic size, for tests and benchmarks, seeded through
//! [`crate::prng`] like the simulator. (The full match simulator that drives the Lua tracker
//! lives in `sim`; this is only data, and is built without the `demo` feature too.)

use std::borrow::Cow;

use crate::prng::SplitMix64 as Rng;

use super::writer::{v2_file_name, write_v2, write_v3, V2Kill, V2Side};
use super::{AllyRef, Combatant, KillKind, KillRecord, RoundHeader, Team};

/// Uniform in `[lo, hi)`, in the file's precision.
fn range_f32(rng: &mut Rng, lo: f32, hi: f32) -> f32 {
    rng.range_f64(f64::from(lo), f64::from(hi)) as f32
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct RoundSpec {
    pub seed: u64,
    pub server_id: String,
    pub map: String,
    pub round_number: i16,
    pub start_unix: i64,
    pub kills: usize,
    /// Players per team (without a `roster`).
    pub team_size: usize,
    /// The round's players as (GUID, raw name), alternately Axis and Allies; `None` draws
    /// `team_size` a side from a fixed pool of 40.
    pub roster: Option<Vec<(String, Vec<u8>)>>,
}

impl RoundSpec {
    pub fn new(seed: u64, start_unix: i64) -> Self {
        RoundSpec {
            seed,
            server_id: "bench".into(),
            map: "goldrush".into(),
            round_number: 1,
            start_unix,
            kills: 140,
            team_size: 6,
            roster: None,
        }
    }
}

struct Player {
    slot: i16,
    guid: String,
    name: Vec<u8>,
    team: Team,
}

fn roster(spec: &RoundSpec) -> Vec<Player> {
    if let Some(given) = &spec.roster {
        return given
            .iter()
            .enumerate()
            .map(|(i, (guid, name))| Player {
                slot: i as i16,
                guid: guid.clone(),
                name: name.clone(),
                team: if i % 2 == 0 { Team::Axis } else { Team::Allies },
            })
            .collect();
    }
    (0..spec.team_size * 2)
        .map(|i| Player {
            slot: i as i16,
            // A fixed pool of 40 players, so the same people meet across rounds.
            guid: format!(
                "{:032X}",
                (spec.seed.wrapping_add(i as u64 * 7)) % 40 + 0xABCDEF
            ),
            name: format!(
                "^{}player{}",
                i % 10,
                (spec.seed.wrapping_add(i as u64 * 7)) % 40
            )
            .into_bytes(),
            team: if i % 2 == 0 { Team::Axis } else { Team::Allies },
        })
        .collect()
}

/// Twelve busy places of a map, fixed by the map's name.
fn hotspots(map: &str) -> Vec<(f32, f32)> {
    let seed = map.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng::new(seed);
    (0..12)
        .map(|_| {
            (
                range_f32(&mut rng, -3600.0, 3200.0),
                range_f32(&mut rng, -3100.0, 3900.0),
            )
        })
        .collect()
}

fn kills<'p>(spec: &RoundSpec, players: &'p [Player]) -> Vec<KillRecord<'p>> {
    let hotspots = hotspots(&spec.map);
    let mut rng = Rng::new(spec.seed);
    let mut t = 5_000i64;
    let side = |p: &'p Player, pos: [f32; 3]| Combatant {
        slot: p.slot,
        guid: Cow::Borrowed(p.guid.as_bytes()),
        name: Cow::Borrowed(p.name.as_slice()),
        team: p.team,
        pos,
    };
    (0..spec.kills)
        .map(|i| {
            t += 1_000 + rng.below(12_000) as i64;
            let k = &players[rng.below(players.len() as u64) as usize];
            let enemies: Vec<&Player> = players.iter().filter(|p| p.team != k.team).collect();
            let mates: Vec<&Player> = players
                .iter()
                .filter(|p| p.team == k.team && p.slot != k.slot)
                .collect();
            let roll = rng.below(100);
            let (kind, v) = match roll {
                0..=2 => (
                    KillKind::TeamKill,
                    mates[rng.below(mates.len() as u64) as usize],
                ),
                3..=4 => (KillKind::Suicide, k),
                _ => (
                    KillKind::Kill,
                    enemies[rng.below(enemies.len() as u64) as usize],
                ),
            };
            // Fights cluster around a map's chokepoints and objectives, the same in every round.
            let (hx, hy) = hotspots[rng.below(hotspots.len() as u64) as usize];
            let spread =
                |rng: &mut Rng| range_f32(rng, -350.0, 350.0) + range_f32(rng, -350.0, 350.0);
            let kp = [
                hx + spread(&mut rng),
                hy + spread(&mut rng),
                range_f32(&mut rng, -400.0, 400.0),
            ];
            let vp = [
                kp[0] + range_f32(&mut rng, -700.0, 700.0),
                kp[1] + range_f32(&mut rng, -700.0, 700.0),
                kp[2],
            ];
            let round1 = |x: f32| (x * 10.0).round() / 10.0;
            let kp = kp.map(round1);
            let vp = vp.map(round1);
            let ka = rng.below(4) as u16;
            let allies: Vec<AllyRef<'p>> = mates
                .iter()
                .take(ka as usize)
                .map(|m| AllyRef {
                    guid: Cow::Borrowed(m.guid.as_bytes()),
                    name: Cow::Borrowed(m.name.as_slice()),
                })
                .collect();
            let dist = ((kp[0] - vp[0]).powi(2) + (kp[1] - vp[1]).powi(2)).sqrt();
            KillRecord {
                line: 13 + i as u32,
                game_time: t,
                time_ms: Some(t),
                kind,
                killer: side(k, kp),
                victim: side(v, vp),
                distance: round1(dist),
                weapon: 3 + rng.below(10) as i16,
                means_of_death: 3 + rng.below(20) as i16,
                killer_allies: allies.len() as u16,
                victim_allies: rng.below(3) as u16,
                supporting_allies: allies,
            }
        })
        .collect()
}

/// A complete v3 file for the spec.
pub fn synthetic_v3(spec: &RoundSpec) -> Vec<u8> {
    let players = roster(spec);
    let kills = kills(spec, &players);
    let duration = kills.last().map_or(60, |k| k.game_time / 1000 + 30);
    let header = RoundHeader {
        server_id: Some(spec.server_id.clone()),
        server_name: Some("Synthetic server".into()),
        map_name: spec.map.clone(),
        file_map_name: None,
        round_number: spec.round_number,
        gametype: Some(3),
        round_id: Some(format!("{}-{}-{}", spec.start_unix, spec.map, spec.seed)),
        started_unix: Some(spec.start_unix),
        ended_unix: Some(spec.start_unix + duration),
        ended_local: None,
        mod_family: Some("etlegacy".into()),
    };
    write_v3(&header, false, &kills)
}

fn v2_side<'a>(c: &'a Combatant<'_>) -> V2Side<'a> {
    V2Side {
        slot: i64::from(c.slot),
        guid: &c.guid,
        name: &c.name,
        team: c.team.as_str(),
        pos: c.pos.map(f64::from),
    }
}

/// A v2 file (as the public module writes it) for the spec: `(file name, bytes)`.
/// Suicides are left out, as v2 does; the heatmap section is empty.
pub fn synthetic_v2(spec: &RoundSpec, ended_local: chrono::NaiveDateTime) -> (String, Vec<u8>) {
    let players = roster(spec);
    let kills = kills(spec, &players);
    let lines: Vec<V2Kill<'_>> = kills
        .iter()
        .filter(|k| k.kind != KillKind::Suicide)
        .map(|k| V2Kill {
            // The module's clock starts at map load, a minute before the round.
            game_time: k.game_time + 60_000,
            killer: v2_side(&k.killer),
            victim: v2_side(&k.victim),
            distance: f64::from(k.distance),
            weapon: i64::from(k.weapon),
            means_of_death: i64::from(k.means_of_death),
            killer_allies: usize::from(k.killer_allies),
            victim_allies: usize::from(k.victim_allies),
            ally_names: k.supporting_allies.iter().map(|a| &*a.name).collect(),
        })
        .collect();
    let round = i64::from(spec.round_number - 1);
    let name = v2_file_name(ended_local, &spec.map, round);
    (name, write_v2(&spec.map, round, &lines, &[]))
}
