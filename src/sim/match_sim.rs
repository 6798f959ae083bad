//! A seeded match simulator: drives [`EtMock`] through whole stopwatch matches and records what
//! really happened (the ground truth) so tests can compare it with the files the tracker wrote.
//!
//! Everything is a function of the seed: the roster (humans, Omni-bots, players without
//! `cl_guid`, hostile names), joins and leaves mid-round, team switches, spectators, kills,
//! team kills, suicides, world kills, warm-ups, rounds without kills and rounds cut short.

use super::et_mock::{
    Client, EtMock, MockError, Team, CON_CONNECTED, CON_CONNECTING, ENTITYNUM_WORLD, MAX_CLIENTS,
};
use crate::prng::SplitMix64;

/// Server frame length at `sv_fps 20`.
pub const FRAME_MS: i64 = 50;
/// Radius of "nearby" for ally counts.
pub const ALLY_RADIUS: f64 = 300.0;

const MOD_SUICIDE: i64 = 33;
const MOD_SWITCHTEAM: i64 = 59;
/// (weapon held, means of death) pairs for ordinary kills; some MODs differ from the held
/// weapon on purpose (grenades, artillery), as in the engine.
const AXIS_ARMS: &[(i64, i64)] = &[(3, 8), (3, 8), (2, 6), (41, 38), (5, 15), (4, 4), (8, 26)];
const ALLIES_ARMS: &[(i64, i64)] = &[(8, 9), (8, 9), (7, 7), (10, 11), (5, 15), (9, 18), (4, 26)];
/// World deaths: drowned, crushed, fall, trigger hurt, exploding map object.
const WORLD_MODS: &[i64] = &[27, 30, 32, 35, 36];
/// Self-kills other than /kill: own grenade, own panzerfaust.
const SELF_MODS: &[i64] = &[MOD_SUICIDE, MOD_SUICIDE, 4, 15, 18];

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

/// Knobs of a simulation run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// One stopwatch match (two rounds) per map.
    pub maps: Vec<String>,
    /// Players present at the start (at most `max_clients`).
    pub players: usize,
    /// `sv_maxclients`.
    pub max_clients: usize,
    /// Length of a round in seconds (uniform in the range).
    pub round_seconds: (i64, i64),
    pub kills_per_minute: f64,
    /// Probability that a round has no obituary at all.
    pub p_zero_kill_round: f64,
    /// Probability that a round is cut short (no intermission).
    pub p_cut_short: f64,
    /// Per-second probabilities of roster events.
    pub p_join_per_s: f64,
    pub p_leave_per_s: f64,
    pub p_switch_per_s: f64,
    pub p_rename_per_s: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            maps: vec!["goldrush".into(), "supply".into(), "radar".into()],
            players: 24,
            max_clients: MAX_CLIENTS,
            round_seconds: (240, 600),
            kills_per_minute: 30.0,
            p_zero_kill_round: 0.1,
            p_cut_short: 0.15,
            p_join_per_s: 0.02,
            p_leave_per_s: 0.015,
            p_switch_per_s: 0.01,
            p_rename_per_s: 0.005,
        }
    }
}

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
struct Person {
    name: Vec<u8>,
    guid: Option<String>,
    is_bot: bool,
    /// Hotspot index the player hangs around.
    hotspot: usize,
}

/// What the simulator tracks per occupied slot beyond [`Client`].
#[derive(Debug, Clone)]
struct SlotLife {
    person: Person,
    /// Level time of the next respawn while dead.
    respawn_at: Option<i64>,
    /// Level time at which a connecting client enters the game.
    begin_at: Option<i64>,
}

/// Map extents (mins top-left, maxs bottom-right) for placing players.
fn map_box(map: &str) -> ([f64; 2], [f64; 2]) {
    match map {
        "goldrush" => ([-4224.0, 4352.0], [3712.0, -3584.0]),
        "battery" => ([-768.0, 1664.0], [7296.0, -6400.0]),
        "oasis" => ([-768.0, 9216.0], [10496.0, -2048.0]),
        "railgun" => ([-2432.0, 9024.0], [9216.0, -2624.0]),
        "fueldump" => ([-13568.0, 2048.0], [768.0, -12288.0]),
        _ => ([-4096.0, 4096.0], [4096.0, -4096.0]),
    }
}

/// The simulator: owns the mock server and the truth it records.
pub struct MatchSim {
    rng: SplitMix64,
    config: SimConfig,
    mock: EtMock,
    slots: Vec<Option<SlotLife>>,
    hotspots: Vec<[f64; 3]>,
    truth: MatchTruth,
    /// Obituaries of the round being played (`None` outside play).
    current: Option<RoundTruth>,
    gamestate_playing: bool,
    next_name: usize,
    hostile: Vec<Vec<u8>>,
    /// Obituaries of the last warm-up, attached to the round that follows it.
    pending_warmup_kills: usize,
}

impl MatchSim {
    /// A simulator writing under `fs_root` (`<fs_homepath>/<fs_game>`) with the given module.
    pub fn new(config: SimConfig, fs_root: impl Into<std::path::PathBuf>, script: &str) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let mock = EtMock::new(fs_root, script);
        {
            let mut st = mock.state_mut();
            st.ms_offset = rng.range_i64(20_000, 300_000);
            st.level_time = rng.range_i64(0, 50_000) * FRAME_MS;
            st.unix_at_level_zero = 1_763_000_000 + rng.range_i64(0, 3_000_000);
            st.set_cvar("sv_maxclients", config.max_clients.to_string());
            st.set_cvar("g_gametype", "3");
        }
        let truth = MatchTruth {
            seed: config.seed,
            rounds: Vec::new(),
        };
        Self {
            rng,
            config,
            mock,
            slots: vec![None; MAX_CLIENTS],
            hotspots: Vec::new(),
            truth,
            current: None,
            gamestate_playing: false,
            next_name: 0,
            hostile: hostile_names(),
            pending_warmup_kills: 0,
        }
    }

    pub fn mock(&self) -> &EtMock {
        &self.mock
    }

    pub fn mock_mut(&mut self) -> &mut EtMock {
        &mut self.mock
    }

    pub fn truth(&self) -> &MatchTruth {
        &self.truth
    }

    pub fn into_truth(self) -> MatchTruth {
        self.truth
    }

    /// Plays every configured map as a stopwatch match.
    pub fn run(&mut self) -> Result<&MatchTruth, MockError> {
        let target = self.config.players.min(self.config.max_clients);
        for _ in 0..target {
            self.connect_new(true);
        }
        let maps = self.config.maps.clone();
        for map in maps {
            self.play_stopwatch_match(&map)?;
        }
        Ok(&self.truth)
    }

    fn play_stopwatch_match(&mut self, map: &str) -> Result<(), MockError> {
        self.setup_map(map);
        self.mock.state_mut().set_cvar("g_currentRound", "0");
        self.warmup()?;
        let first = self.play_round(map, 0)?;
        if first == RoundStatus::Complete {
            // Stopwatch: sides swap for the second round.
            for slot in 0..MAX_CLIENTS {
                let swapped = self.mock.state().client(slot).map(|c| c.team.opponent());
                if let Some(team) = swapped {
                    self.with_client(slot, |c| c.team = team);
                }
            }
            self.play_round(map, 1)?;
        }
        Ok(())
    }

    fn setup_map(&mut self, map: &str) {
        let (mins, maxs) = map_box(map);
        self.hotspots = (0..5)
            .map(|_| {
                [
                    self.rng.range_f64(mins[0] * 0.8, maxs[0] * 0.8),
                    self.rng.range_f64(maxs[1] * 0.8, mins[1] * 0.8),
                    self.rng.range_f64(-300.0, 300.0),
                ]
            })
            .collect();
        self.mock.state_mut().set_cvar("mapname", map);
    }

    /// A warm-up VM: obituaries fire, but no round file may come of it.
    fn warmup(&mut self) -> Result<(), MockError> {
        if !self.rng.chance(0.6) {
            return Ok(());
        }
        self.set_gamestate("2");
        let seed = self.rng.range_i64(0, 1 << 30);
        self.mock.start_vm(seed, false)?;
        let frames = self.rng.range_i64(40, 200);
        let mut warmup_kills = 0;
        for _ in 0..frames {
            self.advance_frame();
            if self.rng.chance(0.02) && self.ordinary_kill(false) {
                warmup_kills += 1;
            }
        }
        self.set_gamestate("1");
        for _ in 0..20 {
            self.advance_frame();
        }
        self.mock.shutdown_vm(true);
        self.pending_warmup_kills = warmup_kills;
        Ok(())
    }

    fn play_round(&mut self, map: &str, current_round: i64) -> Result<RoundStatus, MockError> {
        let late_start = self.begin_round(map, current_round)?;
        let zero_kills = self.rng.chance(self.config.p_zero_kill_round);
        let cut_short = self.rng.chance(self.config.p_cut_short);
        let seconds = if zero_kills {
            self.rng.range_i64(20, 90)
        } else {
            self.rng
                .range_i64(self.config.round_seconds.0, self.config.round_seconds.1)
        };
        let mut frames = seconds * 1000 / FRAME_MS;
        if cut_short {
            frames = self.rng.range_i64(1, frames.max(2));
        }
        for frame in 0..frames {
            if late_start && frame == 5 {
                self.set_gamestate("0");
            }
            self.advance_frame();
            if late_start && frame == 5 {
                self.mark_playing();
            }
            self.move_players();
            if zero_kills || !self.gamestate_playing {
                continue;
            }
            self.frame_events();
        }
        let status = if cut_short {
            RoundStatus::Incomplete
        } else {
            RoundStatus::Complete
        };
        self.end_round(status, current_round);
        Ok(status)
    }

    /// Starts a round's VM with everyone respawned and its truth record open; returns whether
    /// play begins a few frames late (the VM started while the countdown still showed).
    fn begin_round(&mut self, map: &str, current_round: i64) -> Result<bool, MockError> {
        self.mock
            .state_mut()
            .set_cvar("g_currentRound", current_round.to_string());
        let late_start = self.rng.chance(0.25);
        self.set_gamestate(if late_start { "1" } else { "0" });
        for slot in 0..MAX_CLIENTS {
            self.respawn(slot);
        }
        let init_level_time = self.mock.state().level_time;
        self.current = Some(RoundTruth {
            map: map.to_string(),
            gametype: 3,
            current_round,
            round: current_round + 1,
            status: RoundStatus::Incomplete,
            server_id: self.server_id(),
            seq: self.truth.rounds.len() as i64 + 1,
            init_level_time,
            start_level_time: init_level_time,
            start_unix: 0,
            end_unix: 0,
            obituaries: Vec::new(),
            warmup_obituaries: std::mem::take(&mut self.pending_warmup_kills),
        });
        let seed = self.rng.range_i64(0, 1 << 30);
        self.mock.start_vm(seed, true)?;
        if !late_start {
            self.mark_playing();
        }
        Ok(late_start)
    }

    /// What may happen in one frame of play: a kill, a team switch, a join, a leave, a rename.
    fn frame_events(&mut self) {
        let p_kill = self.config.kills_per_minute / (60_000.0 / FRAME_MS as f64);
        let per_frame = |p_per_s: f64| p_per_s * FRAME_MS as f64 / 1000.0;
        if self.rng.chance(p_kill) {
            self.random_obituary();
        }
        if self.rng.chance(per_frame(self.config.p_switch_per_s)) {
            self.switch_team_of_random_player();
        }
        if self.rng.chance(per_frame(self.config.p_join_per_s)) {
            self.connect_new(false);
        }
        if self.rng.chance(per_frame(self.config.p_leave_per_s)) {
            self.disconnect_random();
        }
        if self.rng.chance(per_frame(self.config.p_rename_per_s)) {
            self.rename_random();
        }
    }

    /// Intermission (a complete round) or a cut (an incomplete one), the truth record closed,
    /// and the VM shut down; a complete first half restarts the map for the second.
    fn end_round(&mut self, status: RoundStatus, current_round: i64) {
        self.gamestate_playing = false;
        if status == RoundStatus::Complete {
            // G_LogExit: intermission starts and g_currentRound flips at once; the tracker
            // notices on the next frame.
            self.set_gamestate("3");
            let flipped = if current_round == 0 { "1" } else { "0" };
            self.mock.state_mut().set_cvar("g_currentRound", flipped);
            self.advance_frame();
        }
        let end_unix =
            self.mock.state().unix_at_level_zero + self.mock.state().level_time.div_euclid(1000);
        if let Some(mut round) = self.current.take() {
            round.status = status;
            round.end_unix = end_unix;
            self.truth.rounds.push(round);
        }
        if status == RoundStatus::Complete {
            for _ in 0..self.rng.range_i64(20, 200) {
                self.advance_frame();
            }
        }
        let restart = status == RoundStatus::Complete && current_round == 0;
        self.mock.shutdown_vm(restart);
    }

    fn server_id(&self) -> String {
        let st = self.mock.state();
        expected_server_id(
            st.cvar("etprox_server_id"),
            st.cvar("sv_hostname"),
            st.cvar("net_port"),
        )
    }

    fn mark_playing(&mut self) {
        self.gamestate_playing = true;
        let (level_time, unix) = {
            let st = self.mock.state();
            (
                st.level_time,
                st.unix_at_level_zero + st.level_time.div_euclid(1000),
            )
        };
        if let Some(r) = &mut self.current {
            r.start_level_time = level_time;
            r.start_unix = unix;
        }
    }

    fn set_gamestate(&mut self, value: &str) {
        self.mock.state_mut().set_cvar("gamestate", value);
    }

    fn advance_frame(&mut self) {
        self.mock.state_mut().level_time += FRAME_MS;
        self.mock.run_frame();
    }

    fn with_client(&mut self, slot: usize, f: impl FnOnce(&mut Client)) {
        if let Some(Some(c)) = self.mock.state_mut().clients.get_mut(slot) {
            f(c);
        }
    }

    fn new_person(&mut self, slot: usize, is_bot: bool) -> Person {
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

    fn generated_name(&mut self) -> String {
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
    fn connect_new(&mut self, immediate: bool) {
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
    fn begin(&mut self, slot: usize) {
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

    fn smaller_team(&self) -> Team {
        let st = self.mock.state();
        let count = |t: Team| st.clients.iter().flatten().filter(|c| c.team == t).count();
        if count(Team::Axis) <= count(Team::Allies) {
            Team::Axis
        } else {
            Team::Allies
        }
    }

    fn respawn(&mut self, slot: usize) {
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
        self.mock
            .call("et_ClientSpawn", (slot as i64, 0i64, 0i64, 1i64));
    }

    fn move_players(&mut self) {
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

    fn alive_slots(&self, team: Option<Team>) -> Vec<usize> {
        let st = self.mock.state();
        (0..MAX_CLIENTS)
            .filter(|&s| {
                st.client(s)
                    .is_some_and(|c| c.is_alive_player() && team.is_none_or(|t| c.team == t))
            })
            .collect()
    }

    fn random_obituary(&mut self) {
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
    fn ordinary_kill(&mut self, record: bool) -> bool {
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
        let mod_ = self.rng.pick(arms).map_or(0, |a| a.1);
        self.fire_obituary(victim, killer as i64, mod_, record);
        true
    }

    fn team_kill(&mut self) {
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
        let mod_ = if self.rng.chance(0.5) { 26 } else { 4 };
        self.fire_obituary(victim, killer as i64, mod_, true);
    }

    fn self_kill(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&victim) = self.rng.pick(&alive) else {
            return;
        };
        let mod_ = self.rng.pick(SELF_MODS).copied().unwrap_or(MOD_SUICIDE);
        self.fire_obituary(victim, victim as i64, mod_, true);
    }

    fn world_kill(&mut self) {
        let alive = self.alive_slots(None);
        let Some(&victim) = self.rng.pick(&alive) else {
            return;
        };
        let mod_ = self.rng.pick(WORLD_MODS).copied().unwrap_or(32);
        self.fire_obituary(victim, ENTITYNUM_WORLD, mod_, true);
    }

    /// Prefers candidates close to `slot` (fights happen at short range), else any.
    fn pick_near<'a>(&mut self, slot: usize, candidates: &'a [usize]) -> Option<&'a usize> {
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
    fn fire_obituary(&mut self, victim: usize, killer: i64, mod_: i64, record: bool) {
        let gib = self.rng.range_i64(0, 80);
        self.with_client(victim, |c| c.health = -gib);
        if record && self.gamestate_playing {
            if let Some(truth) = self.observe(victim, killer, mod_) {
                if let Some(r) = &mut self.current {
                    r.obituaries.push(truth);
                }
            }
        }
        self.mock.obituary(victim as i64, killer, mod_);
        let at = self.mock.state().level_time + self.rng.range_i64(20, 400) * FRAME_MS;
        if let Some(life) = &mut self.slots[victim] {
            life.respawn_at = Some(at);
        }
    }

    /// The ground truth of an obituary, computed from the engine state.
    fn observe(&self, victim: usize, killer: i64, mod_: i64) -> Option<ObituaryTruth> {
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

    /// A living player changes team (or goes spectator): MOD_SWITCHTEAM first, as SetTeam does.
    fn switch_team_of_random_player(&mut self) {
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

    fn disconnect_random(&mut self) {
        let occupied: Vec<usize> = (0..MAX_CLIENTS)
            .filter(|&s| self.slots[s].is_some())
            .collect();
        let Some(&slot) = self.rng.pick(&occupied) else {
            return;
        };
        self.mock.call("et_ClientDisconnect", slot as i64);
        self.mock.state_mut().clients[slot] = None;
        self.slots[slot] = None;
    }

    fn rename_random(&mut self) {
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

fn dist2(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    dx * dx + dy * dy + dz * dz
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_names_the_engine_accepts() {
        for name in hostile_names() {
            assert!(!name.is_empty() && name.len() <= 35, "{name:?}");
            assert!(
                !name.iter().any(|b| matches!(b, b'\\' | b'"' | b';')),
                "{name:?}"
            );
            assert_ne!(name.first(), Some(&b' '), "{name:?}");
        }
        let names = hostile_names();
        assert!(names
            .iter()
            .any(|n| n.len() == 35 && std::str::from_utf8(n).is_err()));
    }

    #[test]
    fn effective_guid_drops_placeholders() {
        assert_eq!(effective_guid(None), None);
        assert_eq!(effective_guid(Some("")), None);
        assert_eq!(effective_guid(Some("Unknown")), None);
        assert_eq!(effective_guid(Some("NO_GUID")), None);
        assert_eq!(effective_guid(Some("ABC")), Some("ABC"));
    }

    #[test]
    fn v3_file_name_uses_utc_end_time_and_safe_map_bytes() {
        let round = RoundTruth {
            map: "te/es..cape".into(),
            gametype: 3,
            current_round: 1,
            round: 2,
            status: RoundStatus::Complete,
            server_id: "eu-1".into(),
            seq: 7,
            init_level_time: 0,
            start_level_time: 0,
            start_unix: 0,
            end_unix: 1_763_499_502,
            obituaries: Vec::new(),
            warmup_obituaries: 0,
        };
        assert_eq!(
            round.v3_file_name(),
            "2025-11-18-205822-te_es__cape-round-2_etprox_eu-1_7.txt"
        );
    }

    #[test]
    fn server_id_is_the_cvar_or_host_name_and_port() {
        assert_eq!(expected_server_id(b"EU 1", b"x", b""), "eu-1");
        assert_eq!(
            expected_server_id(b"", b"^1My ^7Server!", b""),
            "my-server-27960"
        );
        assert_eq!(expected_server_id(b"-!-", b"", b"27961"), "etserver-27961");
        let long = expected_server_id(b"", "a".repeat(60).as_bytes(), b"27960");
        assert_eq!(long.len(), 40);
        assert!(long.ends_with("a-27960"), "{long}");
    }
}
