//! The ground truth of a simulated match: every obituary as it happened, per round, and the
//! names and ids a tracker should derive from it.

use super::super::et_mock::Team;

/// How an obituary is classified in v3 files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObituaryKind {
    Kill,
    Teamkill,
    Suicide,
    World,
}

impl ObituaryKind {
    pub fn label(self) -> &'static str {
        match self {
            ObituaryKind::Kill => "kill",
            ObituaryKind::Teamkill => "teamkill",
            ObituaryKind::Suicide => "suicide",
            ObituaryKind::World => "world",
        }
    }
}

/// A player as seen at the moment of an obituary.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerAtKill {
    pub slot: i64,
    /// `cl_guid` as the userinfo holds it (`None`: key absent).
    pub raw_guid: Option<String>,
    pub name: Vec<u8>,
    pub team: Team,
    pub origin: [f64; 3],
}

impl PlayerAtKill {
    /// The GUID a tracker should record: absent, empty and shared placeholders mean "none".
    pub fn guid(&self) -> Option<&str> {
        effective_guid(self.raw_guid.as_deref())
    }
}

/// `None` for a missing `cl_guid` and for placeholders several clients share.
pub fn effective_guid(raw: Option<&str>) -> Option<&str> {
    match raw {
        None => None,
        Some("") => None,
        Some(g) if g.eq_ignore_ascii_case("unknown") || g.eq_ignore_ascii_case("NO_GUID") => None,
        Some(g) => Some(g),
    }
}

/// One `et_Obituary` call with everything a tracker could know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObituaryTruth {
    /// Level time since the round started.
    pub t_ms: i64,
    /// `trap_Milliseconds()` at the obituary (the v2 module's clock).
    pub process_ms: i64,
    pub kind: ObituaryKind,
    /// The `killer` argument: a slot, or [`ENTITYNUM_WORLD`].
    pub killer_slot: i64,
    /// `None` for world kills.
    pub killer: Option<PlayerAtKill>,
    pub victim: PlayerAtKill,
    pub distance: f64,
    /// `ps.weapon` of the killer (0 for the world).
    pub weapon: i64,
    pub means_of_death: i64,
    /// Alive teammates within 300 units of the killer, in slot order.
    pub killer_allies: Vec<PlayerAtKill>,
    /// Alive teammates within 300 units of the victim, in slot order.
    pub victim_allies: Vec<PlayerAtKill>,
}

/// How a round's VM ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundStatus {
    /// Reached intermission.
    Complete,
    /// Cut short by a map change, vote or restart.
    Incomplete,
}

impl RoundStatus {
    pub fn label(self) -> &'static str {
        match self {
            RoundStatus::Complete => "complete",
            RoundStatus::Incomplete => "incomplete",
        }
    }
}

/// One played round (one VM that reached `GS_PLAYING`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTruth {
    pub map: String,
    pub gametype: i64,
    /// `g_currentRound` while the round was played (0-based).
    pub current_round: i64,
    /// Round number as players know it (1-based).
    pub round: i64,
    pub status: RoundStatus,
    /// The server id the tracker uses ([`expected_server_id`]).
    pub server_id: String,
    /// The tracker's round counter (`etprox_round_seq`) for this round: 1 for the first round
    /// the server process begins.
    pub seq: i64,
    /// Level time passed to `et_InitGame`.
    pub init_level_time: i64,
    /// Level time at which `gamestate` was 0 first.
    pub start_level_time: i64,
    /// `os.time()` when the round started and ended (the tracker's clock).
    pub start_unix: i64,
    pub end_unix: i64,
    pub obituaries: Vec<ObituaryTruth>,
    /// Obituaries fired during this round's warm-up VM: no round file may contain them.
    pub warmup_obituaries: usize,
    /// Damage, shots, revives, objectives, spawns and presence of the round's play.
    pub fight: FightTruth,
}

impl RoundTruth {
    /// The file name the tracker must use (UTC end time).
    pub fn v3_file_name(&self) -> String {
        let stamp = chrono::DateTime::from_timestamp(self.end_unix, 0)
            .map(|t| t.format("%Y-%m-%d-%H%M%S").to_string())
            .unwrap_or_default();
        let map: String = self
            .map
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{stamp}-{map}-round-{}_etprox_{}_{}.txt",
            self.round, self.server_id, self.seq
        )
    }

    /// The round id the tracker must write.
    pub fn round_id(&self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.server_id, self.start_unix, self.seq, self.map, self.round
        )
    }
}

/// The server id the tracker derives (docs/tracker.md): `etprox_server_id` reduced to
/// lower-case `[a-z0-9-]`, or when that is empty, `sv_hostname` (colour codes removed) reduced
/// the same way, `-`, and `net_port` (27960 when unset); at most 40 characters.
pub fn expected_server_id(configured: &[u8], hostname: &[u8], net_port: &[u8]) -> String {
    fn slug(text: &[u8], max: usize) -> String {
        let mut out = String::new();
        for &b in text {
            let c = b.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                out.push(c as char);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        out.truncate(max);
        out.trim_end_matches('-').to_string()
    }
    let id = slug(configured, 40);
    if !id.is_empty() {
        return id;
    }
    let port = std::str::from_utf8(net_port)
        .ok()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|&p| p > 0)
        .map_or_else(|| "27960".to_string(), |p| p.to_string());
    let name = crate::round_file::name::strip_colors(hostname);
    let mut base = slug(&name, 40);
    base.truncate(40 - port.len() - 1);
    let base = base.trim_end_matches('-');
    let base = if base.is_empty() { "etserver" } else { base };
    format!("{base}-{port}")
}

/// Everything that happened in a simulation run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchTruth {
    pub seed: u64,
    pub rounds: Vec<RoundTruth>,
}

impl MatchTruth {
    pub fn obituary_count(&self) -> usize {
        self.rounds.iter().map(|r| r.obituaries.len()).sum()
    }
}

// ----- The fight (tracker 1.2) ---------------------------------------------------------------

/// The identity that held a slot when a fight event happened: what a `players` line names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Who {
    pub slot: i64,
    /// The GUID a tracker records ([`effective_guid`]); `None` without a usable `cl_guid`.
    pub guid: Option<String>,
    pub name: Vec<u8>,
    pub team: Team,
}

impl Who {
    /// The key the importer gives this player: the GUID, or `NOGUID:<name>` without one.
    pub fn player_key(&self) -> String {
        match &self.guid {
            Some(g) => g.clone(),
            None => format!("NOGUID:{}", String::from_utf8_lossy(&self.name)),
        }
    }
}

/// One `et_Damage` between two different players during play.
#[derive(Debug, Clone, PartialEq)]
pub struct DamageTruth {
    pub t_ms: i64,
    pub attacker: Who,
    pub target: Who,
    /// The engine's `damage` argument (may exceed the health left).
    pub damage: i64,
    /// The target's health before the hit (≤ 0 for a corpse).
    pub health: i64,
    pub means_of_death: i64,
    /// The weapon that fired the hit (0 when no `et_WeaponFire` shot made it, e.g. artillery).
    pub weapon: i64,
    pub headshot: bool,
    /// Same playing team (friendly fire).
    pub team_damage: bool,
    /// `DAMAGE_RADIUS`: splash.
    pub splash: bool,
}

impl DamageTruth {
    /// The health the hit really took: `clamp(min(damage, health), 0)`.
    pub fn effective(&self) -> i64 {
        self.damage.min(self.health).max(0)
    }

    /// A hit that counts for accuracy: fired by a weapon, on a living target.
    pub fn is_hit(&self) -> bool {
        self.weapon != 0 && self.health > 0
    }
}

/// One medic revive (`et_Revive`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviveTruth {
    pub t_ms: i64,
    pub revived: Who,
    pub medic: Option<Who>,
    /// The revived player's position (the body's).
    pub origin: [f64; 3],
    /// Time since the obituary that put the player down, when it fell in this round's play.
    pub down_ms: Option<i64>,
}

/// What an objective line says was done: the file format's own actions.
pub use crate::round_file::fight::ObjectiveAction;

/// One objective play.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveTruth {
    pub t_ms: i64,
    /// `None` for a return by time-out.
    pub player: Option<Who>,
    /// The acting team.
    pub team: Team,
    pub action: ObjectiveAction,
    /// The track, the item's message, or the announcement (`secure`, `build`).
    pub target: Vec<u8>,
    pub origin: Option<[f64; 3]>,
}

/// One `et_ClientSpawn` during play.
#[derive(Debug, Clone, PartialEq)]
pub struct SpawnTruth {
    pub t_ms: i64,
    pub who: Who,
    pub revived: bool,
}

/// The living AXIS/ALLIES players at the first frame of a second of play, in slot order.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceTruth {
    pub t_s: i64,
    pub samples: Vec<(Who, [f64; 2])>,
}

/// Everything of a round's fight besides the obituaries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FightTruth {
    pub damage: Vec<DamageTruth>,
    /// Shots fired during play per identity and weapon (`et_WeaponFire`).
    pub shots: std::collections::BTreeMap<(Who, i64), u64>,
    pub revives: Vec<ReviveTruth>,
    pub objectives: Vec<ObjectiveTruth>,
    pub spawns: Vec<SpawnTruth>,
    pub presence: Vec<PresenceTruth>,
    /// Hits and shots the module cancelled by its return value (must stay 0).
    pub cancelled: u64,
}

/// One player's fight over some rounds, keyed like the importer keys players.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlayerFight {
    /// Effective damage to opponents ([`DamageTruth::effective`]), team damage excluded.
    pub damage_given: i64,
    pub damage_received: i64,
    /// Effective damage to and from teammates.
    pub team_damage_given: i64,
    pub team_damage_received: i64,
    /// Per weapon: shots fired, hits ([`DamageTruth::is_hit`]) and headshots among them.
    pub shots: std::collections::BTreeMap<i64, u64>,
    pub hits: std::collections::BTreeMap<i64, u64>,
    pub headshots: std::collections::BTreeMap<i64, u64>,
    pub revives_given: u64,
    pub revives_received: u64,
    pub objectives: std::collections::BTreeMap<ObjectiveAction, u64>,
    /// Lives begun during play: spawns, revives included.
    pub lives: u64,
}

impl FightTruth {
    /// Adds this round's fight to per-player totals.
    pub fn add_to(&self, out: &mut std::collections::BTreeMap<String, PlayerFight>) {
        fn at<'a>(
            out: &'a mut std::collections::BTreeMap<String, PlayerFight>,
            w: &Who,
        ) -> &'a mut PlayerFight {
            out.entry(w.player_key()).or_default()
        }
        for d in &self.damage {
            let e = d.effective();
            if d.team_damage {
                at(out, &d.attacker).team_damage_given += e;
                at(out, &d.target).team_damage_received += e;
            } else {
                at(out, &d.attacker).damage_given += e;
                at(out, &d.target).damage_received += e;
            }
            if d.is_hit() {
                let a = at(out, &d.attacker);
                *a.hits.entry(d.weapon).or_default() += 1;
                if d.headshot {
                    *a.headshots.entry(d.weapon).or_default() += 1;
                }
            }
        }
        for ((w, weapon), n) in &self.shots {
            *at(out, w).shots.entry(*weapon).or_default() += n;
        }
        for r in &self.revives {
            at(out, &r.revived).revives_received += 1;
            if let Some(m) = &r.medic {
                at(out, m).revives_given += 1;
            }
        }
        for o in &self.objectives {
            if let Some(p) = &o.player {
                *at(out, p).objectives.entry(o.action).or_default() += 1;
            }
        }
        for s in &self.spawns {
            at(out, &s.who).lives += 1;
        }
    }

    /// Effective damage per (attacker key, target key), team damage included.
    pub fn add_pair_damage(&self, out: &mut std::collections::BTreeMap<(String, String), i64>) {
        for d in &self.damage {
            *out.entry((d.attacker.player_key(), d.target.player_key()))
                .or_default() += d.effective();
        }
    }
}

impl MatchTruth {
    /// Per-player fight totals over every round.
    pub fn player_fight(&self) -> std::collections::BTreeMap<String, PlayerFight> {
        let mut out = std::collections::BTreeMap::new();
        for r in &self.rounds {
            r.fight.add_to(&mut out);
        }
        out
    }

    /// Effective damage between each pair of players over every round.
    pub fn pair_damage(&self) -> std::collections::BTreeMap<(String, String), i64> {
        let mut out = std::collections::BTreeMap::new();
        for r in &self.rounds {
            r.fight.add_pair_damage(&mut out);
        }
        out
    }
}
