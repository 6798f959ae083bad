//! The rest of the fight (tracker 1.2): damage and shots around each kill, misses, headshots,
//! team damage, medic revives, spawns per wave, the objective runs of a map (carrier, dynamite,
//! constructions), chat lines that fake event texts, and presence; each recorded in the truth
//! as the tracker should see it.

use super::super::et_mock::{Team, MAX_CLIENTS};
use super::obituaries::MOD_SWITCHTEAM;
use super::{
    effective_guid, DamageTruth, FightTruth, MatchSim, ObjectiveAction, ObjectiveTruth,
    PresenceTruth, ReviveTruth, SpawnTruth, Who, FRAME_MS,
};

/// `DAMAGE_RADIUS`: splash.
const DAMAGE_RADIUS: i64 = 1;
/// `DAMAGE_DISTANCEFALLOFF`, set by SMG and pistol bullets.
const DAMAGE_DISTANCEFALLOFF: i64 = 0x40;
const WP_MEDIC_SYRINGE: i64 = 11;
/// The means of death a gun's bullets carry (weaponTable), all headshot-capable.
const GUNS: &[(i64, i64)] = &[(2, 6), (3, 8), (7, 7), (8, 9), (25, 11), (41, 51)];
/// Launchers whose explosive mod comes with an `et_WeaponFire` shot.
const LAUNCHERS: &[(i64, i64)] = &[(5, 15), (4, 16), (9, 18)];
/// Respawn wave periods (ms) of the two teams.
const WAVE_AXIS_MS: i64 = 30_000;
const WAVE_ALLIES_MS: i64 = 20_000;
/// A dropped item returns by itself after 30 s.
const DROPPED_RETURN_MS: i64 = 30_000;

/// Chat lines whose text imitates the engine's event lines: a tracker must ignore them.
const FAKE_CHAT: &[&str] = &[
    "say: ^7Bob^7: Item: 3 team_CTF_redflag\n",
    "say: popup: ^7allies^7 stole \"the Gold Crate\"\n",
    "sayteam: legacy: Repair: 2\n",
    "say: x: Dynamite_Plant: 1 the Bank Doors\n",
    "say: y: legacy announce: \"^7Allies have secured the Gold Crate!\"\n",
    "vsay: z: Objective_Destroyed: 4 the Tank Barrier\n",
    " Item: 5 team_CTF_blueflag\n",
    "Item: 5 team_CTF_blueflag and more\n",
    "legacy popup: ^7allies^7 stole \"x\"\nlegacy announce: \"^7secured\"\n",
];

/// What a map offers to fight over.
struct MapObjectives {
    /// The `message` of the item the Allies steal (`team_CTF_redflag`), if any.
    item: Option<&'static str>,
    tracks: &'static [&'static str],
    builds: &'static [&'static str],
}

fn map_objectives(map: &str) -> MapObjectives {
    match map {
        "goldrush" => MapObjectives {
            item: Some("the Gold Crate"),
            tracks: &["the Tank Barrier #1", "the Bank Doors"],
            builds: &["Command Post", "Tank"],
        },
        "supply" => MapObjectives {
            item: Some("Supply Crates"),
            tracks: &["the Forward Bunker Door"],
            builds: &["Depot Gate", "Command Post"],
        },
        "radar" => MapObjectives {
            item: Some("West Radar Parts"),
            tracks: &["the Main Entrance", "the Side Entrance"],
            builds: &["Command Post"],
        },
        _ => MapObjectives {
            item: None,
            tracks: &["the Old City Wall", "the Anti-Tank Gun"],
            builds: &["the Assault Ramp", "Command Post"],
        },
    }
}

#[derive(Debug, Clone, Default)]
enum Carry {
    #[default]
    AtBase,
    Carried {
        slot: usize,
    },
    Dropped {
        since: i64,
    },
}

#[derive(Debug, Clone)]
struct Planted {
    track: &'static str,
    planter: usize,
    who: Who,
    origin: [f64; 3],
    explodes_at: i64,
}

#[derive(Debug, Clone)]
struct RevivePlan {
    victim: Who,
    medic: usize,
    at: i64,
}

/// The simulator's memory of the fight within one round.
#[derive(Debug, Clone)]
pub(super) struct FightState {
    /// t_ms of each slot's last obituary during play.
    down_at: Vec<Option<i64>>,
    revives: Vec<RevivePlan>,
    carry: Carry,
    planted: Vec<Planted>,
    last_presence_s: i64,
    /// The last announcement printed: (level time, text).
    last_announce: Option<(i64, String)>,
}

impl Default for FightState {
    fn default() -> Self {
        Self {
            down_at: vec![None; MAX_CLIENTS],
            revives: Vec::new(),
            carry: Carry::AtBase,
            planted: Vec::new(),
            last_presence_s: -1,
            last_announce: None,
        }
    }
}

impl MatchSim {
    /// The identity holding `slot` now.
    pub(super) fn who(&self, slot: usize) -> Option<Who> {
        let st = self.mock.state();
        st.client(slot).map(|c| Who {
            slot: slot as i64,
            guid: effective_guid(c.guid.as_deref()).map(str::to_string),
            name: c.name.clone(),
            team: c.team,
        })
    }

    fn origin(&self, slot: usize) -> [f64; 3] {
        self.mock
            .state()
            .client(slot)
            .map_or([0.0; 3], |c| c.origin)
    }

    fn health(&self, slot: usize) -> i64 {
        self.mock.state().client(slot).map_or(0, |c| c.health)
    }

    fn now_ms(&self) -> i64 {
        let start = self.current.as_ref().map_or(0, |r| r.start_level_time);
        self.mock.state().level_time - start
    }

    /// The round's fight record while play is on (events outside play are not recorded).
    fn fight_truth(&mut self) -> Option<&mut FightTruth> {
        if !self.gamestate_playing {
            return None;
        }
        self.current.as_mut().map(|r| &mut r.fight)
    }

    pub(super) fn fight_round_reset(&mut self) {
        self.fight = FightState::default();
    }

    /// `et_WeaponFire`, counted in the truth when `record`.
    fn shoot(&mut self, slot: usize, weapon: i64, record: bool) {
        let overridden = self.mock.weapon_fire(slot as i64, weapon);
        let who = self.who(slot);
        if let (Some(f), Some(who)) = (self.fight_truth().filter(|_| record), who) {
            *f.shots.entry((who, weapon)).or_default() += 1;
            f.cancelled += u64::from(overridden);
        }
    }

    /// One hit: the engine raises the hit-region counter, calls `et_Damage`, then lowers the
    /// target's health.
    #[allow(clippy::too_many_arguments)]
    fn hit(
        &mut self,
        attacker: usize,
        target: usize,
        damage: i64,
        flags: i64,
        mod_: i64,
        weapon: i64,
        headshot: bool,
        record: bool,
    ) {
        let health = self.health(target);
        self.with_client(attacker, |c| {
            if headshot {
                c.hit_regions[0] += 1;
            } else if weapon != 0 && health > 0 && GUNS.iter().any(|g| g.1 == mod_) {
                c.hit_regions[2] += 1;
            }
        });
        let (a, t) = (self.who(attacker), self.who(target));
        let cancelled = self
            .mock
            .damage(target as i64, attacker as i64, damage, flags, mod_);
        let t_ms = self.now_ms();
        if let (Some(f), Some(a), Some(t)) = (self.fight_truth().filter(|_| record), a, t) {
            f.cancelled += u64::from(cancelled);
            let team_damage = a.team == t.team && a.team.is_playing();
            f.damage.push(DamageTruth {
                t_ms,
                attacker: a,
                target: t,
                damage,
                health,
                means_of_death: mod_,
                weapon,
                headshot,
                team_damage,
                splash: flags & DAMAGE_RADIUS != 0,
            });
        }
        self.with_client(target, |c| c.health -= damage);
    }

    /// The shots and hits that bring `victim` down before its obituary: bursts with misses
    /// and headshots for guns, one splash hit for explosives (and artillery, which fires no
    /// `et_WeaponFire`).
    pub(super) fn fight(&mut self, killer: usize, victim: usize, mod_: i64, record: bool) {
        let held = self.mock.state().client(killer).map_or(0, |c| c.weapon);
        let gun = GUNS.iter().find(|g| g.1 == mod_ && g.0 == held).copied();
        if let Some((weapon, _)) = gun {
            // Sometimes the victim shoots back first and grazes the killer.
            let v_weapon = self.mock.state().client(victim).map_or(0, |c| c.weapon);
            if self.rng.chance(0.3) {
                if let Some(&(w, m)) = GUNS.iter().find(|g| g.0 == v_weapon) {
                    self.shoot(victim, w, record);
                    let dmg = self.rng.range_i64(5, 14);
                    if self.health(killer) > dmg {
                        self.hit(
                            victim,
                            killer,
                            dmg,
                            DAMAGE_DISTANCEFALLOFF,
                            m,
                            w,
                            false,
                            record,
                        );
                    }
                }
            }
            for _ in 0..40 {
                if self.health(victim) <= 0 {
                    break;
                }
                for _ in 0..self.rng.range_i64(1, 4) {
                    self.shoot(killer, weapon, record);
                }
                if self.rng.chance(0.45) {
                    let headshot = self.rng.chance(0.2);
                    let base = self.rng.range_i64(12, 27);
                    let dmg = if headshot { (2 * base).max(50) } else { base };
                    self.hit(
                        killer,
                        victim,
                        dmg,
                        DAMAGE_DISTANCEFALLOFF,
                        mod_,
                        weapon,
                        headshot,
                        record,
                    );
                }
            }
            let left = self.health(victim);
            if left > 0 {
                self.shoot(killer, weapon, record);
                self.hit(
                    killer,
                    victim,
                    left + 10,
                    DAMAGE_DISTANCEFALLOFF,
                    mod_,
                    weapon,
                    false,
                    record,
                );
            }
            return;
        }
        let launcher = LAUNCHERS.iter().find(|l| l.1 == mod_ && l.0 == held);
        let weapon = match launcher {
            Some(&(w, _)) => {
                self.shoot(killer, w, record);
                w
            }
            None => 0,
        };
        let dmg = self.health(victim).max(0) + self.rng.range_i64(1, 60);
        self.hit(
            killer,
            victim,
            dmg,
            DAMAGE_RADIUS,
            mod_,
            weapon,
            false,
            record,
        );
    }

    /// Gibbing: a hit on the body after the obituary (the target's health is ≤ 0).
    pub(super) fn hit_corpse(&mut self, killer: usize, victim: usize, mod_: i64, record: bool) {
        let dmg = self.rng.range_i64(20, 41);
        self.hit(killer, victim, dmg, DAMAGE_RADIUS, mod_, 0, false, record);
    }

    /// A carrier's obituary drops the item where the carrier fell.
    pub(super) fn carrier_down(&mut self, victim: usize) {
        let Carry::Carried { slot } = self.fight.carry else {
            return;
        };
        if slot != victim {
            return;
        }
        let Some(item) = map_objectives(&self.current_map()).item else {
            return;
        };
        let now = self.mock.state().level_time;
        self.fight.carry = Carry::Dropped { since: now };
        let origin = self.origin(victim);
        self.objective(
            Some(victim),
            Team::Allies,
            ObjectiveAction::Drop,
            item,
            Some(origin),
        );
    }

    /// Death bookkeeping: the time down, a medic on the way (sometimes), the next wave.
    pub(super) fn after_death(&mut self, victim: usize, killer: i64, mod_: i64, playing: bool) {
        let now = self.mock.state().level_time;
        let mut at = now + self.rng.range_i64(20, 400) * FRAME_MS;
        if playing {
            self.fight.down_at[victim] = Some(self.now_ms());
            let team = self.mock.state().client(victim).map(|c| c.team);
            if let (Some(team), Some(r)) = (team, &self.current) {
                let period = if team == Team::Axis {
                    WAVE_AXIS_MS
                } else {
                    WAVE_ALLIES_MS
                };
                let since = now - r.start_level_time;
                at = r.start_level_time + (since / period + 1) * period;
            }
            let by_player = (0..MAX_CLIENTS as i64).contains(&killer) && killer != victim as i64;
            let body_left = self.health(victim) > -50;
            if by_player && mod_ != MOD_SWITCHTEAM && body_left && self.rng.chance(0.45) {
                let medics: Vec<usize> = team
                    .map(|t| self.alive_slots(Some(t)))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|&s| s != victim)
                    .collect();
                let medic = self.rng.pick(&medics).copied();
                if let (Some(medic), Some(who)) = (medic, self.who(victim)) {
                    let when = now + self.rng.range_i64(30, 200) * FRAME_MS;
                    self.fight.revives.push(RevivePlan {
                        victim: who,
                        medic,
                        at: when,
                    });
                }
            }
        }
        if let Some(life) = &mut self.slots[victim] {
            life.respawn_at = Some(at.max(now + FRAME_MS));
        }
    }

    /// `et_ClientSpawn` and its truth.
    pub(super) fn spawn_event(&mut self, slot: usize, revived: bool) {
        self.mock.spawn(slot as i64, revived, false, true);
        let t_ms = self.now_ms();
        let who = self.who(slot);
        if let (Some(f), Some(who)) = (self.fight_truth(), who) {
            f.spawns.push(SpawnTruth { t_ms, who, revived });
        }
    }

    pub(super) fn fight_disconnect(&mut self, slot: usize) {
        if matches!(self.fight.carry, Carry::Carried { slot: s } if s == slot) {
            self.fight.carry = Carry::AtBase;
        }
        self.fight.planted.retain(|p| p.planter != slot);
        self.fight.down_at[slot] = None;
    }

    /// Everything of the fight that is not a kill, once per frame of play.
    pub(super) fn fight_frame(&mut self) {
        self.revives_due();
        self.misses();
        let per_frame = |per_s: f64| per_s * FRAME_MS as f64 / 1000.0;
        if self.rng.chance(per_frame(0.05)) {
            self.team_graze();
        }
        self.carrier_run();
        self.dynamite();
        if self.rng.chance(per_frame(1.0 / 45.0)) {
            self.construction();
        }
        if self.rng.chance(per_frame(1.0 / 20.0)) {
            let line = self.rng.pick(FAKE_CHAT).copied().unwrap_or("");
            self.mock.print(line);
        }
    }

    /// Shots that hit nothing.
    fn misses(&mut self) {
        for slot in self.alive_slots(None) {
            if self.rng.chance(0.008) {
                let weapon = self.mock.state().client(slot).map_or(0, |c| c.weapon);
                for _ in 0..self.rng.range_i64(1, 4) {
                    self.shoot(slot, weapon, true);
                }
            }
        }
    }

    /// Friendly fire that does not kill: a grenade's splash on a teammate.
    fn team_graze(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&a) = self.rng.pick(&alive) else {
            return;
        };
        let Some(team) = self.mock.state().client(a).map(|c| c.team) else {
            return;
        };
        let mates: Vec<usize> = self
            .alive_slots(Some(team))
            .into_iter()
            .filter(|&s| s != a)
            .collect();
        let Some(&b) = self.rng.pick(&mates) else {
            return;
        };
        let dmg = self.rng.range_i64(5, 20);
        if self.health(b) > dmg {
            let mod_ = if team == Team::Axis { 16 } else { 18 };
            self.hit(a, b, dmg, DAMAGE_RADIUS, mod_, 0, false, true);
        }
    }

    /// Medics reach the bodies they set out for, unless the player respawned (tapped out),
    /// left, or the medic died on the way.
    fn revives_due(&mut self) {
        let now = self.mock.state().level_time;
        let (due, later): (Vec<RevivePlan>, Vec<RevivePlan>) =
            std::mem::take(&mut self.fight.revives)
                .into_iter()
                .partition(|p| p.at <= now);
        self.fight.revives = later;
        for plan in due {
            let victim = plan.victim.slot as usize;
            let still_down = self.who(victim).as_ref() == Some(&plan.victim)
                && self.health(victim) <= 0
                && self.slots[victim]
                    .as_ref()
                    .is_some_and(|l| l.respawn_at.is_some());
            let medic_ok = self
                .mock
                .state()
                .client(plan.medic)
                .is_some_and(|c| c.is_alive_player() && c.team == plan.victim.team);
            if still_down && medic_ok {
                self.revive(victim, plan.medic);
            }
        }
    }

    /// A full syringe revive, in the engine's order: the shot, ClientSpawn(revived), the
    /// revive health, et_Revive, the `Medic_Revive:` log line.
    fn revive(&mut self, victim: usize, medic: usize) {
        self.shoot(medic, WP_MEDIC_SYRINGE, true);
        self.with_client(victim, |c| c.health = 100);
        self.spawn_event(victim, true);
        self.with_client(victim, |c| c.health = 50);
        let now = self.mock.state().level_time;
        let (revived, by) = (self.who(victim), self.who(medic));
        let origin = self.origin(victim);
        self.mock.revive(victim as i64, medic as i64, now + 3000);
        let t_ms = self.now_ms();
        let down = self.fight.down_at[victim].take();
        if let (Some(f), Some(revived)) = (self.fight_truth(), revived) {
            f.revives.push(ReviveTruth {
                t_ms,
                revived,
                medic: by,
                origin,
                down_ms: down.map(|d| t_ms - d),
            });
        }
        self.mock
            .print(&format!("Medic_Revive: {medic} {victim}\n"));
        if let Some(life) = &mut self.slots[victim] {
            life.respawn_at = None;
        }
    }

    fn current_map(&self) -> String {
        self.current
            .as_ref()
            .map(|r| r.map.clone())
            .unwrap_or_default()
    }

    fn objective(
        &mut self,
        slot: Option<usize>,
        team: Team,
        action: ObjectiveAction,
        target: &str,
        origin: Option<[f64; 3]>,
    ) {
        let t_ms = self.now_ms();
        let player = slot.and_then(|s| self.who(s));
        if let Some(f) = self.fight_truth() {
            f.objectives.push(ObjectiveTruth {
                t_ms,
                player,
                team,
                action,
                target: target.as_bytes().to_vec(),
                origin,
            });
        }
    }

    fn announce(&mut self, text: &str) {
        self.mock.print(&format!("legacy announce: \"^7{text}\"\n"));
        let now = self.mock.state().level_time;
        self.fight.last_announce = Some((now, text.to_string()));
    }

    /// The item's journey: stolen, carried, dropped when the carrier dies, picked up again,
    /// returned by a defender or by time-out, or secured.
    fn carrier_run(&mut self) {
        let Some(item) = map_objectives(&self.current_map()).item else {
            return;
        };
        let per_frame = |per_s: f64| per_s * FRAME_MS as f64 / 1000.0;
        let now = self.mock.state().level_time;
        match self.fight.carry.clone() {
            Carry::AtBase => {
                if self.rng.chance(per_frame(1.0 / 40.0)) {
                    self.steal(item);
                }
            }
            Carry::Carried { slot } => {
                if self.rng.chance(per_frame(1.0 / 25.0)) {
                    let origin = self.origin(slot);
                    let text = format!("Allies have secured {item}!");
                    self.announce(&text);
                    self.objective(
                        Some(slot),
                        Team::Allies,
                        ObjectiveAction::Secure,
                        &text,
                        Some(origin),
                    );
                    self.fight.carry = Carry::AtBase;
                }
            }
            Carry::Dropped { since } => {
                if now - since >= DROPPED_RETURN_MS {
                    self.mock
                        .print(&format!("legacy popup: ^7axis^7 returned \"{item}\"\n"));
                    self.objective(None, Team::Axis, ObjectiveAction::Return, item, None);
                    self.fight.carry = Carry::AtBase;
                } else if self.rng.chance(per_frame(1.0 / 40.0)) {
                    let defenders = self.alive_slots(Some(Team::Axis));
                    if let Some(&d) = self.rng.pick(&defenders) {
                        self.mock.print(&format!("Item: {d} team_CTF_redflag\n"));
                        self.mock
                            .print(&format!("legacy popup: ^7axis^7 returned \"{item}\"\n"));
                        let origin = self.origin(d);
                        self.objective(
                            Some(d),
                            Team::Axis,
                            ObjectiveAction::Return,
                            item,
                            Some(origin),
                        );
                        self.fight.carry = Carry::AtBase;
                    }
                } else if self.rng.chance(per_frame(1.0 / 40.0)) {
                    self.steal(item);
                }
            }
        }
    }

    fn steal(&mut self, item: &str) {
        let attackers = self.alive_slots(Some(Team::Allies));
        let Some(&c) = self.rng.pick(&attackers) else {
            return;
        };
        self.mock.print(&format!("Item: {c} team_CTF_redflag\n"));
        self.mock
            .print(&format!("legacy popup: ^7allies^7 stole \"{item}\"\n"));
        let origin = self.origin(c);
        self.objective(
            Some(c),
            Team::Allies,
            ObjectiveAction::Steal,
            item,
            Some(origin),
        );
        self.fight.carry = Carry::Carried { slot: c };
        // Maps announce the theft too; that is no secure.
        self.announce(&format!("Allies have stolen {item}!"));
    }

    /// Dynamite: planted by an attacker, defused by a defender or exploding 30 s later.
    fn dynamite(&mut self) {
        let objectives = map_objectives(&self.current_map());
        let per_frame = |per_s: f64| per_s * FRAME_MS as f64 / 1000.0;
        let now = self.mock.state().level_time;
        let free: Vec<&'static str> = objectives
            .tracks
            .iter()
            .copied()
            .filter(|t| !self.fight.planted.iter().any(|p| p.track == *t))
            .collect();
        if !free.is_empty() && self.rng.chance(per_frame(1.0 / 50.0)) {
            let attackers = self.alive_slots(Some(Team::Allies));
            let track = self.rng.pick(&free).copied();
            if let (Some(&p), Some(track)) = (self.rng.pick(&attackers), track) {
                self.mock
                    .print(&format!("legacy popup: ^7allies^7 planted \"{track}\"\n"));
                self.mock.print(&format!("Dynamite_Plant: {p} {track}\n"));
                let origin = self.origin(p);
                self.objective(
                    Some(p),
                    Team::Allies,
                    ObjectiveAction::Plant,
                    track,
                    Some(origin),
                );
                if let Some(who) = self.who(p) {
                    self.fight.planted.push(Planted {
                        track,
                        planter: p,
                        who,
                        origin,
                        explodes_at: now + 30_000,
                    });
                }
            }
        }
        let planted = std::mem::take(&mut self.fight.planted);
        for p in planted {
            if p.explodes_at <= now {
                self.mock
                    .print(&format!("Objective_Destroyed: {} {}\n", p.planter, p.track));
                let t_ms = self.now_ms();
                if let Some(f) = self.fight_truth() {
                    f.objectives.push(ObjectiveTruth {
                        t_ms,
                        team: p.who.team,
                        player: Some(p.who.clone()),
                        action: ObjectiveAction::Destroy,
                        target: p.track.as_bytes().to_vec(),
                        origin: Some(p.origin),
                    });
                }
                self.announce(&format!("Allies have destroyed {}!", p.track));
                continue;
            }
            if self.rng.chance(per_frame(1.0 / 15.0)) {
                let defenders = self.alive_slots(Some(Team::Axis));
                if let Some(&d) = self.rng.pick(&defenders) {
                    self.mock
                        .print(&format!("Dynamite_Diffuse: {d} {}\n", p.track));
                    self.mock
                        .print(&format!("legacy popup: ^7axis^7 defused \"{}\"\n", p.track));
                    let origin = self.origin(d);
                    self.objective(
                        Some(d),
                        Team::Axis,
                        ObjectiveAction::Defuse,
                        p.track,
                        Some(origin),
                    );
                    continue;
                }
            }
            self.fight.planted.push(p);
        }
    }

    /// A construction finished (announced by the map script first), or an MG42 repaired
    /// (no announcement).
    fn construction(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&e) = self.rng.pick(&alive) else {
            return;
        };
        let team = self.mock.state().client(e).map_or(Team::Free, |c| c.team);
        let builds = map_objectives(&self.current_map()).builds;
        if self.rng.chance(0.7) {
            if let Some(name) = self.rng.pick(builds).copied() {
                let side = if team == Team::Axis { "Axis" } else { "Allies" };
                self.announce(&format!("{side} have constructed the {name}!"));
            }
        }
        self.mock.print(&format!("Repair: {e}\n"));
        let now = self.mock.state().level_time;
        let target = match &self.fight.last_announce {
            Some((at, text)) if *at == now => text.clone(),
            _ => String::new(),
        };
        let origin = self.origin(e);
        self.objective(Some(e), team, ObjectiveAction::Build, &target, Some(origin));
    }

    /// At the first frame of each new second of play: every living AXIS/ALLIES player.
    pub(super) fn presence_tick(&mut self) {
        if !self.gamestate_playing {
            return;
        }
        let Some(start) = self.current.as_ref().map(|r| r.start_level_time) else {
            return;
        };
        let t_s = (self.mock.state().level_time - start).div_euclid(1000);
        if t_s <= self.fight.last_presence_s {
            return;
        }
        self.fight.last_presence_s = t_s;
        let max = self.config.max_clients.min(MAX_CLIENTS);
        let samples: Vec<(Who, [f64; 2])> = (0..max)
            .filter(|&s| {
                self.mock
                    .state()
                    .client(s)
                    .is_some_and(|c| c.is_alive_player())
            })
            .filter_map(|s| {
                let o = self.origin(s);
                self.who(s).map(|w| (w, [o[0], o[1]]))
            })
            .collect();
        if let Some(f) = self.fight_truth() {
            f.presence.push(PresenceTruth { t_s, samples });
        }
    }
}
