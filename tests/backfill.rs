//! A backfill of small v2 files (14 rounds per session evening, one pool of players): whatever
//! the order the files come in and however many go into one transaction, every table ends the
//! same, and each round is stored exactly once.

mod common;

use std::path::PathBuf;

use common::{assert_same, importer, snapshot};
use etprox::ingest::{ImportOutcome, Importer};
use etprox::round_file::backfill::{write_backfill, BackfillSpec};
use sqlx::PgPool;

/// Five evenings of 14 rounds (the last one cut short), written into `dir`.
fn history(dir: &std::path::Path) -> Vec<PathBuf> {
    write_backfill(dir, &BackfillSpec::new(66, 40)).unwrap();
    etprox::ingest::round_files_in(dir).unwrap()
}

async fn reset(pool: &PgPool) {
    common::truncate_imported(pool).await;
}

/// Imports `files` as a backfill does and returns how many were imported and how many were
/// found already imported.
async fn backfill(imp: &Importer, files: &[PathBuf], batch: usize, jobs: usize) -> (usize, usize) {
    let options = etprox::ingest::BackfillOptions { batch, jobs };
    let mut imported = 0;
    let mut already = 0;
    let outcomes = imp.import_backfill(files, &options, |_, _| {}).await.files;
    assert_eq!(outcomes.len(), files.len());
    for (path, outcome) in outcomes {
        match outcome {
            Ok(ImportOutcome::Imported { .. }) => imported += 1,
            Ok(ImportOutcome::AlreadyImported { .. }) => already += 1,
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    (imported, already)
}

/// The rollups the common snapshot leaves out, as readers see them: the all-time tables
/// (0009, 0010) row by row, and the append-only `kill_heatmap_cells` summed per key (how its
/// counts are split into rows depends on the batches).
async fn rollups(pool: &PgPool) -> Vec<(String, Vec<String>)> {
    let tables = [
        "player_totals",
        "pair_totals",
        "player_weapon_totals",
        "player_versus_totals",
        "engagement_daily",
        "engagement_totals",
        "kill_heatmap_cube_total",
    ];
    let mut queries: Vec<(String, String)> = tables
        .iter()
        .map(|t| {
            (
                t.to_string(),
                format!("SELECT to_jsonb(t)::text FROM {t} t"),
            )
        })
        .collect();
    queries.push((
        "kill_heatmap_cells (summed)".into(),
        "SELECT c::text FROM (
             SELECT session_date, map_name, position, player_guid, team, means_of_death,
                    engagement_class, cell_x, cell_y, sum(kills)
             FROM kill_heatmap_cells GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 HAVING sum(kills) <> 0) c"
            .into(),
    ));
    let mut out = Vec::new();
    for (name, sql) in queries {
        let mut rows: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap();
        assert!(!rows.is_empty(), "{name} has rows");
        rows.sort();
        out.push((name, rows));
    }
    out
}

/// The order of a deterministic shuffle of `n` items.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = etprox::prng::SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    order
}

#[sqlx::test]
async fn order_and_batch_size_do_not_change_any_table(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let files = history(dir.path());
    // The reference: one file per transaction, in name order, as the watcher would.
    for path in &files {
        match imp.import_file(path).await.unwrap() {
            ImportOutcome::Imported { .. } => {}
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    let one_by_one = snapshot(&pool).await;
    let one_by_one_rollups = rollups(&pool).await;
    for (seed, batch, jobs) in [(1, 1000, 1), (2, 7, 2), (3, 23, 3), (4, 2, 2)] {
        reset(&pool).await;
        let order: Vec<PathBuf> = shuffled(files.len(), seed)
            .into_iter()
            .map(|i| files[i].clone())
            .collect();
        assert_eq!(backfill(&imp, &order, batch, jobs).await, (files.len(), 0));
        assert_same(&one_by_one, &snapshot(&pool).await);
        assert_same(&one_by_one_rollups, &rollups(&pool).await);
    }
}

#[sqlx::test]
async fn a_second_backfill_of_the_same_files_changes_nothing(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let files = history(dir.path());
    assert_eq!(backfill(&imp, &files, 16, 2).await, (files.len(), 0));
    let first = snapshot(&pool).await;
    let mut twice: Vec<PathBuf> = files.iter().rev().cloned().collect();
    twice.extend(files.iter().cloned());
    assert_eq!(backfill(&imp, &twice, 9, 2).await, (0, twice.len()));
    assert_same(&first, &snapshot(&pool).await);
    let rounds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rounds as usize, files.len());
}

#[sqlx::test]
async fn the_same_files_given_twice_in_one_backfill_are_stored_once(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let files = history(dir.path());
    let mut twice: Vec<PathBuf> = files.clone();
    twice.extend(files.iter().rev().cloned());
    let (imported, already) = backfill(&imp, &twice, 10, 3).await;
    assert_eq!((imported, already), (files.len(), files.len()));
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM rounds WHERE NOT heatmap_rolled_up")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(pending, 0, "a backfill leaves its heatmap rolled up");
}

#[sqlx::test]
async fn a_bad_file_in_a_backfill_is_rejected_and_the_others_imported(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let mut files = history(dir.path());
    let bad = dir
        .path()
        .join("2024-03-02-200000-goldrush-round-0_proximity.txt");
    std::fs::write(&bad, b"not a round file\n").unwrap();
    files.insert(20, bad.clone());
    let outcomes = imp
        .import_backfill(
            &files,
            &etprox::ingest::BackfillOptions { batch: 8, jobs: 2 },
            |_, _| {},
        )
        .await
        .files;
    let mut imported = 0;
    for (path, outcome) in &outcomes {
        match outcome {
            Ok(ImportOutcome::Imported { .. }) => imported += 1,
            Ok(ImportOutcome::Rejected { reason }) => {
                assert_eq!(path, &bad);
                assert!(!reason.is_empty());
            }
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    assert_eq!(imported, files.len() - 1);
}
