//! Deterministic synthetic rounds of realistic size, for tests and benchmarks, seeded through
//! [`crate::prng`] like the simulator. (The full match simulator that drives the Lua tracker
//! lives in `sim`; this is only data, and is built without the `demo` feature too.)

use std::borrow::Cow;

use crate::prng::SplitMix64 as Rng;

use super::fight::{
    DamageEvent, FightSections, ObjectiveAction, ObjectiveEvent, PresenceSample, PresenceSecond,
    ReviveEvent, RosterEntry, ShotCount, SpawnEvent,
};
use super::writer::{v2_file_name, write_v2, write_v3, write_v3_fight, V2Kill, V2Side};
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
    write_v3(&v3_header(spec, &kills), false, &kills)
}

/// A complete tracker 1.2 file for the spec: the kills of [`synthetic_v3`] and fight sections
/// that agree with them (damage before each kill, a corpse hit now and then, shots, spawns,
/// medic revives, a carrier run, presence every five seconds).
pub fn synthetic_v3_fight(spec: &RoundSpec) -> Vec<u8> {
    let players = roster(spec);
    let kills = kills(spec, &players);
    let header = v3_header(spec, &kills);
    let end_ms = ((header.ended_unix.unwrap_or(0) - header.started_unix.unwrap_or(0)) * 1000)
        .clamp(0, i64::from(i32::MAX)) as i32;
    let fight = synthetic_fight(spec, &players, &kills, end_ms);
    write_v3_fight(&header, false, &kills, &fight)
}

fn synthetic_fight<'p>(
    spec: &RoundSpec,
    players: &'p [Player],
    kills: &[KillRecord<'_>],
    end_ms: i32,
) -> FightSections<'p> {
    let mut rng = Rng::new(spec.seed ^ 0x5EED_F16E);
    let mut f = FightSections::default();
    for (i, p) in players.iter().enumerate() {
        f.players.push(RosterEntry {
            line: 0,
            index: i as u16,
            slot: p.slot,
            guid: Cow::Borrowed(p.guid.as_bytes()),
            name: Cow::Borrowed(p.name.as_slice()),
            team: p.team,
            from_ms: 0,
            to_ms: end_ms,
        });
        f.spawns.push(SpawnEvent {
            line: 0,
            t_ms: 0,
            player: i as u16,
            revived: false,
        });
    }
    let index = |slot: i16| players.iter().position(|p| p.slot == slot).unwrap_or(0) as u16;
    let mut shots = vec![0i32; players.len()];
    for k in kills {
        let t = k.time_ms.unwrap_or(0) as i32;
        let (a, v) = (index(k.killer.slot), index(k.victim.slot));
        if k.kind == KillKind::Kill || k.kind == KillKind::TeamKill {
            let team_damage = k.kind == KillKind::TeamKill;
            let first = 20 + rng.below(60) as i32;
            for (n, (damage, health)) in [(first, 100), (100, 100 - first)].into_iter().enumerate()
            {
                f.damage.push(DamageEvent {
                    line: 0,
                    t_ms: t - 400 + n as i32 * 300,
                    attacker: a,
                    target: v,
                    damage,
                    health,
                    means_of_death: k.means_of_death,
                    headshot: rng.below(5) == 0,
                    team_damage,
                    splash: false,
                });
            }
            if rng.below(4) == 0 {
                f.damage.push(DamageEvent {
                    line: 0,
                    t_ms: t + 100,
                    attacker: a,
                    target: v,
                    damage: 18,
                    health: -20,
                    means_of_death: k.means_of_death,
                    headshot: false,
                    team_damage,
                    splash: false,
                });
            }
            shots[usize::from(a)] += 2 + rng.below(6) as i32;
        }
        // Down, then a medic of the victim's team revives or the victim respawns.
        let medic = players
            .iter()
            .position(|p| p.team == k.victim.team && p.slot != k.victim.slot);
        let back = t + 2_000 + rng.below(8_000) as i32;
        if back < end_ms {
            let revived = k.kind == KillKind::Kill && medic.is_some() && rng.below(3) == 0;
            if revived {
                f.revives.push(ReviveEvent {
                    line: 0,
                    t_ms: back,
                    revived: v,
                    medic: medic.map(|m| m as u16).filter(|_| rng.below(5) != 0),
                    pos: k.victim.pos,
                    down_ms: Some(back - t),
                });
            }
            f.spawns.push(SpawnEvent {
                line: 0,
                t_ms: back,
                player: v,
                revived,
            });
        }
    }
    for (i, n) in shots.iter().enumerate().filter(|(_, n)| **n > 0) {
        f.shots.push(ShotCount {
            line: 0,
            player: i as u16,
            weapon: 8,
            shots: *n,
        });
    }
    f.spawns.sort_by_key(|s| s.t_ms);
    if players.len() >= 2 && end_ms > 40_000 {
        let carrier = 0u16;
        for (n, action) in [
            ObjectiveAction::Steal,
            ObjectiveAction::Drop,
            ObjectiveAction::Return,
            ObjectiveAction::Steal,
            ObjectiveAction::Secure,
        ]
        .into_iter()
        .enumerate()
        {
            let timeout = n == 2;
            f.objectives.push(ObjectiveEvent {
                line: 0,
                t_ms: 10_000 + n as i32 * 5_000,
                player: (!timeout).then_some(carrier),
                team: if timeout {
                    Team::Allies
                } else {
                    players[0].team
                },
                action,
                target: Cow::Borrowed(b"the Gold Crate"),
                pos: (!timeout).then_some([100.0 * n as f32, -2030.0, 64.0]),
            });
        }
    }
    for t_s in (1..end_ms / 1000).step_by(5) {
        let samples = (0..players.len())
            .map(|i| PresenceSample {
                player: i as u16,
                qx: PresenceSample::quantise(range_f32(&mut rng, -3000.0, 3000.0)),
                qy: PresenceSample::quantise(range_f32(&mut rng, -3000.0, 3000.0)),
            })
            .collect();
        f.presence.push(PresenceSecond {
            line: 0,
            t_s,
            samples,
        });
    }
    f
}

fn v3_header(spec: &RoundSpec, kills: &[KillRecord<'_>]) -> RoundHeader {
    let duration = kills.last().map_or(60, |k| k.game_time / 1000 + 30);
    RoundHeader {
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
    }
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
