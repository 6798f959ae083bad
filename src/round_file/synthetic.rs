//! Deterministic synthetic rounds of realistic size, for tests and benchmarks.
//! (The full match simulator that drives the Lua tracker lives elsewhere; this is only data.)

use std::borrow::Cow;
use std::fmt::Write as _;

use super::writer::write_v3;
use super::{AllyRef, Combatant, KillKind, KillRecord, RoundHeader, Team};

/// A small, fast, seedable generator (xorshift64*), so data is the same on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in `[lo, hi)`.
    pub fn range_f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * (self.below(1_000_000) as f32 / 1_000_000.0)
    }
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
    /// Players per team.
    pub team_size: usize,
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
                rng.range_f32(-3600.0, 3200.0),
                rng.range_f32(-3100.0, 3900.0),
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
                |rng: &mut Rng| rng.range_f32(-350.0, 350.0) + rng.range_f32(-350.0, 350.0);
            let kp = [
                hx + spread(&mut rng),
                hy + spread(&mut rng),
                rng.range_f32(-400.0, 400.0),
            ];
            let vp = [
                kp[0] + rng.range_f32(-700.0, 700.0),
                kp[1] + rng.range_f32(-700.0, 700.0),
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

/// A v2 file (as the public module writes it) for the spec: `(file name, bytes)`.
/// Suicides are left out, as v2 does.
pub fn synthetic_v2(spec: &RoundSpec, ended_local: chrono::NaiveDateTime) -> (String, Vec<u8>) {
    let players = roster(spec);
    let kills = kills(spec, &players);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# PROXIMITY_TRACKER_V2\n# map={}\n# round={}",
        spec.map,
        spec.round_number - 1
    );
    out.push_str("# FORMAT: game_time|killer_slot|killer_guid|killer_name|killer_team|killer_x|killer_y|killer_z|victim_slot|victim_guid|victim_name|victim_team|victim_x|victim_y|victim_z|distance|weapon|mod|engagement_type|killer_allies|victim_allies|supporting_allies\n");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for k in kills.iter().filter(|k| k.kind != KillKind::Suicide) {
        let allies: Vec<String> = k.supporting_allies.iter().map(|a| text(&a.name)).collect();
        let allies = if allies.is_empty() {
            "NONE".to_owned()
        } else {
            allies.join(",")
        };
        let _ = writeln!(
            out,
            "{}|{}|{}|{}|{}|{:.1}|{:.1}|{:.1}|{}|{}|{}|{}|{:.1}|{:.1}|{:.1}|{:.1}|{}|{}|{}v{}|{}|{}|{}",
            k.game_time + 60_000, k.killer.slot, text(&k.killer.guid), text(&k.killer.name), k.killer.team.as_str(),
            k.killer.pos[0], k.killer.pos[1], k.killer.pos[2],
            k.victim.slot, text(&k.victim.guid), text(&k.victim.name), k.victim.team.as_str(),
            k.victim.pos[0], k.victim.pos[1], k.victim.pos[2],
            k.distance, k.weapon, k.means_of_death, k.killer_allies + 1, k.victim_allies + 1,
            k.killer_allies, k.victim_allies, allies
        );
    }
    out.push_str("\n# HEATMAP\n# grid_x|grid_y|axis_kills|allies_kills\n");
    let name = format!(
        "{}-{}-round-{}_proximity.txt",
        ended_local.format("%Y-%m-%d-%H%M%S"),
        spec.map,
        spec.round_number - 1
    );
    (name, out.into_bytes())
}
