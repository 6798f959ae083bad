//! `etprox check`: the first-start doctor's lines and their summary; status 1 when one failed.

use std::process::ExitCode;

pub async fn run() -> ExitCode {
    let started = std::time::Instant::now();
    let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let lines = etprox::check::run(lookup, |line| println!("{line}")).await;
    let failed = lines.iter().filter(|l| !l.ok).count();
    println!(
        "{} checks, {failed} failed ({} ms)",
        lines.len(),
        started.elapsed().as_millis()
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
