//! Heatmaps from a real PostgreSQL: SQL binning, filters, archived days and fallbacks.
//! Each test gets its own database with the migrations applied.

mod common;

use chrono::NaiveDate;
use etprox::assets::Assets;
use etprox::clock::Clock;
use etprox::db::heatmap as query;
use etprox::heatmap::calibration::CalibrationTable;
use etprox::heatmap::filter::parse_engagement;
use etprox::heatmap::plan::DayRange;
use etprox::heatmap::{
    resolve_player, BinSource, Calibration, HeatmapError, HeatmapFilter, HeatmapOptions,
    HeatmapSummary, PlayerFilter, PositionKind, Team, WeaponFilter,
};
use etprox::period::Period;
use etprox::players::{LookupError, PlayerKey};
use sqlx::PgPool;

/// Renders with the system clock of the default session clock (the periods these tests use
/// do not depend on today).
async fn render_heatmap_png(
    pool: &PgPool,
    opts: &HeatmapOptions,
) -> Result<(Vec<u8>, HeatmapSummary), HeatmapError> {
    etprox::heatmap::render_heatmap_png(pool, &Clock::default(), opts).await
}

/// A stored player, as the importer writes one (current name and one alias).
async fn player(pool: &PgPool, key: &str, name: &str, seen: &str) {
    sqlx::query(
        "INSERT INTO players (player_guid, last_name, is_bot, first_seen, last_seen)
         VALUES ($1, $2, false, $3::timestamptz, $3::timestamptz)",
    )
    .bind(key)
    .bind(name)
    .bind(seen)
    .execute(pool)
    .await
    .expect("player");
    sqlx::query(
        "INSERT INTO player_aliases (player_guid, raw_name, name, display_name, first_seen, last_seen)
         VALUES ($1, convert_to($2, 'UTF8'), regexp_replace($2, '\\^.', '', 'g'), $2,
                 $3::timestamptz, $3::timestamptz)",
    )
    .bind(key)
    .bind(name)
    .bind(seen)
    .execute(pool)
    .await
    .expect("alias");
}

fn key(k: &str) -> Option<PlayerFilter> {
    Some(PlayerFilter::new(PlayerKey::from_stored(k), k))
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

async fn round(pool: &PgPool, map: &str, day: &str, key: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO rounds (round_key, content_sha256, format_version, server_id, map_name,
                             round_number, session_date, source_path, kill_count)
         VALUES ($1, $1, 3, 'test', $2, 1, $3, 'test.txt', 0) RETURNING id",
    )
    .bind(key)
    .bind(map)
    .bind(d(day))
    .fetch_one(pool)
    .await
    .expect("round")
}

/// One kill row. `killer`/`victim` are (guid, name, team, x, y).
#[derive(Clone, Copy)]
struct Kill<'a> {
    kind: &'a str,
    killer: (&'a str, &'a str, &'a str, f32, f32),
    victim: (&'a str, &'a str, &'a str, f32, f32),
    mod_: i16,
    class: &'a str,
}

const ALICE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const BOB: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

fn kill(kx: f32, ky: f32, vx: f32, vy: f32) -> Kill<'static> {
    Kill {
        kind: "kill",
        killer: (ALICE, "^1Ali^7ce", "AXIS", kx, ky),
        victim: (BOB, "Bob", "ALLIES", vx, vy),
        mod_: 8, // MP40
        class: "solo",
    }
}

async fn insert(pool: &PgPool, round_id: i64, map: &str, day: &str, kills: &[Kill<'_>]) {
    for (i, k) in kills.iter().enumerate() {
        sqlx::query(
            "INSERT INTO kill_context (round_id, kill_index, session_date, map_name, round_number,
                 game_time, kind, killer_slot, killer_guid, killer_name, killer_team,
                 killer_x, killer_y, killer_z, victim_slot, victim_guid, victim_name, victim_team,
                 victim_x, victim_y, victim_z, distance, weapon, means_of_death,
                 engagement_type, engagement_class, killer_allies, victim_allies)
             VALUES ($1, $2, $3, $4, 1, 1000, $5, 1, $6, $7, $8, $9, $10, 0,
                     2, $11, $12, $13, $14, $15, 0, 100, 3, $16, '1v1', $17, 0, 0)",
        )
        .bind(round_id)
        .bind(i as i32)
        .bind(d(day))
        .bind(map)
        .bind(k.kind)
        .bind(k.killer.0)
        .bind(k.killer.1)
        .bind(k.killer.2)
        .bind(k.killer.3)
        .bind(k.killer.4)
        .bind(k.victim.0)
        .bind(k.victim.1)
        .bind(k.victim.2)
        .bind(k.victim.3)
        .bind(k.victim.4)
        .bind(k.mod_)
        .bind(k.class)
        .execute(pool)
        .await
        .expect("kill");
    }
}

fn opts(filter: HeatmapFilter, size: u32) -> HeatmapOptions {
    let mut o = HeatmapOptions::new(filter);
    o.size = size;
    // Tests never read the repository's assets folder.
    o.assets = Assets::in_dir("/nonexistent");
    o.table = Some(CalibrationTable::builtin());
    o
}

/// Pixel with the largest change against the empty map, ignoring the legend corner.
fn hottest_pixel(png: &[u8], empty: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(png).expect("decode").to_rgb8();
    let base = image::load_from_memory(empty).expect("decode").to_rgb8();
    let mut best = (0u32, 0u32, 0i32);
    for (x, y, p) in img.enumerate_pixels() {
        let b = base.get_pixel(x, y);
        // Redness gained: the top of the ramp is red.
        let score = i32::from(p[0]) - i32::from(p[1]) - (i32::from(b[0]) - i32::from(b[1]));
        if score > best.2 {
            best = (x, y, score);
        }
    }
    (best.0, best.1)
}

#[sqlx::test(migrations = "./migrations")]
async fn kill_at_known_coordinate_lands_on_its_pixel(pool: PgPool) {
    let r = round(&pool, "goldrush", "2026-11-20", "r1").await;
    // Victim at world (1500, 2100) five times; killer elsewhere.
    insert(
        &pool,
        r,
        "goldrush",
        "2026-11-20",
        &[kill(0.0, 0.0, 1500.0, 2100.0); 5],
    )
    .await;
    let mut raw = opts(HeatmapFilter::new("goldrush"), 512);
    raw.raw_only = true;
    let (png, summary) = render_heatmap_png(&pool, &raw).await.expect("render");
    assert_eq!(summary.kills, 5);
    assert_eq!(summary.sources, vec![BinSource::Raw]);
    assert_eq!(summary.calibration, Calibration::Table);
    // The same from the 64-unit rollup (what an all-time request reads): within one cell.
    let (rolled_png, rolled) =
        render_heatmap_png(&pool, &opts(HeatmapFilter::new("goldrush"), 512))
            .await
            .expect("render");
    assert_eq!(rolled.kills, 5);
    assert_eq!(rolled.sources, vec![BinSource::Fine64AllTime]);
    let (empty, _) = render_heatmap_png(
        &pool,
        &opts(HeatmapFilter::new("goldrush"), 512).with_period_none(),
    )
    .await
    .expect("render empty");
    let world = CalibrationTable::builtin()
        .get("goldrush")
        .expect("g")
        .world_box()
        .expect("b");
    let (ex, ey) = world.to_pixel(1500.0, 2100.0, 512, 512);
    let (hx, hy) = hottest_pixel(&png, &empty);
    assert!(
        (f64::from(hx) + 0.5 - ex).abs() <= 3.0 && (f64::from(hy) + 0.5 - ey).abs() <= 3.0,
        "expected ({ex}, {ey}), hottest ({hx}, {hy})"
    );
    // 64 world units are about 4 pixels at this size on goldrush.
    let (rx, ry) = hottest_pixel(&rolled_png, &empty);
    assert!(
        (f64::from(rx) + 0.5 - ex).abs() <= 6.0 && (f64::from(ry) + 0.5 - ey).abs() <= 6.0,
        "expected ({ex}, {ey}), hottest from the rollup ({rx}, {ry})"
    );
}

trait EmptyPeriod {
    fn with_period_none(self) -> Self;
}

impl EmptyPeriod for HeatmapOptions {
    /// The same map with a period that has no kills: the background alone.
    fn with_period_none(mut self) -> Self {
        self.filter.period = Period::Days(d("1999-01-01"), d("1999-01-01"));
        self
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn filters_select_the_right_kills(pool: PgPool) {
    let r1 = round(&pool, "goldrush", "2026-11-19", "r1").await;
    let r2 = round(&pool, "goldrush", "2026-11-20", "r2").await;
    let mut k_panzer = kill(100.0, 100.0, 200.0, 200.0);
    k_panzer.mod_ = 15;
    k_panzer.class = "outnumbering";
    let mut k_bob = kill(300.0, 300.0, 400.0, 400.0);
    k_bob.killer = (BOB, "Bob", "ALLIES", 300.0, 300.0);
    k_bob.victim = (ALICE, "^1Ali^7ce", "AXIS", 400.0, 400.0);
    let mut teamkill = kill(0.0, 0.0, 10.0, 10.0);
    teamkill.kind = "teamkill";
    insert(
        &pool,
        r1,
        "goldrush",
        "2026-11-19",
        &[kill(0.0, 0.0, 50.0, 50.0), k_panzer],
    )
    .await;
    insert(
        &pool,
        r2,
        "goldrush",
        "2026-11-20",
        &[k_bob, teamkill, kill(0.0, 0.0, 60.0, 60.0)],
    )
    .await;

    let count = |f: HeatmapFilter| {
        let pool = pool.clone();
        async move {
            render_heatmap_png(&pool, &opts(f, 256))
                .await
                .expect("render")
                .1
                .kills
        }
    };
    let all = HeatmapFilter::new("goldrush");
    assert_eq!(count(all.clone()).await, 4, "team kills do not count");
    let mut f = all.clone();
    f.player = key(ALICE);
    f.kind = PositionKind::Kills;
    assert_eq!(count(f.clone()).await, 3, "Alice as killer");
    f.kind = PositionKind::Deaths;
    assert_eq!(count(f.clone()).await, 1, "Alice as victim");
    player(&pool, ALICE, "^1Ali^7ce", "2026-11-20 21:00:00+00").await;
    player(&pool, BOB, "Bob", "2026-11-20 21:00:00+00").await;
    f.player = Some(resolve_player(&pool, "alice").await.expect("alice"));
    assert_eq!(f.player.as_ref().map(|p| p.label.as_str()), Some("Alice"));
    assert_eq!(
        count(f).await,
        1,
        "a name resolves through the one player lookup, colour codes ignored"
    );
    let mut f = all.clone();
    f.team = Some(Team::Allies);
    assert_eq!(count(f.clone()).await, 3, "allied deaths");
    f.kind = PositionKind::Kills;
    assert_eq!(count(f).await, 1, "allied kills");
    let mut f = all.clone();
    f.weapon = Some("panzerfaust".parse::<WeaponFilter>().expect("weapon"));
    assert_eq!(count(f).await, 1);
    let mut f = all.clone();
    f.engagement = Some(parse_engagement("assisted").expect("class"));
    assert_eq!(count(f).await, 1);
    let mut f = all.clone();
    f.period = Period::Session;
    assert_eq!(count(f).await, 2, "latest session is 2026-11-20");
    let mut f = all;
    f.period = Period::Days(d("2026-11-19"), d("2026-11-19"));
    assert_eq!(count(f).await, 2);
}

#[sqlx::test(migrations = "./migrations")]
async fn coarse_rollup_is_used_when_raw_kills_are_archived(pool: PgPool) {
    sqlx::query(
        "INSERT INTO kill_heatmap (session_date, map_name, grid_x, grid_y, axis_kills, allies_kills, total_kills)
         VALUES ('2026-01-05', 'goldrush', 0, 0, 7, 3, 10), ('2026-01-05', 'goldrush', -2, 1, 1, 1, 2)",
    )
    .execute(&pool)
    .await
    .expect("rollup");
    let (png, summary) = render_heatmap_png(&pool, &opts(HeatmapFilter::new("goldrush"), 256))
        .await
        .expect("render");
    assert_eq!(summary.sources, vec![BinSource::Coarse512]);
    assert_eq!(summary.kills, 12);
    assert!(
        summary.notes.iter().any(|n| n.contains("512-unit")),
        "{:?}",
        summary.notes
    );
    assert!(image::load_from_memory(&png).is_ok());
    // Allied deaths are kills by the axis.
    let mut f = HeatmapFilter::new("goldrush");
    f.team = Some(Team::Allies);
    let (_, s) = render_heatmap_png(&pool, &opts(f, 256))
        .await
        .expect("render");
    assert_eq!(s.kills, 8);
    // Killer positions are not in kill_heatmap.
    let mut f = HeatmapFilter::new("goldrush");
    f.kind = PositionKind::Kills;
    let (_, s) = render_heatmap_png(&pool, &opts(f, 256))
        .await
        .expect("render");
    assert_eq!(s.kills, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn fine_rollup_keeps_archived_days_in_all_time(pool: PgPool) {
    let old = round(&pool, "goldrush", "2026-01-05", "old").await;
    insert(
        &pool,
        old,
        "goldrush",
        "2026-01-05",
        &[kill(0.0, 0.0, 1000.0, 1000.0); 4],
    )
    .await;
    query::roll_up_pending(&pool).await.expect("rollup");
    let new = round(&pool, "goldrush", "2026-11-20", "new").await;
    insert(
        &pool,
        new,
        "goldrush",
        "2026-11-20",
        &[kill(0.0, 0.0, -1000.0, -1000.0); 3],
    )
    .await;
    query::roll_up_pending(&pool).await.expect("rollup");
    let total: i64 = sqlx::query_scalar("SELECT sum(kills)::int8 FROM kill_heatmap_fine_total")
        .fetch_one(&pool)
        .await
        .expect("sum");
    assert_eq!(total, 14, "two positions per kill, all time");
    let daily: Option<i64> = sqlx::query_scalar("SELECT sum(kills)::int8 FROM kill_heatmap_fine")
        .fetch_one(&pool)
        .await
        .expect("sum");
    assert_eq!(
        daily, None,
        "days are kept per day only when they are archived"
    );

    // Archive the old day's raw rows: kill_heatmap_cells (0010) already holds that day, so
    // the archive no longer copies it into kill_heatmap_fine (kept for days archived before 0010).
    let days = (chrono::Utc::now().date_naive() - d("2026-06-01")).num_days() as i32;
    sqlx::query("SELECT * FROM archive_old_proximity_data($1)")
        .bind(days)
        .execute(&pool)
        .await
        .expect("archive");
    let raw_left: i64 = sqlx::query_scalar("SELECT count(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(raw_left, 3, "the old day's raw kills are archived");
    let daily: Option<i64> = sqlx::query_scalar("SELECT sum(kills)::int8 FROM kill_heatmap_fine")
        .fetch_one(&pool)
        .await
        .expect("sum");
    assert_eq!(
        daily, None,
        "nothing copied into kill_heatmap_fine any more"
    );
    let cells: i64 = sqlx::query_scalar(
        "SELECT sum(kills)::int8 FROM kill_heatmap_cells WHERE session_date < '2026-06-01'",
    )
    .fetch_one(&pool)
    .await
    .expect("sum");
    assert_eq!(
        cells, 8,
        "the archived day's 4 kills, two positions each, in the cells"
    );
    let (_, s) = render_heatmap_png(&pool, &opts(HeatmapFilter::new("goldrush"), 256))
        .await
        .expect("render");
    assert_eq!(s.kills, 7, "both days, from the rollup");
    assert_eq!(s.sources, vec![BinSource::Fine64AllTime]);
    let mut o = opts(HeatmapFilter::new("goldrush"), 256);
    o.filter.period = Period::Days(d("2026-01-01"), d("2026-01-31"));
    let (_, s) = render_heatmap_png(&pool, &o).await.expect("render");
    assert_eq!((s.kills, s.sources.clone()), (4, vec![BinSource::Cells64]));
    // The same through raw rows sees only the day that was not archived.
    let mut o = opts(HeatmapFilter::new("goldrush"), 256);
    o.raw_only = true;
    let (_, s) = render_heatmap_png(&pool, &o).await.expect("render");
    assert_eq!((s.kills, s.sources.clone()), (3, vec![BinSource::Raw]));
    // A player filter reads the per-player rollup, which keeps the archived day.
    let mut f = HeatmapFilter::new("goldrush");
    f.player = key(BOB);
    let (_, s) = render_heatmap_png(&pool, &opts(f, 256))
        .await
        .expect("render");
    assert_eq!((s.kills, s.sources.clone()), (7, vec![BinSource::Cells64]));
    assert!(
        !s.notes.iter().any(|n| n.contains("archived")),
        "{:?}",
        s.notes
    );
    // A round imported after the last roll-up is included.
    let late = round(&pool, "goldrush", "2026-11-21", "late").await;
    insert(
        &pool,
        late,
        "goldrush",
        "2026-11-21",
        &[kill(0.0, 0.0, 5.0, 5.0); 2],
    )
    .await;
    let (_, s) = render_heatmap_png(&pool, &opts(HeatmapFilter::new("goldrush"), 256))
        .await
        .expect("render");
    // Rendering rolls up rounds committed since the last roll-up first.
    assert_eq!(s.kills, 9);
    assert_eq!(s.sources, vec![BinSource::Fine64AllTime]);
    // Deleting a round: take it out of the rollups, then its kills and the round itself
    // (kill_context has no foreign key to rounds: it is written with COPY).
    query::unroll_round(&pool, late).await.expect("unroll");
    sqlx::query("DELETE FROM kill_context WHERE round_id = $1")
        .bind(late)
        .execute(&pool)
        .await
        .expect("delete kills");
    sqlx::query("DELETE FROM rounds WHERE id = $1")
        .bind(late)
        .execute(&pool)
        .await
        .expect("delete");
    // Rebuilding the all-time rollup from archived days and raw rows gives the same counts.
    query::rebuild_fine_rollup(&pool).await.expect("rebuild");
    let total: i64 = sqlx::query_scalar("SELECT sum(kills)::int8 FROM kill_heatmap_fine_total")
        .fetch_one(&pool)
        .await
        .expect("sum");
    assert_eq!(total, 14, "the archived day comes back from the cells");
}

#[sqlx::test(migrations = "./migrations")]
async fn uncalibrated_map_fits_the_box_to_its_kills(pool: PgPool) {
    let r = round(&pool, "mystery_b1", "2026-11-20", "r1").await;
    insert(
        &pool,
        r,
        "mystery_b1",
        "2026-11-20",
        &[kill(0.0, 0.0, 100.0, 100.0), kill(0.0, 0.0, 900.0, -700.0)],
    )
    .await;
    let (png, s) = render_heatmap_png(&pool, &opts(HeatmapFilter::new("mystery_b1"), 256))
        .await
        .expect("render");
    assert_eq!(s.calibration, Calibration::KillBounds);
    assert_eq!(s.kills, 2);
    assert_eq!(s.kills_outside, 0);
    assert!(
        s.notes.iter().any(|n| n.contains("not calibrated")),
        "{:?}",
        s.notes
    );
    assert!(s.message().contains("etprox maps import"));
    assert!(image::load_from_memory(&png).is_ok());
}

#[sqlx::test(migrations = "./migrations")]
async fn empty_result_says_so(pool: PgPool) {
    let (png, s) = render_heatmap_png(&pool, &opts(HeatmapFilter::new("goldrush"), 256))
        .await
        .expect("render");
    assert_eq!(s.kills, 0);
    assert!(
        s.message().contains("no kills match these filters"),
        "{}",
        s.message()
    );
    assert!(image::load_from_memory(&png).is_ok());
    let mut f = HeatmapFilter::new("goldrush");
    f.period = Period::Session;
    let (_, s) = render_heatmap_png(&pool, &opts(f, 256))
        .await
        .expect("render");
    assert!(
        s.message().contains("no session with kills"),
        "{}",
        s.message()
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn unknown_player_is_an_error_a_person_can_act_on(pool: PgPool) {
    let err = resolve_player(&pool, "nobody").await.expect_err("unknown");
    assert!(matches!(
        err,
        HeatmapError::Player(LookupError::NotFound { .. })
    ));
    assert!(err.to_string().contains("nobody"));
}

#[sqlx::test(migrations = "./migrations")]
async fn kills_outside_the_box_are_counted_not_drawn(pool: PgPool) {
    let r = round(&pool, "goldrush", "2026-11-20", "r1").await;
    insert(
        &pool,
        r,
        "goldrush",
        "2026-11-20",
        &[
            kill(0.0, 0.0, 0.0, 0.0),
            kill(0.0, 0.0, 90000.0, 0.0),
            kill(0.0, 0.0, 1e30, -1e30),
        ],
    )
    .await;
    let (_, s) = render_heatmap_png(&pool, &opts(HeatmapFilter::new("goldrush"), 256))
        .await
        .expect("render");
    assert_eq!((s.kills, s.kills_outside), (1, 2));
    assert!(s.notes.iter().any(|n| n.contains("outside the map box")));
}

/// A pk3 with a command-map image for goldrush, imported into a scratch assets folder.
fn import_goldrush_image(dir: &std::path::Path) -> Assets {
    use std::io::Write;
    let assets = Assets::in_dir(dir);
    // 256×256 TGA: a mid-grey image with a white square in the top-left quarter.
    let mut tga = vec![0u8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    tga.extend_from_slice(&256u16.to_le_bytes());
    tga.extend_from_slice(&256u16.to_le_bytes());
    tga.extend_from_slice(&[24, 0x20]);
    for y in 0..256u32 {
        for x in 0..256u32 {
            let v = if x < 128 && y < 128 { 250 } else { 120 };
            tga.extend_from_slice(&[v, v, v]);
        }
    }
    let pak = dir.join("pak_cc.pk3");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&pak).expect("pk3"));
    let o = zip::write::SimpleFileOptions::default();
    zip.start_file("levelshots/goldrush_cc.tga", o)
        .expect("entry");
    zip.write_all(&tga).expect("write");
    zip.finish().expect("finish");
    let report = etprox::heatmap::map_import::import_maps(&[pak], &assets).expect("import");
    assert!(report.maps[0].image.is_some(), "{report}");
    assets
}

#[sqlx::test(migrations = "./migrations")]
async fn imported_command_map_is_drawn_under_the_heat(pool: PgPool) {
    let r = round(&pool, "goldrush", "2026-11-20", "r1").await;
    insert(
        &pool,
        r,
        "goldrush",
        "2026-11-20",
        &[kill(0.0, 0.0, 1500.0, -1500.0); 3],
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let assets = import_goldrush_image(dir.path());
    let mut o = opts(HeatmapFilter::new("goldrush"), 512);
    o.assets = assets;
    o.table = None; // read the table the import wrote
    let (png, s) = render_heatmap_png(&pool, &o).await.expect("render");
    assert!(s.has_image);
    assert!(
        !s.notes.iter().any(|n| n.contains("no command-map image")),
        "{:?}",
        s.notes
    );
    assert!(png.len() < 1024 * 1024);
    let img = image::load_from_memory(&png).expect("decode").to_rgb8();
    // The image's white quarter shows (darkened) at the top-left, away from the text
    // panel; the grey rest at the bottom-left above the notes.
    let bright = img.get_pixel(200, 230)[0];
    let grey = img.get_pixel(200, 330)[0];
    assert!(
        bright > 150 && grey < 110 && grey > 60,
        "bright {bright}, grey {grey}"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn unrolling_a_round_takes_its_kills_out_of_the_rollups(pool: PgPool) {
    let a = round(&pool, "goldrush", "2026-11-20", "a").await;
    insert(
        &pool,
        a,
        "goldrush",
        "2026-11-20",
        &[kill(0.0, 0.0, 100.0, 100.0); 3],
    )
    .await;
    query::roll_up_pending(&pool).await.expect("rollup");
    let b = round(&pool, "goldrush", "2026-11-20", "b").await;
    insert(
        &pool,
        b,
        "goldrush",
        "2026-11-20",
        &[kill(0.0, 0.0, 100.0, 100.0); 2],
    )
    .await;
    query::roll_up_pending(&pool).await.expect("rollup");
    let mut tx = pool.begin().await.expect("tx");
    query::unroll_round(&mut *tx, b).await.expect("unroll");
    sqlx::query("DELETE FROM kill_context WHERE round_id = $1")
        .bind(b)
        .execute(&mut *tx)
        .await
        .expect("delete kills");
    sqlx::query("DELETE FROM rounds WHERE id = $1")
        .bind(b)
        .execute(&mut *tx)
        .await
        .expect("delete");
    tx.commit().await.expect("commit");
    let total: i64 = sqlx::query_scalar("SELECT sum(kills)::int8 FROM kill_heatmap_fine_total")
        .fetch_one(&pool)
        .await
        .expect("sum");
    assert_eq!(total, 6, "round a's 3 kills, two positions each");
    let (_, s) = render_heatmap_png(&pool, &opts(HeatmapFilter::new("goldrush"), 256))
        .await
        .expect("render");
    assert_eq!(s.kills, 3);
}

/// `etprox heatmap ...` as the binary parses it, run against `pool` (nothing printed).
async fn cli_heatmap(
    pool: &PgPool,
    args: &[&str],
) -> anyhow::Result<etprox::heatmap::cli::HeatmapReport> {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        heatmap: etprox::heatmap::cli::HeatmapArgs,
    }
    let out = tempfile::tempdir().expect("tempdir");
    let png = out.path().join("out.png");
    let mut argv = vec!["etprox", "goldrush", "--size", "256", "-o"];
    argv.push(png.to_str().expect("utf-8 path"));
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments");
    let mut config = etprox::config::Config::from_lookup(|_| None).expect("default config");
    config.assets = Assets::in_dir("/nonexistent");
    let report = etprox::heatmap::cli::run(&cli.heatmap, pool, &config).await?;
    assert!(png.is_file(), "the PNG is written");
    Ok(report)
}

#[sqlx::test(migrations = "./migrations")]
async fn a_player_without_a_guid_gets_their_own_kills(pool: PgPool) {
    const CARL: &str = "NOGUID:Carl";
    let r = round(&pool, "goldrush", "2026-11-20", "r1").await;
    let mut by_carl = kill(500.0, 500.0, 600.0, 600.0);
    by_carl.killer = (CARL, "Carl", "AXIS", 500.0, 500.0);
    insert(
        &pool,
        r,
        "goldrush",
        "2026-11-20",
        &[by_carl, by_carl, kill(0.0, 0.0, 50.0, 50.0)],
    )
    .await;
    player(&pool, CARL, "Carl", "2026-11-20 21:00:00+00").await;
    player(&pool, ALICE, "^1Ali^7ce", "2026-11-20 21:00:00+00").await;

    // The library takes the key as resolved, whatever its form.
    let mut f = HeatmapFilter::new("goldrush");
    f.kind = PositionKind::Kills;
    f.player = Some(resolve_player(&pool, "carl").await.expect("carl"));
    assert_eq!(
        f.player.as_ref().map(|p| p.key.as_str()),
        Some(CARL),
        "the stored key, not a name looked up again"
    );
    let (_, s) = render_heatmap_png(&pool, &opts(f, 256))
        .await
        .expect("render");
    assert_eq!(s.kills, 2, "Carl's kills");
    assert!(s.filters[1].contains("player Carl"), "{:?}", s.filters);

    // The CLI resolves a name or the key itself the same way.
    for typed in ["Carl", CARL] {
        let report = cli_heatmap(&pool, &["--player", typed, "--kind", "kills"])
            .await
            .expect("cli");
        assert_eq!(report.summary.kills, 2, "--player {typed}");
        assert!(report.to_string().contains("2 kills"), "{report}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn an_ambiguous_name_is_reported_not_guessed(pool: PgPool) {
    let r = round(&pool, "goldrush", "2026-11-20", "r1").await;
    insert(
        &pool,
        r,
        "goldrush",
        "2026-11-20",
        &[kill(0.0, 0.0, 50.0, 50.0)],
    )
    .await;
    // Two players who both went by Alice; the newer one used to win silently.
    player(&pool, ALICE, "Alice", "2026-11-20 21:00:00+00").await;
    player(&pool, BOB, "alice", "2026-11-21 21:00:00+00").await;
    let err = cli_heatmap(&pool, &["--player", "Alice", "--kind", "kills"])
        .await
        .expect_err("ambiguous");
    let Some(HeatmapError::Player(LookupError::Ambiguous { candidates, .. })) =
        err.downcast_ref::<HeatmapError>()
    else {
        panic!("expected an ambiguous player, got {err:#}");
    };
    assert_eq!(candidates.len(), 2);
    let message = format!("{err:#}");
    assert!(message.contains("2 players match `Alice`"), "{message}");
    assert!(
        message.contains(ALICE) && message.contains(BOB),
        "{message}"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn last_days_count_back_from_the_clocks_session_day(pool: PgPool) {
    use chrono::{NaiveTime, TimeZone, Utc};
    let old = round(&pool, "goldrush", "2026-11-20", "old").await;
    insert(
        &pool,
        old,
        "goldrush",
        "2026-11-20",
        &[kill(0.0, 0.0, 50.0, 50.0)],
    )
    .await;
    let new = round(&pool, "goldrush", "2026-11-24", "new").await;
    insert(
        &pool,
        new,
        "goldrush",
        "2026-11-24",
        &[kill(0.0, 0.0, 60.0, 60.0); 2],
    )
    .await;
    let mut o = opts(HeatmapFilter::new("goldrush"), 256);
    o.filter.period = Period::LastDays(3);
    // 03:00 UTC on 27 November is the evening of the 26th in Los Angeles: that session day,
    // so the window is the 24th to the 26th (the UTC date would start it on the 25th).
    let la = etprox::config::SessionClock {
        timezone: "America/Los_Angeles".parse().expect("zone"),
        day_start: NaiveTime::from_hms_opt(6, 0, 0).expect("time"),
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).unwrap();
    let clock = Clock::fixed(la, now);
    let (_, s) = etprox::heatmap::render_heatmap_png(&pool, &clock, &o)
        .await
        .expect("render");
    assert_eq!(s.kills, 2, "the 24th's kills, not the 20th's");
    assert_eq!(s.from, Some(d("2026-11-24")));
    assert_eq!(s.filters[1], "last 3 days (since 2026-11-24)");
}

/// Kills spread over three days, four players, both teams, four means of death and the four
/// engagement classes, at random positions (fixed seed), with a few team kills; one round per
/// (day, half). Returns the round ids.
async fn random_kills(pool: &PgPool) -> Vec<i64> {
    const CAROL: &str = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
    const DAVE: &str = "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD";
    let players = [
        (ALICE, "Alice", "AXIS"),
        (BOB, "Bob", "ALLIES"),
        (CAROL, "Carol", "AXIS"),
        (DAVE, "Dave", "ALLIES"),
    ];
    let classes = ["solo", "outnumbering", "even", "outnumbered"];
    let mods = [8i16, 10, 15, 5];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) % n
    };
    let mut ids = Vec::new();
    for (i, day) in ["2026-11-18", "2026-11-19", "2026-11-20"]
        .iter()
        .enumerate()
    {
        for half in 0..2 {
            let id = round(pool, "goldrush", day, &format!("rand-{i}-{half}")).await;
            let mut kills = Vec::new();
            for _ in 0..60 {
                let killer = players[next(4) as usize];
                let victim = players[next(4) as usize];
                let pos = |v: u64| v as f32 - 3000.0 + 0.5;
                kills.push(Kill {
                    kind: if next(10) == 0 { "teamkill" } else { "kill" },
                    killer: (
                        killer.0,
                        killer.1,
                        killer.2,
                        pos(next(6000)),
                        pos(next(6000)),
                    ),
                    victim: (
                        victim.0,
                        victim.1,
                        victim.2,
                        pos(next(6000)),
                        pos(next(300)),
                    ),
                    mod_: mods[next(4) as usize],
                    class: classes[next(4) as usize],
                });
            }
            insert(pool, id, "goldrush", day, &kills).await;
            ids.push(id);
        }
    }
    ids
}

/// Every filter combination the bot offers, as the SQL sees it.
fn filter_combinations() -> Vec<(query::KillFilter, DayRange)> {
    let mut out = Vec::new();
    let periods = [
        (None, None),
        (Some(d("2026-11-19")), Some(d("2026-11-19"))),
        (Some(d("2026-11-19")), None),
    ];
    for side in [query::Side::Killer, query::Side::Victim] {
        for player in [None, Some(ALICE), Some("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC")] {
            for team in [None, Some("AXIS"), Some("ALLIES")] {
                for mods in [None, Some(vec![8i16]), Some(vec![15, 5])] {
                    for engagement in [None, Some("solo"), Some("outnumbered")] {
                        for (from, to) in periods {
                            let filter = query::KillFilter {
                                map: "goldrush".into(),
                                side,
                                from,
                                to,
                                player: player.map(str::to_string),
                                team,
                                mods: mods.clone(),
                                engagement: engagement.map(str::to_string),
                            };
                            out.push((filter, (from, to)));
                        }
                    }
                }
            }
        }
    }
    out
}

/// The raw answer on the rollups' 64-unit cells, sorted.
async fn raw_cells(pool: &PgPool, filter: &query::KillFilter) -> Vec<(i32, i32, i64)> {
    let grid = query::GridOrigin {
        x0: 0.0,
        cell_x: query::FINE_CELL,
        y0: 0.0,
        cell_y: query::FINE_CELL,
    };
    let mut cells: Vec<_> = query::raw_bins(pool, filter, grid)
        .await
        .expect("raw")
        .into_iter()
        .map(|c| (c.col, c.row, c.kills))
        .collect();
    cells.sort_unstable();
    cells
}

fn sorted(cells: Vec<query::RollupCount>) -> Vec<(i32, i32, i64)> {
    let mut cells: Vec<_> = cells
        .into_iter()
        .map(|c| (c.cell_x, c.cell_y, c.kills))
        .collect();
    cells.sort_unstable();
    cells
}

/// Each rollup gives, cell by cell, the raw answer for every filter it serves.
async fn assert_rollups_equal_raw(pool: &PgPool) {
    let mut non_empty = 0;
    for (filter, range) in filter_combinations() {
        let raw = raw_cells(pool, &filter).await;
        non_empty += usize::from(!raw.is_empty());
        let cells = sorted(
            query::cells_bins(pool, &filter, range)
                .await
                .expect("cells"),
        );
        assert_eq!(cells, raw, "kill_heatmap_cells for {filter:?}");
        if filter.player.is_none() && range == (None, None) {
            let cube = sorted(query::cube_total_bins(pool, &filter).await.expect("cube"));
            assert_eq!(cube, raw, "kill_heatmap_cube_total for {filter:?}");
            if filter.mods.is_none() && filter.engagement.is_none() {
                let total = query::fine_total_bins(pool, "goldrush", filter.side, filter.team);
                let total = sorted(total.await.expect("fine total"));
                assert_eq!(total, raw, "kill_heatmap_fine_total for {filter:?}");
            }
        }
    }
    assert!(
        non_empty > 100,
        "the combinations select kills: {non_empty}"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn rollups_give_the_raw_counts_for_every_filter(pool: PgPool) {
    let rounds = random_kills(&pool).await;
    // Two roll-ups, so that keys are spread over several delta rows.
    sqlx::query_scalar::<_, i32>("SELECT roll_up_heatmap(2)")
        .fetch_one(&pool)
        .await
        .expect("first rounds");
    query::roll_up_pending(&pool).await.expect("rollup");
    assert_rollups_equal_raw(&pool).await;

    // A replaced or deleted round: unrolled, then its kills go; the rollups stay exact.
    let mut tx = pool.begin().await.expect("tx");
    assert_eq!(
        query::unroll_round(&mut *tx, rounds[3])
            .await
            .expect("unroll"),
        1
    );
    assert_eq!(
        query::unroll_round(&mut *tx, rounds[3])
            .await
            .expect("again"),
        0
    );
    sqlx::query("DELETE FROM kill_context WHERE round_id = $1")
        .bind(rounds[3])
        .execute(&mut *tx)
        .await
        .expect("delete kills");
    sqlx::query("DELETE FROM rounds WHERE id = $1")
        .bind(rounds[3])
        .execute(&mut *tx)
        .await
        .expect("delete round");
    tx.commit().await.expect("commit");
    assert_rollups_equal_raw(&pool).await;
    let zero: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM kill_heatmap_cube_total WHERE kills = 0)
              + (SELECT count(*) FROM kill_heatmap_fine_total WHERE kills = 0)",
    )
    .fetch_one(&pool)
    .await
    .expect("zero cells");
    assert_eq!(zero, 0, "cells taken back to zero are deleted");

    // Rebuilding compacts the delta rows and changes no count.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM kill_heatmap_cells")
        .fetch_one(&pool)
        .await
        .expect("rows");
    query::rebuild_fine_rollup(&pool).await.expect("rebuild");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM kill_heatmap_cells")
        .fetch_one(&pool)
        .await
        .expect("rows");
    assert!(after < before, "compacted: {before} → {after}");
    assert_rollups_equal_raw(&pool).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn filtered_heatmaps_read_rollups_and_draw_archived_days(pool: PgPool) {
    random_kills(&pool).await;
    let filters = || {
        let mut by_player = HeatmapFilter::new("goldrush");
        by_player.player = key(ALICE);
        by_player.kind = PositionKind::Kills;
        let mut by_weapon = HeatmapFilter::new("goldrush");
        by_weapon.weapon = Some("mp40".parse().expect("weapon"));
        by_weapon.engagement = Some("solo".into());
        let mut in_days = by_weapon.clone();
        in_days.period = Period::Days(d("2026-11-18"), d("2026-11-19"));
        in_days.team = Some(Team::Axis);
        [by_player, by_weapon, in_days]
    };
    let mut before = Vec::new();
    for f in filters() {
        let mut raw = opts(f.clone(), 256);
        raw.raw_only = true;
        let (_, r) = render_heatmap_png(&pool, &raw).await.expect("raw");
        let (_, s) = render_heatmap_png(&pool, &opts(f, 256))
            .await
            .expect("rollup");
        assert!(r.kills > 0);
        assert_eq!(s.kills, r.kills, "rollup and raw agree");
        assert!(!s.sources.contains(&BinSource::Raw), "{:?}", s.sources);
        before.push(s.kills);
    }
    // Retention archives every raw kill; the rollups are kept.
    let days = (chrono::Utc::now().date_naive() - d("2026-11-21")).num_days() as i32;
    sqlx::query("SELECT * FROM archive_old_proximity_data($1)")
        .bind(days)
        .execute(&pool)
        .await
        .expect("archive");
    let raw_left: i64 = sqlx::query_scalar("SELECT count(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(raw_left, 0);
    for (f, kills) in filters().into_iter().zip(before) {
        let (_, s) = render_heatmap_png(&pool, &opts(f, 256))
            .await
            .expect("render");
        assert_eq!(s.kills, kills, "archived days still draw");
        assert!(
            !s.notes.iter().any(|n| n.contains("archived")),
            "{:?}",
            s.notes
        );
    }
}

/// An existing database full of kills gets migration 0010 in place: its rollups hold exactly
/// the rolled-up rounds' kills, and a round still pending is added by its roll-up.
#[sqlx::test(migrations = false)]
async fn migration_0010_fills_the_rollups_from_existing_kills(pool: PgPool) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let all = sqlx::migrate::Migrator::new(path.clone())
        .await
        .expect("migrations");
    let mut before = sqlx::migrate::Migrator::new(path)
        .await
        .expect("migrations");
    before.migrations = all
        .migrations
        .iter()
        .filter(|m| m.version < 10)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&pool).await.expect("migrations before 0010");
    let rounds = random_kills(&pool).await;
    sqlx::query("UPDATE rounds SET heatmap_rolled_up = true WHERE id <> $1")
        .bind(rounds[5])
        .execute(&pool)
        .await
        .expect("rolled up before");
    all.run(&pool).await.expect("0010 in place");
    query::roll_up_pending(&pool).await.expect("pending round");
    // kill_heatmap_fine_total was left empty above: only the new rollups are compared.
    for (filter, range) in filter_combinations() {
        let raw = raw_cells(&pool, &filter).await;
        let cells = sorted(
            query::cells_bins(&pool, &filter, range)
                .await
                .expect("cells"),
        );
        assert_eq!(cells, raw, "kill_heatmap_cells for {filter:?}");
        if filter.player.is_none() && range == (None, None) {
            let cube = sorted(query::cube_total_bins(&pool, &filter).await.expect("cube"));
            assert_eq!(cube, raw, "kill_heatmap_cube_total for {filter:?}");
        }
    }
}
