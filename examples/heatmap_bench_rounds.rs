//! Writes the round files of the heatmap bench: `KILLS` kills in rounds of 140 over `DAYS`
//! session days ending today, six maps in turn, ten-odd rounds a day (the spread of
//! `etprox bench commands`), so that two binaries can import the same history.
//! `cargo run --release --example heatmap_bench_rounds -- DIR [KILLS] [DAYS] [FIRST]`; FIRST
//! (default 0) numbers the rounds, so a second set with another FIRST holds new rounds.

use std::path::PathBuf;

use anyhow::Context;
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};

const MAPS: [&str; 6] = [
    "goldrush", "supply", "oasis", "radar", "battery", "fueldump",
];
const PER_ROUND: usize = 140;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().context("usage: DIR [KILLS] [DAYS] [FIRST]")?);
    let kills: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let days: i64 = args.next().map_or(Ok(730), |a| a.parse())?;
    let first: usize = args.next().map_or(Ok(0), |a| a.parse())?;
    std::fs::create_dir_all(&dir)?;
    let rounds = kills.div_ceil(PER_ROUND).max(1);
    let first_day = chrono::Utc::now().timestamp() - days * 86_400;
    for n in 0..rounds {
        let day = (n as i64 * days) / rounds as i64;
        let i = first + n;
        let mut spec = RoundSpec::new(i as u64, first_day + day * 86_400 + (i as i64 % 12) * 1500);
        spec.kills = PER_ROUND;
        spec.map = MAPS[i % MAPS.len()].into();
        spec.round_number = (i % 2 + 1) as i16;
        let path = dir.join(format!(
            "{i:07}-{}-round-{}_etprox.txt",
            spec.map, spec.round_number
        ));
        std::fs::write(&path, synthetic_v3(&spec))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "wrote {rounds} rounds ({} kills) to {}",
        rounds * PER_ROUND,
        dir.display()
    );
    Ok(())
}
