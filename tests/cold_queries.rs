//! The all-time rows of migration 0009 (player, pair, weapon and versus totals; engagements per
//! day and all time) against the real PostgreSQL: after imports in two orders (with a v2 file
//! that grows and replaces its earlier version) they equal the sums of the daily rows, commands
//! read the same from them as from the daily rows, and retention keeps them.

mod common;

use chrono::{Days, NaiveDate, NaiveDateTime};
use common::{expect_imported, import, importer};
use etprox::db::{stats, synergy};
use etprox::period::{FIRST_DAY, LAST_DAY};
use etprox::round_file::synthetic::{synthetic_v2, synthetic_v3, RoundSpec};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Twelve players; each round takes eight of them, so pairs and opponents vary.
fn roster(round: u64) -> Vec<(String, Vec<u8>)> {
    (0..8u64)
        .map(|i| {
            let p = (round * 3 + i * 5) % 12;
            (
                format!("{:032X}", 0xFEED00 + p),
                format!("^{}player{p}", p % 10).into_bytes(),
            )
        })
        .collect()
}

/// Round files over three session days (v3), in time order.
fn write_rounds(dir: &Path) -> Vec<PathBuf> {
    (0..9u64)
        .map(|i| {
            let start = 1_763_490_000 + (i / 3) as i64 * 86_400 + (i % 3) as i64 * 1_500;
            let spec = RoundSpec {
                kills: 60,
                map: ["goldrush", "supply", "radar"][(i % 3) as usize].into(),
                roster: Some(roster(i)),
                ..RoundSpec::new(100 + i, start)
            };
            let path = dir.join(format!("round{i}.txt"));
            std::fs::write(&path, synthetic_v3(&spec)).unwrap();
            path
        })
        .collect()
}

/// A v2 round read twice: first cut short, then complete (the complete one replaces it).
async fn import_growing_v2(pool: &PgPool, dir: &Path) {
    let imp = importer(pool);
    let spec = RoundSpec {
        kills: 50,
        roster: Some(roster(20)),
        ..RoundSpec::new(7, 0)
    };
    let (name, full) = synthetic_v2(&spec, local("2025-11-19 21:30:00"));
    let path = dir.join(name);
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let id = expect_imported(&import(&imp, &path).await);
    std::fs::write(&path, &full).unwrap();
    assert_eq!(expect_imported(&import(&imp, &path).await), id);
    let replaced: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM import_log WHERE message LIKE '%replaces%'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(replaced, 1, "the complete file replaced the short one");
}

async fn import_all(pool: &PgPool, paths: &[PathBuf]) {
    let imp = importer(pool);
    for p in paths {
        expect_imported(&import(&imp, p).await);
    }
}

/// Every all-time table as text rows (distance sums to 6 decimals: float sums depend on the
/// order of the additions in their last bits), sorted.
async fn all_time_rows(pool: &PgPool) -> Vec<String> {
    let mut rows: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', 'p', player_guid, is_bot, total_kills, solo_kills, assisted_kills,
                even_kills, outgunned_kills, total_deaths, solo_deaths, ganked_deaths, even_deaths,
                outnumbering_deaths, team_kills, team_deaths, suicides, world_deaths,
                crossfire_participations, round(sum_kill_distance::numeric, 6), rounds_played,
                days_played) FROM player_totals
         UNION ALL SELECT concat_ws(' ', 'pair', player_a, player_b, kills_within_range,
                simultaneous_kills, trade_kills, rounds_ab, rounds_ba, score) FROM pair_totals
         UNION ALL SELECT concat_ws(' ', 'w', player_guid, weapon, kills, deaths)
                FROM player_weapon_totals
         UNION ALL SELECT concat_ws(' ', 'v', killer_guid, victim_guid, kills)
                FROM player_versus_totals
         UNION ALL SELECT concat_ws(' ', 'e', map_name, engagement_type, engagement_class, kills,
                round(sum_distance::numeric, 6)) FROM engagement_totals
         UNION ALL SELECT concat_ws(' ', 'ed', session_date, map_name, engagement_type,
                engagement_class, kills, round(sum_distance::numeric, 6)) FROM engagement_daily",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.sort();
    rows
}

/// The same rows computed from the daily tables (and, for engagements, from the raw kills).
async fn daily_sums(pool: &PgPool) -> Vec<String> {
    let mut rows: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', 'p', player_guid, bool_or(is_bot), SUM(total_kills),
                SUM(solo_kills), SUM(assisted_kills), SUM(even_kills), SUM(outgunned_kills),
                SUM(total_deaths), SUM(solo_deaths), SUM(ganked_deaths), SUM(even_deaths),
                SUM(outnumbering_deaths), SUM(team_kills), SUM(team_deaths), SUM(suicides),
                SUM(world_deaths), SUM(crossfire_participations),
                round(SUM(sum_kill_distance)::numeric, 6), SUM(rounds_played), COUNT(*))
         FROM player_proximity_stats GROUP BY player_guid
         UNION ALL SELECT concat_ws(' ', 'pair', LEAST(player1_guid, player2_guid),
                GREATEST(player1_guid, player2_guid), SUM(kills_within_range),
                SUM(simultaneous_kills), SUM(trade_kills),
                COALESCE(SUM(rounds_together) FILTER (WHERE player1_guid < player2_guid), 0),
                COALESCE(SUM(rounds_together) FILTER (WHERE player1_guid > player2_guid), 0),
                SUM(kills_within_range + simultaneous_kills + trade_kills))
         FROM teammate_synergy_daily WHERE player1_guid <> player2_guid
         GROUP BY LEAST(player1_guid, player2_guid), GREATEST(player1_guid, player2_guid)
         UNION ALL SELECT concat_ws(' ', 'w', player_guid, weapon, SUM(kills), SUM(deaths))
                FROM player_weapon_daily GROUP BY player_guid, weapon
         UNION ALL SELECT concat_ws(' ', 'v', killer_guid, victim_guid, SUM(kills))
                FROM player_versus_daily GROUP BY killer_guid, victim_guid
         UNION ALL SELECT concat_ws(' ', 'e', map_name, engagement_type, engagement_class,
                COUNT(*), round(SUM(distance::float8)::numeric, 6))
                FROM kill_context WHERE kind = 'kill' GROUP BY map_name, engagement_type, engagement_class
         UNION ALL SELECT concat_ws(' ', 'ed', session_date, map_name, engagement_type,
                engagement_class, COUNT(*), round(SUM(distance::float8)::numeric, 6))
                FROM kill_context WHERE kind = 'kill'
                GROUP BY session_date, map_name, engagement_type, engagement_class",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.sort();
    rows
}

/// A second, empty, migrated database beside the test's own; dropped by `drop_sibling`.
async fn sibling(pool: &PgPool) -> (PgPool, String) {
    let name: String = sqlx::query_scalar("SELECT 'etprox_cold_sibling_' || pg_backend_pid()")
        .fetch_one(pool)
        .await
        .unwrap();
    etprox::db::admin::recreate_database(&mut pool.acquire().await.unwrap(), &name)
        .await
        .unwrap();
    let url = common::url_of(pool).await;
    let options = PgConnectOptions::from_str(&url)
        .unwrap()
        .database(&name)
        .disable_statement_logging();
    let other = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    etprox::db::migrate(&other).await.unwrap();
    (other, name)
}

async fn drop_sibling(pool: &PgPool, other: PgPool, name: &str) {
    other.close().await;
    etprox::db::admin::drop_database(pool, name).await.unwrap();
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn all_time_rows_are_the_daily_sums_whatever_the_import_order(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_rounds(dir.path());
    import_all(&pool, &paths).await;
    import_growing_v2(&pool, dir.path()).await;
    let forward = all_time_rows(&pool).await;
    assert!(
        forward.iter().any(|r| r.starts_with("pair ")),
        "{forward:?}"
    );
    assert_eq!(forward, daily_sums(&pool).await);

    let (other, name) = sibling(&pool).await;
    let reversed: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    import_growing_v2(&other, dir.path()).await;
    import_all(&other, &reversed).await;
    let backward = all_time_rows(&other).await;
    drop_sibling(&pool, other, &name).await;
    assert_eq!(forward, backward);
}

/// A range that starts a day after the first possible day: the daily rows answer it, and it
/// covers every stored day.
fn nearly_all() -> (NaiveDate, NaiveDate) {
    (FIRST_DAY.checked_add_days(Days::new(1)).unwrap(), LAST_DAY)
}

fn same_totals(a: &[stats::PlayerTotals], b: &[stats::PlayerTotals]) {
    let key = |t: &stats::PlayerTotals| {
        let mut t = t.clone();
        t.sum_distance = (t.sum_distance * 1e6).round() / 1e6;
        t
    };
    let mut a: Vec<_> = a.iter().map(key).collect();
    let mut b: Vec<_> = b.iter().map(key).collect();
    a.sort_by(|x, y| x.guid.cmp(&y.guid));
    b.sort_by(|x, y| x.guid.cmp(&y.guid));
    assert_eq!(a, b);
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn commands_read_the_same_from_all_time_rows_as_from_daily_rows(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    import_all(&pool, &write_rounds(dir.path())).await;
    import_growing_v2(&pool, dir.path()).await;
    let (from, to) = nearly_all();
    assert!(stats::is_all_time(FIRST_DAY, LAST_DAY) && !stats::is_all_time(from, to));

    let all = stats::all_totals(&pool, FIRST_DAY, LAST_DAY).await.unwrap();
    assert_eq!(all.len(), 12);
    same_totals(&all, &stats::all_totals(&pool, from, to).await.unwrap());
    for t in &all {
        let one = stats::player_totals(&pool, &t.guid, FIRST_DAY, LAST_DAY)
            .await
            .unwrap();
        let daily = stats::player_totals(&pool, &t.guid, from, to)
            .await
            .unwrap();
        same_totals(&[one.unwrap()], &[daily.unwrap()]);
        let partners = synergy::partners(&pool, &t.guid, FIRST_DAY, LAST_DAY)
            .await
            .unwrap();
        assert!(!partners.is_empty());
        assert_eq!(
            partners,
            synergy::partners(&pool, &t.guid, from, to).await.unwrap()
        );
    }
    let pairs = synergy::best_pairs(&pool, FIRST_DAY, LAST_DAY)
        .await
        .unwrap();
    assert!(pairs.len() > 10);
    assert_eq!(pairs, synergy::best_pairs(&pool, from, to).await.unwrap());
    for map in [None, Some("goldrush")] {
        let at = stats::engagements(&pool, FIRST_DAY, LAST_DAY, map)
            .await
            .unwrap();
        let daily = stats::engagements(&pool, from, to, map).await.unwrap();
        assert_eq!(at.len(), daily.len());
        for (x, y) in at.iter().zip(&daily) {
            assert_eq!(
                (&x.engagement_type, &x.engagement_class, x.kills),
                (&y.engagement_type, &y.engagement_class, y.kills)
            );
            let (dx, dy) = (x.avg_distance.unwrap(), y.avg_distance.unwrap());
            assert!((dx - dy).abs() < 1e-6, "{dx} {dy}");
        }
    }
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn favourite_weapons_and_opponents_are_the_daily_sums(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    import_all(&pool, &write_rounds(dir.path())).await;
    let guid = format!("{:032X}", 0xFEED00 + 5);
    let weapons = stats::favourite_weapons(&pool, &guid, 3).await.unwrap();
    let expected: Vec<(i16, i64)> = sqlx::query_as(
        "SELECT weapon, SUM(kills)::bigint FROM player_weapon_daily WHERE player_guid = $1
         GROUP BY weapon HAVING SUM(kills) > 0 ORDER BY 2 DESC, weapon LIMIT 3",
    )
    .bind(&guid)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(expected.len(), 3);
    let got: Vec<(i16, i64)> = weapons.iter().map(|w| (w.weapon, w.kills)).collect();
    assert_eq!(got, expected);
    for victims in [false, true] {
        let got: Vec<(String, i64)> = stats::versus(&pool, &guid, victims, 5)
            .await
            .unwrap()
            .into_iter()
            .map(|o| (o.guid, o.kills))
            .collect();
        let (me, other) = if victims {
            ("killer_guid", "victim_guid")
        } else {
            ("victim_guid", "killer_guid")
        };
        let expected: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT {other}, SUM(kills)::bigint FROM player_versus_daily
             WHERE {me} = $1 AND {other} <> $1 GROUP BY {other} ORDER BY 2 DESC, 1 LIMIT 5"
        ))
        .bind(&guid)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(got, expected);
    }
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn retention_keeps_the_all_time_rows_and_engagements(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    import_all(&pool, &write_rounds(dir.path())).await;
    let before = all_time_rows(&pool).await;
    let engagements = stats::engagements(&pool, FIRST_DAY, LAST_DAY, None)
        .await
        .unwrap();
    let archived = etprox::db::retention::archive(&pool, 1).await.unwrap();
    assert!(archived.iter().any(|a| a.rows_archived > 0), "{archived:?}");
    let raw: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(raw, 0);
    assert_eq!(all_time_rows(&pool).await, before);
    assert_eq!(
        stats::engagements(&pool, FIRST_DAY, LAST_DAY, None)
            .await
            .unwrap(),
        engagements
    );
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn a_typed_name_finds_the_player_among_many(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    import_all(&pool, &write_rounds(dir.path())).await;
    // Exact (colour codes and case ignored) wins over "contains": player1 is in player10, player11.
    let p = etprox::players::resolve_one(&pool, "^1PLAYER1")
        .await
        .unwrap();
    assert_eq!(p.guid, format!("{:032X}", 0xFEED00 + 1));
    let many = etprox::players::resolve_one(&pool, "layer").await;
    assert!(
        matches!(many, Err(etprox::players::LookupError::Ambiguous { ref candidates, .. }) if candidates.len() == 12),
        "{many:?}"
    );
    assert!(matches!(
        etprox::players::resolve_one(&pool, "nobody").await,
        Err(etprox::players::LookupError::NotFound { .. })
    ));
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn migration_0009_fills_the_all_time_rows_from_an_existing_database(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    import_all(&pool, &write_rounds(dir.path())).await;
    import_growing_v2(&pool, dir.path()).await;
    let kept = all_time_rows(&pool).await;
    // The database as it was before 0009 (its objects gone), then 0009 applied to it in place.
    sqlx::raw_sql(
        "DROP TABLE player_totals, pair_totals, player_weapon_totals, player_versus_totals,
                    engagement_daily, engagement_totals;
         DROP INDEX teammate_synergy_daily_date_idx, players_last_name_trgm_idx,
                    player_aliases_display_name_trgm_idx, player_aliases_name_trgm_idx;",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::raw_sql(include_str!("../migrations/0009_cold_answers.sql"))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(all_time_rows(&pool).await, kept);
}

struct Quiet;
impl etprox::progress::Progress for Quiet {
    fn say(&self, _line: &str) {}
}

/// `etprox bench commands` on a small community: every command and heatmap filter answers (no
/// timing fails), and the seeded database is left as a running bot keeps it: every round
/// rolled up into the heatmap rollups, whose cells hold both sides of every counted kill.
#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn the_command_bench_times_every_command_on_a_settled_database(pool: PgPool) {
    use etprox::command_bench::{command_bench, CommandBenchOptions};
    let name: String = sqlx::query_scalar("SELECT 'etprox_cold_bench_' || pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let options = CommandBenchOptions {
        database_url: common::url_of(&pool).await,
        database: name.clone(),
        kills: 4_000,
        days: 20,
        repeats: 1,
        reuse: false,
    };
    let report = command_bench(&options, &Quiet).await.unwrap();
    let failed: Vec<_> = report
        .timings
        .iter()
        .filter_map(|t| t.failed.as_ref().map(|why| format!("{}: {why}", t.command)))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert!(report.kills > 0 && report.rounds > 0);
    let url = common::url_of(&pool).await;
    let bench = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(PgConnectOptions::from_str(&url).unwrap().database(&name))
        .await
        .unwrap();
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM rounds WHERE NOT heatmap_rolled_up")
            .fetch_one(&bench)
            .await
            .unwrap();
    let (cells, kills): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(SUM(kills), 0) FROM kill_heatmap_cells)::int8,
                (SELECT COUNT(*) FROM kill_context WHERE kind = 'kill')",
    )
    .fetch_one(&bench)
    .await
    .unwrap();
    bench.close().await;
    etprox::db::admin::drop_database(&pool, &name)
        .await
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(cells, 2 * kills);
}
