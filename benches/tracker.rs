//! Per-callback cost of the tracker module on a full 64-player server, under real Lua 5.4 and
//! the mock ET API (the mock's Rust callbacks stand in for the engine's C ones).
//!
//! `cargo bench --bench tracker`
//!
//! `ETPROX_BENCH_OTHER_LUA=<file>` also times `et_Obituary` of another version of the module
//! (e.g. `git show <rev>:lua/etprox_tracker.lua > old.lua`) in the same run, so a change can
//! be compared against the same machine load.

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

criterion_group!(benches, bench_tracker);
criterion_main!(benches);
