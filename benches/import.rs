//! Pure, in-memory parts of an import, per 140-kill round: parse, aggregate, and the COPY payload.
//! The baseline is the naive way to read the same file (one String per field), measured in the
//! same run. The database part is `etprox bench import`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use etprox::round_file::parse_round_file;
use etprox::round_file::synthetic::{synthetic_v2, synthetic_v3, RoundSpec};
use etprox::stats::aggregate_round;

fn naive_split(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect();
    rows.iter().map(Vec::len).sum()
}

fn round_file(c: &mut Criterion) {
    let spec = RoundSpec::new(1, 1_763_000_000);
    let v3 = synthetic_v3(&spec);
    let (v2_name, v2) = synthetic_v2(
        &spec,
        chrono::NaiveDateTime::parse_from_str("2025-11-18 21:00:00", "%Y-%m-%d %H:%M:%S").unwrap(),
    );
    let mut group = c.benchmark_group("round_file");
    group.throughput(Throughput::Elements(spec.kills as u64));
    group.bench_function("parse_v3", |b| {
        b.iter(|| {
            parse_round_file(std::hint::black_box(&v3), "x.txt")
                .unwrap()
                .kills
                .len()
        })
    });
    group.bench_function("parse_v2", |b| {
        b.iter(|| {
            parse_round_file(std::hint::black_box(&v2), &v2_name)
                .unwrap()
                .kills
                .len()
        })
    });
    group.bench_function("baseline_naive_split_v3", |b| {
        b.iter(|| naive_split(std::hint::black_box(&v3)))
    });
    let parsed = parse_round_file(&v3, "x.txt").unwrap();
    group.bench_function("aggregate_round", |b| {
        b.iter(|| aggregate_round(std::hint::black_box(&parsed)).players.len())
    });
    group.bench_function("content_hash", |b| {
        b.iter(|| etprox::ingest::content_hash(std::hint::black_box(&v3)))
    });
    group.finish();
}

criterion_group!(benches, round_file);
criterion_main!(benches);
