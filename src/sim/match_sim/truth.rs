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
