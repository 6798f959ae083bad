//! Helpers shared by the integration tests (each test gets its own database from #[sqlx::test]).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use std::sync::Mutex;

use etprox::config::SessionClock;
use etprox::demo::database::{self, Database};
use etprox::ingest::{ImportOutcome, Importer};
use sqlx::PgPool;

/// The server of this test process when DATABASE_URL was unset (a private cluster is stopped
/// when this is emptied).
static SERVER: Mutex<Option<Database>> = Mutex::new(None);

/// `#[sqlx::test]` reads DATABASE_URL when a test runs. Without it, use the local server if it
/// answers (ETPROX_LOCAL_PG, default 127.0.0.1:5432), else start a private cluster, as the demo
/// does, so `cargo test` passes on a machine where PostgreSQL is installed but not running.
#[ctor::ctor(unsafe)]
fn a_database_server_for_the_tests() {
    if std::env::var_os("DATABASE_URL").is_some_and(|v| !v.is_empty())
        || std::env::args().any(|a| a == "--list")
    {
        return;
    }
    match database::resolve(None, "postgres") {
        Ok(server) => {
            if server.is_private() {
                eprintln!("tests: no DATABASE_URL; using {}", server.origin);
            }
            // Before main: no other thread reads the environment yet.
            std::env::set_var("DATABASE_URL", &server.url);
            if let Ok(mut slot) = SERVER.lock() {
                *slot = Some(server);
            }
        }
        Err(e) => eprintln!("no PostgreSQL for the tests (set DATABASE_URL): {e:#}"),
    }
}

/// Stops the private cluster when the test process exits (its watchdog does it if the process
/// is killed instead).
#[dtor::dtor(unsafe)]
fn stop_the_database_server() {
    if let Ok(mut slot) = SERVER.lock() {
        drop(slot.take());
    }
}

/// One of the two v2 round files written by the public v2 module (tests/fixtures/v2).
pub fn shared_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v2")
        .join(name)
}

pub const SUPPLY: &str = "2025-11-18-203822-supply-round-0_proximity.txt";
pub const GOLDRUSH: &str = "2025-11-18-211955-goldrush-round-0_proximity.txt";

pub fn own_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn importer(pool: &PgPool) -> Importer {
    Importer::new(pool.clone(), SessionClock::default(), "test-server")
}

pub async fn import(importer: &Importer, path: &Path) -> ImportOutcome {
    importer
        .import_file(path)
        .await
        .unwrap_or_else(|e| panic!("import of {} failed: {e}", path.display()))
}

pub fn expect_imported(outcome: &ImportOutcome) -> i64 {
    match outcome {
        ImportOutcome::Imported { round_id, .. } => *round_id,
        other => panic!("expected an import, got {other:?}"),
    }
}

/// Columns that differ between two clean imports of the same files (serials, clocks).
const VOLATILE: &str =
    "ARRAY['id','imported_at','created_at','logged_at','round_id','import_log_id','source_path']";

/// Every stored row of every table, as sorted JSON text, without serials and clocks.
/// Two databases with equal snapshots hold the same data.
pub async fn snapshot(pool: &PgPool) -> Vec<(String, Vec<String>)> {
    // The heatmap rollups follow the imports; bring them up to date so two databases with the
    // same imports compare equal whoever rolled up when.
    // A killed process's backend may still hold some rounds for a moment (SKIP LOCKED): wait.
    for _ in 0..100 {
        etprox::db::heatmap::roll_up_pending(pool).await.unwrap();
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rounds WHERE NOT heatmap_rolled_up")
                .fetch_one(pool)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let tables = [
        ("rounds", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM rounds t")),
        (
            "kill_context",
            format!(
                "SELECT (to_jsonb(k) - {VOLATILE} || jsonb_build_object('round_key', r.round_key))::text
                 FROM kill_context k JOIN rounds r ON r.id = k.round_id"
            ),
        ),
        ("kill_heatmap", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM kill_heatmap t")),
        ("player_proximity_stats", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM player_proximity_stats t")),
        ("teammate_synergy (view)", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM teammate_synergy t")),
        ("teammate_synergy_daily", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM teammate_synergy_daily t")),
        ("kill_heatmap_fine", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM kill_heatmap_fine t")),
        ("kill_heatmap_fine_total", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM kill_heatmap_fine_total t")),
        ("player_weapon_daily", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM player_weapon_daily t")),
        ("player_versus_daily", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM player_versus_daily t")),
        ("player_rounds", format!("SELECT (to_jsonb(t) - {VOLATILE} || jsonb_build_object('round_key', r.round_key))::text FROM player_rounds t JOIN rounds r ON r.id = t.round_id")),
        ("player_versus_round_detail", format!("SELECT (to_jsonb(t) - {VOLATILE} || jsonb_build_object('round_key', r.round_key))::text FROM player_versus_round_detail t JOIN rounds r ON r.id = t.round_id")),
        ("player_versus_round_streak", format!("SELECT (to_jsonb(t) - {VOLATILE} || jsonb_build_object('round_key', r.round_key))::text FROM player_versus_round_streak t JOIN rounds r ON r.id = t.round_id")),
        ("players", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM players t")),
        ("player_aliases", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM player_aliases t")),
        ("import_log", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM import_log t")),
        ("import_rejected_lines", format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM import_rejected_lines t")),
    ];
    // The whole fight (migrations 0013, 0014): raw rows by round key, and the aggregates.
    let fight = FIGHT_RAW_TABLES
        .iter()
        .map(|t| {
            (*t, format!("SELECT (to_jsonb(t) - {VOLATILE} || jsonb_build_object('round_key', r.round_key))::text FROM {t} t JOIN rounds r ON r.id = t.round_id"))
        })
        .chain(FIGHT_AGGREGATE_TABLES.iter().map(|t| {
            (*t, format!("SELECT (to_jsonb(t) - {VOLATILE})::text FROM {t} t"))
        }));
    let tables = tables.into_iter().chain(fight);
    let mut out = Vec::new();
    for (name, sql) in tables {
        let mut rows: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap();
        rows.sort();
        out.push((name.to_owned(), rows));
    }
    out
}

/// The raw per-round fight tables (migration 0013), archived with the kills.
pub const FIGHT_RAW_TABLES: [&str; 7] = [
    "round_roster",
    "damage_event",
    "round_weapon_fire",
    "revive_event",
    "objective_event",
    "round_life",
    "round_presence_cells",
];

/// The fight aggregates (migration 0013), kept forever.
pub const FIGHT_AGGREGATE_TABLES: [&str; 7] = [
    "player_fight_daily",
    "player_weapon_fight_daily",
    "pair_damage_daily",
    "presence_cells_daily",
    "objective_cells_daily",
    // Kept by the triggers of 0017 from the two daily tables above.
    "player_fight_totals",
    "player_weapon_fight_totals",
];

/// Asserts two snapshots are equal, naming the first table that differs.
pub fn assert_same(a: &[(String, Vec<String>)], b: &[(String, Vec<String>)]) {
    for ((name, rows_a), (_, rows_b)) in a.iter().zip(b) {
        assert_eq!(
            rows_a.len(),
            rows_b.len(),
            "table {name}: row counts differ"
        );
        for (ra, rb) in rows_a.iter().zip(rows_b) {
            assert_eq!(ra, rb, "table {name} differs");
        }
    }
}

/// The URL of the database a pool is connected to (to hand to a child process).
pub async fn url_of(pool: &PgPool) -> String {
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{db}"),
        None => panic!("DATABASE_URL {base:?} has no database part"),
    }
}

/// What commands see in the console path: this test's database and importer, the repository's
/// assets, and `clock`.
pub fn command_env(pool: &PgPool, clock: etprox::clock::Clock) -> etprox::commands::Env {
    etprox::commands::Env {
        pool: pool.clone(),
        importer: Some(importer(pool)),
        round_dirs: Vec::new(),
        assets: etprox::assets::Assets::in_dir("assets"),
        export_dir: None,
        cache: Default::default(),
        clock,
    }
}

/// An admin at the console, linked as Discord user 42.
pub fn console() -> etprox::commands::Caller {
    etprox::commands::Caller {
        discord_user_id: Some(42),
        display_name: "console".into(),
        is_admin: true,
    }
}

/// Empties every table an import writes, so a test can import the same files again from nothing.
pub async fn truncate_imported(pool: &PgPool) {
    sqlx::raw_sql(
        "TRUNCATE rounds, kill_context, kill_heatmap, kill_heatmap_fine, kill_heatmap_fine_total,
                  player_proximity_stats, teammate_synergy_daily, player_aliases, players,
                  import_log, import_rejected_lines, player_weapon_daily, player_versus_daily,
                  player_rounds, import_file_state, posted_summaries, player_versus_round_detail,
                  player_versus_round_streak, player_totals, pair_totals, player_weapon_totals,
                  player_versus_totals, engagement_daily, engagement_totals, kill_heatmap_cells,
                  kill_heatmap_cube_total, round_roster, damage_event, round_weapon_fire,
                  revive_event, objective_event, round_life, round_presence_cells,
                  player_fight_daily, player_weapon_fight_daily, pair_damage_daily,
                  presence_cells_daily, objective_cells_daily,
                  player_fight_totals, player_weapon_fight_totals",
    )
    .execute(pool)
    .await
    .unwrap();
}
