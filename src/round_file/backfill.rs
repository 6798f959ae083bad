//! A community's history as the public v2 module leaves it: many small files, a fixed number of
//! rounds per session evening, a map rotation, and one pool of players who meet again and again.
//! Deterministic; for the import bench, `etprox bench generate --v2` and the backfill tests.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::synthetic::{synthetic_v2, RoundSpec};

/// The maps of an evening, played in this order.
const ROTATION: [&str; 6] = [
    "goldrush", "supply", "radar", "oasis", "battery", "fueldump",
];

/// What history to write.
#[derive(Debug, Clone)]
pub struct BackfillSpec {
    pub files: usize,
    /// Kills per file before v2 drops suicides (about 2 % of them).
    pub kills_per_file: usize,
    /// Rounds (files) per session evening.
    pub rounds_per_day: usize,
    pub first_day: NaiveDate,
    /// Minutes from one round's start to the next.
    pub round_spacing_minutes: i64,
}

impl BackfillSpec {
    /// `files` files of about `kills_per_file` kills, 14 per evening from 1 March 2024.
    pub fn new(files: usize, kills_per_file: usize) -> Self {
        BackfillSpec {
            files,
            kills_per_file,
            rounds_per_day: 14,
            first_day: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default(),
            round_spacing_minutes: 24,
        }
    }

    /// The `i`th file: `(file name, bytes)`. Evenings start at 18:00 local time, so the last
    /// round ends well before the 06:00 session-day boundary.
    pub fn file(&self, i: usize) -> (String, Vec<u8>) {
        let per_day = self.rounds_per_day.max(1);
        let (day, slot) = (i / per_day, i % per_day);
        let evening = self.first_day + Duration::days(day as i64);
        let start = NaiveDateTime::new(
            evening,
            NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        ) + Duration::minutes(slot as i64 * self.round_spacing_minutes);
        let mut spec = RoundSpec::new(i as u64, start.and_utc().timestamp());
        spec.kills = self.kills_per_file;
        spec.map = ROTATION[(slot / 2) % ROTATION.len()].to_owned();
        // Stopwatch: each map twice, round 1 then round 2.
        spec.round_number = 1 + (slot % 2) as i16;
        spec.server_id = "backfill".into();
        // A round lasts a kill every ~7 s; the file is written when it ends.
        let ended = start + Duration::seconds(30 + self.kills_per_file as i64 * 7);
        synthetic_v2(&spec, ended)
    }

    /// Every file, in order.
    pub fn files(&self) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
        (0..self.files).map(|i| self.file(i))
    }
}

/// Writes the history into `dir` (which must exist); returns the bytes written.
pub fn write_backfill(dir: &std::path::Path, spec: &BackfillSpec) -> std::io::Result<usize> {
    let mut bytes = 0;
    for (name, data) in spec.files() {
        bytes += data.len();
        std::fs::write(dir.join(name), data)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::round_file::{parse_round_file, parse_v2_file_name};

    #[test]
    fn evenings_hold_fourteen_rounds_with_distinct_names() {
        let spec = BackfillSpec::new(30, 70);
        let files: Vec<(String, Vec<u8>)> = spec.files().collect();
        let mut names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 30);
        let days: Vec<NaiveDate> = files
            .iter()
            .map(|(n, _)| parse_v2_file_name(n).expect("a v2 name").0.date())
            .collect();
        assert_eq!(days[0], spec.first_day);
        assert_eq!(days[13], spec.first_day);
        assert_eq!(days[14], spec.first_day + Duration::days(1));
        assert_eq!(days[29], spec.first_day + Duration::days(2));
    }

    #[test]
    fn files_parse_with_about_the_asked_kills_and_recurring_players() {
        let spec = BackfillSpec::new(20, 70);
        let mut players = std::collections::BTreeSet::new();
        for (name, bytes) in spec.files() {
            let round = parse_round_file(&bytes, &name).expect("parses");
            assert!(round.rejected.is_empty(), "{name}: {:?}", round.rejected);
            assert!(
                (60..=70).contains(&round.kills.len()),
                "{}",
                round.kills.len()
            );
            players.extend(round.kills.iter().map(|k| k.killer.guid.to_vec()));
        }
        // Twelve players a round, drawn from one pool of 40: the same people come back.
        assert!(players.len() <= 40, "{}", players.len());
    }
}
