//! A seeded match simulator: drives [`EtMock`] through whole stopwatch matches and records what
//! really happened (the ground truth) so tests can compare it with the files the tracker wrote.
//!
//! Everything is a function of the seed: the roster (humans, Omni-bots, players without
//! `cl_guid`, hostile names), joins and leaves mid-round, team switches, spectators, kills,
//! team kills, suicides, world kills, warm-ups, rounds without kills and rounds cut short, and
//! the fight around them: shots and hits (misses, headshots, team damage, hits on bodies),
//! medic revives, respawn waves, carrier runs, dynamite, constructions and presence.
//!
//! `truth` holds what happened; `people` the roster, joins, leaves, renames and movement;
//! `obituaries` the kills of every kind and what the tracker should see of them; `fight`
//! everything else of tracker 1.2's sections.

mod fight;
mod obituaries;
mod people;
mod truth;

pub use people::hostile_names;
pub use truth::*;

use super::et_mock::{Client, EtMock, MockError, MAX_CLIENTS};
use crate::prng::SplitMix64;
use people::SlotLife;

/// Server frame length at `sv_fps 20`.
pub const FRAME_MS: i64 = 50;
/// Radius of "nearby" for ally counts.
pub const ALLY_RADIUS: f64 = 300.0;

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
    /// The fight of the round being played: medics on their way, the item, dynamite.
    fight: fight::FightState,
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
            fight: fight::FightState::default(),
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
            fight: FightTruth::default(),
        });
        self.fight_round_reset();
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
        self.fight_frame();
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
        // Play may begin at a frame the tracker has already seen: it samples that second.
        self.presence_tick();
    }

    fn set_gamestate(&mut self, value: &str) {
        self.mock.state_mut().set_cvar("gamestate", value);
    }

    fn advance_frame(&mut self) {
        self.mock.state_mut().level_time += FRAME_MS;
        self.mock.run_frame();
        self.presence_tick();
    }

    fn with_client(&mut self, slot: usize, f: impl FnOnce(&mut Client)) {
        if let Some(Some(c)) = self.mock.state_mut().clients.get_mut(slot) {
            f(c);
        }
    }
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
            fight: FightTruth::default(),
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
