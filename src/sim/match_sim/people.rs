//! The simulated players: a seeded roster (humans, Omni-bots, players without `cl_guid`,
//! hostile names), joins and leaves, team switches, renames, respawns and movement.

use super::super::et_mock::{Client, Team, CON_CONNECTED, CON_CONNECTING, MAX_CLIENTS};
use super::obituaries::{ALLIES_ARMS, AXIS_ARMS, MOD_SWITCHTEAM};
use super::{MatchSim, FRAME_MS};

/// Names the engine lets through (≤ 35 bytes, no `\`, `"`, `;`) that break naive formats.
pub fn hostile_names() -> Vec<Vec<u8>> {
    let cut_utf8 = |prefix: &str, ch: &str| -> Vec<u8> {
        let mut v = prefix.as_bytes().to_vec();
        while v.len() < 40 {
            v.extend_from_slice(ch.as_bytes());
        }
        v.truncate(35);
        v
    };
    vec![
        b"^1Al|pha".to_vec(),
        b"a,b".to_vec(),
        b"NONE".to_vec(),
        b"||".to_vec(),
        b"^^7caret".to_vec(),
        b"100%pure".to_vec(),
        b"%41".to_vec(),
        b"@home".to_vec(),
        b"J\xF6rg M\xFCller".to_vec(),
        b"\xC9l\xE8ve".to_vec(),
        b"tab\x01bell\x7F".to_vec(),
        b"Sp ace  d".to_vec(),
        b"^4vid^7ar".to_vec(),
        b"UnnamedPlayer".to_vec(),
        cut_utf8("^3", "\u{e9}"),
        cut_utf8("x", "\u{20ac}"),
        "Größe™".as_bytes().to_vec(),
        b"12345678901234567890123456789012345".to_vec(),
    ]
}

const SYLLABLES: &[&str] = &[
    "ka", "zu", "mi", "ro", "tex", "vin", "dra", "sol", "lo", "pex", "qua", "rin", "bo", "tek",
];

#[derive(Debug, Clone)]
pub(super) struct Person {
    pub(super) name: Vec<u8>,
    pub(super) guid: Option<String>,
    pub(super) is_bot: bool,
    /// Hotspot index the player hangs around.
    pub(super) hotspot: usize,
}

/// What the simulator tracks per occupied slot beyond [`Client`].
#[derive(Debug, Clone)]
pub(super) struct SlotLife {
    pub(super) person: Person,
    /// Level time of the next respawn while dead.
    pub(super) respawn_at: Option<i64>,
    /// Level time at which a connecting client enters the game.
    pub(super) begin_at: Option<i64>,
}

impl MatchSim {
    pub(super) fn new_person(&mut self, slot: usize, is_bot: bool) -> Person {
        let hotspot = self.rng.below(5) as usize;
        if is_bot {
            let name = format!("^5[BOT]^7{}", self.generated_name());
            return Person {
                name: name.into_bytes(),
                guid: Some(format!("OMNIBOT{slot:02}{}", "0".repeat(23))),
                is_bot,
                hotspot,
            };
        }
        let name = if self.next_name < self.hostile.len() && self.rng.chance(0.7) {
            self.next_name += 1;
            self.hostile[self.next_name - 1].clone()
        } else {
            self.generated_name().into_bytes()
        };
        let roll = self.rng.unit();
        let guid = if roll < 0.12 {
            None
        } else if roll < 0.14 {
            Some(
                if self.rng.chance(0.5) {
                    "unknown"
                } else {
                    "NO_GUID"
                }
                .to_string(),
            )
        } else {
            Some(
                (0..32)
                    .map(|_| char::from(b"0123456789ABCDEF"[self.rng.below(16) as usize]))
                    .collect(),
            )
        };
        Person {
            name,
            guid,
            is_bot,
            hotspot,
        }
    }

    pub(super) fn generated_name(&mut self) -> String {
        let mut s = String::new();
        if self.rng.chance(0.5) {
            s.push('^');
            s.push(char::from(b"0123456789abcdef"[self.rng.below(16) as usize]));
        }
        for _ in 0..self.rng.range_i64(2, 4) {
            if let Some(syl) = self.rng.pick(SYLLABLES) {
                s.push_str(syl);
            }
        }
        s.truncate(35);
        s
    }

    /// A new client in the lowest free slot: connect, userinfo, and a begin a little later.
    pub(super) fn connect_new(&mut self, immediate: bool) {
        let max = self.config.max_clients.min(MAX_CLIENTS);
        let Some(slot) = (0..max).find(|&s| self.slots[s].is_none()) else {
            return;
        };
        let is_bot = self.rng.chance(0.2);
        let person = self.new_person(slot, is_bot);
        let client = Client {
            name: person.name.clone(),
            guid: person.guid.clone(),
            team: Team::Spectator,
            health: 0,
            connected: CON_CONNECTING,
            origin: [0.0; 3],
            weapon: 0,
            is_bot,
            hit_regions: [0; 4],
        };
        self.mock.state_mut().clients[slot] = Some(client);
        let begin_at = self.mock.state().level_time
            + if immediate {
                0
            } else {
                self.rng.range_i64(1, 60) * FRAME_MS
            };
        self.slots[slot] = Some(SlotLife {
            person,
            respawn_at: None,
            begin_at: Some(begin_at),
        });
        self.mock
            .call("et_ClientConnect", (slot as i64, 1i64, i64::from(is_bot)));
        self.mock.call("et_ClientUserinfoChanged", slot as i64);
        if immediate {
            self.begin(slot);
        }
    }

    /// ClientBegin: the client enters a team (a few stay spectators).
    pub(super) fn begin(&mut self, slot: usize) {
        let team = if self.rng.chance(0.08) {
            Team::Spectator
        } else {
            self.smaller_team()
        };
        self.with_client(slot, |c| {
            c.connected = CON_CONNECTED;
            c.team = team;
        });
        if let Some(life) = &mut self.slots[slot] {
            life.begin_at = None;
        }
        self.mock.call("et_ClientBegin", slot as i64);
        self.respawn(slot);
    }

    pub(super) fn smaller_team(&self) -> Team {
        let st = self.mock.state();
        let count = |t: Team| st.clients.iter().flatten().filter(|c| c.team == t).count();
        if count(Team::Axis) <= count(Team::Allies) {
            Team::Axis
        } else {
            Team::Allies
        }
    }

    pub(super) fn respawn(&mut self, slot: usize) {
        let Some(life) = &self.slots[slot] else {
            return;
        };
        let hotspot = self.hotspots.get(life.person.hotspot).copied();
        let team = match self.mock.state().client(slot) {
            Some(c) if c.team.is_playing() && c.connected == CON_CONNECTED => c.team,
            _ => return,
        };
        let center = hotspot.unwrap_or([0.0; 3]);
        let origin = [
            center[0] + self.rng.range_f64(-450.0, 450.0),
            center[1] + self.rng.range_f64(-450.0, 450.0),
            center[2] + self.rng.range_f64(-60.0, 60.0),
        ];
        let arms = if team == Team::Axis {
            AXIS_ARMS
        } else {
            ALLIES_ARMS
        };
        let weapon = self.rng.pick(arms).map_or(0, |a| a.0);
        self.with_client(slot, |c| {
            c.health = 100;
            c.origin = origin;
            c.weapon = weapon;
        });
        if let Some(life) = &mut self.slots[slot] {
            life.respawn_at = None;
        }
        self.spawn_event(slot, false);
    }

    pub(super) fn move_players(&mut self) {
        let now = self.mock.state().level_time;
        for slot in 0..MAX_CLIENTS {
            let Some(life) = &self.slots[slot] else {
                continue;
            };
            if life.begin_at.is_some_and(|t| t <= now) {
                self.begin(slot);
                continue;
            }
            if life.respawn_at.is_some_and(|t| t <= now) {
                self.respawn(slot);
                continue;
            }
            let step = [
                self.rng.range_f64(-12.0, 12.0),
                self.rng.range_f64(-12.0, 12.0),
                self.rng.range_f64(-0.5, 0.5),
            ];
            self.with_client(slot, |c| {
                if c.health > 0 {
                    for (o, s) in c.origin.iter_mut().zip(step) {
                        *o += s;
                    }
                }
            });
        }
    }

    pub(super) fn alive_slots(&self, team: Option<Team>) -> Vec<usize> {
        let st = self.mock.state();
        (0..MAX_CLIENTS)
            .filter(|&s| {
                st.client(s)
                    .is_some_and(|c| c.is_alive_player() && team.is_none_or(|t| c.team == t))
            })
            .collect()
    }

    /// A living player changes team (or goes spectator): MOD_SWITCHTEAM first, as SetTeam does.
    pub(super) fn switch_team_of_random_player(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&slot) = self.rng.pick(&alive) else {
            return;
        };
        self.fire_obituary(slot, slot as i64, MOD_SWITCHTEAM, true);
        let to_spec = self.rng.chance(0.2);
        self.with_client(slot, |c| {
            c.team = if to_spec {
                Team::Spectator
            } else {
                c.team.opponent()
            };
            c.health = 0;
        });
        self.mock.call("et_ClientUserinfoChanged", slot as i64);
        if to_spec {
            // Comes back into a team a while later.
            let at = self.mock.state().level_time + self.rng.range_i64(100, 1000) * FRAME_MS;
            if let Some(life) = &mut self.slots[slot] {
                life.respawn_at = None;
                life.begin_at = Some(at);
            }
        }
    }

    pub(super) fn disconnect_random(&mut self) {
        let occupied: Vec<usize> = (0..MAX_CLIENTS)
            .filter(|&s| self.slots[s].is_some())
            .collect();
        let Some(&slot) = self.rng.pick(&occupied) else {
            return;
        };
        self.fight_disconnect(slot);
        self.mock.call("et_ClientDisconnect", slot as i64);
        self.mock.state_mut().clients[slot] = None;
        self.slots[slot] = None;
    }

    pub(super) fn rename_random(&mut self) {
        let occupied: Vec<usize> = (0..MAX_CLIENTS)
            .filter(|&s| self.slots[s].as_ref().is_some_and(|l| !l.person.is_bot))
            .collect();
        let Some(&slot) = self.rng.pick(&occupied) else {
            return;
        };
        let name = if self.rng.chance(0.3) {
            self.rng
                .pick(&self.hostile.clone())
                .cloned()
                .unwrap_or_default()
        } else {
            self.generated_name().into_bytes()
        };
        self.with_client(slot, |c| c.name = name.clone());
        if let Some(life) = &mut self.slots[slot] {
            life.person.name = name;
        }
        self.mock.call("et_ClientUserinfoChanged", slot as i64);
    }
}
