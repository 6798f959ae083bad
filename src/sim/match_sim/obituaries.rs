//! The simulated obituaries (kills, team kills, suicides, world kills) and what the tracker
//! should record of each.

use super::super::et_mock::MAX_CLIENTS;
use super::super::et_mock::{Team, ENTITYNUM_WORLD};
use super::{MatchSim, ObituaryKind, ObituaryTruth, PlayerAtKill, ALLY_RADIUS};

pub(super) const MOD_SUICIDE: i64 = 33;
pub(super) const MOD_SWITCHTEAM: i64 = 59;
pub(super) const MOD_ARTY: i64 = 26;
/// (weapon held, means of death) pairs for ordinary kills; some MODs differ from the held
/// weapon on purpose (grenades, artillery), as in the engine.
pub(super) const AXIS_ARMS: &[(i64, i64)] =
    &[(3, 8), (3, 8), (2, 6), (41, 51), (5, 15), (4, 16), (3, 26)];
pub(super) const ALLIES_ARMS: &[(i64, i64)] =
    &[(8, 9), (8, 9), (7, 7), (25, 11), (5, 15), (9, 18), (8, 26)];
/// World deaths: drowned, crushed, fall, trigger hurt, exploding map object.
pub(super) const WORLD_MODS: &[i64] = &[27, 30, 32, 35, 36];
/// Self-kills other than /kill: own grenade, own panzerfaust.
pub(super) const SELF_MODS: &[i64] = &[MOD_SUICIDE, MOD_SUICIDE, 4, 15, 18];

impl MatchSim {
    pub(super) fn random_obituary(&mut self) {
        let roll = self.rng.unit();
        if roll < 0.04 {
            self.world_kill();
        } else if roll < 0.09 {
            self.self_kill();
        } else if roll < 0.14 {
            self.team_kill();
        } else {
            self.ordinary_kill(true);
        }
    }

    /// A kill of an opponent; returns whether one happened.
    pub(super) fn ordinary_kill(&mut self, record: bool) -> bool {
        let alive = self.alive_slots(None);
        let Some(&killer) = self.rng.pick(&alive) else {
            return false;
        };
        let Some(team) = self.mock.state().client(killer).map(|c| c.team) else {
            return false;
        };
        let opponents = self.alive_slots(Some(team.opponent()));
        let Some(&victim) = self.pick_near(killer, &opponents) else {
            return false;
        };
        let arms = if team == Team::Axis {
            AXIS_ARMS
        } else {
            ALLIES_ARMS
        };
        // The held weapon's own means of death, now and then artillery called in.
        let held = self.mock.state().client(killer).map_or(0, |c| c.weapon);
        let own = arms.iter().find(|a| a.0 == held).map(|a| a.1);
        let mod_ = match own {
            Some(m) if !self.rng.chance(0.12) => m,
            _ => MOD_ARTY,
        };
        self.fight(killer, victim, mod_, record);
        self.fire_obituary(victim, killer as i64, mod_, record);
        if self.rng.chance(0.1) {
            self.hit_corpse(killer, victim, mod_, record);
        }
        true
    }

    pub(super) fn team_kill(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&killer) = self.rng.pick(&alive) else {
            return;
        };
        let Some(team) = self.mock.state().client(killer).map(|c| c.team) else {
            return;
        };
        let mates: Vec<usize> = self
            .alive_slots(Some(team))
            .into_iter()
            .filter(|&s| s != killer)
            .collect();
        let Some(&victim) = self.pick_near(killer, &mates) else {
            return;
        };
        let mod_ = if self.rng.chance(0.5) { MOD_ARTY } else { 4 };
        self.fight(killer, victim, mod_, true);
        self.fire_obituary(victim, killer as i64, mod_, true);
    }

    pub(super) fn self_kill(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&victim) = self.rng.pick(&alive) else {
            return;
        };
        let mod_ = self.rng.pick(SELF_MODS).copied().unwrap_or(MOD_SUICIDE);
        if mod_ != MOD_SUICIDE {
            // Own splash: et_Damage with attacker == target, which no fight line records.
            let health = self.mock.state().client(victim).map_or(0, |c| c.health);
            self.mock
                .damage(victim as i64, victim as i64, health + 20, 1, mod_);
        }
        self.fire_obituary(victim, victim as i64, mod_, true);
    }

    pub(super) fn world_kill(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&victim) = self.rng.pick(&alive) else {
            return;
        };
        let mod_ = self.rng.pick(WORLD_MODS).copied().unwrap_or(32);
        // Damage without a player attacker (falls, map hazards): not a fight line.
        let health = self.mock.state().client(victim).map_or(0, |c| c.health);
        self.mock
            .damage(victim as i64, ENTITYNUM_WORLD, health + 5, 8, mod_);
        self.fire_obituary(victim, ENTITYNUM_WORLD, mod_, true);
    }

    /// Prefers candidates close to `slot` (fights happen at short range), else any.
    pub(super) fn pick_near<'a>(
        &mut self,
        slot: usize,
        candidates: &'a [usize],
    ) -> Option<&'a usize> {
        let origin = self.mock.state().client(slot).map(|c| c.origin)?;
        let near: Vec<&usize> = candidates
            .iter()
            .filter(|&&c| {
                self.mock
                    .state()
                    .client(c)
                    .is_some_and(|o| dist2(o.origin, origin) < 1500.0 * 1500.0)
            })
            .collect();
        if !near.is_empty() && self.rng.chance(0.85) {
            return near
                .get(self.rng.below(near.len() as u64) as usize)
                .copied();
        }
        self.rng.pick(candidates)
    }

    /// Kills the victim, records the truth, calls `et_Obituary`, schedules the respawn.
    pub(super) fn fire_obituary(&mut self, victim: usize, killer: i64, mod_: i64, record: bool) {
        let gib = self.rng.range_i64(0, 80);
        // A fight before the obituary already took the health to 0 or below.
        self.with_client(victim, |c| {
            if c.health > 0 {
                c.health = -gib;
            }
        });
        let playing = record && self.gamestate_playing;
        if playing {
            if let Some(truth) = self.observe(victim, killer, mod_) {
                if let Some(r) = &mut self.current {
                    r.obituaries.push(truth);
                }
            }
            self.carrier_down(victim);
        }
        self.mock.obituary(victim as i64, killer, mod_);
        self.after_death(victim, killer, mod_, playing);
    }

    /// The ground truth of an obituary, computed from the engine state.
    pub(super) fn observe(&self, victim: usize, killer: i64, mod_: i64) -> Option<ObituaryTruth> {
        let st = self.mock.state();
        let at = |slot: usize| -> Option<PlayerAtKill> {
            st.client(slot).map(|c| PlayerAtKill {
                slot: slot as i64,
                raw_guid: c.guid.clone(),
                name: c.name.clone(),
                team: c.team,
                origin: c.origin,
            })
        };
        let v = at(victim)?;
        let killer_slot = usize::try_from(killer).ok().filter(|&k| k < MAX_CLIENTS);
        let k = match killer_slot {
            Some(k) => Some(at(k)?),
            None => None,
        };
        let kind = match &k {
            None => ObituaryKind::World,
            Some(k) if k.slot == v.slot => ObituaryKind::Suicide,
            Some(k) if k.team == v.team && k.team.is_playing() => ObituaryKind::Teamkill,
            Some(_) => ObituaryKind::Kill,
        };
        let max = self.config.max_clients.min(MAX_CLIENTS);
        let mut killer_allies = Vec::new();
        let mut victim_allies = Vec::new();
        for slot in 0..max {
            if slot == victim || Some(slot) == killer_slot {
                continue;
            }
            let Some(c) = st.client(slot).filter(|c| c.is_alive_player()) else {
                continue;
            };
            if let Some(k) = &k {
                if c.team == k.team && dist2(c.origin, k.origin) <= ALLY_RADIUS * ALLY_RADIUS {
                    killer_allies.extend(at(slot));
                }
            }
            if c.team == v.team && dist2(c.origin, v.origin) <= ALLY_RADIUS * ALLY_RADIUS {
                victim_allies.extend(at(slot));
            }
        }
        let killer_origin = k.as_ref().map_or(v.origin, |k| k.origin);
        let weapon = killer_slot
            .and_then(|s| st.client(s))
            .map_or(0, |c| c.weapon);
        let start = self.current.as_ref().map_or(0, |r| r.start_level_time);
        Some(ObituaryTruth {
            t_ms: st.level_time - start,
            process_ms: st.level_time + st.ms_offset,
            kind,
            killer_slot: killer,
            killer: k,
            victim: v,
            distance: dist2(killer_origin, st.client(victim)?.origin).sqrt(),
            weapon,
            means_of_death: mod_,
            killer_allies,
            victim_allies,
        })
    }
}

fn dist2(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    dx * dx + dy * dy + dz * dz
}
