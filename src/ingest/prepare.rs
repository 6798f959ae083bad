//! The pure half of an import: a file's bytes become a round row, parsed kills and
//! aggregates, checked against what PostgreSQL accepts, without touching the database.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, TimeZone, Utc};

use super::files::{content_hash, system_time_to_utc};
use super::{ImportedRound, Importer, MAX_KEY_BYTES};
use crate::db::rounds::RoundRow;
use crate::db::stored::StoredRound;
use crate::round_file::{parse_round_file, FileRejection, FormatVersion, ParsedRound, RoundFlag};
use crate::stats::batch::RoundContext;
use crate::stats::{aggregate_round, RoundStats};

/// What [`Importer::prepare`] made of a file's bytes.
#[derive(Debug)]
pub enum Preparation<'a> {
    /// Ready for the database: every value is one PostgreSQL takes.
    Ready(Box<PreparedFile<'a>>),
    Empty {
        sha: String,
    },
    /// Refused for a reason inside the file (never retried until the content changes).
    Rejected {
        sha: String,
        reason: String,
    },
}

/// A parsed round with everything the database needs.
#[derive(Debug)]
pub struct PreparedFile<'a> {
    pub row: RoundRow,
    pub round: ParsedRound<'a>,
    pub stats: RoundStats,
}

impl PreparedFile<'_> {
    /// Checks every value the importer writes against what PostgreSQL accepts (text without
    /// NUL, times and dates within range, finite numbers), so a file can never make a
    /// transaction fail: a value the parser let through by mistake rejects the file here, with
    /// the field in the reason, instead of failing in the database on every retry.
    pub fn check_database_values(&self) -> Result<(), String> {
        self.check_round_texts()?;
        self.check_round_times()?;
        self.check_player_names()?;
        self.check_kills()
    }

    fn check_round_texts(&self) -> Result<(), String> {
        let r = &self.row;
        for (what, text) in [
            ("round key", Some(r.round_key.as_str())),
            ("server id", Some(r.server_id.as_str())),
            ("server name", r.server_name.as_deref()),
            ("map name", Some(r.map_name.as_str())),
            ("map in the file name", r.file_map_name.as_deref()),
            ("source path", Some(r.source_path.as_str())),
        ] {
            if let Some(text) = text {
                check_text(what, text)?;
            }
        }
        if r.warnings.to_string().contains("\\u0000") {
            return refused("a warning", "contains a NUL byte");
        }
        Ok(())
    }

    fn check_round_times(&self) -> Result<(), String> {
        let r = &self.row;
        let in_range = |t: &DateTime<Utc>| {
            (crate::round_file::EARLIEST_UNIX..=crate::round_file::LATEST_UNIX)
                .contains(&t.timestamp())
        };
        for (what, time) in [("start time", r.started_at), ("end time", r.ended_at)] {
            if time.as_ref().is_some_and(|t| !in_range(t)) {
                return refused(what, "is not between 1970 and 9999");
            }
        }
        let year = chrono::Datelike::year(&r.session_date);
        if !(1969..=9999).contains(&year) {
            return refused("session day", "is not between 1970 and 9999");
        }
        Ok(())
    }

    fn check_player_names(&self) -> Result<(), String> {
        let s = &self.stats;
        let names = s
            .identities
            .iter()
            .flat_map(|i| [i.name.as_str(), i.display_name.as_str()])
            .chain(
                s.players
                    .iter()
                    .flat_map(|p| [p.key.as_str(), p.name.as_str()]),
            )
            .chain(
                s.aliases
                    .iter()
                    .flat_map(|a| [a.name.as_str(), a.display_name.as_str()]),
            );
        for name in names {
            check_text("a player name or GUID", name)?;
        }
        Ok(())
    }

    fn check_kills(&self) -> Result<(), String> {
        for kill in &self.round.kills {
            let coords = kill.killer.pos.iter().chain(&kill.victim.pos);
            if coords
                .chain([&kill.distance])
                .any(|v| !v.is_finite() || v.abs() > crate::round_file::MAX_COORD * 4.0)
            {
                return refused(
                    &format!("line {}: a position or distance", kill.line),
                    "is out of range",
                );
            }
            if kill.time_ms.is_some_and(|t| i32::try_from(t).is_err()) {
                return refused(
                    &format!("line {}: t_ms", kill.line),
                    "does not fit its column",
                );
            }
        }
        let s = &self.stats;
        if s.kills
            .iter()
            .any(|kill| s.allies_json(kill).contains("\\u0000"))
        {
            return refused("a supporting ally's name", "contains a NUL byte");
        }
        Ok(())
    }
}

fn refused(what: &str, why: &str) -> Result<(), String> {
    Err(format!("{what} {why}: PostgreSQL would refuse it"))
}

/// Text PostgreSQL stores: no NUL byte, and short enough for a btree index entry (indexes
/// refuse entries of more than ~2.7 kB).
fn check_text(what: &str, text: &str) -> Result<(), String> {
    if text.contains('\0') {
        return refused(what, "contains a NUL byte");
    }
    if text.len() > MAX_KEY_BYTES {
        return refused(what, &format!("is longer than {MAX_KEY_BYTES} bytes"));
    }
    Ok(())
}

/// A prepared file in a batch.
pub(crate) struct Prepared<'a> {
    /// Position in the caller's list of paths.
    pub(crate) index: usize,
    pub(crate) row: RoundRow,
    /// The file's bytes (a later version of the round is recognised by them).
    pub(crate) bytes: &'a [u8],
    pub(crate) round: ParsedRound<'a>,
    pub(crate) stats: RoundStats,
}

/// What an import does with a round that is not in the database by its content.
pub(crate) enum Plan {
    /// A round seen for the first time.
    New,
    /// A longer version of stored rounds (see [`identity`]): they are taken out, this goes in
    /// under the first one's id.
    Replace(Vec<StoredRound>),
}

/// Why a file of a batch is not stored.
pub(crate) enum NotStored {
    /// Its round is stored (same content, an earlier or other version): `(round id, path)`.
    Stored(i64, String),
    /// A longer version of a stored round whose raw kills were archived (its counters cannot
    /// be taken out exactly): the stored version stays.
    Archived(i64, String),
    /// The other tracker's copy of a stored round.
    OtherTracker(i64, String),
    /// The other tracker's copy of an earlier file of the batch.
    OtherTrackerTwin(usize),
}

impl Prepared<'_> {
    /// What makes two files versions of one round: the v3 round id, or a v2 file's name on its
    /// server.
    pub(crate) fn identity(&self) -> String {
        match self.round.format {
            FormatVersion::V3 => self.row.round_key.clone(),
            FormatVersion::V2 => format!("v2:{}:{}", self.row.server_id, self.row.source_name),
        }
    }

    /// Advisory lock keys: imports that might be one round (versions of one file, or the two
    /// trackers' files of one round) wait for each other, and only those. The two trackers'
    /// files of a round end within two minutes of each other: each file locks the 10-minute
    /// slot of its end and the slots two minutes either side, so two such files always share a
    /// slot, while rounds of one server (minutes apart) rarely do.
    pub(crate) fn lock_keys(&self) -> Vec<String> {
        let mut keys = vec![format!("round:{}", self.identity())];
        if let Some((_, end)) = self.time_window() {
            let slot = |t: DateTime<Utc>| t.timestamp().div_euclid(600);
            let margin = chrono::Duration::minutes(2);
            let mut slots = vec![slot(end - margin), slot(end), slot(end + margin)];
            slots.dedup();
            keys.extend(
                slots
                    .into_iter()
                    .map(|s| format!("match:{}:{}:{s}", self.row.map_name, self.row.round_number)),
            );
        }
        keys
    }

    pub(crate) fn time_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.row.started_at.or(self.row.ended_at)?;
        let end = self.row.ended_at.or(self.row.started_at)?;
        Some((start, end))
    }

    /// Whether `other` (another file of the batch) may be the other tracker's copy of this round.
    pub(crate) fn may_match(&self, other: &Prepared<'_>) -> bool {
        let window = chrono::Duration::minutes(2);
        match (self.time_window(), other.time_window()) {
            (Some((s1, e1)), Some((s2, e2))) => {
                self.round.format != other.round.format
                    && self.row.map_name == other.row.map_name
                    && self.row.round_number == other.row.round_number
                    && s1 <= e2 + window
                    && e1 >= s2 - window
            }
            _ => false,
        }
    }

    pub(crate) fn context(&self) -> RoundContext {
        RoundContext {
            session_date: self.row.session_date,
            map_name: self.row.map_name.clone(),
            seen: self
                .row
                .started_at
                .or(self.row.ended_at)
                .unwrap_or_else(Utc::now),
        }
    }

    pub(crate) fn event(&self, round_id: i64) -> ImportedRound {
        ImportedRound {
            round_id,
            map_name: self.row.map_name.clone(),
            round_number: self.row.round_number,
            server_id: self.row.server_id.clone(),
            session_date: self.row.session_date,
            ended_at: self.row.ended_at,
            kills: self.round.kills.len(),
            source_path: PathBuf::from(&self.row.source_path),
        }
    }
}

impl Importer {
    /// Everything the importer would write for one file's bytes, without touching the
    /// database: parse, aggregate, session day, round row, and a last check that PostgreSQL
    /// will take every value. Pure; the fuzzer drives the whole import path through it.
    pub fn prepare<'a>(
        &self,
        path: &Path,
        bytes: &'a [u8],
        modified: Option<SystemTime>,
    ) -> Preparation<'a> {
        let sha = content_hash(bytes);
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rejected = |sha: String, reason: String| Preparation::Rejected {
            sha,
            // Reasons quote the file; PostgreSQL text cannot hold NUL.
            reason: crate::round_file::field::text(reason.as_bytes()),
        };
        let round = match parse_round_file(bytes, &file_name) {
            Ok(round) => round,
            Err(FileRejection::Empty) => return Preparation::Empty { sha },
            Err(rejection) => return rejected(sha, rejection.to_string()),
        };
        let mut row = match self.round_row(path, &sha, &round, modified, bytes.len()) {
            Ok(row) => row,
            Err(reason) => return rejected(sha, reason),
        };
        let stats = aggregate_round(&round);
        if stats.unresolved_allies > 0 {
            if let serde_json::Value::Array(w) = &mut row.warnings {
                w.push(serde_json::json!({
                    "line": 0,
                    "reason": format!("{} supporting-ally names match no player of the round", stats.unresolved_allies),
                }));
            }
        }
        let file = PreparedFile { row, round, stats };
        match file.check_database_values() {
            Ok(()) => Preparation::Ready(Box::new(file)),
            Err(reason) => rejected(sha, reason),
        }
    }

    pub(crate) fn round_row(
        &self,
        path: &Path,
        sha: &str,
        round: &ParsedRound<'_>,
        modified: Option<SystemTime>,
        round_bytes: usize,
    ) -> Result<RoundRow, String> {
        let h = &round.header;
        let mut warnings: Vec<serde_json::Value> = round
            .warnings
            .iter()
            .map(|w| serde_json::json!({"line": w.line, "reason": w.reason}))
            .collect();
        // The parser keeps header times within EARLIEST_UNIX..=LATEST_UNIX; None only if absent.
        let unix = |s: Option<i64>| s.and_then(|s| Utc.timestamp_opt(s, 0).single());
        let started_at = unix(h.started_unix);
        let mut ended_at = unix(h.ended_unix);
        let no_day = |what: &str| format!("{what} has no session day in the configured time zone");
        let session_date = if let Some(start) = started_at {
            self.session
                .checked_session_date(start)
                .ok_or_else(|| no_day("the start time"))?
        } else if let Some(local) = h.ended_local {
            ended_at = self.session.local_to_utc(local);
            self.session
                .checked_session_date_local(local)
                .ok_or_else(|| no_day("the end time in the file name"))?
        } else {
            let instant = match modified {
                Some(t) => system_time_to_utc(t).ok_or_else(|| {
                    "no end time in the file name, and the file's modification time is not \
                     between 1970 and 9999: give the file a name with its end time"
                        .to_owned()
                })?,
                None => Utc::now(),
            };
            warnings.push(serde_json::json!({
                "line": 0,
                "reason": "no end time in the file name: used the file's modification time",
            }));
            ended_at = Some(instant);
            self.session
                .checked_session_date(instant)
                .ok_or_else(|| no_day("the modification time"))?
        };
        let server_id = h
            .server_id
            .clone()
            .unwrap_or_else(|| self.default_server_id.clone());
        let round_key = match (round.format, &h.round_id) {
            (FormatVersion::V3, Some(id)) => format!("v3:{server_id}:{id}"),
            _ => format!("v2:{sha}"),
        };
        let mut flags: Vec<RoundFlag> = round.flags.clone();
        flags.sort();
        Ok(RoundRow {
            round_key,
            content_sha256: sha.to_owned(),
            format_version: round.format.number(),
            server_id,
            server_name: h.server_name.clone(),
            map_name: h.map_name.clone(),
            file_map_name: h.file_map_name.clone(),
            round_number: h.round_number,
            gametype: h.gametype,
            started_at,
            ended_at,
            session_date,
            source_path: path.display().to_string(),
            source_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            content_bytes: i64::try_from(round_bytes).unwrap_or(i64::MAX),
            kill_count: round.kills.len() as i32,
            flags: flags.iter().map(|f| f.as_str().to_owned()).collect(),
            warnings: serde_json::Value::Array(warnings),
        })
    }
}
