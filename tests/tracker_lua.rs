//! The real tracker module (`lua/etprox_tracker.lua`) under real Lua 5.4 and the mock ET API:
//! its v3 files must hold every obituary the simulator knows happened, byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use etprox::round_file::{parse_round_file, RoundFlag};
use etprox::sim::et_mock::{list_files, Client, EtMock, FsOp, Team, CON_CONNECTED};
use etprox::sim::match_sim::{
    effective_guid, FightTruth, MatchSim, MatchTruth, ObituaryKind, ObituaryTruth, ObjectiveAction,
    PlayerAtKill, RoundStatus, SimConfig, Who,
};
use etprox::sim::v2_writer::{write_v2_round, V2Loss};
use etprox::sim::TRACKER_LUA;

/// A spec-level reader of v3 files (docs/round-file-format.md), strict on purpose: it checks
/// what the tracker promises, not what an importer tolerates. The importer's parser lives in
/// `etprox::round_file` on main.
mod v3_spec_check {
    use std::collections::BTreeMap;

    pub const FORMAT_LINE: &str = "# FORMAT: t_ms|kind|killer_slot|killer_guid|killer_name|killer_team|killer_x|killer_y|killer_z|victim_slot|victim_guid|victim_name|victim_team|victim_x|victim_y|victim_z|distance|weapon|mod|killer_allies|victim_allies|supporting_allies";
    const REQUIRED: &[&str] = &[
        "server_id",
        "map",
        "gametype",
        "round",
        "round_id",
        "start_unix",
        "end_unix",
        "status",
    ];

    /// A `supporting_allies` entry: `<guid>:<escaped name>`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Ally {
        pub guid: Vec<u8>,
        pub name: Vec<u8>,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Side {
        pub slot: i64,
        pub guid: Vec<u8>,
        pub name: Vec<u8>,
        pub team: String,
        pub pos: [f64; 3],
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Kill {
        pub t_ms: i64,
        pub kind: String,
        pub killer: Side,
        pub victim: Side,
        pub distance: f64,
        pub weapon: i64,
        pub means_of_death: i64,
        pub killer_allies: usize,
        pub victim_allies: usize,
        pub supporting: Vec<Ally>,
    }

    /// A `players` line: the identity that held a slot.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Identity {
        pub slot: i64,
        pub guid: Vec<u8>,
        pub name: Vec<u8>,
        pub team: String,
        pub from_ms: i64,
        pub to_ms: i64,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Damage {
        pub t_ms: i64,
        pub attacker: usize,
        pub target: usize,
        pub damage: i64,
        pub health: i64,
        pub means_of_death: i64,
        pub flags: String,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Revive {
        pub t_ms: i64,
        pub revived: usize,
        pub medic: Option<usize>,
        pub pos: [f64; 3],
        pub down_ms: Option<i64>,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Objective {
        pub t_ms: i64,
        pub player: Option<usize>,
        pub team: String,
        pub action: String,
        pub target: Vec<u8>,
        pub pos: Option<[f64; 3]>,
    }

    /// The fight sections of tracker 1.2 (all empty in an older file).
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Fight {
        pub players: Vec<Identity>,
        pub damage: Vec<Damage>,
        /// (player, weapon, shots)
        pub shots: Vec<(usize, i64, u64)>,
        pub revives: Vec<Revive>,
        pub objectives: Vec<Objective>,
        /// (t_ms, player, revived)
        pub spawns: Vec<(i64, usize, bool)>,
        pub presence: Vec<PresenceLine>,
    }

    /// (t_s, [(player, qx, qy)])
    pub type PresenceLine = (i64, Vec<(usize, u32, u32)>);

    pub const SECTIONS: &[(&str, &str)] = &[
        ("players", "p|slot|guid|name|team|from_ms|to_ms"),
        ("damage", "t_ms|attacker|target|damage|health|mod|flags"),
        ("shots", "player|weapon|shots"),
        ("revives", "t_ms|revived|medic|x|y|z|down_ms"),
        ("objectives", "t_ms|player|team|action|target|x|y|z"),
        ("spawns", "t_ms|player|revived"),
        ("presence", "t_s|samples"),
    ];

    #[derive(Debug)]
    pub struct V3File {
        pub header: BTreeMap<String, Vec<u8>>,
        pub kills: Vec<Kill>,
        pub fight: Fight,
        /// Whether the file had the fight sections at all.
        pub has_sections: bool,
    }

    impl V3File {
        pub fn header_str(&self, key: &str) -> String {
            String::from_utf8_lossy(self.header.get(key).map(Vec::as_slice).unwrap_or(b""))
                .into_owned()
        }
    }

    pub fn unescape(field: &str) -> Result<Vec<u8>, String> {
        let b = field.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let hex = field
                    .get(i + 1..i + 3)
                    .ok_or_else(|| format!("truncated escape in {field:?}"))?;
                if !hex
                    .bytes()
                    .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
                {
                    return Err(format!("bad escape %{hex} in {field:?}"));
                }
                out.push(u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        Ok(out)
    }

    fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
        s.parse()
            .map_err(|_| format!("{what}: not a number: {s:?}"))
    }

    fn side(f: &[&str], team_ok: &[&str]) -> Result<Side, String> {
        if !team_ok.contains(&f[3]) {
            return Err(format!("bad team {:?}", f[3]));
        }
        Ok(Side {
            slot: num(f[0], "slot")?,
            guid: unescape(f[1])?,
            name: unescape(f[2])?,
            team: f[3].to_string(),
            pos: [num(f[4], "x")?, num(f[5], "y")?, num(f[6], "z")?],
        })
    }

    pub fn parse(bytes: &[u8]) -> Result<V3File, String> {
        if let Some(bad) = bytes
            .iter()
            .find(|&&b| b != b'\n' && !(0x20..0x7F).contains(&b))
        {
            return Err(format!("byte {bad:#04x} outside printable ASCII"));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        let body = text
            .strip_suffix('\n')
            .ok_or("file does not end with a newline")?;
        let mut lines = body.split('\n');
        if lines.next() != Some("# ETPROX_ROUND v3") {
            return Err("first line is not '# ETPROX_ROUND v3'".into());
        }
        let mut header = BTreeMap::new();
        let mut kills = Vec::new();
        let mut end = None;
        let mut seen_format = false;
        let mut fight = Fight::default();
        // Index into SECTIONS of the section being read, and whether its FORMAT line came.
        let mut section: Option<(usize, bool)> = None;
        let mut lines_in: BTreeMap<&str, usize> = BTreeMap::new();
        for line in lines {
            if end.is_some() {
                return Err(format!("line after the end marker: {line:?}"));
            }
            if let Some(rest) = line.strip_prefix("# END ") {
                end = Some(read_end(rest, section.is_some())?);
            } else if let Some(name) = line.strip_prefix("# SECTION ") {
                let next = section.map_or(0, |(i, _)| i + 1);
                if SECTIONS.get(next).map(|s| s.0) != Some(name) {
                    return Err(format!("section {name:?} out of order"));
                }
                if let Some((i, false)) = section {
                    return Err(format!("section {} without FORMAT", SECTIONS[i].0));
                }
                section = Some((next, false));
            } else if let Some((i, has_format)) = section {
                let (name, format) = SECTIONS[i];
                if !has_format {
                    if line != format!("# FORMAT: {format}") {
                        return Err(format!("bad FORMAT of {name}: {line:?}"));
                    }
                    section = Some((i, true));
                    continue;
                }
                *lines_in.entry(name).or_default() += 1;
                read_fight_line(&mut fight, name, line)?;
            } else if line == FORMAT_LINE {
                seen_format = true;
            } else if let Some(kv) = line.strip_prefix("# ") {
                if seen_format {
                    return Err(format!("header line after FORMAT: {line:?}"));
                }
                let (k, v) = kv.split_once('=').ok_or(format!("bad header {line:?}"))?;
                header.insert(k.to_string(), unescape(v)?);
            } else {
                if !seen_format {
                    return Err(format!("kill line before FORMAT: {line:?}"));
                }
                let f: Vec<&str> = line.split('|').collect();
                if f.len() != 22 {
                    return Err(format!("{} fields in {line:?}", f.len()));
                }
                let kind = f[1].to_string();
                if !["kill", "teamkill", "suicide", "world"].contains(&f[1]) {
                    return Err(format!("bad kind {kind:?}"));
                }
                let teams = ["AXIS", "ALLIES", "SPECTATOR", "FREE", "WORLD"];
                let supporting = if f[21].is_empty() {
                    Vec::new()
                } else {
                    f[21]
                        .split(',')
                        .map(|a| {
                            let (guid, name) = a
                                .split_once(':')
                                .ok_or(format!("ally {a:?} is not <guid>:<name>"))?;
                            Ok::<_, String>(Ally {
                                guid: unescape(guid)?,
                                name: unescape(name)?,
                            })
                        })
                        .collect::<Result<_, _>>()?
                };
                let k = Kill {
                    t_ms: num(f[0], "t_ms")?,
                    kind,
                    killer: side(&f[2..9], &teams)?,
                    victim: side(&f[9..16], &teams)?,
                    distance: num(f[16], "distance")?,
                    weapon: num(f[17], "weapon")?,
                    means_of_death: num(f[18], "mod")?,
                    killer_allies: num(f[19], "killer_allies")?,
                    victim_allies: num(f[20], "victim_allies")?,
                    supporting,
                };
                if k.supporting.len() != k.killer_allies {
                    return Err(format!(
                        "supporting allies differ from the count in {line:?}"
                    ));
                }
                kills.push(k);
            }
        }
        for key in REQUIRED {
            if !header.contains_key(*key) {
                return Err(format!("header lacks {key}"));
            }
        }
        let has_sections = section.is_some();
        if let Some((i, _)) = section {
            if i + 1 != SECTIONS.len() {
                return Err(format!("sections stop after {}", SECTIONS[i].0));
            }
        }
        let Some(counts) = end else {
            return Err("no end marker".into());
        };
        if counts.get("kills") != Some(&kills.len()) {
            return Err(format!("end says {counts:?}, {} kill lines", kills.len()));
        }
        for (name, _) in SECTIONS.iter().filter(|_| has_sections) {
            let read = lines_in.get(name).copied().unwrap_or(0);
            if counts.get(*name) != Some(&read) {
                return Err(format!("end says {counts:?}, {read} {name} lines"));
            }
        }
        for p in fight_refs(&fight) {
            if p >= fight.players.len() {
                return Err(format!("player index {p} not in the players section"));
            }
        }
        Ok(V3File {
            header,
            kills,
            fight,
            has_sections,
        })
    }

    /// `kills=N` alone (tracker 1.0/1.1), or every section's count in the contract's order.
    fn read_end(rest: &str, sections: bool) -> Result<BTreeMap<String, usize>, String> {
        let mut counts = BTreeMap::new();
        let mut names = Vec::new();
        for part in rest.split(' ') {
            let (k, v) = part
                .split_once('=')
                .ok_or(format!("bad end marker {rest:?}"))?;
            counts.insert(k.to_string(), num::<usize>(v, "end count")?);
            names.push(k);
        }
        let mut want = vec!["kills"];
        if sections {
            want.extend(SECTIONS.iter().map(|s| s.0));
        }
        if names != want {
            return Err(format!("end marker {rest:?} does not list {want:?}"));
        }
        Ok(counts)
    }

    fn fight_refs(f: &Fight) -> Vec<usize> {
        let mut out = Vec::new();
        for d in &f.damage {
            out.extend([d.attacker, d.target]);
        }
        out.extend(f.shots.iter().map(|s| s.0));
        for r in &f.revives {
            out.push(r.revived);
            out.extend(r.medic);
        }
        out.extend(f.objectives.iter().filter_map(|o| o.player));
        out.extend(f.spawns.iter().map(|s| s.1));
        for (_, samples) in &f.presence {
            out.extend(samples.iter().map(|s| s.0));
        }
        out
    }

    fn opt<T: std::str::FromStr>(s: &str, what: &str) -> Result<Option<T>, String> {
        if s.is_empty() {
            Ok(None)
        } else {
            num(s, what).map(Some)
        }
    }

    fn pos(f: &[&str]) -> Result<Option<[f64; 3]>, String> {
        if f.iter().all(|x| x.is_empty()) {
            return Ok(None);
        }
        Ok(Some([num(f[0], "x")?, num(f[1], "y")?, num(f[2], "z")?]))
    }

    const B64: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

    fn b64(pair: &[u8]) -> Result<u32, String> {
        let digit = |c: u8| {
            B64.iter()
                .position(|&d| d == c)
                .map(|v| v as u32)
                .ok_or(format!("bad base-64 digit {:?}", c as char))
        };
        Ok(digit(pair[0])? * 64 + digit(pair[1])?)
    }

    fn read_fight_line(f: &mut Fight, section: &str, line: &str) -> Result<(), String> {
        let v: Vec<&str> = line.split('|').collect();
        let want = match section {
            "players" | "damage" | "revives" => 7,
            "objectives" => 8,
            "shots" | "spawns" => 3,
            _ => 2,
        };
        if v.len() != want {
            return Err(format!("{} fields in {section} line {line:?}", v.len()));
        }
        match section {
            "players" => {
                let p: usize = num(v[0], "p")?;
                if p != f.players.len() {
                    return Err(format!("players out of order: {line:?}"));
                }
                let team = v[4].to_string();
                if !["AXIS", "ALLIES", "SPECTATOR", "FREE"].contains(&v[4]) {
                    return Err(format!("bad team in {line:?}"));
                }
                let (from_ms, to_ms) = (num(v[5], "from_ms")?, num(v[6], "to_ms")?);
                if from_ms > to_ms {
                    return Err(format!("from after to: {line:?}"));
                }
                f.players.push(Identity {
                    slot: num(v[1], "slot")?,
                    guid: unescape(v[2])?,
                    name: unescape(v[3])?,
                    team,
                    from_ms,
                    to_ms,
                });
            }
            "damage" => {
                if !v[6].chars().all(|c| "hts".contains(c)) {
                    return Err(format!("bad flags in {line:?}"));
                }
                f.damage.push(Damage {
                    t_ms: num(v[0], "t_ms")?,
                    attacker: num(v[1], "attacker")?,
                    target: num(v[2], "target")?,
                    damage: num(v[3], "damage")?,
                    health: num(v[4], "health")?,
                    means_of_death: num(v[5], "mod")?,
                    flags: v[6].to_string(),
                });
            }
            "shots" => f.shots.push((
                num(v[0], "player")?,
                num(v[1], "weapon")?,
                num(v[2], "shots")?,
            )),
            "revives" => f.revives.push(Revive {
                t_ms: num(v[0], "t_ms")?,
                revived: num(v[1], "revived")?,
                medic: opt(v[2], "medic")?,
                pos: pos(&v[3..6])?.ok_or(format!("revive without position: {line:?}"))?,
                down_ms: opt(v[6], "down_ms")?,
            }),
            "objectives" => {
                let actions = [
                    "steal", "drop", "return", "secure", "plant", "defuse", "destroy", "build",
                ];
                if !actions.contains(&v[3]) {
                    return Err(format!("bad action in {line:?}"));
                }
                f.objectives.push(Objective {
                    t_ms: num(v[0], "t_ms")?,
                    player: opt(v[1], "player")?,
                    team: v[2].to_string(),
                    action: v[3].to_string(),
                    target: unescape(v[4])?,
                    pos: pos(&v[5..8])?,
                });
            }
            "spawns" => {
                let revived = match v[2] {
                    "0" => false,
                    "1" => true,
                    _ => return Err(format!("bad revived in {line:?}")),
                };
                f.spawns
                    .push((num(v[0], "t_ms")?, num(v[1], "player")?, revived));
            }
            _ => {
                let b = v[1].as_bytes();
                if !b.len().is_multiple_of(6) {
                    return Err(format!("presence samples not in groups of 6: {line:?}"));
                }
                let samples = b
                    .chunks(6)
                    .map(|g| Ok((b64(&g[0..2])? as usize, b64(&g[2..4])?, b64(&g[4..6])?)))
                    .collect::<Result<_, String>>()?;
                f.presence.push((num(v[0], "t_s")?, samples));
            }
        }
        Ok(())
    }
}

use v3_spec_check::{Ally, Identity, Kill, Side, V3File};

struct SimRun {
    _dir: tempfile::TempDir,
    root: PathBuf,
    truth: MatchTruth,
    escaped: Vec<String>,
    console: Vec<String>,
}

fn run_sim(config: SimConfig) -> SimRun {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("legacy");
    let mut sim = MatchSim::new(config, &root, TRACKER_LUA);
    sim.run().expect("simulation runs");
    let escaped = sim.mock().escaped_errors().to_vec();
    let console = sim.mock().state().console.clone();
    SimRun {
        _dir: dir,
        root,
        truth: sim.into_truth(),
        escaped,
        console,
    }
}

fn config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        maps: vec!["goldrush".into(), "supply".into(), "oasis".into()],
        players: 40,
        kills_per_minute: 40.0,
        round_seconds: (120, 300),
        p_zero_kill_round: 0.15,
        p_cut_short: 0.2,
        ..SimConfig::default()
    }
}

fn parse_file(path: &Path) -> V3File {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v3_spec_check::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expected_side(p: &PlayerAtKill) -> Side {
    Side {
        slot: p.slot,
        guid: p.guid().unwrap_or("").as_bytes().to_vec(),
        name: p.name.clone(),
        team: p.team.label().to_string(),
        pos: p.origin,
    }
}

fn assert_side_eq(got: &Side, want: &Side, ctx: &str) {
    assert_eq!(got.slot, want.slot, "{ctx}: slot");
    assert_eq!(got.guid, want.guid, "{ctx}: guid");
    assert_eq!(got.name, want.name, "{ctx}: name bytes");
    assert_eq!(got.team, want.team, "{ctx}: team");
    for (g, w) in got.pos.iter().zip(want.pos) {
        assert!((g - w).abs() <= 0.050_001, "{ctx}: position {g} vs {w}");
    }
}

fn assert_kill_matches(got: &Kill, o: &ObituaryTruth, ctx: &str) {
    assert_eq!(got.t_ms, o.t_ms, "{ctx}: t_ms");
    assert_eq!(got.kind, o.kind.label(), "{ctx}: kind");
    assert_eq!(got.killer.slot, o.killer_slot, "{ctx}: killer slot");
    match &o.killer {
        Some(k) => assert_side_eq(&got.killer, &expected_side(k), &format!("{ctx} killer")),
        None => {
            assert_eq!(got.killer.team, "WORLD", "{ctx}");
            assert!(
                got.killer.guid.is_empty() && got.killer.name.is_empty(),
                "{ctx}"
            );
            assert_eq!(got.killer.pos, got.victim.pos, "{ctx}: world kill position");
        }
    }
    assert_side_eq(
        &got.victim,
        &expected_side(&o.victim),
        &format!("{ctx} victim"),
    );
    assert!(
        (got.distance - o.distance).abs() <= 0.050_001,
        "{ctx}: distance"
    );
    assert_eq!(got.weapon, o.weapon, "{ctx}: weapon");
    assert_eq!(got.means_of_death, o.means_of_death, "{ctx}: mod");
    assert_eq!(
        got.killer_allies,
        o.killer_allies.len(),
        "{ctx}: killer allies"
    );
    assert_eq!(
        got.victim_allies,
        o.victim_allies.len(),
        "{ctx}: victim allies"
    );
    let want: Vec<Ally> = o
        .killer_allies
        .iter()
        .map(|a| Ally {
            guid: a.guid().unwrap_or("").as_bytes().to_vec(),
            name: a.name.clone(),
        })
        .collect();
    assert_eq!(got.supporting, want, "{ctx}: supporting allies");
}

/// The file as tracker 1.1 would have written it: without the `tracker` header and the fight
/// sections. The importer's parser on this branch predates the fight sections (the `fightdb`
/// branch adds them), so the kill part is what it is asked to read here.
fn kills_part(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut in_sections = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("# tracker=") {
            continue;
        }
        if line.starts_with("# SECTION ") {
            in_sections = true;
        }
        if let Some(rest) = line.strip_prefix("# END ") {
            let kills = rest.split(' ').next().unwrap_or("").trim_end();
            out.push_str(&format!("# END {kills}\n"));
            in_sections = false;
            continue;
        }
        if !in_sections {
            out.push_str(line);
        }
    }
    out.into_bytes()
}

/// The importer's own parser (`etprox::round_file`) reads the file's kill part cleanly.
fn assert_main_parser_accepts(path: &Path, status: RoundStatus, kills: usize, ctx: &str) {
    let bytes = kills_part(&std::fs::read(path).expect("round file"));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let parsed = parse_round_file(&bytes, name).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert!(parsed.rejected.is_empty(), "{ctx}: {:?}", parsed.rejected);
    assert!(parsed.warnings.is_empty(), "{ctx}: {:?}", parsed.warnings);
    assert!(parsed.has_end_marker, "{ctx}");
    let want_flags = match status {
        RoundStatus::Complete => vec![],
        RoundStatus::Incomplete => vec![RoundFlag::Incomplete],
    };
    assert_eq!(parsed.flags, want_flags, "{ctx}");
    assert_eq!(parsed.kills.len(), kills, "{ctx}");
}

/// (slot, GUID, name, team) of a players line.
type IdentityKey = (i64, Vec<u8>, Vec<u8>, String);

/// The identity a players line must hold for `who`.
fn identity_key(who: &Who) -> IdentityKey {
    (
        who.slot,
        who.guid.clone().unwrap_or_default().into_bytes(),
        who.name.clone(),
        who.team.label().to_string(),
    )
}

fn roster_key(id: &Identity) -> IdentityKey {
    (id.slot, id.guid.clone(), id.name.clone(), id.team.clone())
}

/// `floor(pos / 16) + 2048`, clamped to 0..=4095 (docs/round-file-format.md, presence).
fn quantize(v: f64) -> u32 {
    ((v / 16.0).floor() + 2048.0).clamp(0.0, 4095.0) as u32
}

fn assert_pos(got: [f64; 3], want: [f64; 3], ctx: &str) {
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 0.050_001, "{ctx}: position {g} vs {w}");
    }
}

/// Every fight line of the file equals the simulator's truth, in order, with each player
/// index naming the identity that really acted.
fn assert_fight_matches(file: &V3File, truth: &FightTruth, ctx: &str) {
    assert!(
        file.has_sections,
        "{ctx}: tracker 1.2 writes the fight sections"
    );
    let f = &file.fight;
    let who = |p: usize| roster_key(&f.players[p]);
    assert_eq!(
        truth.cancelled, 0,
        "{ctx}: the module cancelled hits or shots"
    );

    assert_eq!(f.damage.len(), truth.damage.len(), "{ctx}: damage lines");
    for (i, (got, want)) in f.damage.iter().zip(&truth.damage).enumerate() {
        let c = format!("{ctx} damage #{i}");
        assert_eq!(got.t_ms, want.t_ms, "{c}");
        assert_eq!(
            who(got.attacker),
            identity_key(&want.attacker),
            "{c}: attacker"
        );
        assert_eq!(who(got.target), identity_key(&want.target), "{c}: target");
        assert_eq!(
            (got.damage, got.health, got.means_of_death),
            (want.damage, want.health, want.means_of_death),
            "{c}"
        );
        let flags = |ch: char| got.flags.contains(ch);
        assert_eq!(
            (flags('h'), flags('t'), flags('s')),
            (want.headshot, want.team_damage, want.splash),
            "{c}: flags {:?}",
            got.flags
        );
    }

    let mut shots: BTreeMap<(IdentityKey, i64), u64> = BTreeMap::new();
    for (p, weapon, n) in &f.shots {
        *shots.entry((who(*p), *weapon)).or_default() += n;
    }
    let want: BTreeMap<_, u64> = truth
        .shots
        .iter()
        .map(|((w, weapon), n)| ((identity_key(w), *weapon), *n))
        .collect();
    assert_eq!(shots, want, "{ctx}: shots per player and weapon");

    assert_eq!(f.revives.len(), truth.revives.len(), "{ctx}: revives");
    for (i, (got, want)) in f.revives.iter().zip(&truth.revives).enumerate() {
        let c = format!("{ctx} revive #{i}");
        assert_eq!(got.t_ms, want.t_ms, "{c}");
        assert_eq!(who(got.revived), identity_key(&want.revived), "{c}");
        assert_eq!(
            got.medic.map(who),
            want.medic.as_ref().map(identity_key),
            "{c}"
        );
        assert_pos(got.pos, want.origin, &c);
        assert_eq!(got.down_ms, want.down_ms, "{c}: down_ms");
    }

    assert_eq!(
        f.objectives.len(),
        truth.objectives.len(),
        "{ctx}: objectives {:?}",
        f.objectives
    );
    for (i, (got, want)) in f.objectives.iter().zip(&truth.objectives).enumerate() {
        let c = format!("{ctx} objective #{i}");
        assert_eq!(got.t_ms, want.t_ms, "{c}");
        assert_eq!(got.action, want.action.as_str(), "{c}");
        assert_eq!(
            got.player.map(who),
            want.player.as_ref().map(identity_key),
            "{c}"
        );
        assert_eq!(got.team, want.team.label(), "{c}");
        assert_eq!(got.target, want.target, "{c}: target");
        match (got.pos, want.origin) {
            (Some(g), Some(w)) => assert_pos(g, w, &c),
            (g, w) => assert_eq!(g.is_some(), w.is_some(), "{c}: position"),
        }
    }

    assert_eq!(f.spawns.len(), truth.spawns.len(), "{ctx}: spawns");
    for (i, (got, want)) in f.spawns.iter().zip(&truth.spawns).enumerate() {
        let c = format!("{ctx} spawn #{i}");
        assert_eq!((got.0, got.2), (want.t_ms, want.revived), "{c}");
        assert_eq!(who(got.1), identity_key(&want.who), "{c}");
    }

    assert_eq!(
        f.presence.len(),
        truth.presence.len(),
        "{ctx}: presence seconds"
    );
    for (got, want) in f.presence.iter().zip(&truth.presence) {
        let c = format!("{ctx} presence second {}", want.t_s);
        assert_eq!(got.0, want.t_s, "{c}");
        let samples: Vec<_> = got.1.iter().map(|&(p, x, y)| (who(p), x, y)).collect();
        let expected: Vec<_> = want
            .samples
            .iter()
            .map(|(w, [x, y])| (identity_key(w), quantize(*x), quantize(*y)))
            .collect();
        assert_eq!(samples, expected, "{c}");
    }
}

/// Checks every round of a run against its file; returns the parsed files by round index.
fn check_run(run: &SimRun) -> Vec<V3File> {
    assert!(run.escaped.is_empty(), "errors escaped: {:?}", run.escaped);
    let errors: Vec<&String> = run.console.iter().filter(|l| l.contains("error")).collect();
    assert!(errors.is_empty(), "module reported errors: {errors:?}");

    let dir = run.root.join("proximity");
    let on_disk: BTreeSet<PathBuf> = list_files(&dir).into_iter().collect();
    let expected: BTreeSet<PathBuf> = run
        .truth
        .rounds
        .iter()
        .map(|r| PathBuf::from(r.v3_file_name()))
        .collect();
    assert_eq!(expected.len(), run.truth.rounds.len(), "file names collide");
    assert_eq!(on_disk, expected, "one file per played round, no .tmp left");

    let mut files = Vec::new();
    for (ri, round) in run.truth.rounds.iter().enumerate() {
        let path = dir.join(round.v3_file_name());
        let file = parse_file(&path);
        let ctx = format!("seed {} round #{ri} ({})", run.truth.seed, round.map);
        assert_main_parser_accepts(&path, round.status, round.obituaries.len(), &ctx);
        assert_eq!(file.header_str("map"), round.map, "{ctx}");
        assert_eq!(file.header_str("gametype"), "3", "{ctx}");
        assert_eq!(file.header_str("round"), round.round.to_string(), "{ctx}");
        assert_eq!(file.header_str("status"), round.status.label(), "{ctx}");
        assert_eq!(
            file.header_str("start_unix"),
            round.start_unix.to_string(),
            "{ctx}"
        );
        assert_eq!(
            file.header_str("end_unix"),
            round.end_unix.to_string(),
            "{ctx}"
        );
        assert_eq!(file.header_str("mod_family"), "etlegacy", "{ctx}");
        assert_eq!(file.header_str("server_id"), round.server_id, "{ctx}");
        assert_eq!(file.header_str("round_id"), round.round_id(), "{ctx}");
        assert_eq!(
            file.kills.len(),
            round.obituaries.len(),
            "{ctx}: every obituary, and no warm-up one"
        );
        for (i, (got, o)) in file.kills.iter().zip(&round.obituaries).enumerate() {
            assert_kill_matches(got, o, &format!("{ctx} kill #{i}"));
        }
        assert_eq!(file.header_str("tracker"), "1.2", "{ctx}");
        assert_fight_matches(&file, &round.fight, &ctx);
        files.push(file);
    }
    files
}

#[test]
fn simulated_matches_round_trip_every_obituary_byte_for_byte() {
    let mut all = Vec::new();
    let full_server = SimConfig {
        players: 64,
        p_join_per_s: 0.05,
        ..config(64)
    };
    for config in [config(1), config(7), config(2024), full_server] {
        let run = run_sim(config);
        check_run(&run);
        all.push(run.truth);
    }

    // The runs must have exercised what the format has to survive.
    let obits: Vec<&ObituaryTruth> = all
        .iter()
        .flat_map(|t| &t.rounds)
        .flat_map(|r| &r.obituaries)
        .collect();
    let people = || {
        obits.iter().flat_map(|o| {
            o.killer
                .iter()
                .chain(std::iter::once(&o.victim))
                .chain(&o.killer_allies)
        })
    };
    let has_name = |pred: &dyn Fn(&[u8]) -> bool| people().any(|p| pred(&p.name));
    assert!(has_name(&|n| n.contains(&b'|')), "a name with |");
    assert!(has_name(&|n| n.contains(&b',')), "a name with ,");
    assert!(has_name(&|n| n == b"NONE"), "a name NONE");
    assert!(has_name(&|n| n.contains(&b'%')), "a name with %");
    assert!(
        has_name(&|n| n.iter().any(|&b| b >= 0x80) && std::str::from_utf8(n).is_err()),
        "a name that is not UTF-8"
    );
    assert!(has_name(&|n| n.len() == 35), "a 35-byte name");
    assert!(
        people().any(|p| p.guid().is_none()),
        "a player without GUID"
    );
    assert!(
        people().any(|p| p
            .raw_guid
            .as_deref()
            .is_some_and(|g| g.starts_with("OMNIBOT"))),
        "a bot"
    );
    assert!(
        obits
            .iter()
            .any(|o| o.killer_allies.iter().any(|a| a.guid().is_none())),
        "a GUID-less supporting ally"
    );
    for kind in [
        ObituaryKind::Kill,
        ObituaryKind::Teamkill,
        ObituaryKind::Suicide,
        ObituaryKind::World,
    ] {
        assert!(obits.iter().any(|o| o.kind == kind), "{kind:?} occurs");
    }
    assert!(
        obits.iter().any(|o| o.means_of_death == 59),
        "a team switch death"
    );
    assert!(
        obits.iter().any(|o| o.killer_allies.len() >= 2),
        "2+ supporting allies"
    );
    let rounds: Vec<_> = all.iter().flat_map(|t| &t.rounds).collect();
    assert!(
        rounds.iter().any(|r| r.obituaries.is_empty()),
        "a zero-kill round"
    );
    assert!(
        rounds.iter().any(|r| r.status == RoundStatus::Incomplete),
        "a cut-short round"
    );
    assert!(
        rounds.iter().any(|r| r.round == 2),
        "a second stopwatch round"
    );
    assert!(
        rounds.iter().any(|r| r.warmup_obituaries > 0),
        "warm-up kills"
    );
    // ... and every kind of fight event.
    let fights = || rounds.iter().map(|r| &r.fight);
    let damage = || fights().flat_map(|f| &f.damage);
    assert!(damage().any(|d| d.headshot), "a headshot");
    assert!(
        damage().any(|d| d.team_damage && d.health > d.damage),
        "team damage that does not kill"
    );
    assert!(damage().any(|d| d.splash), "splash damage");
    assert!(damage().any(|d| d.health <= 0), "a hit on a corpse");
    assert!(
        damage().any(|d| d.damage > d.health && d.health > 0),
        "a lethal hit larger than the health left"
    );
    let hits: usize = damage().filter(|d| d.is_hit()).count();
    let shots: u64 = fights().flat_map(|f| f.shots.values()).sum();
    assert!(
        shots as usize > 2 * hits,
        "misses: {shots} shots, {hits} hits"
    );
    assert!(
        fights()
            .flat_map(|f| &f.revives)
            .any(|r| r.down_ms.is_some()),
        "a revive"
    );
    assert!(
        fights().flat_map(|f| &f.spawns).any(|s| s.revived),
        "a revive spawn"
    );
    for action in ObjectiveAction::ALL {
        assert!(
            fights()
                .flat_map(|f| &f.objectives)
                .any(|o| o.action == action),
            "{action:?} occurs"
        );
    }
    assert!(
        fights()
            .flat_map(|f| &f.objectives)
            .any(|o| o.action == ObjectiveAction::Return && o.player.is_none()),
        "a return by time-out"
    );
    assert!(
        fights()
            .flat_map(|f| &f.objectives)
            .any(|o| o.action == ObjectiveAction::Build && o.target.is_empty()),
        "a repair without announcement"
    );
    assert!(
        fights().all(|f| !f.presence.is_empty()),
        "presence every round"
    );
}

#[test]
fn v3_keeps_every_kill_the_v2_writer_loses() {
    let mut lost: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut total = 0;
    let mut v2_written = 0;
    let mut v3_written = 0;
    for seed in [3u64, 11, 99, 4] {
        let run = run_sim(config(seed));
        let files = check_run(&run);
        for (round, file) in run.truth.rounds.iter().zip(&files) {
            let v2 = write_v2_round(round);
            total += round.obituaries.len();
            v3_written += file.kills.len();
            v2_written += v2.written_kills();
            if let Some((_, bytes)) = &v2.file {
                // The v2 text really holds the kills it claims: one line per written kill.
                let text = String::from_utf8_lossy(bytes);
                let kill_lines = text
                    .split("\n\n# HEATMAP")
                    .next()
                    .map_or(0, |k| k.lines().filter(|l| !l.starts_with('#')).count());
                assert_eq!(kill_lines, v2.written_kills());
                // ... and the importer's v2 parser reads them all back.
                let name = &v2.file.as_ref().map(|f| f.0.clone()).unwrap_or_default();
                let parsed = parse_round_file(bytes, name).expect("v2 parses");
                assert_eq!(parsed.kills.len(), v2.written_kills(), "{name}");
                assert!(parsed.rejected.is_empty(), "{name}: {:?}", parsed.rejected);
            }
            for (reason, label) in [
                (V2Loss::Suicide, "suicide"),
                (V2Loss::WorldKill, "world kill"),
                (V2Loss::MissingGuid, "missing cl_guid"),
                (V2Loss::NoFile, "round without file"),
            ] {
                *lost.entry(label).or_default() += v2.lost(reason);
            }
        }
    }
    let lost_total: usize = lost.values().sum();
    println!(
        "obituaries {total}: v3 kept {v3_written}, v2 kept {v2_written}, v2 lost {lost_total} {lost:?}"
    );
    assert_eq!(v3_written, total, "v3 keeps every obituary");
    assert_eq!(v2_written + lost_total, total);
    for (label, n) in &lost {
        assert!(*n > 0, "the runs exercise v2's loss by {label}");
    }
}

// ----- Focused scenarios on a hand-built server ---------------------------------------------

fn player(name: &[u8], guid: Option<&str>, team: Team, origin: [f64; 3]) -> Client {
    Client {
        name: name.to_vec(),
        guid: guid.map(str::to_string),
        team,
        health: 100,
        connected: CON_CONNECTED,
        origin,
        weapon: 8,
        is_bot: false,
        hit_regions: [0; 4],
    }
}

fn ally(guid: &str, name: &[u8]) -> Ally {
    Ally {
        guid: guid.as_bytes().to_vec(),
        name: name.to_vec(),
    }
}

const G1: &str = "0F3C0000000000000000000000000001";
const G2: &str = "9A1B0000000000000000000000000002";

struct Server {
    _dir: tempfile::TempDir,
    mock: EtMock,
}

impl Server {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mock = EtMock::new(dir.path().join("legacy"), TRACKER_LUA);
        let spill = dir.path().join("shm");
        std::fs::create_dir_all(&spill).expect("spill dir");
        {
            let mut st = mock.state_mut();
            // Rounds that outlive their VM wait here, not in the machine's /dev/shm.
            st.set_cvar("etprox_spill_dir", spill.to_string_lossy().as_bytes());
            st.level_time = 100_000;
            st.ms_offset = 45_000;
            st.clients[0] = Some(player(b"^1Al|pha", Some(G1), Team::Axis, [0.0, 0.0, 0.0]));
            st.clients[1] = Some(player(b"Bravo", Some(G2), Team::Allies, [400.0, 0.0, 0.0]));
            st.clients[2] = Some(player(b"No,guid", None, Team::Axis, [100.0, 100.0, 0.0]));
        }
        Self { _dir: dir, mock }
    }

    fn files(&self) -> Vec<PathBuf> {
        list_files(&self.mock.fs_root())
    }

    fn only_file(&self) -> V3File {
        let files = self.files();
        assert_eq!(files.len(), 1, "{files:?}");
        parse_file(&self.mock.fs_root().join(&files[0]))
    }

    fn frames(&mut self, n: usize) {
        for _ in 0..n {
            self.mock.state_mut().level_time += 50;
            self.mock.run_frame();
        }
    }

    fn start_playing(&mut self, current_round: &str) {
        let mut st = self.mock.state_mut();
        st.set_cvar("gamestate", "0");
        st.set_cvar("g_currentRound", current_round);
        drop(st);
        self.mock.start_vm(1, true).expect("module loads");
    }

    fn intermission(&mut self, flipped_round: &str) {
        let mut st = self.mock.state_mut();
        st.set_cvar("gamestate", "3");
        st.set_cvar("g_currentRound", flipped_round);
        drop(st);
        self.frames(3);
    }

    fn errors_printed(&self) -> Vec<String> {
        self.mock
            .state()
            .console
            .iter()
            .filter(|l| l.contains("error"))
            .cloned()
            .collect()
    }
}

#[test]
fn init_prints_where_files_go() {
    let mut s = Server::new();
    s.start_playing("0");
    let home = s.mock.state().cvars["fs_homepath"].clone();
    let want = format!(
        "etprox_tracker: v1.2 running: round files go to {}/legacy/proximity/",
        String::from_utf8_lossy(&home)
    );
    assert!(
        s.mock.state().console.iter().any(|l| l.starts_with(&want)),
        "{:?}",
        s.mock.state().console
    );
}

#[test]
fn zero_kill_round_writes_a_complete_file_and_warmup_writes_none() {
    let mut s = Server::new();
    s.mock.state_mut().set_cvar("gamestate", "2");
    s.mock.start_vm(1, false).expect("module loads");
    s.frames(10);
    s.mock.obituary(1, 0, 8);
    s.mock.shutdown_vm(true);
    assert!(s.files().is_empty(), "warm-up writes nothing");

    s.start_playing("0");
    s.frames(20);
    s.intermission("1");
    s.mock.shutdown_vm(true);
    let f = s.only_file();
    assert_eq!(f.header_str("status"), "complete");
    assert_eq!(f.header_str("round"), "1", "sampled before the flip");
    assert!(f.kills.is_empty());
    assert!(s.mock.escaped_errors().is_empty());
}

#[test]
fn cut_short_round_is_written_once_flagged_incomplete_via_tmp_and_rename() {
    let mut s = Server::new();
    s.start_playing("1");
    s.frames(4);
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .health = -10;
    s.mock.obituary(1, 0, 8);
    s.frames(2);
    s.mock.shutdown_vm(false);
    s.mock.shutdown_vm(false); // a second shutdown call must not write again

    let f = s.only_file();
    assert_eq!(f.header_str("status"), "incomplete");
    assert_eq!(f.header_str("round"), "2");
    assert_eq!(f.kills.len(), 1);
    let k = &f.kills[0];
    assert_eq!(k.t_ms, 200);
    assert_eq!(k.kind, "kill");
    assert_eq!(k.killer.name, b"^1Al|pha");
    assert_eq!(k.killer_allies, 1);
    assert_eq!(k.supporting, vec![ally("", b"No,guid")]);
    assert!((k.distance - 400.0).abs() < 1e-9);

    let ops = s.mock.state().fs_ops.clone();
    let opens: Vec<&FsOp> = ops
        .iter()
        .filter(|o| matches!(o, FsOp::Open { mode: 1, .. }))
        .collect();
    let renames: Vec<&FsOp> = ops
        .iter()
        .filter(|o| matches!(o, FsOp::Rename { .. }))
        .collect();
    assert_eq!(opens.len(), 1);
    assert_eq!(renames.len(), 1);
    let (FsOp::Open { path, mode, .. }, FsOp::Rename { from, to }) = (opens[0], renames[0]) else {
        unreachable!()
    };
    assert_eq!(*mode, 1);
    assert!(
        path.ends_with("-round-2_etprox_etprox-test-server-27960_1.txt.tmp"),
        "{path}"
    );
    assert_eq!(from, path);
    assert_eq!(format!("{to}.tmp"), *from);
    assert!(
        matches!(ops.last(), Some(FsOp::Rename { .. })),
        "rename after close: {ops:?}"
    );
    assert!(matches!(ops[ops.len() - 2], FsOp::Close { .. }));
}

#[test]
fn complete_round_is_not_written_again_at_shutdown() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(2);
    s.intermission("1");
    s.frames(50);
    s.mock.shutdown_vm(true);
    let renames = s
        .mock
        .state()
        .fs_ops
        .iter()
        .filter(|o| matches!(o, FsOp::Rename { .. }))
        .count();
    assert_eq!(renames, 1);
    assert_eq!(s.only_file().header_str("status"), "complete");
}

#[test]
fn callbacks_survive_bad_values_and_report_once() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(2);
    // An engine read that raises for one player's origin, on every kill.
    s.mock
        .state_mut()
        .faults
        .gentity_get_raises
        .push((Some(2), "ps.origin".to_string()));
    for _ in 0..5 {
        s.mock.obituary(1, 0, 8);
    }
    // Nonsense arguments.
    s.mock.exec("et_Obituary(nil, 'x', {}) et_Obituary(5000, 3.5, nil) et_RunFrame('abc') et_ClientConnect({})").expect("calls run");
    s.mock.state_mut().set_cvar("gamestate", "garbage");
    s.frames(3);
    s.mock.state_mut().set_cvar("gamestate", "0");
    s.mock.obituary(0, 1022, 32);
    s.mock.obituary(0, -1, 27);
    s.intermission("1");
    s.mock.shutdown_vm(true);

    assert!(
        s.mock.escaped_errors().is_empty(),
        "{:?}",
        s.mock.escaped_errors()
    );
    let printed = s.errors_printed();
    let obituary_errors = printed
        .iter()
        .filter(|l| l.contains("in et_Obituary:"))
        .count();
    assert_eq!(
        obituary_errors, 1,
        "printed once, not per kill: {printed:?}"
    );
    let f = s.only_file();
    assert_eq!(f.kills.len(), 7, "no kill lost to the faulty read");
    for w in &f.kills[5..] {
        assert_eq!(
            (w.kind.as_str(), w.killer.slot, w.killer.team.as_str()),
            ("world", 1022, "WORLD")
        );
        assert_eq!(w.killer.pos, w.victim.pos);
        assert_eq!(w.weapon, 0);
    }
}

#[test]
fn failed_open_is_reported_and_retried_at_shutdown() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(2);
    s.mock.obituary(1, 0, 8);
    s.mock.state_mut().faults.fail_open_write = true;
    s.intermission("1");
    assert!(s.files().is_empty());
    s.mock.state_mut().faults.fail_open_write = false;
    s.mock.shutdown_vm(true);
    assert!(s.mock.escaped_errors().is_empty());
    assert_eq!(s.errors_printed().len(), 1, "{:?}", s.errors_printed());
    let f = s.only_file();
    assert_eq!(f.header_str("status"), "complete");
    assert_eq!(f.kills.len(), 1);
}

#[test]
fn cvars_choose_folder_and_server_id_and_names_round_trip() {
    let mut s = Server::new();
    {
        let mut st = s.mock.state_mut();
        st.set_cvar("etprox_dir", "stats/etprox");
        st.set_cvar("etprox_server_id", "eu-1");
        st.set_cvar("sv_hostname", b"^1My ^^7Server|\xE9");
        st.clients[3] = Some(player(
            b"NONE",
            Some("odd:guid,x"),
            Team::Allies,
            [400.0, 10.0, 0.0],
        ));
    }
    s.start_playing("0");
    s.frames(1);
    s.mock.state_mut().clients[3]
        .as_mut()
        .expect("slot 3")
        .health = 0;
    s.mock.obituary(3, 0, 8);
    s.intermission("1");
    s.mock.shutdown_vm(true);
    let files = s.files();
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with("stats/etprox"), "{files:?}");
    let f = s.only_file();
    assert_eq!(f.header_str("server_id"), "eu-1");
    assert_eq!(f.header["server_name"], b"My ^Server|\xE9");
    assert!(f.header_str("round_id").starts_with("eu-1-"));
    let k = &f.kills[0];
    assert_eq!(k.victim.name, b"NONE");
    assert_eq!(k.victim.guid, b"odd:guid,x");
    assert_eq!(k.victim_allies, 1, "slot 1 is 10 units away");
    let raw = std::fs::read(s.mock.fs_root().join(&files[0])).expect("file");
    let text = String::from_utf8(raw).expect("ASCII");
    assert!(text.contains("|odd%3Aguid%2Cx|NONE|ALLIES|"), "{text}");
    assert!(text.contains("# server_name=My ^Server%7C%E9\n"), "{text}");
}

#[test]
fn module_source_avoids_known_engine_traps() {
    assert!(
        !TRACKER_LUA.contains("sess.guid"),
        "sess.guid does not exist"
    );
    let formats_with_d = TRACKER_LUA
        .lines()
        .filter(|l| l.contains("fmt(") && l.contains("%d"))
        .count();
    assert_eq!(formats_with_d, 0, "%d raises on floats in Lua 5.4");
    assert!(TRACKER_LUA.contains("cl_guid"));
    assert!(effective_guid(Some("unknown")).is_none());
}

#[test]
fn only_alive_connected_teammates_within_300_units_count() {
    let mut s = Server::new();
    {
        let mut st = s.mock.state_mut();
        let near_killer = [50.0, 0.0, 0.0];
        let mut connecting = player(b"conn", Some(G2), Team::Axis, near_killer);
        connecting.connected = 1;
        let mut dead = player(b"dead", Some(G2), Team::Axis, near_killer);
        dead.health = 0;
        st.clients[4] = Some(connecting);
        st.clients[5] = Some(dead);
        st.clients[6] = Some(player(b"spec", None, Team::Spectator, near_killer));
        st.clients[7] = Some(player(b"edge", Some(G2), Team::Axis, [300.0, 0.0, 0.0]));
        st.clients[8] = Some(player(b"beyond", Some(G2), Team::Axis, [300.001, 0.0, 0.0]));
        // Slot 2 ("No,guid", Axis, ~141 units away) counts by name; slot 7 exactly at 300.
    }
    s.start_playing("0");
    s.frames(1);
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .health = -1;
    s.mock.obituary(1, 0, 8);
    s.intermission("1");
    s.mock.shutdown_vm(true);
    let f = s.only_file();
    let k = &f.kills[0];
    assert_eq!(k.killer_allies, 2);
    assert_eq!(k.supporting, vec![ally("", b"No,guid"), ally(G2, b"edge")]);
    assert_eq!(k.victim_allies, 0);
}

#[test]
fn float_numbers_from_the_engine_are_written_as_integers() {
    let mut s = Server::new();
    s.mock.state_mut().set_cvar("gamestate", "0");
    s.mock.start_vm(1, true).expect("module loads");
    // Level time, slots and mod as floats (Lua 5.4 "%d" would raise on 250.5).
    s.mock
        .exec("et_InitGame(100000.0, 1, 1) et_RunFrame(100250.5) et_Obituary(1.0, 0.0, 8.0)")
        .expect("calls run");
    s.intermission("1");
    s.mock.shutdown_vm(true);
    assert!(s.mock.escaped_errors().is_empty());
    assert!(s.errors_printed().is_empty(), "{:?}", s.errors_printed());
    let f = s.only_file();
    let k = &f.kills[0];
    assert_eq!(
        (k.t_ms, k.killer.slot, k.victim.slot, k.means_of_death),
        (250, 0, 1, 8)
    );
}

#[test]
fn renames_and_slot_reuse_show_up_in_the_next_kill() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(1);
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .health = -1;
    s.mock.obituary(1, 0, 8);
    // A rename the module hears of through no hook at all.
    s.mock.state_mut().clients[2].as_mut().expect("slot 2").name = b"New|name".to_vec();
    s.mock.state_mut().clients[0].as_mut().expect("slot 0").name = b"Killer2".to_vec();
    s.mock.obituary(1, 0, 8);
    // Slot 2 is taken over by someone else, announced by the connect hooks.
    s.mock.call("et_ClientDisconnect", 2i64);
    s.mock.state_mut().clients[2] = Some(player(b"Other", Some(G2), Team::Axis, [100.0, 0.0, 0.0]));
    s.mock.call("et_ClientConnect", (2i64, 1i64, 0i64));
    s.mock.obituary(1, 0, 8);
    s.intermission("1");
    s.mock.shutdown_vm(true);
    let f = s.only_file();
    let allies: Vec<Vec<Ally>> = f.kills.iter().map(|k| k.supporting.clone()).collect();
    assert_eq!(
        allies,
        vec![
            vec![ally("", b"No,guid")],
            vec![ally("", b"New|name")],
            vec![ally(G2, b"Other")],
        ]
    );
    assert_eq!(f.kills[1].killer.name, b"Killer2");
}

#[test]
fn the_same_seed_gives_the_same_match_and_the_same_files() {
    let a = run_sim(config(5));
    let b = run_sim(config(5));
    assert_eq!(a.truth, b.truth);
    let files = |run: &SimRun| -> Vec<(PathBuf, Vec<u8>)> {
        list_files(&run.root)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(run.root.join(&p)).expect("file");
                (p, bytes)
            })
            .collect()
    };
    assert_eq!(files(&a), files(&b));
    assert_ne!(a.truth, run_sim(config(6)).truth);

    // The v2 files of the same run land where asked, one per round v2 writes.
    let v2_dir = a.root.join("v2");
    let written = etprox::sim::v2_writer::write_v2_files(&a.truth, &v2_dir).expect("v2 files");
    let expected = a
        .truth
        .rounds
        .iter()
        .filter(|r| write_v2_round(r).file.is_some())
        .count();
    assert_eq!(written.len(), expected);
    for path in &written {
        let bytes = std::fs::read(path).expect("v2 file");
        assert!(bytes.starts_with(b"# PROXIMITY_TRACKER_V2\n"));
    }
}

// ---- The tracker on a bad day (issue 14): full disks, shared folders, fast restarts. ----

fn final_files(s: &Server) -> Vec<PathBuf> {
    s.files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect()
}

fn write_opens(s: &Server) -> usize {
    s.mock
        .state()
        .fs_ops
        .iter()
        .filter(|o| matches!(o, FsOp::Open { mode: 1, .. }))
        .count()
}

fn console_has(s: &Server, needle: &str) -> bool {
    s.mock.state().console.iter().any(|l| l.contains(needle))
}

#[test]
fn a_full_disk_never_puts_a_cut_file_in_place_and_the_round_waits_for_space() {
    // Both ways a full disk shows: trap_FS_Write returning 0, and a write that looks fine
    // until fclose, which the engine does not report.
    for loss_shows_only_at_close in [false, true] {
        let ctx = format!("loss_shows_only_at_close={loss_shows_only_at_close}");
        let mut s = Server::new();
        s.start_playing("0");
        s.frames(2);
        for _ in 0..20 {
            s.mock.obituary(1, 0, 8);
        }
        {
            let mut st = s.mock.state_mut();
            st.faults.disk_capacity = Some(1000);
            st.faults.loss_shows_only_at_close = loss_shows_only_at_close;
        }
        s.intermission("1");
        assert!(final_files(&s).is_empty(), "{ctx}: {:?}", s.files());
        assert_eq!(
            s.mock.state().disk_used(),
            0,
            "{ctx}: the cut temporary file gives its space back"
        );
        assert!(
            !console_has(&s, "wrote "),
            "{ctx}: nothing is logged as written"
        );
        let printed = s.errors_printed();
        assert_eq!(printed.len(), 1, "{ctx}: {printed:?}");
        assert!(printed[0].contains("disk full"), "{ctx}: {printed:?}");
        assert!(printed[0].contains("kept in memory"), "{ctx}: {printed:?}");

        // Still full for 10 s of intermission: retried, but said only once.
        s.frames(200);
        assert!(final_files(&s).is_empty(), "{ctx}");
        assert!(write_opens(&s) >= 3, "{ctx}: retried during intermission");
        assert_eq!(
            s.errors_printed().len(),
            1,
            "{ctx}: {:?}",
            s.errors_printed()
        );

        // Space comes back: the next retry (within 5 s) writes the whole round.
        s.mock.state_mut().faults.disk_capacity = None;
        s.frames(101);
        let f = s.only_file();
        assert_eq!(f.header_str("status"), "complete", "{ctx}");
        assert_eq!(f.kills.len(), 20, "{ctx}");
        assert!(console_has(&s, "attempts)"), "{ctx}");
        s.mock.shutdown_vm(true);
        assert_eq!(s.files().len(), 1, "{ctx}: written once");
        assert!(s.mock.escaped_errors().is_empty(), "{ctx}");
    }
}

#[test]
fn a_round_the_disk_could_not_take_at_intermission_is_written_at_shutdown() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(2);
    s.mock.obituary(1, 0, 8);
    s.mock.state_mut().faults.disk_capacity = Some(300);
    s.intermission("1");
    s.frames(10);
    assert!(final_files(&s).is_empty());
    s.mock.state_mut().faults.disk_capacity = None;
    s.mock.shutdown_vm(true);
    let f = s.only_file();
    assert_eq!(f.header_str("status"), "complete");
    assert_eq!(f.kills.len(), 1);
}

#[test]
fn a_round_the_disk_never_takes_is_reported_lost_and_never_renamed() {
    let mut s = Server::new();
    // Nowhere to keep it past its VM either.
    s.mock
        .state_mut()
        .set_cvar("etprox_spill_dir", "/nonexistent/etprox-test");
    s.start_playing("0");
    s.frames(2);
    s.mock.obituary(1, 0, 8);
    {
        let mut st = s.mock.state_mut();
        st.faults.disk_capacity = Some(300);
        st.faults.loss_shows_only_at_close = true;
    }
    // Cut short while the disk is full: the shutdown write is the only chance.
    s.mock.shutdown_vm(false);
    assert!(final_files(&s).is_empty(), "{:?}", s.files());
    let renames = s
        .mock
        .state()
        .fs_ops
        .iter()
        .filter(|o| matches!(o, FsOp::Rename { .. }))
        .count();
    assert_eq!(renames, 0);
    assert!(console_has(&s, "is LOST"), "{:?}", s.mock.state().console);
    assert!(s.mock.escaped_errors().is_empty());
}

fn spilled(s: &Server) -> Vec<PathBuf> {
    let dir = s.mock.fs_root().with_file_name("shm");
    list_files(&dir)
}

#[test]
fn a_round_the_disk_takes_only_after_its_map_ended_is_written_at_the_next_round_end() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(2);
    for _ in 0..3 {
        s.mock.obituary(1, 0, 8);
    }
    s.mock.state_mut().faults.disk_capacity = Some(300);
    s.intermission("1");
    s.frames(20);
    s.mock.shutdown_vm(true);
    assert!(final_files(&s).is_empty(), "{:?}", s.files());
    assert_eq!(spilled(&s).len(), 1, "kept outside the VM");
    assert!(!console_has(&s, "is LOST"));
    assert!(console_has(&s, "written at the next round end"));

    // Next round (a fresh VM): still full while it is played, space is back at its end.
    s.start_playing("1");
    s.frames(2);
    s.mock.obituary(0, 1, 8);
    s.mock.state_mut().faults.disk_capacity = None;
    s.intermission("0");
    let files = final_files(&s);
    assert_eq!(files.len(), 2, "{files:?}");
    let mut kills: Vec<usize> = files
        .iter()
        .map(|p| {
            let f = parse_file(&s.mock.fs_root().join(p));
            assert_eq!(f.header_str("status"), "complete");
            f.kills.len()
        })
        .collect();
    kills.sort();
    assert_eq!(kills, vec![1, 3]);
    assert!(spilled(&s).is_empty(), "{:?}", spilled(&s));
    assert_eq!(s.mock.state().cvar("etprox_pending"), b"");
    s.mock.shutdown_vm(true);
    assert_eq!(final_files(&s).len(), 2);
    assert!(s.mock.escaped_errors().is_empty());
}

/// A second game server in the same folder as `s`, with the same players and clock.
fn second_server(s: &Server) -> EtMock {
    let other = EtMock::new(s.mock.fs_root(), TRACKER_LUA);
    {
        let a = s.mock.state();
        let mut b = other.state_mut();
        b.level_time = a.level_time;
        b.ms_offset = a.ms_offset;
        b.clients = a.clients.clone();
        b.cvars = a.cvars.clone();
    }
    other
}

fn play_short_round(mock: &mut EtMock) {
    mock.state_mut().set_cvar("gamestate", "0");
    mock.start_vm(1, true).expect("module loads");
    for _ in 0..2 {
        mock.state_mut().level_time += 50;
        mock.run_frame();
    }
    mock.obituary(1, 0, 8);
    mock.state_mut().set_cvar("gamestate", "3");
    mock.state_mut().set_cvar("g_currentRound", "1");
    mock.state_mut().level_time += 50;
    mock.run_frame();
    mock.shutdown_vm(true);
}

#[test]
fn two_servers_writing_to_one_folder_keep_each_others_files() {
    // Same host name, same map, same second; only the port differs (two servers on a box).
    let mut s = Server::new();
    let mut other = second_server(&s);
    s.mock.state_mut().set_cvar("net_port", "27960");
    other.state_mut().set_cvar("net_port", "27961");
    play_short_round(&mut s.mock);
    play_short_round(&mut other);
    let files = final_files(&s);
    assert_eq!(files.len(), 2, "{files:?}");
    let ids: BTreeSet<String> = files
        .iter()
        .map(|p| parse_file(&s.mock.fs_root().join(p)).header_str("server_id"))
        .collect();
    let want: BTreeSet<String> = ["etprox-test-server-27960", "etprox-test-server-27961"]
        .map(String::from)
        .into();
    assert_eq!(ids, want);
    for p in &files {
        let name = p.file_name().and_then(|n| n.to_str()).expect("name");
        let parsed = etprox::round_file::parse_v3_file_name(name).expect("importer reads it");
        assert!(
            want.contains(parsed.server_id.as_deref().unwrap_or("")),
            "{name}"
        );
    }

    // Even two servers given the same etprox_server_id do not replace each other's file.
    let mut s = Server::new();
    let mut other = second_server(&s);
    s.mock.state_mut().set_cvar("etprox_server_id", "eu-1");
    other.state_mut().set_cvar("etprox_server_id", "eu-1");
    play_short_round(&mut s.mock);
    play_short_round(&mut other);
    assert_eq!(final_files(&s).len(), 2, "{:?}", s.files());
    assert!(s.mock.escaped_errors().is_empty() && other.escaped_errors().is_empty());
}

#[test]
fn a_round_restarted_within_its_first_second_gets_its_own_id_and_file() {
    let mut s = Server::new();
    let mut round_ids = BTreeSet::new();
    for _ in 0..2 {
        // 300 ms of play and a map_restart: both rounds start and end in the same second.
        s.start_playing("0");
        s.frames(4);
        s.mock.obituary(1, 0, 8);
        s.frames(2);
        s.mock.shutdown_vm(true);
    }
    let files = final_files(&s);
    assert_eq!(files.len(), 2, "{files:?}");
    for p in &files {
        let f = parse_file(&s.mock.fs_root().join(p));
        assert_eq!(f.header_str("status"), "incomplete");
        assert_eq!(f.kills.len(), 1);
        round_ids.insert(f.header_str("round_id"));
    }
    assert_eq!(round_ids.len(), 2, "{round_ids:?}");
    assert_eq!(s.mock.state().cvar("etprox_round_seq"), b"2");
}

// ---- The fight (tracker 1.2, issue 19) on a hand-built server. ----

/// The text of the file's fight sections (from `# SECTION players` to the end marker).
fn fight_text(s: &Server) -> String {
    let files = final_files(s);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(s.mock.fs_root().join(&files[0])).expect("ASCII file");
    let at = text.find("# SECTION players\n").expect("fight sections");
    text[at..].to_string()
}

/// The data lines of one section.
fn section_lines(text: &str, name: &str) -> Vec<String> {
    let head = format!("# SECTION {name}\n");
    let at = text
        .find(&head)
        .unwrap_or_else(|| panic!("no section {name}"));
    text[at + head.len()..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn damage_shots_revives_spawns_and_presence_are_recorded_exactly() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(2); // t = 100 ms; second 0 sampled at 50 ms: p0 = slot 0, p1 = slot 1, p2 = slot 2
    let mut cancelled = Vec::new();
    // A headshot: the engine raised the attacker's head counter before et_Damage.
    s.mock.state_mut().clients[0]
        .as_mut()
        .expect("slot 0")
        .hit_regions[0] = 1;
    cancelled.push(s.mock.damage(1, 0, 56, 0x40, 8));
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .health = 44;
    s.mock.state_mut().clients[0]
        .as_mut()
        .expect("slot 0")
        .hit_regions[2] = 1;
    cancelled.push(s.mock.damage(1, 0, 18, 0x40, 8));
    // Friendly splash, own splash, the world, a map entity: only the first is a fight line.
    cancelled.push(s.mock.damage(2, 0, 10, 1, 16));
    cancelled.push(s.mock.damage(0, 0, 50, 1, 15));
    cancelled.push(s.mock.damage(1, 1022, 20, 8, 32));
    cancelled.push(s.mock.damage(300, 0, 20, 0, 8));
    cancelled.push(s.mock.damage(0, 300, 20, 0, 8));
    for _ in 0..3 {
        cancelled.push(s.mock.weapon_fire(0, 3));
    }
    cancelled.push(s.mock.weapon_fire(1, 8));
    s.mock.fixed_mg_fire(1);
    assert!(
        cancelled.iter().all(|c| !c),
        "the module never cancels a hit or a shot"
    );

    // Bravo goes down at 100 ms, the body is hit (health ≤ 0), a medic revives at 600 ms.
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .health = -5;
    s.mock.obituary(1, 0, 8);
    s.mock.damage(1, 0, 30, 1, 4);
    s.frames(10);
    s.mock.weapon_fire(2, 11);
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .health = 100;
    s.mock.spawn(1, true, false, true);
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .health = 50;
    s.mock.revive(1, 2, 103_600);
    s.mock.print("Medic_Revive: 2 1\n");
    // A revive nobody saw go down (no obituary this round): down_ms stays empty.
    s.mock.revive(0, 2, 103_600);
    s.frames(8); // t = 1000 ms: second 1 sampled
    s.intermission("1");
    s.mock.shutdown_vm(true);

    let text = fight_text(&s);
    let players = section_lines(&text, "players");
    assert_eq!(
        players,
        vec![
            format!("0|0|{G1}|^1Al%7Cpha|AXIS|0|1050"),
            format!("1|1|{G2}|Bravo|ALLIES|0|1050"),
            "2|2||No%2Cguid|AXIS|0|1050".to_string(),
        ]
    );
    assert_eq!(
        section_lines(&text, "damage"),
        vec![
            "100|0|1|56|100|8|h",
            "100|0|1|18|44|8|",
            "100|0|2|10|100|16|ts",
            "100|0|1|30|-5|4|s",
        ]
    );
    assert_eq!(
        section_lines(&text, "shots"),
        vec!["0|3|3", "1|8|1", "2|11|1"]
    );
    assert_eq!(
        section_lines(&text, "revives"),
        vec!["600|1|2|400.0|0.0|0.0|500", "600|0|2|0.0|0.0|0.0|"]
    );
    assert_eq!(section_lines(&text, "spawns"), vec!["600|1|1"]);
    // x = 0 -> 2048 -> "W0"; 400 -> 2073 -> "WP"; 100 -> 2054 -> "W6".
    assert_eq!(
        section_lines(&text, "presence"),
        vec!["0|00W0W001WPW002W6W6", "1|00W0W001WPW002W6W6"]
    );
    assert!(text.ends_with(
        "# END kills=1 players=3 damage=4 shots=3 revives=2 objectives=0 spawns=1 presence=2\n"
    ));
    assert!(
        s.mock.escaped_errors().is_empty(),
        "{:?}",
        s.mock.escaped_errors()
    );
    assert!(s.errors_printed().is_empty(), "{:?}", s.errors_printed());
}

#[test]
fn objective_plays_follow_the_engine_texts_and_chat_cannot_fake_them() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(1); // t = 50
    let gold = "the Gold Crate";
    // Steal (Item + popup), the map's theft announcement (no secure), chat that imitates.
    s.mock.print("Item: 1 team_CTF_redflag\n");
    s.mock
        .print(&format!("legacy popup: ^7allies^7 stole \"{gold}\"\n"));
    s.mock.print(&format!(
        "legacy announce: \"^7Allies have stolen {gold}!\"\n"
    ));
    for fake in [
        "say: ^7Bob^7: Item: 0 team_CTF_redflag\n",
        "say: popup: ^7allies^7 stole \"the Gold Crate\"\n",
        "sayteam: legacy: Repair: 2\n",
        "say: x: Dynamite_Plant: 1 the Bank Doors\n",
        "say: y: legacy announce: \"^7Allies have secured the Gold Crate!\"\n",
        "vsay: z: Objective_Destroyed: 1 the Bank Doors\n",
        " Item: 0 team_CTF_blueflag\n",
        "Repair: 2 \n",
        "Repair: 2\nRepair: 2\n",
        "legacy popup: ^7allies^7 stole \"x\"\nlegacy announce: \"^7secured\"\n",
        "legacy popup: ^7blue^7 stole \"x\"\n",
    ] {
        s.mock.print(fake);
    }
    // The carrier dies: the item drops where he fell; it times out (no Item line).
    s.frames(1); // t = 100
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .origin = [410.0, -20.5, 8.0];
    s.mock.obituary(1, 0, 8);
    s.frames(1); // t = 150
    s.mock
        .print(&format!("legacy popup: ^7axis^7 returned \"{gold}\"\n"));
    // Stolen again and secured (a mod with another MODNAME).
    s.frames(1); // t = 200
    s.mock.print("Item: 1 team_CTF_redflag\n");
    s.mock
        .print(&format!("etpro popup: ^7allies^7 stole \"{gold}\"\n"));
    s.frames(1); // t = 250
    s.mock.print(&format!(
        "etpro announce: \"^7Allies have secured {gold}!\"\n"
    ));
    // Dynamite: planted, exploded (position of the plant), then defused elsewhere.
    s.mock
        .print("legacy popup: ^7allies^7 planted \"the Bank Doors\"\n");
    s.mock.print("Dynamite_Plant: 1 the Bank Doors\n");
    s.mock.state_mut().clients[1]
        .as_mut()
        .expect("slot 1")
        .origin = [0.0, 999.0, 0.0];
    s.frames(1); // t = 300
    s.mock.print("Objective_Destroyed: 1 the Bank Doors\n");
    s.mock.print("Dynamite_Diffuse: 0 the Tank|Barrier\n");
    s.mock
        .print("legacy popup: ^7axis^7 defused \"the Tank|Barrier\"\n");
    // A construction announced in the same frame, then an MG42 repair without one.
    s.mock
        .print("legacy announce: \"^7Axis have constructed the Command Post!\"\n");
    s.mock.print("Repair: 2\n");
    s.frames(1); // t = 350
    s.mock.print("Repair: 2\n");
    // A defender touches a dropped item: a return with a player.
    s.mock.print("Item: 0 team_CTF_redflag\n");
    s.mock
        .print(&format!("legacy popup: ^7axis^7 returned \"{gold}\"\n"));
    s.intermission("1");
    s.mock.shutdown_vm(true);

    let text = fight_text(&s);
    assert_eq!(
        section_lines(&text, "objectives"),
        vec![
            "50|1|ALLIES|steal|the Gold Crate|400.0|0.0|0.0",
            "100|1|ALLIES|drop|the Gold Crate|410.0|-20.5|8.0",
            "150||AXIS|return|the Gold Crate|||",
            "200|1|ALLIES|steal|the Gold Crate|410.0|-20.5|8.0",
            "250|1|ALLIES|secure|Allies have secured the Gold Crate!|410.0|-20.5|8.0",
            "250|1|ALLIES|plant|the Bank Doors|410.0|-20.5|8.0",
            "300|1|ALLIES|destroy|the Bank Doors|410.0|-20.5|8.0",
            "300|0|AXIS|defuse|the Tank%7CBarrier|0.0|0.0|0.0",
            "300|2|AXIS|build|Axis have constructed the Command Post!|100.0|100.0|0.0",
            "350|2|AXIS|build||100.0|100.0|0.0",
            "350|0|AXIS|return|the Gold Crate|0.0|0.0|0.0",
        ]
    );
    assert!(
        s.mock.escaped_errors().is_empty(),
        "{:?}",
        s.mock.escaped_errors()
    );
    assert!(s.errors_printed().is_empty(), "{:?}", s.errors_printed());
}

#[test]
fn roster_lines_follow_renames_team_switches_and_leaves() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(1); // t = 50: second 0, three identities
    s.mock.state_mut().clients[1].as_mut().expect("slot 1").name = b"Bravo2".to_vec();
    s.mock.weapon_fire(1, 8); // seen at once by the event
    s.frames(20); // t = 1050
    s.mock.state_mut().clients[2].as_mut().expect("slot 2").team = Team::Spectator;
    s.frames(20); // t = 2050: the sweep of second 2 closes slot 2
    s.mock.call("et_ClientDisconnect", 0i64);
    s.mock.state_mut().clients[0] = None;
    s.frames(20); // t = 3050
    s.intermission("1");
    s.mock.shutdown_vm(true);
    let text = fight_text(&s);
    assert_eq!(
        section_lines(&text, "players"),
        vec![
            format!("0|0|{G1}|^1Al%7Cpha|AXIS|0|2050"),
            format!("1|1|{G2}|Bravo|ALLIES|0|50"),
            "2|2||No%2Cguid|AXIS|0|2000".to_string(),
            format!("3|1|{G2}|Bravo2|ALLIES|50|3100"),
        ]
    );
    assert_eq!(section_lines(&text, "shots"), vec!["3|8|1"]);
}

#[test]
fn fight_sections_survive_a_map_change_and_a_full_disk() {
    let mut s = Server::new();
    s.start_playing("0");
    s.frames(2);
    s.mock.damage(1, 0, 20, 0, 8);
    s.mock.weapon_fire(0, 3);
    s.mock.print("Item: 1 team_CTF_redflag\n");
    s.mock.print("legacy popup: ^7allies^7 stole \"docs\"\n");
    s.mock.state_mut().faults.disk_capacity = Some(300);
    // Cut short by a map change while the disk is full: kept outside the VM.
    s.mock.shutdown_vm(false);
    assert!(final_files(&s).is_empty());
    assert_eq!(spilled(&s).len(), 1);

    // The next round ends with room: both files, every section of the first one intact.
    s.mock.state_mut().faults.disk_capacity = None;
    s.start_playing("0");
    s.frames(2);
    s.intermission("1");
    s.mock.shutdown_vm(true);
    let files = final_files(&s);
    assert_eq!(files.len(), 2, "{files:?}");
    let first = files
        .iter()
        .map(|p| parse_file(&s.mock.fs_root().join(p)))
        .find(|f| f.header_str("status") == "incomplete")
        .expect("the cut round");
    assert_eq!(first.fight.damage.len(), 1);
    assert_eq!(first.fight.shots, vec![(0, 3, 1)]);
    assert_eq!(first.fight.objectives.len(), 1);
    assert_eq!(first.fight.presence.len(), 1);
    assert_eq!(first.fight.players.len(), 3);
    assert!(s.mock.escaped_errors().is_empty());
}

#[test]
fn damage_is_kept_when_the_engine_lacks_the_head_hit_counter() {
    let mut s = Server::new();
    s.mock
        .state_mut()
        .faults
        .gentity_get_raises
        .push((None, "pers.playerStats.hitRegions".to_string()));
    s.start_playing("0");
    s.frames(1);
    s.mock.state_mut().clients[0]
        .as_mut()
        .expect("slot 0")
        .hit_regions[0] = 3;
    s.mock.damage(1, 0, 60, 0, 8);
    s.mock.damage(1, 0, 20, 0, 8);
    s.intermission("1");
    s.mock.shutdown_vm(true);
    let text = fight_text(&s);
    assert_eq!(
        section_lines(&text, "damage"),
        vec!["50|0|1|60|100|8|", "50|0|1|20|100|8|"]
    );
    assert!(console_has(&s, "headshots are not flagged"));
    assert!(s.mock.escaped_errors().is_empty());
}

#[test]
fn truth_totals_per_player_equal_what_the_files_add_up_to() {
    let run = run_sim(config(2));
    let files = check_run(&run);
    let key = |id: &Identity| {
        if id.guid.is_empty() {
            format!("NOGUID:{}", String::from_utf8_lossy(&id.name))
        } else {
            String::from_utf8_lossy(&id.guid).into_owned()
        }
    };
    // (damage given, team damage given, shots, revives given, objective plays) per player
    let mut from_files: BTreeMap<String, (i64, i64, u64, u64, u64)> = BTreeMap::new();
    let mut pairs: BTreeMap<(String, String), i64> = BTreeMap::new();
    for file in &files {
        let f = &file.fight;
        for d in &f.damage {
            let effective = d.damage.min(d.health).max(0);
            let a = key(&f.players[d.attacker]);
            let t = key(&f.players[d.target]);
            let e = from_files.entry(a.clone()).or_default();
            if d.flags.contains('t') {
                e.1 += effective;
            } else {
                e.0 += effective;
            }
            *pairs.entry((a, t)).or_default() += effective;
        }
        for (p, _, n) in &f.shots {
            from_files.entry(key(&f.players[*p])).or_default().2 += n;
        }
        for r in &f.revives {
            if let Some(m) = r.medic {
                from_files.entry(key(&f.players[m])).or_default().3 += 1;
            }
        }
        for o in &f.objectives {
            if let Some(p) = o.player {
                from_files.entry(key(&f.players[p])).or_default().4 += 1;
            }
        }
    }
    let truth = run.truth.player_fight();
    let mut checked = 0;
    for (player, t) in &truth {
        let got = from_files.get(player).copied().unwrap_or_default();
        let want = (
            t.damage_given,
            t.team_damage_given,
            t.shots.values().sum::<u64>(),
            t.revives_given,
            t.objectives.values().sum::<u64>(),
        );
        assert_eq!(got, want, "{player}");
        checked += 1;
    }
    assert!(checked > 20, "{checked} players");
    let truth_pairs: BTreeMap<_, _> = run
        .truth
        .pair_damage()
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .collect();
    pairs.retain(|_, v| *v != 0);
    assert_eq!(pairs, truth_pairs);
}
