//! A time-boxed fuzzer for the round-file parser and the per-round aggregation (the code that sees
//! untrusted bytes). It mutates real v2 and v3 files (bit flips, byte insertions, cut lines,
//! duplicated and swapped lines, separator storms) and feeds pure noise, for
//! `ETPROX_FUZZ_SECS` seconds (default 3; `ETPROX_FUZZ_SECS=600` for a long run), and checks that
//! nothing panics and that every line is either used or reported.
//!
//! Any input that ever broke the parser is kept in `tests/fixtures/fuzz/` and replayed first.

use std::time::{Duration, Instant};

use etprox::round_file::parse_round_file;
use etprox::round_file::synthetic::{synthetic_v2, synthetic_v3, Rng, RoundSpec};
use etprox::stats::aggregate_round;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for name in [
        "2025-11-18-203822-supply-round-0_proximity.txt",
        "2025-11-18-211955-goldrush-round-0_proximity.txt",
    ] {
        let path = format!("{}/tests/fixtures/v2/{name}", env!("CARGO_MANIFEST_DIR"));
        out.push((name.to_owned(), std::fs::read(path).unwrap()));
    }
    let spec = RoundSpec {
        kills: 40,
        ..RoundSpec::new(3, 1_763_000_000)
    };
    out.push((
        "2025-11-18-200000-goldrush-round-1_etprox.txt".into(),
        synthetic_v3(&spec),
    ));
    let when =
        chrono::NaiveDateTime::parse_from_str("2025-11-18 21:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    out.push(synthetic_v2(&spec, when));
    out
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
                ][rng.below(6) as usize];
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

fn check(name: &str, data: &[u8]) {
    if let Ok(round) = parse_round_file(data, name) {
        let lines = data.split(|&b| b == b'\n').count();
        assert!(
            round.kills.len() + round.rejected.len() <= lines,
            "more results than lines"
        );
        for issue in &round.rejected {
            assert!(
                issue.line as usize <= lines,
                "rejected line number out of range"
            );
        }
        let stats = aggregate_round(&round);
        let counted = round
            .kills
            .iter()
            .filter(|k| k.kind == etprox::round_file::KillKind::Kill)
            .count() as i32;
        let deaths: i32 = stats.players.iter().map(|p| p.total_deaths()).sum();
        assert_eq!(deaths, counted, "every counted kill is exactly one death");
    }
}

#[test]
fn fuzz_round_files() {
    let secs: u64 = std::env::var("ETPROX_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let corpus_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut replayed = 0;
    if let Ok(entries) = std::fs::read_dir(&corpus_dir) {
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).unwrap();
            check(&entry.file_name().to_string_lossy(), &data);
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
    while started.elapsed() < Duration::from_secs(secs) {
        for _ in 0..64 {
            let (name, base) = &seeds[rng.below(seeds.len() as u64) as usize];
            let input = if rng.below(20) == 0 {
                (0..rng.below(512)).map(|_| rng.below(256) as u8).collect()
            } else {
                mutate(&mut rng, base)
            };
            let outcome = std::panic::catch_unwind(|| check(name, &input));
            if outcome.is_err() {
                std::fs::create_dir_all(&corpus_dir).unwrap();
                let path = corpus_dir.join(format!("crash-{executions}-{name}"));
                std::fs::write(&path, &input).unwrap();
                panic!("input saved to {} breaks the parser", path.display());
            }
            executions += 1;
        }
    }
    eprintln!("fuzz: {executions} executions in {secs} s (seed {seed}), {replayed} saved inputs replayed, no failure");
    assert!(executions > 0);
}
