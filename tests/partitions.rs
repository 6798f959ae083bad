//! `kill_context` partitioned by month (migration 0008): an existing database converted in
//! place, imports into months without a partition, retention dropping whole months and deleting
//! partly kept ones row by row, concurrent creators of one month.

mod common;

use chrono::NaiveDate;
use etprox::db::partitions;
use etprox::db::retention::{archive_older_than, ExportSink};
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
use sqlx::PgPool;

/// `n` generated raw kills, `per_day` a day from `first_day` on (a SQL date expression), rounds
/// of 100 kills numbered from `first_round`, with varied positions, names, classes and JSON.
async fn seed_kills(pool: &PgPool, first_day: &str, n: i64, per_day: i64, first_round: i64) {
    let sql = format!(
        "INSERT INTO kill_context (round_id, kill_index, session_date, map_name, round_number,
             game_time, time_ms, kind, killer_slot, killer_guid, killer_name, killer_team,
             killer_x, killer_y, killer_z, victim_slot, victim_guid, victim_name, victim_team,
             victim_x, victim_y, victim_z, distance, weapon, means_of_death, engagement_type,
             engagement_class, killer_allies, victim_allies, supporting_allies)
         SELECT {first_round} + g / 100, g % 100, ({first_day})::date + (g / {per_day})::int,
                CASE WHEN g % 3 = 0 THEN 'supply' ELSE 'goldrush' END, 1, g * 37, g % 1000,
                CASE WHEN g % 17 = 0 THEN 'teamkill' ELSE 'kill' END,
                g % 12, 'GUID' || (g % 40), 'pl\"ay,er' || (g % 40),
                CASE WHEN g % 2 = 0 THEN 'AXIS' ELSE 'ALLIES' END,
                (g * 7919) % 4000 - 2000, (g * 104729) % 4000 - 2000, 10,
                (g + 1) % 12, 'GUID' || ((g + 7) % 40), 'victim' || ((g + 7) % 40),
                CASE WHEN g % 2 = 0 THEN 'ALLIES' ELSE 'AXIS' END,
                (g * 31) % 4000 - 2000, (g * 57) % 4000 - 2000, 0, (g % 900) + 0.5,
                g % 40, g % 30, '2v1', (ARRAY['solo','assisted','even','outgunned'])[g % 4 + 1],
                g % 3, g % 2, jsonb_build_array(jsonb_build_object('slot', g % 12))
         FROM generate_series(0::bigint, {n} - 1) g"
    );
    sqlx::query(&sql).execute(pool).await.unwrap();
}

/// Every raw kill as CSV text, in (round_id, kill_index) order, and their number.
async fn all_rows(pool: &PgPool, filter: &str) -> (i64, String) {
    let sql = format!(
        "SELECT COUNT(*), COALESCE(string_agg(k::text, E'\\n' ORDER BY round_id, kill_index), '')
         FROM kill_context k WHERE {filter}"
    );
    sqlx::query_as(&sql).fetch_one(pool).await.unwrap()
}

async fn engagement_breakdown(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT e::text FROM engagement_breakdown e ORDER BY 1")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn rows_in(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A database at migration 0007 with raw kills over three years (and a copy in a partly kept
/// month): 0008 moves every row into its month, keeps the view, and imports go on.
#[sqlx::test(migrations = false)]
async fn an_existing_database_is_converted_in_place(pool: PgPool) {
    let old = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file.as_str() < "0008" {
            std::fs::copy(&path, old.path().join(file)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
    migrator.run(&pool).await.unwrap();
    seed_kills(&pool, "DATE '2022-01-01'", 30_000, 30, 1).await;
    let before = all_rows(&pool, "true").await;
    let breakdown = engagement_breakdown(&pool).await;

    etprox::db::MIGRATOR.run(&pool).await.unwrap();

    assert_eq!(
        all_rows(&pool, "true").await,
        before,
        "every row, unchanged"
    );
    assert_eq!(engagement_breakdown(&pool).await, breakdown);
    let months = partitions::list(&pool).await.unwrap();
    let stored: Vec<NaiveDate> = sqlx::query_scalar(
        "SELECT DISTINCT date_trunc('month', session_date)::date FROM kill_context ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 33, "1,000 days from 2022-01-01 to 2024-09-26");
    for m in &stored {
        let p = months
            .iter()
            .find(|p| p.first_day == *m)
            .expect("a partition per month");
        let rows = rows_in(&pool, &p.name).await;
        let in_month: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM kill_context WHERE date_trunc('month', session_date) = $1",
        )
        .bind(m)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(rows, in_month, "{}", p.name);
    }
    assert_eq!(rows_in(&pool, "kill_context_default").await, 0);
    let indexes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_indexes WHERE tablename = $1
           AND (indexdef LIKE '%brin (session_date)%' OR indexdef LIKE '%btree (round_id)%')",
    )
    .bind(&months[0].name)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, 2, "the round and day indexes on every partition");
    let stats = etprox::retention::stats(&pool).await.unwrap();
    let raw = stats
        .iter()
        .find(|t| t.table_name == "kill_context")
        .unwrap();
    assert_eq!(raw.row_count, before.0);
    assert!(raw.total_bytes > 1_000_000, "the size of the partitions");

    // The importer still works on the converted database.
    let importer = common::importer(&pool);
    common::expect_imported(
        &common::import(&importer, &common::shared_fixture(common::SUPPLY)).await,
    );
}

/// A round of a day years ago and one on the first day of a month far ahead: both find (make)
/// their month, and nothing lands in the default partition.
#[sqlx::test]
async fn an_import_into_a_month_without_a_partition_succeeds(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let importer = common::importer(&pool);
    // 2019-03-01 12:00 UTC and 2031-06-01 12:00 UTC.
    for (seed, start) in [(1, 1_551_441_600), (2, 1_937_822_400)] {
        let path = dir.path().join(format!("round-{seed}.txt"));
        std::fs::write(&path, synthetic_v3(&RoundSpec::new(seed, start))).unwrap();
        let id = common::expect_imported(&common::import(&importer, &path).await);
        let session: NaiveDate =
            sqlx::query_scalar("SELECT session_date FROM rounds WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        let name = format!("kill_context_y{}", session.format("%Ym%m"));
        assert!(rows_in(&pool, &name).await > 100, "{name} holds the round");
    }
    assert_eq!(rows_in(&pool, "kill_context_default").await, 0);
    assert_eq!(rows_in(&pool, "kill_context").await, 280);
}

/// A row written without its month (a raw INSERT) goes to the default partition; making the
/// month later moves it there.
#[sqlx::test]
async fn a_month_made_later_takes_its_rows_from_the_default_partition(pool: PgPool) {
    seed_kills(&pool, "DATE '2018-05-30'", 300, 100, 1).await;
    assert_eq!(rows_in(&pool, "kill_context_default").await, 300);
    let made = partitions::ensure_months(&pool, &[day("2018-05-30"), day("2018-06-01")])
        .await
        .unwrap();
    assert_eq!(made, 2);
    assert_eq!(rows_in(&pool, "kill_context_default").await, 0);
    assert_eq!(rows_in(&pool, "kill_context_y2018m05").await, 200);
    assert_eq!(rows_in(&pool, "kill_context_y2018m06").await, 100);
    // Made already: nothing to do.
    assert_eq!(
        partitions::ensure_months(&pool, &[day("2018-05-01")])
            .await
            .unwrap(),
        0
    );
}

#[sqlx::test]
async fn concurrent_callers_make_each_month_once(pool: PgPool) {
    let days = [day("2017-01-10"), day("2017-02-10"), day("2017-03-10")];
    let calls = (0..8).map(|i| {
        let pool = pool.clone();
        let mut mine = days.to_vec();
        mine.rotate_left(i % 3);
        tokio::spawn(async move { partitions::ensure_months(&pool, &mine).await })
    });
    let mut created = 0;
    for call in calls.collect::<Vec<_>>() {
        created += call.await.unwrap().expect("no caller fails");
    }
    assert_eq!(created, 3, "each month made by exactly one caller");
    let names: Vec<String> = partitions::list(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .filter(|n| n.starts_with("kill_context_y2017"))
        .collect();
    assert_eq!(
        names,
        [
            "kill_context_y2017m01",
            "kill_context_y2017m02",
            "kill_context_y2017m03"
        ]
    );
}

#[sqlx::test]
async fn the_coming_months_are_made_ahead(pool: PgPool) {
    let made = partitions::ensure_months_ahead(&pool, day("2040-11-20"), 2)
        .await
        .unwrap();
    assert_eq!(made, 3);
    for name in [
        "kill_context_y2040m11",
        "kill_context_y2040m12",
        "kill_context_y2041m01",
    ] {
        assert_eq!(rows_in(&pool, name).await, 0, "{name} exists");
    }
}

/// Collects an export in memory.
#[derive(Default)]
struct MemoryExport(Vec<u8>);

impl std::io::Write for MemoryExport {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ExportSink for MemoryExport {
    fn persist(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Rows over 150 days up to yesterday, archived past 45 days: the months wholly before the
/// cutoff are dropped, the cutoff's month loses only its early days, the export holds exactly
/// the removed rows, and the archived days stay in the heatmap rollup.
#[sqlx::test]
async fn retention_drops_whole_months_and_deletes_the_rest_row_by_row(pool: PgPool) {
    seed_kills(&pool, "CURRENT_DATE - 150", 15_000, 100, 1).await;
    let cutoff: NaiveDate = sqlx::query_scalar("SELECT CURRENT_DATE - 45")
        .fetch_one(&pool)
        .await
        .unwrap();
    let days: Vec<NaiveDate> = sqlx::query_scalar("SELECT DISTINCT session_date FROM kill_context")
        .fetch_all(&pool)
        .await
        .unwrap();
    partitions::ensure_months(&pool, &days).await.unwrap();
    assert_eq!(rows_in(&pool, "kill_context_default").await, 0);
    let (removed, _) = all_rows(&pool, &format!("session_date < '{cutoff}'")).await;
    let kept = all_rows(&pool, &format!("session_date >= '{cutoff}'")).await;
    let mut expected_csv = Vec::new();
    {
        let mut c = pool.acquire().await.unwrap();
        let sql = format!(
            "COPY (SELECT * FROM kill_context WHERE session_date < '{cutoff}' ORDER BY round_id, kill_index) TO STDOUT WITH (FORMAT csv, HEADER)"
        );
        use futures_util::TryStreamExt;
        let mut s = c.copy_out_raw(&sql).await.unwrap();
        while let Some(chunk) = s.try_next().await.unwrap() {
            expected_csv.extend_from_slice(&chunk);
        }
    }
    let whole: Vec<NaiveDate> = partitions::list(&pool)
        .await
        .unwrap()
        .iter()
        .filter(|p| p.end_day <= cutoff)
        .map(|p| p.first_day)
        .collect();
    assert!(whole.len() >= 2, "{whole:?}");

    let mut sink = MemoryExport::default();
    let report = archive_older_than(&pool, 45, Some(&mut sink))
        .await
        .unwrap();

    assert_eq!(report.cutoff, cutoff);
    assert_eq!(report.archived, removed);
    assert_eq!(report.exported, Some(removed));
    assert_eq!(report.whole_months, whole);
    assert_eq!(
        sink.0, expected_csv,
        "the export is exactly the removed rows"
    );
    assert_eq!(all_rows(&pool, "true").await, kept, "the rest untouched");
    let left = partitions::list(&pool).await.unwrap();
    assert!(left.iter().all(|p| p.end_day > cutoff), "{left:?}");
    assert!(
        left.iter().any(|p| p.first_day < cutoff),
        "the cutoff's month stays, with its later days"
    );
    // The heatmap cells keep the archived days (tests/heatmap_db.rs): the archive only has to
    // leave no round waiting for its roll-up before it drops the raw rows.
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM rounds WHERE NOT heatmap_rolled_up")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(pending, 0, "every round rolled up before its kills went");

    // Nothing older is left: a second archive removes nothing.
    let again = archive_older_than(&pool, 45, None).await.unwrap();
    assert_eq!(again.archived, 0);
    assert!(again.whole_months.is_empty());
}

/// The dry run names the months that would go whole and changes nothing.
#[sqlx::test]
async fn the_plan_names_the_whole_months(pool: PgPool) {
    seed_kills(&pool, "CURRENT_DATE - 120", 12_000, 100, 1).await;
    let days: Vec<NaiveDate> = sqlx::query_scalar("SELECT DISTINCT session_date FROM kill_context")
        .fetch_all(&pool)
        .await
        .unwrap();
    partitions::ensure_months(&pool, &days).await.unwrap();
    let before = all_rows(&pool, "true").await;
    let plan = etprox::retention::plan(&pool, 30).await.unwrap();
    let older: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM kill_context WHERE session_date < CURRENT_DATE - 30",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(plan.rows, older);
    assert!(!plan.whole_months.is_empty());
    assert!(etprox::retention::how_rows_go(&plan.whole_months).contains("whole month"));
    assert_eq!(all_rows(&pool, "true").await, before);
}
