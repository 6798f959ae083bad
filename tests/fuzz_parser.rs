//! A time-boxed fuzzer for the whole path a round file takes before the database: parse →
//! aggregate → session day → the rows the importer builds (`Importer::prepare`, which ends with
//! the check that PostgreSQL takes every value) → the merged aggregate rows. It mutates v2 and
//! v3 files (bit flips, byte insertions, cut lines, duplicated and swapped lines, separator
//! storms, numbers replaced by extreme ones) and feeds pure noise, under several session clocks
//! and file modification times, for `ETPROX_FUZZ_SECS` seconds (default 3; `ETPROX_FUZZ_SECS=600`
//! for a long run). It checks that nothing panics, that every line is either used or reported,
//! and that every row value is one PostgreSQL accepts. No database is needed.
//!
//! Any input that ever broke the path is kept in `tests/fixtures/fuzz/` and replayed first.

mod common;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use chrono::{NaiveTime, Utc};
use etprox::config::SessionClock;
use etprox::ingest::{Importer, Preparation};
use etprox::prng::SplitMix64 as Rng;
use etprox::round_file::synthetic::{synthetic_v2, synthetic_v3, synthetic_v3_fight, RoundSpec};
use etprox::round_file::KillKind;
use etprox::stats::batch::{merge_rounds, RoundContext};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (seed, kills) in [(3u64, 40usize), (11, 12)] {
        let spec = RoundSpec {
            kills,
            ..RoundSpec::new(seed, 1_763_000_000)
        };
        out.push((
            "2025-11-18-200000-goldrush-round-1_etprox.txt".into(),
            synthetic_v3(&spec),
        ));
        let when =
            chrono::NaiveDateTime::parse_from_str("2025-11-18 21:00:00", "%Y-%m-%d %H:%M:%S")
                .unwrap();
        out.push(synthetic_v2(&spec, when));
        // Tracker 1.2: the same kills with every fight section.
        let spec = RoundSpec {
            team_size: 3,
            ..spec
        };
        out.push((
            "2025-11-18-200000-goldrush-round-1_etprox_eu-1_3.txt".into(),
            synthetic_v3_fight(&spec),
        ));
    }
    // v2 quirks: a name with '|', a literal NONE player, an ally name with ','.
    out.push((
        "2025-11-18-211955-goldrush-round-0_proximity.txt".into(),
        concat!(
            "# PROXIMITY_TRACKER_V2\n# map=goldrush\n# round=0\n",
            "1000|1|A|al|pha|AXIS|0.0|0.0|0.0|2|B|NONE|ALLIES|100.0|0.0|0.0|100.0|8|9|2v1|1|0|c,d\n",
            "2000|3|C|c,d|AXIS|10.0|0.0|0.0|2|B|NONE|ALLIES|-0.04|-600.0|0.0|100.0|8|9|2v1|1|0|NONE\n",
            "\n# HEATMAP\n0|0|1|0\n",
        )
        .as_bytes()
        .to_vec(),
    ));
    // A v2 file whose name carries no time (the modification time is used).
    out.push((
        "round_proximity.txt".into(),
        b"# PROXIMITY_TRACKER_V2\n# map=supply\n# round=1\n1000|1|A|a|AXIS|0|0|0|2|B|b|ALLIES|1|1|1|1|8|9|1v1|0|0|NONE\n".to_vec(),
    ));
    out
}

/// Session clocks at the ends of the offsets the world uses, and day starts at both ends.
fn clocks() -> Vec<SessionClock> {
    [
        ("UTC", "06:00"),
        ("Pacific/Kiritimati", "23:59"),
        ("Pacific/Pago_Pago", "00:00"),
        ("Europe/Berlin", "06:00"),
    ]
    .into_iter()
    .map(|(tz, start)| SessionClock {
        timezone: tz.parse().unwrap(),
        day_start: NaiveTime::parse_from_str(start, "%H:%M").unwrap(),
    })
    .collect()
}

/// Modification times: none, now, the ends of what a file system can hold, before 1970.
fn mtimes(rng: &mut Rng) -> Option<SystemTime> {
    let epoch = SystemTime::UNIX_EPOCH;
    match rng.below(6) {
        0 => None,
        1 => Some(SystemTime::now()),
        2 => epoch.checked_add(Duration::from_secs(u64::MAX / 2)),
        3 => epoch.checked_sub(Duration::from_secs(rng.below(1 << 40))),
        4 => epoch.checked_add(Duration::from_secs(rng.below(1 << 45))),
        _ => Some(epoch + Duration::from_secs(1_763_000_000)),
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = data.len().max(1) as u64;
        match rng.below(9) {
            0 => {
                let at = rng.below(len) as usize;
                if at < data.len() {
                    data[at] ^= 1 << rng.below(8);
                }
            }
            1 => {
                let at = rng.below(len + 1) as usize;
                let byte = [
                    b'|', b',', b'\n', b'\r', b'%', b'^', b'-', b'.', 0, 0xFF, b'#', b':',
                ][rng.below(12) as usize];
                data.insert(at.min(data.len()), byte);
            }
            2 => data.truncate(rng.below(len + 1) as usize),
            3 => {
                let at = rng.below(len) as usize;
                if at < data.len() {
                    data.remove(at);
                }
            }
            4 => {
                // Duplicate a line.
                let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
                let pick = lines[rng.below(lines.len() as u64) as usize].to_vec();
                data.extend_from_slice(b"\n");
                data.extend_from_slice(&pick);
            }
            5 => {
                // Swap two lines.
                let mut lines: Vec<Vec<u8>> =
                    data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let (a, b) = (
                    rng.below(lines.len() as u64) as usize,
                    rng.below(lines.len() as u64) as usize,
                );
                lines.swap(a, b);
                data = lines.join(&b'\n');
            }
            6 => {
                let at = rng.below(len + 1) as usize;
                let storm: Vec<u8> = (0..rng.below(40))
                    .map(|_| b"|,%:\n"[rng.below(5) as usize])
                    .collect();
                let at = at.min(data.len());
                data.splice(at..at, storm);
            }
            7 => {
                // Replace a number with an extreme one.
                let extreme: &[u8] = [
                    &b"99999999999999999999"[..],
                    b"-0",
                    b"1e39",
                    b"NaN",
                    b"inf",
                    b"-2147483649",
                    b"9223372036854775807",
                    b"-9223372036854775808",
                    b"-8334601228800",
                    b"8210266876799",
                    b"-250000000000",
                    b"253402300800",
                    b"2147483648",
                    b"32768",
                    b"65536",
                    b"3.4028235e38",
                ][rng.below(16) as usize];
                let at = rng.below(len) as usize;
                if let Some(pos) = data[at.min(data.len())..]
                    .iter()
                    .position(|b| b.is_ascii_digit())
                {
                    let start = at.min(data.len()) + pos;
                    let end = start
                        + data[start..]
                            .iter()
                            .take_while(|b| b.is_ascii_digit())
                            .count();
                    data.splice(start..end, extreme.iter().copied());
                }
            }
            _ => {
                let noise: Vec<u8> = (0..rng.below(64)).map(|_| rng.below(256) as u8).collect();
                let at = (rng.below(len + 1) as usize).min(data.len());
                data.splice(at..at, noise);
            }
        }
    }
    data
}

/// Runs one input through the whole path and checks what comes out. Returns whether the file
/// was ready for the database (`None`: empty).
fn check(
    importer: &Importer,
    name: &str,
    data: &[u8],
    modified: Option<SystemTime>,
) -> Option<bool> {
    let lines = data.split(|&b| b == b'\n').count();
    let path = Path::new("/rounds").join(name);
    let file = match importer.prepare(&path, data, modified) {
        Preparation::Ready(file) => file,
        Preparation::Empty { .. } => return None,
        Preparation::Rejected { reason, .. } => {
            assert!(!reason.is_empty() && !reason.contains('\0'), "{reason:?}");
            return Some(false);
        }
    };
    let round = &file.round;
    let fight_lines = round.fight.as_ref().map_or(0, |f| {
        use etprox::round_file::fight::Section;
        Section::ALL.iter().map(|s| f.len(*s)).sum::<usize>()
    });
    assert!(
        round.kills.len() + fight_lines + round.rejected.len() <= lines,
        "more results than lines"
    );
    if let Some(fight) = &round.fight {
        check_fight(fight);
    }
    for issue in round.rejected.iter().chain(&round.warnings) {
        assert!(issue.line as usize <= lines, "line number out of range");
        assert!(!issue.reason.contains('\0') && !issue.excerpt.contains('\0'));
    }
    assert_eq!(file.check_database_values(), Ok(()));
    let stats = &file.stats;
    let counted = round
        .kills
        .iter()
        .filter(|k| k.kind == KillKind::Kill)
        .count() as i32;
    let deaths: i32 = stats.players.iter().map(|p| p.total_deaths()).sum();
    assert_eq!(deaths, counted, "every counted kill is exactly one death");

    // The aggregate rows the importer writes for this round.
    let row = &file.row;
    let ctx = RoundContext {
        session_date: row.session_date,
        map_name: row.map_name.clone(),
        seen: row.started_at.or(row.ended_at).unwrap_or_else(Utc::now),
    };
    let merged = merge_rounds([(&ctx, stats)]);
    let texts = merged
        .players
        .iter()
        .flat_map(|p| [&p.key, &p.name])
        .chain(
            merged
                .aliases
                .iter()
                .flat_map(|a| [&a.key, &a.name, &a.display_name]),
        )
        .chain(
            merged
                .daily_pairs
                .iter()
                .flat_map(|p| [&p.player1, &p.player2]),
        )
        .chain(merged.cells.iter().map(|c| &c.map_name));
    for text in texts {
        assert!(!text.contains('\0'), "NUL in an aggregate row: {text:?}");
    }
    let cells: i32 = merged
        .cells
        .iter()
        .map(|c| c.axis_kills + c.allies_kills)
        .sum();
    assert!(cells <= counted);
    for c in &merged.cells {
        assert!(c.grid_x.unsigned_abs() < 1 << 20 && c.grid_y.unsigned_abs() < 1 << 20);
    }
    for kill in &stats.kills {
        serde_json::from_str::<serde_json::Value>(&stats.allies_json(kill)).unwrap();
    }
    Some(true)
}

/// What the importer writes of the fight sections is always something PostgreSQL takes: rows
/// that name players the roster has, and texts without NUL.
fn check_fight(fight: &etprox::round_file::FightSections<'_>) {
    use etprox::db::fight::FightRows;
    use etprox::ingest::fight::{add_round, RoundOf};
    let mut rows = FightRows::default();
    let round = RoundOf {
        round_id: 1,
        session_date: chrono::NaiveDate::from_ymd_opt(2025, 11, 18).unwrap(),
        map_name: "goldrush",
    };
    add_round(&mut rows, &round, &[], fight);
    let texts = rows
        .roster
        .player_guid
        .iter()
        .chain(&rows.damage.attacker_guid)
        .chain(&rows.damage.target_guid)
        .chain(&rows.objectives.target)
        .chain(rows.objectives.player_guid.iter().flatten());
    for text in texts {
        assert!(!text.is_empty() && !text.contains('\0'), "{text:?}");
    }
    for life in &rows.lives.start_ms {
        assert!(*life >= 0);
    }
    assert_eq!(rows.damage.round_id.len(), fight.damage.len());
}

#[tokio::test]
async fn fuzz_round_files() {
    let secs: u64 = std::env::var("ETPROX_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    // prepare() never touches the database: a pool that would connect only when used.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://fuzz@127.0.0.1:1/never")
        .unwrap();
    let importers: Vec<Importer> = clocks()
        .into_iter()
        .map(|clock| Importer::new(pool.clone(), clock, "fuzz"))
        .collect();
    let corpus_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut replayed = 0;
    if let Ok(entries) = std::fs::read_dir(&corpus_dir) {
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).unwrap();
            for importer in &importers {
                let _ = check(importer, &entry.file_name().to_string_lossy(), &data, None);
            }
            replayed += 1;
        }
    }
    let seeds = seeds();
    let seed: u64 = std::env::var("ETPROX_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED);
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let mut executions = 0u64;
    let (mut ready, mut rejected) = (0u64, 0u64);
    while started.elapsed() < Duration::from_secs(secs) {
        for _ in 0..64 {
            let (name, base) = &seeds[rng.below(seeds.len() as u64) as usize];
            let input = if rng.below(20) == 0 {
                (0..rng.below(512)).map(|_| rng.below(256) as u8).collect()
            } else {
                mutate(&mut rng, base)
            };
            let importer = &importers[rng.below(importers.len() as u64) as usize];
            let modified = mtimes(&mut rng);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                check(importer, name, &input, modified)
            }));
            let Ok(outcome) = outcome else {
                std::fs::create_dir_all(&corpus_dir).unwrap();
                let path = corpus_dir.join(format!("crash-{executions}-{name}"));
                std::fs::write(&path, &input).unwrap();
                panic!(
                    "input saved to {} breaks the import path (modified {modified:?})",
                    path.display()
                );
            };
            match outcome {
                Some(true) => ready += 1,
                Some(false) => rejected += 1,
                None => {}
            }
            executions += 1;
        }
    }
    eprintln!(
        "fuzz: {executions} executions in {secs} s (seed {seed}): {ready} ready for the database, \
         {rejected} rejected with a reason; {replayed} saved inputs replayed; no failure"
    );
    assert!(executions > 0);
}

/// The same mutations imported into the real PostgreSQL: every file is imported (perhaps with
/// rejected lines), rejected with a reason, or empty; never a database error, which the
/// watcher would take for a database problem and retry.
#[sqlx::test]
async fn fuzzed_files_import_without_database_errors(pool: sqlx::PgPool) {
    let count: u64 = std::env::var("ETPROX_FUZZ_DB_FILES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(160);
    let seeds = seeds();
    let mut rng = Rng::new(0xDB);
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..count {
        let (name, base) = &seeds[rng.below(seeds.len() as u64) as usize];
        let input = mutate(&mut rng, base);
        // Keep the name's shape (v2 takes the time, map and round from it); unique per file.
        let path = dir.path().join(format!("{i}-{name}"));
        std::fs::write(&path, &input).unwrap();
        paths.push(path);
    }
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for (k, clock) in clocks().into_iter().enumerate().take(2) {
        let importer = Importer::new(pool.clone(), clock, format!("fuzz{k}"));
        for chunk in paths.chunks(16) {
            for (path, result) in importer.import_files(chunk).await {
                let outcome = result.unwrap_or_else(|e| {
                    panic!(
                        "{}: database error instead of a rejection: {e}",
                        path.display()
                    )
                });
                let kind = match outcome {
                    etprox::ingest::ImportOutcome::Imported { .. } => "imported",
                    etprox::ingest::ImportOutcome::AlreadyImported { .. } => "already imported",
                    etprox::ingest::ImportOutcome::Empty => "empty",
                    etprox::ingest::ImportOutcome::Rejected { .. } => "rejected",
                };
                *outcomes.entry(kind).or_default() += 1;
            }
        }
    }
    eprintln!("fuzz into PostgreSQL: {count} files twice: {outcomes:?}");
    assert!(outcomes.get("imported").is_some_and(|n| *n > 0));
}
