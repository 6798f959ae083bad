//! The fight sections of a v3 file (tracker 1.2, docs/round-file-format.md "Fight sections"):
//! the model, one parser per line kind, and the means-of-death → weapon mapping that makes
//! shots and hits of one weapon meet.
//!
//! Every line that names a player names it by its index `p` in the players section; a line whose
//! index is not there is rejected (with its line number), never guessed.

use std::borrow::Cow;

use super::escape::unescape;
use super::{field, Line, Team};

/// Presence encodes the roster index in two base-64 digits.
pub const MAX_ROSTER_INDEX: u16 = 4095;

/// More shots than any weapon fires in a day of play (an MG42 fires 20 a second); a line
/// beyond is refused, so the per-day sums stay far from the end of their INTEGER columns.
pub const MAX_SHOTS: i32 = 2_000_000;

/// Longest GUID or name a players line may hold.
pub const MAX_IDENTITY_BYTES: usize = 512;

/// The sections, in the order the tracker writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Players,
    Damage,
    Shots,
    Revives,
    Objectives,
    Spawns,
    Presence,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Players,
        Section::Damage,
        Section::Shots,
        Section::Revives,
        Section::Objectives,
        Section::Spawns,
        Section::Presence,
    ];

    pub fn parse(name: &[u8]) -> Option<Section> {
        Section::ALL
            .into_iter()
            .find(|s| s.name().as_bytes() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Section::Players => "players",
            Section::Damage => "damage",
            Section::Shots => "shots",
            Section::Revives => "revives",
            Section::Objectives => "objectives",
            Section::Spawns => "spawns",
            Section::Presence => "presence",
        }
    }

    pub fn format_line(self) -> &'static str {
        match self {
            Section::Players => "p|slot|guid|name|team|from_ms|to_ms",
            Section::Damage => "t_ms|attacker|target|damage|health|mod|flags",
            Section::Shots => "player|weapon|shots",
            Section::Revives => "t_ms|revived|medic|x|y|z|down_ms",
            Section::Objectives => "t_ms|player|team|action|target|x|y|z",
            Section::Spawns => "t_ms|player|revived",
            Section::Presence => "t_s|samples",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// One identity a slot held in the round (players section).
#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry<'a> {
    pub line: u32,
    /// The `p` other lines name the player by.
    pub index: u16,
    pub slot: i16,
    /// Unescaped; empty without a usable `cl_guid`.
    pub guid: Cow<'a, [u8]>,
    pub name: Cow<'a, [u8]>,
    pub team: Team,
    pub from_ms: i32,
    pub to_ms: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DamageEvent {
    pub line: u32,
    pub t_ms: i32,
    pub attacker: u16,
    pub target: u16,
    /// The engine's value.
    pub damage: i32,
    /// The target's health before the hit; ≤ 0 for a corpse.
    pub health: i32,
    pub means_of_death: i16,
    pub headshot: bool,
    pub team_damage: bool,
    pub splash: bool,
}

impl DamageEvent {
    /// The health the hit took: `clamp(min(damage, health), 0)` (0 on a corpse).
    pub fn effective(&self) -> i32 {
        self.damage.min(self.health).max(0)
    }

    /// A hit on a living target (a corpse hit takes no health and is not counted as a hit).
    pub fn on_living(&self) -> bool {
        self.health > 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShotCount {
    pub line: u32,
    pub player: u16,
    /// As `et_WeaponFire` reported it.
    pub weapon: i16,
    pub shots: i32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReviveEvent {
    pub line: u32,
    pub t_ms: i32,
    pub revived: u16,
    /// None when the engine did not say who revived.
    pub medic: Option<u16>,
    pub pos: [f32; 3],
    pub down_ms: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectiveAction {
    Steal,
    Drop,
    Return,
    Secure,
    Plant,
    Defuse,
    Destroy,
    Build,
}

impl ObjectiveAction {
    pub const ALL: [ObjectiveAction; 8] = [
        ObjectiveAction::Steal,
        ObjectiveAction::Drop,
        ObjectiveAction::Return,
        ObjectiveAction::Secure,
        ObjectiveAction::Plant,
        ObjectiveAction::Defuse,
        ObjectiveAction::Destroy,
        ObjectiveAction::Build,
    ];

    pub fn parse(raw: &[u8]) -> Option<ObjectiveAction> {
        ObjectiveAction::ALL
            .into_iter()
            .find(|a| a.as_str().as_bytes() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectiveAction::Steal => "steal",
            ObjectiveAction::Drop => "drop",
            ObjectiveAction::Return => "return",
            ObjectiveAction::Secure => "secure",
            ObjectiveAction::Plant => "plant",
            ObjectiveAction::Defuse => "defuse",
            ObjectiveAction::Destroy => "destroy",
            ObjectiveAction::Build => "build",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveEvent<'a> {
    pub line: u32,
    pub t_ms: i32,
    /// None for a return by time-out.
    pub player: Option<u16>,
    pub team: Team,
    pub action: ObjectiveAction,
    /// Unescaped label.
    pub target: Cow<'a, [u8]>,
    pub pos: Option<[f32; 3]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnEvent {
    pub line: u32,
    pub t_ms: i32,
    pub player: u16,
    pub revived: bool,
}

/// One living player's position in one presence second, as the file quantises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceSample {
    pub player: u16,
    /// `floor(pos / 16) + 2048`, clamped to 0–4095.
    pub qx: u16,
    pub qy: u16,
}

impl PresenceSample {
    /// The 64-unit heatmap cell of a quantised coordinate: `floor((q - 2048) / 4)`.
    pub fn cell(q: u16) -> i32 {
        (i32::from(q) - 2048).div_euclid(4)
    }

    /// The quantised coordinate of a world position (what the tracker writes).
    pub fn quantise(pos: f32) -> u16 {
        ((pos / 16.0).floor() as i64 + 2048).clamp(0, 4095) as u16
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceSecond {
    pub line: u32,
    pub t_s: i32,
    pub samples: Vec<PresenceSample>,
}

/// Everything the fight sections of one file hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FightSections<'a> {
    pub players: Vec<RosterEntry<'a>>,
    pub damage: Vec<DamageEvent>,
    pub shots: Vec<ShotCount>,
    pub revives: Vec<ReviveEvent>,
    pub objectives: Vec<ObjectiveEvent<'a>>,
    pub spawns: Vec<SpawnEvent>,
    pub presence: Vec<PresenceSecond>,
}

impl<'a> FightSections<'a> {
    /// The roster entry with index `p`.
    pub fn player(&self, p: u16) -> Option<&RosterEntry<'a>> {
        // Indices are 0, 1, 2 … in order, so the entry is normally at position p.
        match self.players.get(usize::from(p)) {
            Some(e) if e.index == p => Some(e),
            _ => self.players.iter().find(|e| e.index == p),
        }
    }

    /// Lines accepted in a section.
    pub fn len(&self, section: Section) -> usize {
        match section {
            Section::Players => self.players.len(),
            Section::Damage => self.damage.len(),
            Section::Shots => self.shots.len(),
            Section::Revives => self.revives.len(),
            Section::Objectives => self.objectives.len(),
            Section::Spawns => self.spawns.len(),
            Section::Presence => self.presence.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        Section::ALL.into_iter().all(|s| self.len(s) == 0)
    }

    /// Parses one data line of `section` into the sections, or says why it cannot be used.
    pub(crate) fn read_line(&mut self, section: Section, line: Line<'a>) -> Result<(), String> {
        match section {
            Section::Players => {
                let entry = parse_player(line)?;
                if self.player(entry.index).is_some() {
                    return Err(format!("player index {} appears twice", entry.index));
                }
                self.players.push(entry);
            }
            Section::Damage => {
                let event = parse_damage(line, self)?;
                self.damage.push(event);
            }
            Section::Shots => {
                let shots = parse_shots(line, self)?;
                self.shots.push(shots);
            }
            Section::Revives => {
                let revive = parse_revive(line, self)?;
                self.revives.push(revive);
            }
            Section::Objectives => {
                let objective = parse_objective(line, self)?;
                self.objectives.push(objective);
            }
            Section::Spawns => {
                let spawn = parse_spawn(line, self)?;
                self.spawns.push(spawn);
            }
            Section::Presence => {
                let second = parse_presence(line, self)?;
                self.presence.push(second);
            }
        }
        Ok(())
    }
}

/// Splits a line into exactly `N` `|`-separated fields.
fn fields<const N: usize>(text: &[u8]) -> Result<[&[u8]; N], String> {
    let mut out = [&b""[..]; N];
    let mut count = 0;
    for part in text.split(|&b| b == b'|') {
        if count == N {
            return Err(format!("more than {N} fields"));
        }
        out[count] = part;
        count += 1;
    }
    if count != N {
        return Err(format!("{count} fields, expected {N}"));
    }
    Ok(out)
}

/// A time in ms since the round start: 0 to `i32::MAX` (stored as INTEGER).
fn time_ms(raw: &[u8], what: &str) -> Result<i32, String> {
    let value: i64 = field::int(raw).ok_or_else(|| format!("{what} is not a number"))?;
    i32::try_from(value)
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| {
            format!(
                "{what} {value} is out of range (0 to {} since the round start)",
                i32::MAX
            )
        })
}

/// A player index that the players section holds.
fn player_ref(raw: &[u8], what: &str, fight: &FightSections<'_>) -> Result<u16, String> {
    let p: u16 = field::int(raw)
        .filter(|p| *p <= MAX_ROSTER_INDEX)
        .ok_or_else(|| format!("{what} is not a player index (0 to {MAX_ROSTER_INDEX})"))?;
    if fight.player(p).is_none() {
        return Err(format!(
            "{what} {p} is not in the players section (a players line is missing or was rejected)"
        ));
    }
    Ok(p)
}

fn count(raw: &[u8], what: &str) -> Result<i32, String> {
    field::int::<i32>(raw)
        .filter(|v| *v >= 0)
        .ok_or_else(|| format!("{what} is not a count (0 or more)"))
}

fn position(raw: &[&[u8]]) -> Result<[f32; 3], String> {
    let mut pos = [0f32; 3];
    for (axis, raw) in pos.iter_mut().zip(raw) {
        *axis = field::coord(raw)?;
    }
    Ok(pos)
}

fn parse_player(line: Line<'_>) -> Result<RosterEntry<'_>, String> {
    let f = fields::<7>(line.text)?;
    let index: u16 = field::int(f[0])
        .filter(|p| *p <= MAX_ROSTER_INDEX)
        .ok_or(format!("p is not a player index (0 to {MAX_ROSTER_INDEX})"))?;
    let slot: i16 = field::int(f[1])
        .filter(|s| (0..64).contains(s))
        .ok_or("slot is not a client slot (0 to 63)")?;
    let guid = unescape(f[2]).map_err(|e| format!("guid: {e}"))?;
    let name = unescape(f[3]).map_err(|e| format!("name: {e}"))?;
    // Keys are indexed; real GUIDs have 32 bytes and names at most 35.
    if guid.len() > MAX_IDENTITY_BYTES || name.len() > MAX_IDENTITY_BYTES {
        return Err(format!(
            "guid or name is longer than {MAX_IDENTITY_BYTES} bytes"
        ));
    }
    let team = Team::parse(f[4]).ok_or("team is not a team")?;
    let from_ms = time_ms(f[5], "from_ms")?;
    let to_ms = time_ms(f[6], "to_ms")?;
    if to_ms < from_ms {
        return Err(format!("to_ms {to_ms} is before from_ms {from_ms}"));
    }
    Ok(RosterEntry {
        line: line.number,
        index,
        slot,
        guid,
        name,
        team,
        from_ms,
        to_ms,
    })
}

fn parse_damage(line: Line<'_>, fight: &FightSections<'_>) -> Result<DamageEvent, String> {
    let f = fields::<7>(line.text)?;
    let t_ms = time_ms(f[0], "t_ms")?;
    let attacker = player_ref(f[1], "attacker", fight)?;
    let target = player_ref(f[2], "target", fight)?;
    if attacker == target {
        return Err("attacker and target are the same player (self-damage is not written)".into());
    }
    let damage = count(f[3], "damage")?;
    let health: i32 = field::int(f[4]).ok_or("health is not a number")?;
    let means_of_death: i16 = field::int(f[5]).ok_or("mod is not a number")?;
    let (mut headshot, mut team_damage, mut splash) = (false, false, false);
    for &letter in f[6] {
        let flag = match letter {
            b'h' => &mut headshot,
            b't' => &mut team_damage,
            b's' => &mut splash,
            other => {
                return Err(format!(
                    "flags: unknown letter {:?} (h, t and s are known)",
                    char::from(other)
                ))
            }
        };
        if *flag {
            return Err(format!("flags: {:?} twice", char::from(letter)));
        }
        *flag = true;
    }
    Ok(DamageEvent {
        line: line.number,
        t_ms,
        attacker,
        target,
        damage,
        health,
        means_of_death,
        headshot,
        team_damage,
        splash,
    })
}

fn parse_shots(line: Line<'_>, fight: &FightSections<'_>) -> Result<ShotCount, String> {
    let f = fields::<3>(line.text)?;
    let player = player_ref(f[0], "player", fight)?;
    let weapon: i16 = field::int(f[1])
        .filter(|w| *w >= 0)
        .ok_or("weapon is not a weapon number")?;
    let shots = count(f[2], "shots")?;
    if shots > MAX_SHOTS {
        return Err(format!(
            "shots {shots} is more than a round can fire (at most {MAX_SHOTS})"
        ));
    }
    Ok(ShotCount {
        line: line.number,
        player,
        weapon,
        shots,
    })
}

fn parse_revive(line: Line<'_>, fight: &FightSections<'_>) -> Result<ReviveEvent, String> {
    let f = fields::<7>(line.text)?;
    let t_ms = time_ms(f[0], "t_ms")?;
    let revived = player_ref(f[1], "revived", fight)?;
    let medic = if f[2].is_empty() {
        None
    } else {
        Some(player_ref(f[2], "medic", fight)?)
    };
    let pos = position(&f[3..6])?;
    let down_ms = if f[6].is_empty() {
        None
    } else {
        Some(count(f[6], "down_ms")?)
    };
    Ok(ReviveEvent {
        line: line.number,
        t_ms,
        revived,
        medic,
        pos,
        down_ms,
    })
}

fn parse_objective<'a>(
    line: Line<'a>,
    fight: &FightSections<'_>,
) -> Result<ObjectiveEvent<'a>, String> {
    let f = fields::<8>(line.text)?;
    let t_ms = time_ms(f[0], "t_ms")?;
    let team = match Team::parse(f[2]) {
        Some(team @ (Team::Axis | Team::Allies)) => team,
        _ => return Err("team is not AXIS or ALLIES".into()),
    };
    let action = ObjectiveAction::parse(f[3])
        .ok_or("action is not steal, drop, return, secure, plant, defuse, destroy or build")?;
    let player = if f[1].is_empty() {
        if action != ObjectiveAction::Return {
            return Err(format!(
                "player is empty, which only a return by time-out may be (action {})",
                action.as_str()
            ));
        }
        None
    } else {
        Some(player_ref(f[1], "player", fight)?)
    };
    let target = unescape(f[4]).map_err(|e| format!("target: {e}"))?;
    let pos = match (f[5].is_empty(), f[6].is_empty(), f[7].is_empty()) {
        (true, true, true) => None,
        (false, false, false) => Some(position(&f[5..8])?),
        _ => return Err("position: give x, y and z, or none of them".into()),
    };
    Ok(ObjectiveEvent {
        line: line.number,
        t_ms,
        player,
        team,
        action,
        target,
        pos,
    })
}

fn parse_spawn(line: Line<'_>, fight: &FightSections<'_>) -> Result<SpawnEvent, String> {
    let f = fields::<3>(line.text)?;
    let t_ms = time_ms(f[0], "t_ms")?;
    let player = player_ref(f[1], "player", fight)?;
    let revived = match f[2] {
        b"0" => false,
        b"1" => true,
        _ => return Err("revived is not 0 or 1".into()),
    };
    Ok(SpawnEvent {
        line: line.number,
        t_ms,
        player,
        revived,
    })
}

/// The value of one base-64 digit of the presence samples (`0-9A-Za-z-_`).
fn digit64(b: u8) -> Option<u16> {
    Some(u16::from(match b {
        b'0'..=b'9' => b - b'0',
        b'A'..=b'Z' => b - b'A' + 10,
        b'a'..=b'z' => b - b'a' + 36,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    }))
}

/// The base-64 digit of a value 0–63.
pub fn digit64_char(v: u16) -> u8 {
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"[usize::from(v & 63)]
}

fn parse_presence(line: Line<'_>, fight: &FightSections<'_>) -> Result<PresenceSecond, String> {
    let f = fields::<2>(line.text)?;
    let t_s = time_ms(f[0], "t_s")?;
    let raw = f[1];
    if raw.len() % 6 != 0 {
        return Err(format!(
            "samples is {} characters, not a multiple of 6",
            raw.len()
        ));
    }
    let mut samples = Vec::with_capacity(raw.len() / 6);
    for (n, group) in raw.chunks_exact(6).enumerate() {
        let mut v = [0u16; 3];
        for (k, pair) in group.chunks_exact(2).enumerate() {
            let (Some(hi), Some(lo)) = (digit64(pair[0]), digit64(pair[1])) else {
                return Err(format!("sample {} is not base-64 (0-9A-Za-z-_)", n + 1));
            };
            v[k] = hi * 64 + lo;
        }
        if fight.player(v[0]).is_none() {
            return Err(format!(
                "sample {}: player {} is not in the players section",
                n + 1,
                v[0]
            ));
        }
        if samples.iter().any(|s: &PresenceSample| s.player == v[0]) {
            return Err(format!(
                "sample {}: player {} twice in one second",
                n + 1,
                v[0]
            ));
        }
        samples.push(PresenceSample {
            player: v[0],
            qx: v[1],
            qy: v[2],
        });
    }
    Ok(PresenceSecond {
        line: line.number,
        t_s,
        samples,
    })
}

/// Weapon numbers (ET:Legacy, `assets/weapons.csv`) and means of death (`assets/mods.csv`)
/// meet on one weapon number for accuracy (docs/stats.md, "Whole fight"):
/// * a means of death maps to the weapon whose fire function reports it (`mod_from_weaponTable`
///   of weapons.csv; the first, undeployed weapon when several do), else to mods.csv's
///   `icon_weapon`; a means of death of no weapon (world, falling, …) maps to 0; the tank
///   machine guns map to the mounted MG42 (33), whose shots `et_WeaponFire` never reports, and
///   the airstrike to its marker (22), which is what `et_WeaponFire` reports for it;
/// * a fired weapon maps to itself, except a deployed set-up (mobile MG42/Browning, mortars),
///   which fires as its carried weapon: deployed and carried share one means of death.
///
/// Scoped rifles, silenced and akimbo pistols have their own weapon number *and* their own
/// means of death, so they stay apart on both sides.
pub mod weapons {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    const WEAPONS_CSV: &str = include_str!("../../assets/weapons.csv");
    const MODS_CSV: &str = include_str!("../../assets/mods.csv");

    struct Tables {
        by_mod: HashMap<i16, i16>,
        fired: HashMap<i16, i16>,
    }

    fn tables() -> &'static Tables {
        static TABLES: OnceLock<Tables> = OnceLock::new();
        TABLES.get_or_init(|| {
            // (value, name, mod) of each weapon, in weapon order.
            let weapons: Vec<(i16, &str, &str)> = WEAPONS_CSV
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let mut f = l.split(',');
                    let value = f.next()?.parse().ok()?;
                    let name = f.next()?;
                    let _label = f.next()?;
                    Some((value, name, f.next()?))
                })
                .collect();
            let weapon_named =
                |name: &str| weapons.iter().find(|(_, n, _)| *n == name).map(|w| w.0);
            let mut by_mod = HashMap::new();
            for line in MODS_CSV.lines().skip(1) {
                let f: Vec<&str> = line.split(',').collect();
                let (Some(value), Some(name), Some(icon)) =
                    (f.first().and_then(|v| v.parse().ok()), f.get(1), f.get(6))
                else {
                    continue;
                };
                let fired = weapons
                    .iter()
                    .find(|(_, w, m)| m == name && !w.ends_with("_SET"))
                    .map(|w| w.0);
                // Tank machine guns are fixed guns like the emplacement: et_WeaponFire never
                // reports them, and their hits must not count for the carried MG42's accuracy.
                // An airstrike is fired as the marker (weapon 22, the facts of et_WeaponFire);
                // the bomb's own weapon number (55) never fires.
                let weapon = match *name {
                    "MOD_BROWNING" | "MOD_MG42" => weapon_named("WP_DUMMY_MG42"),
                    "MOD_AIRSTRIKE" => weapon_named("WP_SMOKE_MARKER"),
                    _ => fired.or_else(|| weapon_named(icon)),
                };
                by_mod.insert(value, weapon.unwrap_or(0));
            }
            let mut fired = HashMap::new();
            for (value, name, _) in &weapons {
                if let Some(base) = name.strip_suffix("_SET").and_then(&weapon_named) {
                    fired.insert(*value, base);
                }
            }
            Tables { by_mod, fired }
        })
    }

    /// The weapon a means of death is counted under (0 when it is no weapon's).
    pub fn of_mod(means_of_death: i16) -> i16 {
        tables().by_mod.get(&means_of_death).copied().unwrap_or(0)
    }

    /// The weapon a shot reported by `et_WeaponFire` is counted under.
    pub fn of_fired(weapon: i16) -> i16 {
        tables().fired.get(&weapon).copied().unwrap_or(weapon)
    }
}
