//! Commands called directly (the console path), on a real PostgreSQL seeded through the
//! importer. Each test gets a fresh database.

mod common;
mod fight_rows;

use etprox::commands::{dispatch, press, Caller, Env, Invocation, Reply};
use etprox::db::retention::{archive_older_than, ExportSink};
use etprox::round_file::synthetic::{synthetic_v3, RoundSpec};
use sqlx::PgPool;

fn env(pool: &PgPool) -> Env {
    common::command_env(pool, Default::default())
}

fn console() -> Caller {
    common::console()
}

async fn ask(env: &Env, caller: &Caller, line: &str) -> Reply {
    dispatch(env, caller, &Invocation::parse(line).expect("command line")).await
}

fn all_text(reply: &Reply) -> String {
    etprox::console::render(reply)
}

async fn seed(pool: &PgPool) {
    let importer = common::importer(pool);
    for f in [common::SUPPLY, common::GOLDRUSH] {
        common::expect_imported(&common::import(&importer, &common::shared_fixture(f)).await);
    }
}

#[sqlx::test]
async fn pair_record_and_profile_are_the_same_after_a_backfill(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let line = "/duo player:SlomiX partner:carniee period:all";
    let imported = ask(&env, &console(), line).await;
    let together = imported.embeds[0]
        .fields
        .iter()
        .find(|f| f.name == "Together (same team)")
        .expect("together field");
    assert!(together.value.starts_with("2 rounds"), "{}", together.value);
    let profile = ask(&env, &console(), "/player player:SlomiX").await;
    // The per-player tables rebuilt from raw kills (as migration 0005 does for rounds imported
    // before 0004) answer the same as the importer's.
    sqlx::raw_sql("TRUNCATE player_weapon_daily, player_versus_daily, player_rounds")
        .execute(&pool)
        .await
        .unwrap();
    let filled: i32 = sqlx::query_scalar("SELECT backfill_player_aggregates()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(filled, 2);
    assert_eq!(imported, ask(&env, &console(), line).await);
    assert_eq!(
        profile,
        ask(&env, &console(), "/player player:SlomiX").await
    );
}

#[sqlx::test]
async fn cached_leaderboards_change_after_an_import(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let before = ask(&env, &console(), "/leaderboard stat:rounds period:all").await;
    assert_eq!(
        before,
        ask(&env, &console(), "/leaderboard stat:rounds period:all").await
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("extra.txt");
    std::fs::write(&path, synthetic_v3(&RoundSpec::new(3, 1_763_000_000))).unwrap();
    common::expect_imported(&common::import(&common::importer(&pool), &path).await);
    let after = ask(&env, &console(), "/leaderboard stat:rounds period:all").await;
    assert_ne!(before, after, "a new round must show in the leaderboard");
    assert!(all_text(&after).contains("player"), "{}", all_text(&after));
}

#[sqlx::test]
async fn players_resolve_by_name_alias_or_key_and_ambiguity_is_explained(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let guid: String =
        sqlx::query_scalar("SELECT player_guid FROM players WHERE last_name = 'SlomiX'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let by_name = ask(&env, &console(), "/solo player:slomix period:all").await;
    let by_key = ask(&env, &console(), &format!("/solo player:{guid} period:all")).await;
    let by_colour = ask(&env, &console(), "/solo player:^1Slo^7miX period:all").await;
    assert_eq!(by_name.embeds[0].title, "Lone wolf: SlomiX");
    assert_eq!(by_name, by_key);
    assert_eq!(by_name, by_colour);
    // A substring that several names contain lists them instead of guessing.
    let many = ask(&env, &console(), "/solo player:e period:all").await;
    assert!(many.ephemeral);
    assert!(many.content.unwrap_or_default().contains("players match"));
    let none = ask(&env, &console(), "/solo player:zzzz period:all").await;
    assert!(none
        .content
        .unwrap_or_default()
        .contains("no player matches"));
}

#[sqlx::test]
async fn admin_commands_need_an_admin_and_archive_needs_confirmation(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let member = Caller {
        is_admin: false,
        ..console()
    };
    let refused = ask(&env, &member, "/retention archive days:30").await;
    assert!(refused.ephemeral && refused.embeds.is_empty());

    let dry = ask(&env, &console(), "/retention archive days:30 dry_run:true").await;
    assert!(dry
        .content
        .unwrap_or_default()
        .contains("would be archived"));
    let prompt = ask(&env, &console(), "/retention archive days:30").await;
    assert_eq!(prompt.embeds[0].title, "Archive raw kills?");
    let confirm = prompt.buttons[0].id.clone();
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM kill_context")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(count().await > 0);
    let refused = press(&env, &member, &confirm).await;
    assert!(refused.ephemeral);
    assert!(count().await > 0);
    let done = press(&env, &console(), &confirm).await;
    assert_eq!(done.embeds[0].title, "Archived");
    assert_eq!(count().await, 0);
    assert!(press(&env, &console(), "pg:not a command").await.ephemeral);

    let status = ask(&env, &console(), "/import status").await;
    assert_eq!(status.embeds[0].title, "Imports");
}

#[sqlx::test]
async fn hostile_names_are_shown_safely(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.txt");
    let text = String::from_utf8(synthetic_v3(&RoundSpec::new(5, 1_763_000_000))).unwrap();
    // Rename every player of the round to a name that tries to ping and format.
    let hostile = text.replace("player", "@everyone**`");
    std::fs::write(&path, hostile).unwrap();
    common::expect_imported(&common::import(&common::importer(&pool), &path).await);
    let env = env(&pool);
    for line in [
        "/round",
        "/leaderboard stat:kills period:all",
        "/duo period:all",
    ] {
        let reply = ask(&env, &console(), line).await;
        for e in &reply.embeds {
            let mut texts = vec![e.title.clone()];
            texts.extend(e.description.clone());
            texts.extend(e.fields.iter().map(|f| f.value.clone()));
            for t in texts {
                assert!(!t.contains("@everyone"), "{line}: {t}");
            }
        }
    }
}

/// A second database beside the test's own, with the full schema (dropped by the caller).
async fn sibling_database(pool: &PgPool, suffix: &str) -> (PgPool, String) {
    let url = common::url_of(pool).await;
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    // Identifiers are cut at 63 bytes: keep the distinctive end of the test database's name.
    let sibling = format!("{suffix}_{}", &name[name.len().saturating_sub(40)..]);
    etprox::db::admin::drop_database(pool, &sibling)
        .await
        .unwrap();
    etprox::db::admin::create_database(pool, &sibling)
        .await
        .unwrap();
    let (server, _) = url.rsplit_once('/').unwrap();
    let other = PgPool::connect(&format!("{server}/{sibling}"))
        .await
        .unwrap();
    etprox::db::MIGRATOR.run(&other).await.unwrap();
    (other, sibling)
}

/// Copies the rows of `table` (columns both schemas have, generated ones left out) where
/// `filter` holds from `from` into `to`.
async fn copy_rows(from: &PgPool, to: &PgPool, table: &str, filter: &str) {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(to)
    .await
    .unwrap();
    let list = columns.join(", ");
    let rows: Option<serde_json::Value> = sqlx::query_scalar(&format!(
        "SELECT jsonb_agg(to_jsonb(t)) FROM {table} t WHERE {filter}"
    ))
    .fetch_one(from)
    .await
    .unwrap();
    let Some(rows) = rows else { return };
    sqlx::query(&format!(
        "INSERT INTO {table} ({list}) SELECT {list} FROM jsonb_populate_recordset(NULL::{table}, $1)"
    ))
    .bind(rows)
    .execute(to)
    .await
    .unwrap();
}

#[sqlx::test(migrations = false)]
async fn an_upgrade_keeps_the_history_that_player_and_duo_show(pool: PgPool) {
    // What a fresh install shows after importing everything.
    let (fresh, fresh_name) = sibling_database(&pool, "fresh").await;
    seed(&fresh).await;
    let dir = tempfile::tempdir().unwrap();
    let (name, bytes) = etprox::round_file::synthetic::synthetic_v2(
        &RoundSpec::new(4, 0),
        chrono::NaiveDateTime::parse_from_str("2025-10-02 21:00:00", "%Y-%m-%d %H:%M:%S").unwrap(),
    );
    let later = dir.path().join(name);
    std::fs::write(&later, bytes).unwrap();
    common::expect_imported(&common::import(&common::importer(&fresh), &later).await);
    let questions = [
        "/player player:SlomiX",
        "/player player:carniee",
        "/duo player:SlomiX partner:carniee period:all",
        "/player player:player4",
    ];
    let mut expected = Vec::new();
    for q in questions {
        expected.push(ask(&env(&fresh), &console(), q).await);
    }

    // The same history in a database at migration 0004: the two fixture rounds imported by a
    // version before 0004 (raw kills and the old aggregates, none of the 0004 tables), the
    // synthetic round by a 0004 importer, its raw kills archived since.
    let old = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file.as_str() < "0005" {
            std::fs::copy(&path, old.path().join(file)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let later_round: i64 = sqlx::query_scalar(
        "SELECT id FROM rounds WHERE map_name = 'goldrush' AND session_date = '2025-10-02'",
    )
    .fetch_one(&fresh)
    .await
    .unwrap();
    for table in [
        "rounds",
        "kill_context",
        "kill_heatmap",
        "kill_heatmap_fine_total",
        "player_proximity_stats",
        "teammate_synergy_daily",
        "players",
        "player_aliases",
        "import_log",
    ] {
        copy_rows(&fresh, &pool, table, "true").await;
    }
    for table in ["player_weapon_daily", "player_versus_daily"] {
        copy_rows(&fresh, &pool, table, "session_date = '2025-10-02'").await;
    }
    copy_rows(
        &fresh,
        &pool,
        "player_rounds",
        &format!("round_id = {later_round}"),
    )
    .await;
    sqlx::query("DELETE FROM kill_context WHERE round_id = $1")
        .bind(later_round)
        .execute(&pool)
        .await
        .unwrap();

    // The upgrade, then the same questions.
    etprox::db::MIGRATOR.run(&pool).await.unwrap();
    for (q, want) in questions.iter().zip(&expected) {
        let got = ask(&env(&pool), &console(), q).await;
        assert_eq!(&got, want, "{q} after the upgrade");
    }
    fresh.close().await;
    etprox::db::admin::drop_database(&pool, &fresh_name)
        .await
        .unwrap();
}

/// Runs `f` on a connection of its own, on a thread of its own.
fn elsewhere<T: Send + 'static>(
    url: &str,
    f: impl FnOnce(sqlx::PgConnection) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>
        + Send
        + 'static,
) -> std::thread::JoinHandle<T> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            f(sqlx::PgConnection::connect(&url).await.unwrap()).await
        })
    })
}

/// Waits until a session waits for a lock on kill_context (the archive holds it).
fn wait_for_a_blocked_writer(url: &str) {
    elsewhere(url, |mut c| {
        Box::pin(async move {
            loop {
                let waiting: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = 'kill_context'::regclass",
                )
                .fetch_one(&mut c)
                .await
                .unwrap();
                if waiting > 0 {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    })
    .join()
    .unwrap()
}

/// A backfill writing old raw kills (rows of the first round as JSON, kill_index + 100000) from
/// its own connection while an export runs: it has to wait for the archive.
struct InterruptedExport {
    url: String,
    rows: serde_json::Value,
    writer: Option<std::thread::JoinHandle<i64>>,
    bytes: Vec<u8>,
}

impl std::io::Write for InterruptedExport {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.writer.is_none() {
            let rows = self.rows.clone();
            self.writer = Some(elsewhere(&self.url, move |mut c| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO kill_context
                         SELECT (jsonb_populate_record(NULL::kill_context,
                                 r || jsonb_build_object('kill_index', (r->>'kill_index')::int + 100000))).*
                         FROM jsonb_array_elements($1) r",
                    )
                    .bind(rows)
                    .execute(&mut c)
                    .await
                    .unwrap()
                    .rows_affected() as i64
                })
            }));
            wait_for_a_blocked_writer(&self.url);
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ExportSink for InterruptedExport {
    fn persist(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn csv_rows(bytes: &[u8]) -> i64 {
    // The fixtures' names hold no newline, so one line is one row; the first is the header.
    bytes.iter().filter(|&&b| b == b'\n').count() as i64 - 1
}

async fn kill_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM kill_context")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A backfill of old days during an archive waits for it (writers wait, readers do not), so
/// nothing is removed unexported; its rows then stay, in the default partition when their
/// month was dropped, until the next run.
#[sqlx::test]
async fn rows_that_arrive_during_an_archive_are_not_deleted_unexported(pool: PgPool) {
    seed(&pool).await;
    let before = kill_rows(&pool).await;
    let rows: serde_json::Value = sqlx::query_scalar(
        "SELECT jsonb_agg(to_jsonb(k)) FROM kill_context k
         WHERE k.round_id = (SELECT MIN(round_id) FROM kill_context)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut sink = InterruptedExport {
        url: common::url_of(&pool).await,
        rows,
        writer: None,
        bytes: Vec::new(),
    };
    let report = archive_older_than(&pool, 30, Some(&mut sink))
        .await
        .unwrap();
    let inserted = sink
        .writer
        .take()
        .expect("the export wrote something")
        .join()
        .unwrap();
    assert!(inserted > 0);
    assert_eq!(
        csv_rows(&sink.bytes),
        before,
        "the export holds the rows of its snapshot"
    );
    assert_eq!(
        report.exported,
        Some(before),
        "the reported number is the number written"
    );
    assert_eq!(report.archived, before, "only exported rows are deleted");
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM kill_context WHERE kill_index >= 100000")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, inserted, "rows written after the archive stay");
    assert_eq!(kill_rows(&pool).await, inserted);
}

/// An export whose data cannot be made durable (a full disk, an I/O error at fsync).
struct UnsyncableExport {
    persisted: bool,
}

impl std::io::Write for UnsyncableExport {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ExportSink for UnsyncableExport {
    fn persist(&mut self) -> std::io::Result<()> {
        self.persisted = true;
        Err(std::io::Error::other("no space left on device"))
    }
}

#[sqlx::test]
async fn nothing_is_deleted_unless_the_export_is_on_disk(pool: PgPool) {
    seed(&pool).await;
    let before = kill_rows(&pool).await;
    let mut sink = UnsyncableExport { persisted: false };
    let err = archive_older_than(&pool, 30, Some(&mut sink))
        .await
        .unwrap_err();
    assert!(sink.persisted);
    assert!(err.to_string().contains("nothing was deleted"), "{err}");
    assert_eq!(kill_rows(&pool).await, before);
}

#[sqlx::test]
async fn the_daily_retention_run_exports_when_an_export_folder_is_set(pool: PgPool) {
    /// Rows archived by today's run, `None` when it ran today already.
    async fn run_retention_exporting(
        pool: &PgPool,
        days: u32,
        dir: Option<&std::path::Path>,
    ) -> anyhow::Result<Option<i64>> {
        let run = etprox::retention::run_daily(pool, days, dir).await?;
        Ok(run.map(|archived| archived.report.archived))
    }
    seed(&pool).await;
    let before = kill_rows(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("exports");
    let archived = run_retention_exporting(&pool, 30, Some(&folder))
        .await
        .unwrap();
    assert_eq!(archived, Some(before));
    let files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(csv_rows(&std::fs::read(&files[0]).unwrap()), before);
    assert_eq!(kill_rows(&pool).await, 0);
    // Once a day: a second run today does nothing and writes nothing.
    assert_eq!(
        run_retention_exporting(&pool, 30, Some(&folder))
            .await
            .unwrap(),
        None
    );
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
}

#[sqlx::test]
async fn an_archive_export_never_overwrites_a_file_and_reports_what_it_wrote(pool: PgPool) {
    seed(&pool).await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = env(&pool);
    env.export_dir = Some(dir.path().to_owned());
    // Files already there under the names the next seconds would get.
    let now = chrono::Utc::now();
    let mut planted = Vec::new();
    for s in 0..4 {
        let at = now + chrono::Duration::seconds(s);
        let path = dir
            .path()
            .join(format!("kill_context-{}.csv", at.format("%Y%m%d-%H%M%S")));
        std::fs::write(&path, "keep me\n").unwrap();
        planted.push(path);
    }
    let kills: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .unwrap();
    let prompt = ask(&env, &console(), "/retention archive days:30 export:true").await;
    let done = press(&env, &console(), &prompt.buttons[0].id).await;
    assert_eq!(done.embeds[0].title, "Archived", "{done:?}");
    for p in &planted {
        assert_eq!(
            std::fs::read_to_string(p).unwrap(),
            "keep me\n",
            "{}",
            p.display()
        );
    }
    let exports: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !planted.contains(p))
        .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    let written = csv_rows(&std::fs::read(&exports[0]).unwrap());
    assert_eq!(written, kills);
    let text = all_text(&done);
    assert!(text.contains(&format!("Exported {written} rows")), "{text}");
}

/// An export during which another connection changes an old row: the change waits for the
/// archive (writers wait), so the archive never conflicts with it and never starts over.
struct ConflictingExport {
    url: String,
    writer: Option<std::thread::JoinHandle<u64>>,
    restarts: usize,
    bytes: Vec<u8>,
}

impl std::io::Write for ConflictingExport {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.writer.is_none() {
            self.writer = Some(elsewhere(&self.url, |mut c| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE kill_context SET distance = distance
                         WHERE round_id = (SELECT MIN(round_id) FROM kill_context) AND kill_index = 0",
                    )
                    .execute(&mut c)
                    .await
                    .unwrap()
                    .rows_affected()
                })
            }));
            wait_for_a_blocked_writer(&self.url);
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ExportSink for ConflictingExport {
    fn persist(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn restart(&mut self) -> std::io::Result<()> {
        self.restarts += 1;
        self.bytes.clear();
        Ok(())
    }
}

#[sqlx::test]
async fn a_change_during_an_archive_waits_for_it(pool: PgPool) {
    seed(&pool).await;
    let before = kill_rows(&pool).await;
    let mut sink = ConflictingExport {
        url: common::url_of(&pool).await,
        writer: None,
        restarts: 0,
        bytes: Vec::new(),
    };
    let report = archive_older_than(&pool, 30, Some(&mut sink))
        .await
        .unwrap();
    let changed = sink
        .writer
        .take()
        .expect("the export wrote")
        .join()
        .unwrap();
    assert_eq!(
        changed, 0,
        "the row was archived when the change got its turn"
    );
    assert_eq!(sink.restarts, 0);
    assert_eq!(
        csv_rows(&sink.bytes),
        before,
        "the export holds each row once"
    );
    assert_eq!(report.exported, Some(before));
    assert_eq!(report.archived, before);
    assert_eq!(kill_rows(&pool).await, 0);
}

/// The fixture rounds were played on session day 2025-11-18.
#[sqlx::test]
async fn seven_days_count_back_from_the_session_day_of_the_clock(pool: PgPool) {
    use chrono::{NaiveTime, TimeZone, Utc};
    use etprox::clock::Clock;
    use etprox::config::SessionClock;
    seed(&pool).await;
    let at = |session: SessionClock, y, m, d, h| {
        let mut env = env(&pool);
        env.clock = Clock::fixed(session, Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap());
        env
    };
    let utc = SessionClock::default();
    let line = "/leaderboard stat:rounds period:7d";
    let shows = |reply: Reply| reply.embeds.first().map(|e| e.title.clone());
    // Six days later the week still holds the fixture day; seven days later it does not.
    let last_day = at(utc, 2025, 11, 24, 21);
    assert_eq!(
        shows(ask(&last_day, &console(), line).await).as_deref(),
        Some("Most rounds played")
    );
    let day_after = at(utc, 2025, 11, 25, 21);
    let reply = ask(&day_after, &console(), line).await;
    assert_eq!(shows(reply.clone()), None, "{reply:?}");
    assert!(all_text(&reply).contains("No one to rank by rounds in last 7 days"));
    // 10:00 UTC on the 25th is 02:00 in Los Angeles, still the session day of the 24th (day start
    // 06:00): its week holds the fixture day, though the UTC date's week would not.
    let los_angeles = SessionClock {
        timezone: "America/Los_Angeles".parse().unwrap(),
        day_start: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
    };
    let morning = at(los_angeles, 2025, 11, 25, 10);
    assert_eq!(
        shows(ask(&morning, &console(), line).await).as_deref(),
        Some("Most rounds played")
    );
    assert_eq!(
        shows(ask(&at(utc, 2025, 11, 25, 10), &console(), line).await),
        None
    );
}

/// The per-round head-to-head detail counts every kill `player_versus_daily` counts, and
/// /versus reads the same once the raw kills are gone (archived).
#[sqlx::test]
async fn versus_detail_matches_the_daily_totals_and_outlives_the_raw_kills(pool: PgPool) {
    seed(&pool).await;
    let differing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (
            SELECT killer_guid, victim_guid, SUM(kills) AS n FROM player_versus_daily GROUP BY 1, 2) d
         FULL JOIN (
            SELECT killer_guid, victim_guid, SUM(kills) AS n FROM player_versus_round_detail GROUP BY 1, 2) r
         USING (killer_guid, victim_guid)
         WHERE d.n IS DISTINCT FROM r.n",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        differing, 0,
        "pairs whose detail differs from the daily totals"
    );
    let env = env(&pool);
    let line = "/versus player:SlomiX opponent:Lagger";
    let before = all_text(&ask(&env, &console(), line).await);
    assert!(before.contains("Lagger leads 5–1"), "{before}");
    sqlx::query("DELETE FROM kill_context")
        .execute(&pool)
        .await
        .unwrap();
    env.cache.clear();
    assert_eq!(all_text(&ask(&env, &console(), line).await), before);
}

/// One v2 kill line: `killer` kills `victim` at `t` ms with a Thompson; `sides` is `NvM`.
fn kill_line(
    t: u32,
    killer: (&str, &str, &str),
    victim: (&str, &str, &str),
    sides: &str,
) -> String {
    let (k_allies, v_allies) = match sides {
        "1v2" => (0, 1),
        _ => (0, 0),
    };
    format!(
        "{t}|1|{}|{}|{}|0|0|0|2|{}|{}|{}|100|0|0|100|8|8|{sides}|{k_allies}|{v_allies}|NONE\n",
        killer.0, killer.1, killer.2, victim.0, victim.1, victim.2
    )
}

/// Streaks run between the two players only (another victim does not break one), end when the
/// other kills back, and are recomputed when a longer version of the round replaces it.
#[sqlx::test]
async fn versus_streaks_count_kills_in_a_row_and_follow_a_growing_round(pool: PgPool) {
    let alpha = ("A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1", "Alpha", "ALLIES");
    let bravo = ("B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2", "Bravo", "AXIS");
    let charlie = ("C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3", "Charlie", "AXIS");
    let mut text = String::from(
        "# PROXIMITY_TRACKER_V2\n# map=goldrush\n# round=0\n# FORMAT: game_time|killer_slot|killer_guid|killer_name|killer_team|killer_x|killer_y|killer_z|victim_slot|victim_guid|victim_name|victim_team|victim_x|victim_y|victim_z|distance|weapon|mod|engagement_type|killer_allies|victim_allies|supporting_allies\n",
    );
    text += &kill_line(1000, alpha, bravo, "1v1");
    text += &kill_line(2000, alpha, bravo, "1v1");
    text += &kill_line(3000, alpha, charlie, "1v1");
    text += &kill_line(4000, alpha, bravo, "1v2");
    text += &kill_line(5000, bravo, alpha, "1v1");
    text += &kill_line(6000, alpha, bravo, "1v1");
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("2025-11-19-200000-goldrush-round-0_proximity.txt");
    std::fs::write(&path, &text).unwrap();
    let importer = common::importer(&pool);
    let id = common::expect_imported(&common::import(&importer, &path).await);
    let env = env(&pool);
    let versus =
        || async { all_text(&ask(&env, &console(), "/versus player:Alpha opponent:Bravo").await) };
    let first = versus().await;
    assert!(first.contains("Alpha leads 4–1"), "{first}");
    assert!(first.contains("Alpha: 3 in a row on goldrush"), "{first}");
    assert!(first.contains("Bravo: 1 in a row"), "{first}");
    assert!(first.contains("outgunned: 1–0"), "{first}");
    assert!(first.contains("1v1 (solo): 3–1"), "{first}");

    // The round goes on: four more kills in a row make the longest streak 5.
    for t in [7000, 8000, 9000, 10000] {
        text += &kill_line(t, alpha, bravo, "1v1");
    }
    std::fs::write(&path, &text).unwrap();
    assert_eq!(
        common::expect_imported(&common::import(&importer, &path).await),
        id,
        "the longer version replaces the round"
    );
    env.cache.clear();
    let grown = versus().await;
    assert!(grown.contains("Alpha leads 8–1"), "{grown}");
    assert!(grown.contains("Alpha: 5 in a row on goldrush"), "{grown}");
    assert!(grown.contains("1v1 (solo): 7–1"), "{grown}");
    let rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM player_versus_round_streak WHERE killer_guid = $1 AND victim_guid = $2",
    )
    .bind(alpha.0)
    .bind(bravo.0)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows, 1,
        "one streak row per round and pair, not one per version"
    );
}

/// /trend answers with a PNG of the chart size, and a member who has not linked is told so.
#[sqlx::test]
async fn trend_attaches_a_chart_and_an_unlinked_member_is_explained(pool: PgPool) {
    seed(&pool).await;
    let env = env(&pool);
    let reply = ask(&env, &console(), "/trend player:SlomiX stat:crossfire").await;
    assert_eq!(reply.attachments.len(), 1, "{}", all_text(&reply));
    let png = &reply.attachments[0].bytes;
    let img = image::load_from_memory(png).expect("a PNG");
    assert_eq!((img.width(), img.height()), (800, 450));
    assert!(png.len() < 200 * 1024, "{} bytes", png.len());
    let reply = ask(&env, &console(), "/trend member:<@99>").await;
    assert!(reply.attachments.is_empty());
    assert!(all_text(&reply).contains("<@99> has not linked a player"));
}

// The whole fight ------------------------------------------------------------------------------

/// The ranked rows of a table reply (` 1. name …`).
fn ranked(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            let digits = t.chars().take_while(char::is_ascii_digit).count();
            digits > 0 && t[digits..].starts_with(". ")
        })
        .map(str::to_owned)
        .collect()
}

async fn seed_with_fight(pool: &PgPool) -> Env {
    seed(pool).await;
    fight_rows::seed(pool).await;
    env(pool)
}

/// /player adds damage per minute, accuracy over bullet weapons, revives and objective plays for
/// a player with fight data, and nothing for a player without (old files).
#[sqlx::test]
async fn player_shows_the_fight_only_for_players_with_fight_data(pool: PgPool) {
    let env = seed_with_fight(&pool).await;
    let slomix = all_text(&ask(&env, &console(), "/player player:SlomiX").await);
    // 12,000 damage in 40 minutes; MP40 180 of 600 (the Panzerfaust is not a bullet weapon).
    assert!(
        slomix.contains("Damage per minute: 300.0 (12000 given, 9000 taken)"),
        "{slomix}"
    );
    assert!(
        slomix.contains("Accuracy: 30.0% (headshots 16.7%)"),
        "{slomix}"
    );
    assert!(slomix.contains("Revives: 3 given, 1 received"), "{slomix}");
    assert!(
        slomix.contains("Objective plays: 2 steals, 1 secure"),
        "{slomix}"
    );
    let kira = all_text(&ask(&env, &console(), "/player player:kira").await);
    assert!(kira.contains("Kills / deaths"), "{kira}");
    for word in [
        "Damage per minute",
        "Accuracy",
        "Revives",
        "Objective plays",
    ] {
        assert!(
            !kira.contains(word),
            "{word} for a player without fight data: {kira}"
        );
    }
}

/// /weapons ranks one player's or everyone's weapons by kills, accuracy or damage, and the
/// all-time totals (kept by triggers) equal the day's rows, also after a day row is removed.
#[sqlx::test]
async fn weapons_rank_by_kills_accuracy_and_damage(pool: PgPool) {
    let env = seed_with_fight(&pool).await;
    let mine = all_text(&ask(&env, &console(), "/weapons player:SlomiX").await);
    let first = ranked(&mine).first().cloned().expect("a ranked line");
    // SlomiX's MP40: 8 kills (the kill aggregates), 30.0 %, 16.7 % headshots, 9000 damage.
    assert!(
        first.contains("MP40") && first.contains("8") && first.contains("30.0%"),
        "{mine}"
    );
    assert!(first.contains("16.7%") && first.contains("9000"), "{mine}");
    let by_damage = all_text(&ask(&env, &console(), "/weapons player:SlomiX by:damage").await);
    assert!(by_damage.contains("ranked by damage"), "{by_damage}");
    // Everyone: Thompson 72 of 90 first, MP40 380 of 1,100 (34.5 %); the Panzerfaust (1 hit
    // of 4 shots, splash) has no accuracy and ranks with the weapons without counted shots.
    let all = all_text(&ask(&env, &console(), "/weapons by:accuracy").await);
    let lines = ranked(&all);
    assert!(
        lines[0].contains("Thompson") && lines[0].contains("80.0%"),
        "{all}"
    );
    assert!(
        lines[1].contains("MP40") && lines[1].contains("34.5%"),
        "{all}"
    );
    assert!(
        lines[2..]
            .iter()
            .any(|l| l.contains("Panzerfaust") && !l.contains("25.0%")),
        "{all}"
    );
    assert!(
        lines[2].contains(" - ") && lines[3].contains(" - "),
        "{all}"
    );
    // The day's rows and the all-time totals give the same answer.
    let day = all_text(&ask(&env, &console(), "/weapons by:accuracy period:2025-11-18").await);
    assert_eq!(ranked(&day), ranked(&all));
    sqlx::query("DELETE FROM player_weapon_fight_daily WHERE weapon = 8")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE player_weapon_fight_daily SET hits = hits + 10 WHERE weapon = 3")
        .execute(&pool)
        .await
        .unwrap();
    let after = all_text(&ask(&env, &console(), "/weapons by:accuracy").await);
    assert!(
        !after.contains("80.0%"),
        "the Thompson row is gone: {after}"
    );
    assert!(
        after.contains("36.4%"),
        "400 of 1,100 after the update: {after}"
    );
    let unknown = all_text(&ask(&env, &console(), "/weapons by:speed").await);
    assert!(unknown.contains("kills, accuracy or damage"), "{unknown}");
}

/// The new leaderboard stats rank only players above the minimum minutes or shots, say the
/// rule in the footer, and read the same from the totals (all time) and the days.
#[sqlx::test]
async fn leaderboard_fight_stats_keep_a_minimum(pool: PgPool) {
    let env = seed_with_fight(&pool).await;
    let dpm = all_text(&ask(&env, &console(), "/leaderboard stat:dpm period:all").await);
    let rows = ranked(&dpm);
    assert_eq!(
        rows.len(),
        2,
        "Lagger's 5 minutes are under the rule: {dpm}"
    );
    assert!(
        rows[0].contains("SlomiX") && rows[0].contains("300.0"),
        "{dpm}"
    );
    assert!(
        rows[1].contains("carniee") && rows[1].contains("240.0"),
        "{dpm}"
    );
    assert!(dpm.contains("ranked: 30+ minutes played"), "{dpm}");
    let day = all_text(&ask(&env, &console(), "/leaderboard stat:dpm period:2025-11-18").await);
    assert_eq!(ranked(&day), ranked(&dpm));
    let acc = all_text(&ask(&env, &console(), "/leaderboard stat:accuracy period:all").await);
    let rows = ranked(&acc);
    assert!(
        rows[0].contains("carniee") && rows[0].contains("40.0%"),
        "{acc}"
    );
    assert!(
        !acc.contains("Lagger"),
        "90 shots are under the rule: {acc}"
    );
    assert!(acc.contains("ranked: 200+ bullet shots"), "{acc}");
    let revives = all_text(&ask(&env, &console(), "/leaderboard stat:revives period:all").await);
    assert!(
        revives
            .lines()
            .any(|l| l.starts_with(" 1. carniee") && l.contains(" 7 ")),
        "{revives}"
    );
    let plays = all_text(
        &ask(
            &env,
            &console(),
            "/leaderboard stat:objective_plays period:all",
        )
        .await,
    );
    assert!(
        plays
            .lines()
            .any(|l| l.starts_with(" 1. ") && l.contains(" 3 ")),
        "{plays}"
    );
    // Nothing in a period without fight data.
    let none = all_text(&ask(&env, &console(), "/leaderboard stat:dpm period:2025-11-01").await);
    assert!(none.contains("No one to rank by dpm"), "{none}");
}

/// Presence and objectives heatmaps come back as PNGs and say what they counted.
#[sqlx::test]
async fn presence_and_objective_heatmaps_are_drawn(pool: PgPool) {
    let env = seed_with_fight(&pool).await;
    let png = |r: &Reply| {
        r.attachments
            .first()
            .map(|a| a.bytes.clone())
            .unwrap_or_default()
    };
    let presence = ask(
        &env,
        &console(),
        "/heatmap map:goldrush kind:presence size:256",
    )
    .await;
    assert!(png(&presence).starts_with(b"\x89PNG"), "{presence:?}");
    let text = presence.content.clone().unwrap_or_default();
    // 480 s of SlomiX and 240 s of Lagger.
    assert!(text.contains("12m 00s of presence"), "{text}");
    let axis = ask(
        &env,
        &console(),
        "/heatmap map:goldrush kind:presence team:axis size:256",
    )
    .await;
    assert!(axis
        .content
        .unwrap_or_default()
        .contains("8m 00s of presence"));
    let lagger = ask(
        &env,
        &console(),
        "/heatmap map:goldrush kind:presence player:Lagger size:256",
    )
    .await;
    assert!(lagger
        .content
        .unwrap_or_default()
        .contains("4m 00s of presence"));
    let objectives = ask(
        &env,
        &console(),
        "/heatmap map:goldrush kind:objectives size:256",
    )
    .await;
    assert!(png(&objectives).starts_with(b"\x89PNG"));
    assert!(objectives
        .content
        .unwrap_or_default()
        .contains("5 objective plays"));
    let steals = ask(
        &env,
        &console(),
        "/heatmap map:goldrush kind:objectives action:steal size:256",
    )
    .await;
    let text = steals.content.unwrap_or_default();
    assert!(
        text.contains("2 objective plays") && text.contains("steal only"),
        "{text}"
    );
    let empty = ask(
        &env,
        &console(),
        "/heatmap map:supply kind:presence size:256",
    )
    .await;
    assert!(!png(&empty).is_empty());
    assert!(empty.content.unwrap_or_default().contains("tracker 1.2"));
    let wrong = all_text(
        &ask(
            &env,
            &console(),
            "/heatmap map:goldrush kind:kills action:steal",
        )
        .await,
    );
    assert!(wrong.contains("kind:objectives"), "{wrong}");
    // The kill heatmap is unchanged by the new kinds.
    let kills = ask(
        &env,
        &console(),
        "/heatmap map:goldrush kind:kills size:256",
    )
    .await;
    assert!(kills.content.unwrap_or_default().contains("kills"));
}

/// The round summary names the round's objective plays and its top medic; a round without
/// fight data shows neither.
#[sqlx::test]
async fn round_summary_names_objective_plays_and_the_top_medic(pool: PgPool) {
    let env = seed_with_fight(&pool).await;
    let round = fight_rows::round_on(&pool, "goldrush").await;
    let text = all_text(&ask(&env, &console(), &format!("/round round:{round}")).await);
    assert!(
        text.contains("1:32 SlomiX (axis) stole the Gold Crate"),
        "{text}"
    );
    assert!(
        text.contains("2:10 allies (time-out) returned the Gold Crate"),
        "{text}"
    );
    assert!(
        text.contains("2:30 carniee (axis) built the Tank Barrier"),
        "{text}"
    );
    assert!(
        text.contains("5:01 SlomiX (axis) secured the Gold Crate"),
        "{text}"
    );
    assert!(
        !text.contains("dropped") && !text.contains(" drop "),
        "drops are not plays: {text}"
    );
    assert!(text.contains("Top medic: carniee (2 revives)"), "{text}");
    let supply = fight_rows::round_on(&pool, "supply").await;
    let plain = all_text(&ask(&env, &console(), &format!("/round round:{supply}")).await);
    assert!(
        !plain.contains("Objective plays") && !plain.contains("Top medic"),
        "{plain}"
    );
}

/// The session recap gives the fight awards, each with how it is computed.
#[sqlx::test]
async fn the_recap_gives_fight_awards(pool: PgPool) {
    let env = seed_with_fight(&pool).await;
    let text = all_text(
        &ask(
            &env,
            &console(),
            "/session server:test-server date:2025-11-18",
        )
        .await,
    );
    // Objective hero: SlomiX and carniee both have 3 plays; the tie goes by name.
    for line in [
        "Top medic:\n**carniee** · 7 revives\n_teammates this player revived",
        "Sharpshooter:\n**carniee** · 40.0% accuracy (200 of 500 bullet shots hit)",
        "Damage dealer:\n**SlomiX** · 300.0 damage per minute (12000 damage in 40 min)",
        "Objective hero:\n**SlomiX** · 3 objective plays (2 steals, 1 secure)",
    ] {
        assert!(text.contains(line), "{line} missing from {text}");
    }
}
