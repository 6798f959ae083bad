//! Heatmap speed.
//!
//! - `render_encode/<n>`: smoothing, normalisation, drawing and PNG encoding of a
//!   1024×1024 heatmap from `n` synthetic kills already binned (the part after SQL).
//! - `bin_render_encode/<n>`: the same including binning the `n` points in Rust.
//! - `render_encode_image/<n>`: over a 1024×1024 command-map-like background.
//! - `query_render/<n>`: end to end from PostgreSQL (`render_heatmap_png`), when
//!   `DATABASE_URL` is set, reading the 64-unit rollup as the bot does for unfiltered maps.
//! - `query_render_raw/<n>`: the same forced to aggregate raw `kill_context` rows (what
//!   player, weapon and engagement filters need).
//!   Both use (and fill once) the database `etprox_heatmap_bench` on that server: 1,000,000
//!   kills on goldrush and 10,000 on supply, over 365 session days (2025-11-01 to
//!   2026-10-31): the daily rollup then holds about as many rows as kills on goldrush,
//!   which is why all-time maps read `kill_heatmap_fine_total`.
//! - `query_render_week/<n>`: the last 7 days of that data.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use etprox::heatmap::calibration::{CalibrationTable, WorldBox};
use etprox::heatmap::density::{GridSpec, Scale};
use etprox::heatmap::render::Frame;
use etprox::heatmap::{render_bins, render_heatmap_png, Binned, HeatmapFilter, HeatmapOptions};
use etprox::period::Period;

const SIZE: u32 = 1024;

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn world(map: &str) -> WorldBox {
    CalibrationTable::builtin()
        .get(map)
        .and_then(|e| e.world_box().ok())
        .expect("map in the shipped table")
}

/// Deterministic clustered kills: fights happen at chokepoints, not uniformly.
fn synthetic_points(world: WorldBox, n: usize) -> Vec<(f64, f64)> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let centres: Vec<(f64, f64, f64)> = (0..48)
        .map(|_| {
            let (x, y) = world.from_uv(0.08 + 0.84 * next(), 0.08 + 0.84 * next());
            (x, y, 80.0 + 500.0 * next())
        })
        .collect();
    (0..n)
        .map(|i| {
            // Zipf-like cluster popularity: a few chokepoints see most kills.
            let c = ((next() * next()) * centres.len() as f64) as usize % centres.len();
            let (cx, cy, spread) = centres[(c + i % 2) % centres.len()];
            let r = spread * (next() + next() - 1.0);
            let r2 = spread * (next() + next() - 1.0);
            (cx + r, cy + r2)
        })
        .collect()
}

fn bin(spec: GridSpec, points: &[(f64, f64)]) -> Binned {
    let mut binned = Binned::new(spec);
    for &(x, y) in points {
        binned.add_point(x, y);
    }
    binned
}

fn frame(world: WorldBox, kills: u64, background: Option<Arc<image::RgbImage>>) -> Frame {
    Frame {
        size: SIZE,
        world,
        background,
        title: "goldrush".into(),
        filters: vec![
            "where players died (victim positions)".into(),
            "all time".into(),
        ],
        kill_count: kills,
        scale: Scale::Linear,
        notes: vec![],
    }
}

/// A stand-in for a command-map image: flat painted areas, roads and buildings with
/// soft edges, like the game's (which cannot be shipped).
fn fake_command_map() -> Arc<image::RgbImage> {
    let mut img = image::RgbImage::from_fn(SIZE, SIZE, |x, y| {
        let (fx, fy) = (x as f32 / 64.0, y as f32 / 64.0);
        let terrain = ((fx * 0.7).sin() * (fy * 0.9).cos() * 20.0) as i32;
        let road = (x as i32 - 500 - (y as i32 / 5)).abs() < 14 || (y as i32 - 300).abs() < 10;
        let building = (x / 90) % 3 == 1 && (y / 110) % 2 == 1;
        let base: [i32; 3] = if road {
            [150, 140, 120]
        } else if building {
            [95, 90, 85]
        } else {
            [70, 95, 60]
        };
        image::Rgb(base.map(|c| (c + terrain).clamp(0, 255) as u8))
    });
    for p in img.pixels_mut() {
        for c in p.0.iter_mut() {
            *c = (u16::from(*c) * 3 / 4) as u8;
        }
    }
    Arc::new(img)
}

fn render_benches(c: &mut Criterion) {
    let goldrush = world("goldrush");
    let spec = GridSpec::for_output(goldrush, SIZE);
    let background = fake_command_map();
    for n in [10_000usize, 1_000_000] {
        let points = synthetic_points(goldrush, n);
        let binned = bin(spec, &points);
        let mut group = c.benchmark_group("heatmap");
        group
            .sample_size(30)
            .measurement_time(Duration::from_secs(6));
        group.bench_with_input(
            BenchmarkId::new("render_encode", n),
            &binned,
            |b, binned| {
                b.iter(|| {
                    render_bins(
                        binned,
                        frame(goldrush, n as u64, None),
                        80.0,
                        99.0,
                        Scale::Linear,
                    )
                    .expect("render")
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("render_encode_image", n),
            &binned,
            |b, binned| {
                b.iter(|| {
                    render_bins(
                        binned,
                        frame(goldrush, n as u64, Some(background.clone())),
                        80.0,
                        99.0,
                        Scale::Linear,
                    )
                    .expect("render")
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("bin_render_encode", n),
            &points,
            |b, points| {
                b.iter(|| {
                    render_bins(
                        &bin(spec, points),
                        frame(goldrush, n as u64, None),
                        80.0,
                        99.0,
                        Scale::Linear,
                    )
                    .expect("render")
                })
            },
        );
        group.finish();
        let (png, _) = render_bins(
            &binned,
            frame(goldrush, n as u64, None),
            80.0,
            99.0,
            Scale::Linear,
        )
        .expect("render");
        let (png_img, _) = render_bins(
            &binned,
            frame(goldrush, n as u64, Some(background.clone())),
            80.0,
            99.0,
            Scale::Linear,
        )
        .expect("render");
        eprintln!(
            "PNG size at {n} kills: {} bytes on the grid, {} bytes over an image",
            png.len(),
            png_img.len()
        );
    }
}

/// Logs why the database part is skipped.
fn ok<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> Option<T> {
    r.map_err(|e| eprintln!("etprox_heatmap_bench: {what}: {e}"))
        .ok()
}

/// Fills `etprox_heatmap_bench` once: one round per map, kills spread over 365 session days,
/// clustered like `synthetic_points` but generated by the server.
async fn bench_pool(url: &str) -> Option<sqlx::PgPool> {
    use sqlx::Connection;
    let mut admin = ok(sqlx::PgConnection::connect(url).await, "connect")?;
    let exists = etprox::db::admin::database_exists(&mut admin, "etprox_heatmap_bench").await;
    if !ok(exists, "look up database")? {
        ok(
            etprox::db::admin::create_database(&mut admin, "etprox_heatmap_bench").await,
            "create database",
        )?;
    }
    let connect: sqlx::postgres::PgConnectOptions = ok(url.parse(), "parse DATABASE_URL")?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(connect.database("etprox_heatmap_bench"))
        .await;
    let pool = ok(pool, "connect to etprox_heatmap_bench")?;
    ok(sqlx::migrate!("./migrations").run(&pool).await, "migrate")?;
    for (map, n) in [("goldrush", 1_000_000i64), ("supply", 10_000)] {
        let have =
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM kill_context WHERE map_name = $1")
                .bind(map)
                .fetch_one(&pool)
                .await;
        if ok(have, "count kills")? == n {
            continue;
        }
        eprintln!("filling etprox_heatmap_bench with {n} kills on {map} (once)...");
        let deleted = sqlx::query("DELETE FROM rounds WHERE map_name = $1")
            .bind(map)
            .execute(&pool)
            .await;
        ok(deleted, "delete old rounds")?;
        let w = world(map);
        let round_id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO rounds (round_key, content_sha256, format_version, server_id, map_name,
                                 round_number, session_date, source_path, kill_count)
             VALUES ('bench-' || $1, 'bench-' || $1, 3, 'bench', $1, 1, '2026-11-01', 'bench', $2)
             RETURNING id",
        )
        .bind(map)
        .bind(n as i32)
        .fetch_one(&pool)
        .await;
        let round_id = ok(round_id, "insert round")?;
        let filled = sqlx::query(BENCH_FILL)
            .bind(round_id)
            .bind(map)
            .bind(n)
            .bind(w.mins[0])
            .bind(w.maxs[0])
            .bind(w.maxs[1])
            .bind(w.mins[1])
            .execute(&pool)
            .await;
        ok(filled, "fill kills")?;
        ok(
            etprox::db::heatmap::rebuild_fine_rollup(&pool).await,
            "fill the 64-unit rollup",
        )?;
        for table in ["kill_context", "kill_heatmap_fine"] {
            let vacuum = sqlx::query(&format!("VACUUM ANALYZE {table}"))
                .execute(&pool)
                .await;
            ok(vacuum, "vacuum")?;
        }
    }
    Some(pool)
}

/// Server-side synthetic kills: 48 clusters with popularity falling off like the
/// Rust generator, positions inside the map box ($4..$5 in x, $6..$7 in y).
const BENCH_FILL: &str = r#"
WITH c AS (
    SELECT i,
           $4 + ($5 - $4) * (0.08 + 0.84 * ((i * 7919) % 1000) / 1000.0) AS cx,
           $6 + ($7 - $6) * (0.08 + 0.84 * ((i * 104729) % 1000) / 1000.0) AS cy,
           80 + ((i * 31) % 500) AS spread
    FROM generate_series(0, 47) AS i
), k AS (
    SELECT g, floor(random() * random() * 48)::int AS ci, random() AS r1, random() AS r2,
           random() AS r3, random() AS r4
    FROM generate_series(1, $3::int) AS g
)
INSERT INTO kill_context (round_id, kill_index, session_date, map_name, round_number, game_time,
    kind, killer_slot, killer_guid, killer_name, killer_team, killer_x, killer_y, killer_z,
    victim_slot, victim_guid, victim_name, victim_team, victim_x, victim_y, victim_z,
    distance, weapon, means_of_death, engagement_type, engagement_class, killer_allies, victim_allies)
SELECT $1, k.g, DATE '2025-11-01' + (k.g % 365)::int, $2, 1, k.g * 10,
       'kill', k.g % 32, upper(md5((k.g % 40)::text)), 'player' || (k.g % 40),
       CASE WHEN k.g % 2 = 0 THEN 'AXIS' ELSE 'ALLIES' END,
       c.cx + c.spread * (k.r1 + k.r2 - 1) + 150, c.cy + c.spread * (k.r3 + k.r4 - 1), 0,
       (k.g + 1) % 32, upper(md5(((k.g + 7) % 40)::text)), 'player' || ((k.g + 7) % 40),
       CASE WHEN k.g % 2 = 0 THEN 'ALLIES' ELSE 'AXIS' END,
       c.cx + c.spread * (k.r1 + k.r2 - 1), c.cy + c.spread * (k.r3 + k.r4 - 1), 0,
       150, 3, (ARRAY[8, 9, 10, 15, 26, 50, 5])[1 + k.g % 7], '1v1',
       (ARRAY['solo', 'assisted', 'even', 'outgunned'])[1 + k.g % 4], 0, 0
FROM k JOIN c ON c.i = k.ci
"#;

fn query_benches(c: &mut Criterion) {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL not set: skipping query_render benches");
        return;
    };
    let Ok(rt) = tokio::runtime::Runtime::new() else {
        return;
    };
    let Some(pool) = rt.block_on(bench_pool(&url)) else {
        eprintln!("cannot prepare etprox_heatmap_bench on {url}: skipping query_render benches");
        return;
    };
    let clock = etprox::clock::Clock::default();
    let mut group = c.benchmark_group("heatmap");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (map, n) in [("supply", 10_000u64), ("goldrush", 1_000_000)] {
        let week = Period::Days(day("2026-10-25"), day("2026-10-31"));
        for (name, raw_only, period) in [
            ("query_render", false, Period::All),
            ("query_render_raw", true, Period::All),
            ("query_render_week", false, week),
        ] {
            let mut opts = HeatmapOptions::new(HeatmapFilter::new(map));
            opts.filter.period = period;
            opts.table = Some(CalibrationTable::builtin());
            opts.assets = etprox::assets::Assets::in_dir("/nonexistent");
            opts.raw_only = raw_only;
            let (_, summary) = rt
                .block_on(render_heatmap_png(&pool, &clock, &opts))
                .expect("render");
            let seen = summary.kills + summary.kills_outside;
            if period == Period::All {
                assert!(seen.abs_diff(n) <= n / 1000, "{name}: {seen} of {n} kills");
            }
            eprintln!(
                "{name}/{n}: sources {:?}, query {:.1} ms, render {:.1} ms, {} bytes",
                summary.sources, summary.query_ms, summary.render_ms, summary.png_bytes
            );
            group.bench_with_input(BenchmarkId::new(name, n), &opts, |b, opts| {
                b.iter(|| {
                    rt.block_on(render_heatmap_png(&pool, &clock, opts))
                        .expect("render")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, render_benches, query_benches);
criterion_main!(benches);
