//! The on-disk round formats: the shared model, the v2 and v3 parsers, and a v3 writer.
//!
//! Parsing is pure: bytes in, a [`ParsedRound`] out that borrows from the bytes wherever it can.
//! Every line that cannot be used ends up in [`ParsedRound::rejected`] with its line number and
//! reason; nothing is dropped silently.

pub mod backfill;
pub mod escape;
pub mod fight;
pub mod name;
pub mod synthetic;
mod v2;
mod v3;
pub mod writer;

use std::borrow::Cow;
use std::fmt;

pub use fight::FightSections;
pub use v2::parse_v2_file_name;
pub use v3::{parse_v3_file_name, V3FileName};

/// Files larger than this are refused before they are read.
pub const MAX_ROUND_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Engine slot number the obituary uses for "no killing player".
pub const WORLD_SLOT: i16 = 1022;

/// Round times must lie in 1970-01-01 ..= 9999-12-31 (UTC). Every program on the way (chrono,
/// PostgreSQL's timestamptz and date, four-digit file names) handles these; a file outside is
/// crafted or broken and is rejected with this range in the reason.
pub const EARLIEST_UNIX: i64 = 0;
pub const LATEST_UNIX: i64 = 253_402_300_799;

/// No map reaches this far from the origin (the engine's world is far smaller); a position beyond
/// is refused, so heatmap cells (position / cell size, as `i32`) cannot hit the ends of `i32`.
pub const MAX_COORD: f32 = 1_000_000.0;

/// Which tracker wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatVersion {
    V2,
    V3,
}

impl FormatVersion {
    pub fn number(self) -> i16 {
        match self {
            FormatVersion::V2 => 2,
            FormatVersion::V3 => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Team {
    Axis,
    Allies,
    Spectator,
    Free,
    World,
}

impl Team {
    pub fn parse(field: &[u8]) -> Option<Team> {
        match field {
            b"AXIS" => Some(Team::Axis),
            b"ALLIES" => Some(Team::Allies),
            b"SPECTATOR" => Some(Team::Spectator),
            b"FREE" => Some(Team::Free),
            b"WORLD" => Some(Team::World),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Team::Axis => "AXIS",
            Team::Allies => "ALLIES",
            Team::Spectator => "SPECTATOR",
            Team::Free => "FREE",
            Team::World => "WORLD",
        }
    }
}

/// What an obituary was. Only [`KillKind::Kill`] counts in player stats and heatmaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KillKind {
    Kill,
    TeamKill,
    Suicide,
    World,
}

impl KillKind {
    pub fn parse(field: &[u8]) -> Option<KillKind> {
        match field {
            b"kill" => Some(KillKind::Kill),
            b"teamkill" => Some(KillKind::TeamKill),
            b"suicide" => Some(KillKind::Suicide),
            b"world" => Some(KillKind::World),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KillKind::Kill => "kill",
            KillKind::TeamKill => "teamkill",
            KillKind::Suicide => "suicide",
            KillKind::World => "world",
        }
    }
}

/// One side of an obituary as the file wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Combatant<'a> {
    pub slot: i16,
    /// Unescaped; empty when the player had no `cl_guid`.
    pub guid: Cow<'a, [u8]>,
    /// Raw name bytes (unescaped for v3).
    pub name: Cow<'a, [u8]>,
    pub team: Team,
    pub pos: [f32; 3],
}

/// A nearby ally of the killer, as the file names it: v3 gives GUID and name, v2 only the name
/// (the GUID is then empty and the importer finds the player by name within the round).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllyRef<'a> {
    pub guid: Cow<'a, [u8]>,
    pub name: Cow<'a, [u8]>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KillRecord<'a> {
    /// 1-based line number in the file.
    pub line: u32,
    /// v2: process clock (offset); v3: ms since round start. Only differences are meaningful in v2.
    pub game_time: i64,
    /// Milliseconds since round start, when the format knows it (v3).
    pub time_ms: Option<i64>,
    pub kind: KillKind,
    pub killer: Combatant<'a>,
    pub victim: Combatant<'a>,
    pub distance: f32,
    pub weapon: i16,
    pub means_of_death: i16,
    pub killer_allies: u16,
    pub victim_allies: u16,
    pub supporting_allies: Vec<AllyRef<'a>>,
}

/// One cell of a v2 file's own HEATMAP section (kept to cross-check; we rebuild cells from kills).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatmapCell {
    pub grid_x: i32,
    pub grid_y: i32,
    pub axis_kills: i32,
    pub allies_kills: i32,
}

/// Facts about the round from the header and the file name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoundHeader {
    pub server_id: Option<String>,
    pub server_name: Option<String>,
    pub map_name: String,
    pub file_map_name: Option<String>,
    /// As players know it: 1-based.
    pub round_number: i16,
    pub gametype: Option<i16>,
    pub round_id: Option<String>,
    pub started_unix: Option<i64>,
    pub ended_unix: Option<i64>,
    /// v2 file names carry the server's local end time, without a zone.
    pub ended_local: Option<chrono::NaiveDateTime>,
    pub mod_family: Option<String>,
}

/// Something about the round that a reader of the stats should know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoundFlag {
    /// The file ends early: no end marker (v3), or a cut last line.
    Truncated,
    /// The tracker marked the round as cut short (map change, vote, restart).
    Incomplete,
    /// v2 file without its HEATMAP section.
    NoHeatmap,
    /// Header map differs from the map in the file name; the header wins.
    MapMismatch,
    /// Some lines could not be used; see the import log.
    LinesRejected,
    /// v3 end marker count differs from the kill lines (or a fight section's lines) read.
    CountMismatch,
    /// A v2 line was realigned because a name contained `|`.
    Realigned,
}

impl RoundFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            RoundFlag::Truncated => "truncated",
            RoundFlag::Incomplete => "incomplete",
            RoundFlag::NoHeatmap => "no_heatmap",
            RoundFlag::MapMismatch => "map_mismatch",
            RoundFlag::LinesRejected => "lines_rejected",
            RoundFlag::CountMismatch => "count_mismatch",
            RoundFlag::Realigned => "realigned",
        }
    }
}

/// A line the parser rejected or had to repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    pub line: u32,
    pub reason: String,
    /// The start of the line, lossily decoded, for the report.
    pub excerpt: String,
}

impl LineIssue {
    pub(crate) fn new(line: u32, raw: &[u8], reason: impl Into<String>) -> Self {
        const EXCERPT: usize = 120;
        let cut = &raw[..raw.len().min(EXCERPT)];
        let mut excerpt = field::text(cut);
        if raw.len() > EXCERPT {
            excerpt.push('…');
        }
        LineIssue {
            line,
            // Reasons quote bits of the line; PostgreSQL text cannot hold NUL.
            reason: field::text(reason.into().as_bytes()),
            excerpt,
        }
    }
}

impl fmt::Display for LineIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {} ({:?})",
            self.line, self.reason, self.excerpt
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRound<'a> {
    pub format: FormatVersion,
    pub header: RoundHeader,
    pub kills: Vec<KillRecord<'a>>,
    /// v2 only: the file's own grid, if it had one.
    pub heatmap: Option<Vec<HeatmapCell>>,
    pub flags: Vec<RoundFlag>,
    pub rejected: Vec<LineIssue>,
    pub warnings: Vec<LineIssue>,
    /// v3 only: whether the end marker was present.
    pub has_end_marker: bool,
    /// v3 only: the header's `tracker=` (the tracker's version), when written (1.2 and later).
    pub tracker: Option<String>,
    /// v3 only: the fight sections (tracker 1.2); None for files without any (older trackers,
    /// v2).
    pub fight: Option<FightSections<'a>>,
}

impl ParsedRound<'_> {
    /// Nothing parsed yet; room for the kills a file of `file_len` bytes may hold.
    pub(crate) fn empty(format: FormatVersion, file_len: usize) -> Self {
        ParsedRound {
            format,
            header: RoundHeader::default(),
            kills: Vec::with_capacity(file_len / 160),
            heatmap: None,
            flags: Vec::new(),
            rejected: Vec::new(),
            warnings: Vec::new(),
            has_end_marker: false,
            tracker: None,
            fight: None,
        }
    }

    pub(crate) fn flag(&mut self, flag: RoundFlag) {
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
    }
}

/// Why a whole file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRejection {
    #[error("the file is empty")]
    Empty,
    #[error("not a round file: the first line is {0:?}, expected '# PROXIMITY_TRACKER_V2' or '# ETPROX_ROUND v3'")]
    UnknownFormat(String),
    #[error("header line {line}: {reason}")]
    BadHeader { line: u32, reason: String },
    #[error("the header has no '{0}' line")]
    MissingHeader(&'static str),
    #[error("the file is {size} bytes, more than the {limit}-byte limit for a round file")]
    TooLarge { size: u64, limit: u64 },
}

/// Parses a round file of either format. `file_name` is the file's base name (used by v2 for the
/// end time, the map and the round).
pub fn parse_round_file<'a>(
    bytes: &'a [u8],
    file_name: &str,
) -> Result<ParsedRound<'a>, FileRejection> {
    // Windows tools sometimes put a UTF-8 byte-order mark in front; it is not content.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileRejection::Empty);
    }
    let first = lines(bytes).next().map(|l| l.text).unwrap_or_default();
    match first {
        b"# PROXIMITY_TRACKER_V2" => v2::parse(bytes, file_name),
        b"# ETPROX_ROUND v3" => v3::parse(bytes, file_name),
        other => Err(FileRejection::UnknownFormat(field::text(
            &other[..other.len().min(60)],
        ))),
    }
}

/// A line of the file without its terminator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub number: u32,
    pub text: &'a [u8],
    /// False for a last line that ends without `\n` (cut off).
    pub terminated: bool,
}

/// Splits on `\n`, dropping a `\r` before it.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = Line<'_>> {
    let mut rest = bytes;
    let mut number = 0u32;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        number += 1;
        let (mut text, terminated) = match memchr::memchr(b'\n', rest) {
            Some(end) => {
                let text = &rest[..end];
                rest = &rest[end + 1..];
                (text, true)
            }
            None => {
                let text = rest;
                rest = &[];
                (text, false)
            }
        };
        if let [head @ .., b'\r'] = text {
            text = head;
        }
        Some(Line {
            number,
            text,
            terminated,
        })
    })
}

/// Small field parsers shared by both formats.
pub mod field {
    pub fn int<T: std::str::FromStr>(raw: &[u8]) -> Option<T> {
        std::str::from_utf8(raw).ok()?.parse().ok()
    }

    pub fn float(raw: &[u8]) -> Option<f32> {
        let value: f32 = std::str::from_utf8(raw).ok()?.parse().ok()?;
        value.is_finite().then_some(value)
    }

    /// A world coordinate: a finite number within [`super::MAX_COORD`] of the origin.
    pub fn coord(raw: &[u8]) -> Result<f32, String> {
        let value = float(raw).ok_or("position is not a number")?;
        if value.abs() > super::MAX_COORD {
            return Err(format!(
                "position {value} is outside any map (more than {} units from the origin)",
                super::MAX_COORD
            ));
        }
        Ok(value)
    }

    /// A Unix time within [`super::EARLIEST_UNIX`] ..= [`super::LATEST_UNIX`].
    pub fn unix_time(value: i64, what: &str) -> Result<i64, String> {
        if (super::EARLIEST_UNIX..=super::LATEST_UNIX).contains(&value) {
            Ok(value)
        } else {
            Err(format!(
                "{what} {value} is not a time between 1970 and 9999 (Unix seconds {} to {})",
                super::EARLIEST_UNIX,
                super::LATEST_UNIX
            ))
        }
    }

    /// Text for a database column: lossy UTF-8, without NUL (PostgreSQL text cannot hold it).
    pub fn text(raw: &[u8]) -> String {
        let text = String::from_utf8_lossy(raw);
        if text.contains('\0') {
            text.replace('\0', "\u{FFFD}")
        } else {
            text.into_owned()
        }
    }
}

#[cfg(test)]
mod tests;
