//! Per-callback cost of the tracker module on a full 64-player server, under real Lua 5.4 and
//! the mock ET API (the mock's Rust callbacks stand in for the engine's C ones).
//!
//! `cargo bench --bench tracker`
//!
//! Before the criterion groups it prints the issue-19 budgets: the module's average cost per
//! server frame under the event load of a busy 64-player round (shots, damage, kills, spawns,
//! revives, log lines, presence), the cost of one obituary, and the size of a 20-minute round
//! file with and without the fight sections (`ETPROX_BENCH_ROUND_MINUTES` shortens the round).
//!
//! `ETPROX_BENCH_OTHER_LUA=<file>` also times `et_Obituary` of another version of the module
//! (e.g. `git show <rev>:lua/etprox_tracker.lua > old.lua`) in the same run, so a change can
//! be compared against the same machine load.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use etprox::prng::SplitMix64;
use etprox::sim::et_mock::{Client, EtMock, Team, CON_CONNECTED};
use etprox::sim::TRACKER_LUA;

/// 32 v 32 around four hotspots, so most kills have allies within 300 units on both sides;
/// every tenth player has no cl_guid (allies written by name).
fn full_server(mock: &EtMock) {
    let mut rng = SplitMix64::new(64);
    let hotspots = [
        [0.0, 0.0],
        [1500.0, 200.0],
        [-800.0, 1700.0],
        [600.0, -1400.0],
    ];
    let mut st = mock.state_mut();
    st.set_cvar("gamestate", "0");
    st.set_cvar("sv_maxclients", "64");
    for slot in 0..64usize {
        let h = hotspots[slot % hotspots.len()];
        st.clients[slot] = Some(Client {
            name: format!("^{}player|{slot},x", slot % 10).into_bytes(),
            guid: (slot % 10 != 0).then(|| format!("{:032X}", rng.next_u64())),
            team: if slot % 2 == 0 {
                Team::Axis
            } else {
                Team::Allies
            },
            health: 100,
            connected: CON_CONNECTED,
            origin: [
                h[0] + rng.range_f64(-350.0, 350.0),
                h[1] + rng.range_f64(-350.0, 350.0),
                rng.range_f64(-40.0, 40.0),
            ],
            weapon: 8,
            is_bot: false,
            hit_regions: [0; 4],
        });
    }
}

/// Replaces `et.gentity_get` by a lookup in a snapshot of every slot (vec3 fields still
/// return a fresh table, as the engine's do).
const SNAPSHOT_GENTITY_GET: &str = r#"
local real = et.gentity_get
local fields = { "health", "sess.sessionTeam", "pers.connected", "pers.netname", "ps.weapon" }
local snap = {}
for slot = 0, 63 do
    local row = {}
    for _, f in ipairs(fields) do row[f] = real(slot, f) end
    local o = real(slot, "ps.origin")
    row.x, row.y, row.z = o[1], o[2], o[3]
    snap[slot] = row
end
et.gentity_get = function(slot, field)
    local row = snap[slot]
    if field == "ps.origin" then return { row.x, row.y, row.z } end
    return row[field]
end
"#;

fn bench_tracker(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut mock = EtMock::new(dir.path().join("legacy"), TRACKER_LUA);
    full_server(&mock);

    // How much engine traffic one obituary causes.
    mock.start_vm(1, true).expect("module loads");
    let before = mock.state().gentity_get_calls;
    mock.obituary(1, 0, 8);
    let per_kill = mock.state().gentity_get_calls - before;
    mock.shutdown_vm(false);
    eprintln!("et.gentity_get calls per obituary with 64 players: {per_kill}");

    let mut group = c.benchmark_group("tracker_64_players");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("et_Obituary", |b| {
        b.iter_custom(|iters| {
            mock.start_vm(1, true).expect("module loads");
            let start = Instant::now();
            for i in 0..iters as i64 {
                let victim = (i * 7) % 64;
                let killer = (victim + 1 + 2 * (i % 31)) % 64;
                mock.obituary(victim, killer, 8);
            }
            let elapsed = start.elapsed();
            mock.shutdown_vm(false);
            elapsed
        })
    });
    group.bench_function("et_RunFrame", |b| {
        b.iter_custom(|iters| {
            mock.start_vm(1, true).expect("module loads");
            let start = Instant::now();
            for _ in 0..iters {
                mock.state_mut().level_time += 50;
                mock.run_frame();
            }
            let elapsed = start.elapsed();
            mock.shutdown_vm(false);
            elapsed
        })
    });
    // The module's own work: the same obituaries with gentity_get answered from a Lua table
    // snapshot, so the engine-call price drops out.
    mock.set_prelude(Some(SNAPSHOT_GENTITY_GET));
    group.bench_function("et_Obituary, engine calls from a Lua snapshot", |b| {
        b.iter_custom(|iters| {
            mock.start_vm(1, true).expect("module loads");
            let start = Instant::now();
            for i in 0..iters as i64 {
                let victim = (i * 7) % 64;
                let killer = (victim + 1 + 2 * (i % 31)) % 64;
                mock.obituary(victim, killer, 8);
            }
            let elapsed = start.elapsed();
            mock.shutdown_vm(false);
            elapsed
        })
    });
    mock.set_prelude(None);

    if let Ok(path) = std::env::var("ETPROX_BENCH_OTHER_LUA") {
        let other = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("ETPROX_BENCH_OTHER_LUA={path}: {e}"));
        let other_dir = tempfile::tempdir().expect("tempdir");
        let mut other_mock = EtMock::new(other_dir.path().join("legacy"), &other);
        full_server(&other_mock);
        group.bench_function("et_Obituary, ETPROX_BENCH_OTHER_LUA", |b| {
            b.iter_custom(|iters| {
                other_mock.start_vm(1, true).expect("module loads");
                let start = Instant::now();
                for i in 0..iters as i64 {
                    let victim = (i * 7) % 64;
                    let killer = (victim + 1 + 2 * (i % 31)) % 64;
                    other_mock.obituary(victim, killer, 8);
                }
                let elapsed = start.elapsed();
                other_mock.shutdown_vm(false);
                elapsed
            })
        });
    }

    // The mock's own price per engine call, to read the numbers above against.
    mock.start_vm(1, true).expect("module loads");
    group.bench_function("mock gentity_get x100 (health)", |b| {
        b.iter(|| {
            mock.exec("for i = 1, 100 do et.gentity_get(i % 64, 'health') end")
                .expect("loop runs")
        })
    });
    group.bench_function("mock gentity_get x100 (ps.origin)", |b| {
        b.iter(|| {
            mock.exec("for i = 1, 100 do et.gentity_get(i % 64, 'ps.origin') end")
                .expect("loop runs")
        })
    });
    mock.shutdown_vm(false);
    group.finish();
    assert!(
        mock.escaped_errors().is_empty(),
        "{:?}",
        mock.escaped_errors()
    );
}

/// The event load of one second (20 frames at `sv_fps 20`) of a busy 32 v 32 round, per frame
/// `f` of the second (0..20) and second `sec`:
/// - 3 shots per frame (60/s: a third of the players firing bursts, misses included);
/// - `kills_per_min` kills (default 60: `ETPROX_BENCH_KILLS_PER_MIN`), each with 8 damage
///   events in the 4 frames up to it (hits, the killing hit, non-lethal damage elsewhere);
/// - 1 spawn per second, a revive every 3 s, a construction every 30 s, 5 or 6 log lines per
///   second through et_Print (Kill:, chat, Item:, Health_Pack:, announcements);
/// - presence from the module's own once-per-second sweep; 48 of 64 players alive.
fn busy_frame(mock: &mut EtMock, sec: i64, f: i64) {
    let kills_per_min: i64 = std::env::var("ETPROX_BENCH_KILLS_PER_MIN")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(60);
    let frames_per_kill = (1200 / kills_per_min.max(1)).max(4);
    mock.state_mut().level_time += 50;
    mock.run_frame();
    let k = sec * 20 + f;
    for i in 0..3 {
        let shooter = (k * 3 + i) % 64;
        mock.weapon_fire(shooter, 8);
    }
    if k % frames_per_kill < 4 {
        // 8 damage events per second between opponents (even slots AXIS, odd ALLIES)
        for i in 0..2 {
            let attacker = (k + i) % 64;
            let target = (attacker + 1) % 64;
            if mock.state().clients[(attacker % 64) as usize].is_some() {
                let head = i == 0 && f == 0;
                if head {
                    if let Some(c) = mock.state_mut().clients[attacker as usize].as_mut() {
                        c.hit_regions[0] += 1;
                    }
                }
                mock.damage(target, attacker, 20, 0x40, 9);
            }
        }
    }
    if k % frames_per_kill == 3 {
        let n = k / frames_per_kill;
        let victim = (n * 7) % 64;
        let killer = (victim + 1 + 2 * (n % 31)) % 64;
        mock.print(&format!(
            "Kill: {killer} {victim} 9: ^7a^7 killed b^7 by MOD_THOMPSON\n"
        ));
        mock.obituary(victim, killer, 9);
    }
    match f {
        7 => mock.spawn((sec * 11) % 64, false, false, true),
        9 => mock.print("say: ^7someone^7: nice shot\n"),
        11 => mock.print("Item: 4 item_health\n"),
        13 => mock.print("Health_Pack: 4 6\n"),
        15 => mock.print("legacy announce: \"^7Allies have constructed the Command Post!\"\n"),
        17 if sec % 3 == 0 => {
            let revivee = (sec * 13) % 64;
            let medic = (revivee + 2) % 64;
            mock.weapon_fire(medic, 11);
            mock.spawn(revivee, true, false, true);
            mock.revive(revivee, medic, 0);
            mock.print(&format!("Medic_Revive: {medic} {revivee}\n"));
        }
        19 if sec % 30 == 0 => mock.print("Repair: 6\n"),
        _ => {}
    }
}

/// Plays `seconds` of busy round; returns the wall time spent in the module (and the mock).
fn busy_play(mock: &mut EtMock, seconds: i64) -> Duration {
    let start = Instant::now();
    for sec in 0..seconds {
        for f in 0..20 {
            busy_frame(mock, sec, f);
        }
    }
    start.elapsed()
}

/// A 64-player server with a quarter of the players dead at any time (presence samples the
/// living).
fn busy_server(mock: &EtMock) {
    full_server(mock);
    let mut st = mock.state_mut();
    for slot in (3..64).step_by(4) {
        if let Some(c) = st.clients[slot].as_mut() {
            c.health = 0;
        }
    }
}

/// Bytes of the file without the `# tracker` header and the fight sections: what tracker 1.1
/// wrote for the same round (its kill lines are unchanged in 1.2).
fn kills_only_size(text: &str) -> usize {
    let sections = text.find("# SECTION ").unwrap_or(text.len());
    let end = text
        .rfind("# END ")
        .map_or(text.len(), |at| at + "# END ".len());
    let kills_end = text[end..].split(' ').next().unwrap_or("").trim_end();
    let header = text
        .lines()
        .find(|l| l.starts_with("# tracker="))
        .map_or(0, |l| l.len() + 1);
    sections - header + "# END ".len() + kills_end.len() + 1
}

fn budgets() {
    let minutes: i64 = std::env::var("ETPROX_BENCH_ROUND_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut mock = EtMock::new(dir.path().join("legacy"), TRACKER_LUA);
    busy_server(&mock);
    mock.state_mut().level_time = 1_000_000;
    mock.start_vm(1, true).expect("module loads");

    // Warm up, then time a minute of busy play, frame by frame on average.
    busy_play(&mut mock, 5);
    let seconds = 60;
    let spent = busy_play(&mut mock, seconds);
    let per_frame = spent.as_secs_f64() * 1000.0 / (seconds * 20) as f64;
    // The frame that also sweeps presence (once per second) on its own.
    let mut sweep = Duration::ZERO;
    let mut others = Duration::ZERO;
    for _ in 0..40 {
        for _ in 0..20 {
            mock.state_mut().level_time += 50;
            // Play began at level time 1 000 000: a new second starts every 20th frame.
            let presence_frame = mock.state().level_time % 1000 == 0;
            let t = Instant::now();
            mock.run_frame();
            if presence_frame {
                sweep += t.elapsed();
            } else {
                others += t.elapsed();
            }
        }
    }
    let per_obituary = {
        let t = Instant::now();
        for i in 0..400i64 {
            let victim = (i * 7) % 64;
            let killer = (victim + 1 + 2 * (i % 31)) % 64;
            mock.obituary(victim, killer, 8);
        }
        t.elapsed().as_secs_f64() * 1000.0 / 400.0
    };
    mock.shutdown_vm(false);
    assert!(
        mock.escaped_errors().is_empty(),
        "{:?}",
        mock.escaped_errors()
    );

    // A whole round of busy play, written at intermission.
    let round_dir = tempfile::tempdir().expect("tempdir");
    let mut round = EtMock::new(round_dir.path().join("legacy"), TRACKER_LUA);
    busy_server(&round);
    round.start_vm(1, true).expect("module loads");
    let t = Instant::now();
    busy_play(&mut round, minutes * 60);
    let round_time = t.elapsed();
    round.state_mut().set_cvar("gamestate", "3");
    round.state_mut().level_time += 50;
    let t = Instant::now();
    round.run_frame();
    let write_ms = t.elapsed().as_secs_f64() * 1000.0;
    round.shutdown_vm(false);
    let (size, before, counts, sections) = round_file_size(&round.fs_root());

    let kills_per_min = std::env::var("ETPROX_BENCH_KILLS_PER_MIN").unwrap_or_else(|_| "60".into());
    eprintln!("tracker 1.2 budgets, 64 players (48 alive), busy round ({kills_per_min} kills/min, 8 damage events per kill, 60 shots/s):");
    eprintln!(
        "  average per server frame, whole module, all events: {per_frame:.4} ms (budget 0.5 ms)"
    );
    eprintln!(
        "  et_RunFrame alone: {:.4} ms on the presence frame (once a second), {:.4} ms on the others",
        sweep.as_secs_f64() * 1000.0 / 40.0,
        others.as_secs_f64() * 1000.0 / (40.0 * 19.0)
    );
    eprintln!("  per obituary: {per_obituary:.4} ms (budget 0.3 ms)");
    eprintln!(
        "  {minutes}-minute round: {:.1} s of simulated play took {:.0} ms; writing the file {write_ms:.1} ms",
        (minutes * 60) as f64,
        round_time.as_secs_f64() * 1000.0
    );
    eprintln!(
        "  round file: {size} bytes ({:.2} MiB; budget 1 MiB); kills only (tracker 1.1): {before} bytes",
        size as f64 / 1_048_576.0
    );
    eprintln!("  {counts}");
    eprintln!("  bytes per section: {sections}");
}

/// Size of the one round file under `root`, the size tracker 1.1 would have written, and the
/// end marker's counts.
fn round_file_size(root: &Path) -> (usize, usize, String, String) {
    let files = etprox::sim::et_mock::list_files(root);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(root.join(&files[0])).expect("round file");
    let end = text.lines().last().unwrap_or("").to_string();
    let mut sections = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("# SECTION ") {
        let body = &rest[at..];
        let len = body[1..].find("\n# SECTION ").map_or_else(
            || body.rfind("# END ").unwrap_or(body.len()),
            |next| next + 2,
        );
        let name = body["# SECTION ".len()..].lines().next().unwrap_or("");
        sections.push(format!("{name} {len}"));
        rest = &body[len..];
    }
    (text.len(), kills_only_size(&text), end, sections.join(", "))
}

fn bench_budgets(c: &mut Criterion) {
    budgets();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut mock = EtMock::new(dir.path().join("legacy"), TRACKER_LUA);
    busy_server(&mock);
    let mut group = c.benchmark_group("tracker_64_players_busy");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("one second of busy play (20 frames, all events)", |b| {
        b.iter_custom(|iters| {
            mock.start_vm(1, true).expect("module loads");
            let spent = busy_play(&mut mock, iters as i64);
            mock.shutdown_vm(false);
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, bench_budgets, bench_tracker);
criterion_main!(benches);
