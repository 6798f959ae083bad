//! Importing round files into the real PostgreSQL: exactly once, correct aggregates, bad input
//! reported and harmless. Each test gets a fresh database (#[sqlx::test]).

mod common;

use std::path::Path;

use common::*;
use etprox::ingest::ImportOutcome;
use etprox::round_file::synthetic::{synthetic_v2, synthetic_v3, RoundSpec};
use sqlx::PgPool;

#[sqlx::test]
async fn fixtures_import_once_and_the_seed_queries_answer(pool: PgPool) {
    let imp = importer(&pool);
    let supply = expect_imported(&import(&imp, &shared_fixture(SUPPLY)).await);
    let goldrush = expect_imported(&import(&imp, &shared_fixture(GOLDRUSH)).await);
    assert_ne!(supply, goldrush);

    // Seed query 1: engagement breakdown of the session day. Its kill counts must add up to the
    // counted kills of that day, and 1v1 must match the 1v1 lines of the files.
    let rows: Vec<(chrono::NaiveDate, String, String, i32)> = sqlx::query_as(
        "SELECT session_date, engagement_type, engagement_class, kill_count FROM engagement_breakdown WHERE session_date = '2025-11-18'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let counted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kill_context WHERE kind = 'kill'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.3 as i64).sum::<i64>(), counted);
    let one_v_one_in_files = count_lines(&[SUPPLY, GOLDRUSH], |f| f[18] == "1v1" && f[4] != f[11]);
    let one_v_one = rows.iter().find(|r| r.1 == "1v1").map(|r| r.3).unwrap();
    assert_eq!(one_v_one as usize, one_v_one_in_files);
    assert!(rows.iter().all(|r| r.1 != "1v1" || r.2 == "solo"));

    // Seed query 2: a player's solo record, against the raw lines of the files.
    let guid = "86DD1E99DFD1068728F039AEF61D45AB"; // ^4vid^7ar
                                                   // The seed query runs unchanged inside; the wrapper only turns NUMERIC into a float.
    let (name, solo_kills, solo_deaths, rate): (String, i32, i32, Option<f64>) = sqlx::query_as(
        "SELECT q.player_name, q.solo_kills, q.solo_deaths, q.round::float8 FROM (
           SELECT player_name, solo_kills, solo_deaths, ROUND(100.0*solo_kills/NULLIF(solo_kills+solo_deaths,0),1) FROM player_proximity_stats WHERE player_guid = $1
         ) q",
    )
    .bind(guid)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(name, "vidar");
    let expect_kills = count_lines(&[SUPPLY, GOLDRUSH], |f| {
        f[2] == guid && f[18] == "1v1" && f[4] != f[11]
    });
    let expect_deaths = count_lines(&[SUPPLY, GOLDRUSH], |f| {
        f[9] == guid && f[18] == "1v1" && f[4] != f[11]
    });
    assert_eq!(
        (solo_kills as usize, solo_deaths as usize),
        (expect_kills, expect_deaths)
    );
    let expect_rate =
        (1000.0 * expect_kills as f64 / (expect_kills + expect_deaths) as f64).round() / 10.0;
    assert_eq!(rate, Some(expect_rate));

    // Seed query 3: the hottest goldrush cells; the grid total equals goldrush's counted kills.
    let cells: Vec<(i32, i32, i32)> = sqlx::query_as(
        "SELECT grid_x, grid_y, total_kills FROM heatmap_by_map WHERE map_name = 'goldrush' ORDER BY total_kills DESC LIMIT 10",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(cells.len(), 10);
    assert!(cells.windows(2).all(|w| w[0].2 >= w[1].2));
    let grid_total: i64 = sqlx::query_scalar(
        "SELECT SUM(total_kills) FROM heatmap_by_map WHERE map_name = 'goldrush'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        grid_total as usize,
        count_lines(&[GOLDRUSH], |f| f[4] != f[11])
    );

    // Seed query 4: best partners, against the ally lists in kill_context.
    let partners: Vec<(String, i32, i32)> = sqlx::query_as(
        "SELECT player2_name, kills_within_range, simultaneous_kills FROM teammate_synergy WHERE player1_guid = $1 ORDER BY kills_within_range DESC LIMIT 5",
    )
    .bind(guid)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!partners.is_empty());
    let from_raw: Vec<(String, i64)> = sqlx::query_as(
        "SELECT a->>'guid', COUNT(*) FROM kill_context, jsonb_array_elements(supporting_allies) a
         WHERE killer_guid = $1 AND kind = 'kill' AND a->>'guid' IS NOT NULL GROUP BY 1",
    )
    .bind(guid)
    .fetch_all(&pool)
    .await
    .unwrap();
    for (partner_guid, n) in from_raw {
        let stored: i32 = sqlx::query_scalar(
            "SELECT kills_within_range FROM teammate_synergy WHERE player1_guid = $1 AND player2_guid = $2",
        )
        .bind(guid)
        .bind(&partner_guid)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(stored as i64, n, "kills within range with {partner_guid}");
    }
}

/// Counts kill lines of shared fixtures whose fields satisfy `pred` (the fixtures have no '|' in names).
fn count_lines(files: &[&str], pred: impl Fn(&[&str]) -> bool) -> usize {
    files
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(shared_fixture(name)).unwrap();
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.split('|').collect::<Vec<_>>())
                .filter(|f| f.len() == 22 && pred(f))
                .count()
        })
        .sum()
}

#[sqlx::test]
async fn aggregates_agree_with_the_raw_kills(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    for seed in 0..12 {
        let path = write_temp_v3(
            dir.path(),
            &RoundSpec::new(seed, 1_763_400_000 + seed as i64 * 1_800),
        );
        expect_imported(&import(&imp, &path).await);
    }
    import(&imp, &shared_fixture(SUPPLY)).await;
    // Every counter recomputed from kill_context equals the incrementally kept aggregate.
    let mismatches: i64 = sqlx::query_scalar(
        "WITH k AS (
            SELECT session_date, killer_guid AS g, COUNT(*) AS total,
                   COUNT(*) FILTER (WHERE engagement_class = 'solo') AS solo,
                   COUNT(*) FILTER (WHERE engagement_class = 'outnumbering') AS assisted,
                   COUNT(*) FILTER (WHERE engagement_class = 'outnumbered') AS outgunned,
                   SUM(distance::float8) AS sum_d, MIN(distance) AS min_d, MAX(distance) AS max_d
            FROM kill_context WHERE kind = 'kill' GROUP BY 1, 2),
         d AS (
            SELECT session_date, victim_guid AS g, COUNT(*) AS total,
                   COUNT(*) FILTER (WHERE engagement_class = 'outnumbering') AS ganked
            FROM kill_context WHERE kind = 'kill' GROUP BY 1, 2)
         SELECT COUNT(*) FROM player_proximity_stats s
         LEFT JOIN k ON k.session_date = s.session_date AND k.g = s.player_guid
         LEFT JOIN d ON d.session_date = s.session_date AND d.g = s.player_guid
         WHERE s.total_kills <> COALESCE(k.total, 0) OR s.solo_kills <> COALESCE(k.solo, 0)
            OR s.assisted_kills <> COALESCE(k.assisted, 0) OR s.outgunned_kills <> COALESCE(k.outgunned, 0)
            OR s.total_deaths <> COALESCE(d.total, 0) OR s.ganked_deaths <> COALESCE(d.ganked, 0)
            OR s.min_kill_distance IS DISTINCT FROM k.min_d OR s.max_kill_distance IS DISTINCT FROM k.max_d
            OR abs(COALESCE(s.avg_kill_distance, 0) - COALESCE(k.sum_d / NULLIF(k.total, 0), 0)) > 1e-6
            OR s.solo_kills + s.assisted_kills + s.even_kills + s.outgunned_kills <> s.total_kills
            OR s.solo_deaths + s.ganked_deaths + s.even_deaths + s.outnumbering_deaths <> s.total_deaths",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(mismatches, 0);
    let heat_mismatch: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (
           SELECT session_date, map_name, floor(victim_x / 512)::int gx, floor(victim_y / 512)::int gy, COUNT(*) n
           FROM kill_context WHERE kind = 'kill' GROUP BY 1, 2, 3, 4) raw
         FULL JOIN kill_heatmap h USING (session_date, map_name)
         WHERE h.grid_x = raw.gx AND h.grid_y = raw.gy AND h.total_kills <> raw.n",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(heat_mismatch, 0);
    // The renderer's all-time 64-unit rollup, written by each import with its round, equals a
    // recount; no round is left for a roll-up after the commit.
    let rolled: i32 = etprox::db::heatmap::roll_up_pending(&pool).await.unwrap();
    assert_eq!(rolled, 0, "every imported round is rolled up by its import");
    let fine_mismatch: i64 = sqlx::query_scalar(
        "WITH raw AS (
           SELECT map_name, 'victim' AS position, victim_team AS team,
                  floor(victim_x / 64)::int AS cx, floor(victim_y / 64)::int AS cy, COUNT(*)::int8 AS n
           FROM kill_context WHERE kind = 'kill' GROUP BY 1, 2, 3, 4, 5
           UNION ALL
           SELECT map_name, 'killer', killer_team,
                  floor(killer_x / 64)::int, floor(killer_y / 64)::int, COUNT(*)::int8
           FROM kill_context WHERE kind = 'kill' GROUP BY 1, 2, 3, 4, 5)
         SELECT COUNT(*) FROM raw FULL JOIN kill_heatmap_fine_total f
           ON f.map_name = raw.map_name AND f.position = raw.position
          AND f.team = raw.team AND f.cell_x = raw.cx AND f.cell_y = raw.cy
         WHERE raw.n IS DISTINCT FROM f.kills",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(fine_mismatch, 0);

    // The bot's per-player tables, kept by the importer, equal a rebuild from the raw kills.
    let per_player = |pool: PgPool| async move {
        let mut out = Vec::new();
        for table in [
            "player_weapon_daily",
            "player_versus_daily",
            "player_rounds",
        ] {
            let mut rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT to_jsonb(t)::text FROM {table} t"))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            rows.sort();
            out.push((table, rows));
        }
        out
    };
    let kept = per_player(pool.clone()).await;
    assert!(kept.iter().all(|(_, rows)| !rows.is_empty()));
    // Nothing is pending: a backfill adds nothing.
    let added: i32 = sqlx::query_scalar("SELECT backfill_player_aggregates()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(added, 0);
    assert_eq!(kept, per_player(pool.clone()).await);
    // Rounds without them (imported before 0004) are filled from the raw kills, the same way.
    sqlx::raw_sql("TRUNCATE player_weapon_daily, player_versus_daily, player_rounds")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("SELECT backfill_player_aggregates()")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(kept, per_player(pool.clone()).await);
}

/// Writes a synthetic v3 round into `dir` (a test's own temporary folder, removed with it).
fn write_temp_v3(dir: &Path, spec: &RoundSpec) -> std::path::PathBuf {
    let path = dir.join(format!(
        "2025-11-18-2000{:02}-{}-round-{}_etprox.txt",
        spec.seed % 60,
        spec.map,
        spec.round_number
    ));
    let path = path.with_file_name(format!(
        "{}-{}",
        spec.seed,
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, synthetic_v3(spec)).unwrap();
    path
}

#[sqlx::test]
async fn reimporting_the_same_content_changes_nothing(pool: PgPool) {
    let imp = importer(&pool);
    import(&imp, &shared_fixture(SUPPLY)).await;
    import(&imp, &shared_fixture(GOLDRUSH)).await;
    let before = snapshot(&pool).await;

    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("copy-of-supply.txt");
    std::fs::copy(shared_fixture(SUPPLY), &renamed).unwrap();
    let crlf = dir
        .path()
        .join("2025-11-18-211955-goldrush-round-0_proximity.txt");
    let text = std::fs::read_to_string(shared_fixture(GOLDRUSH)).unwrap();
    std::fs::write(&crlf, text.replace('\n', "\r\n")).unwrap();

    for path in [
        shared_fixture(SUPPLY),
        shared_fixture(GOLDRUSH),
        renamed,
        crlf,
    ] {
        match import(&imp, &path).await {
            ImportOutcome::AlreadyImported { .. } => {}
            other => panic!(
                "{}: expected already imported, got {other:?}",
                path.display()
            ),
        }
    }
    assert_same(&before, &snapshot(&pool).await);
}

#[sqlx::test]
async fn a_v3_round_is_imported_once_whatever_its_bytes(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    let spec = RoundSpec::new(7, 1_763_400_000);
    let first = write_temp_v3(dir.path(), &spec);
    expect_imported(&import(&imp, &first).await);
    let before = snapshot(&pool).await;
    // The same round id written again with a different server name: same round, not imported.
    let text = String::from_utf8(synthetic_v3(&spec))
        .unwrap()
        .replace("Synthetic%20server", "Renamed");
    let dir = tempfile::tempdir().unwrap();
    let second = dir.path().join("again.txt");
    std::fs::write(&second, text).unwrap();
    assert!(matches!(
        import(&imp, &second).await,
        ImportOutcome::AlreadyImported { .. }
    ));
    assert_same(&before, &snapshot(&pool).await);
}

#[sqlx::test]
async fn concurrent_imports_of_one_file_store_it_once(pool: PgPool) {
    let imp = importer(&pool);
    let path = shared_fixture(GOLDRUSH);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let imp = imp.clone();
            let path = path.clone();
            tokio::spawn(async move { imp.import_file(&path).await.unwrap() })
        })
        .collect();
    let mut imported = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), ImportOutcome::Imported { .. }) {
            imported += 1;
        }
    }
    assert_eq!(imported, 1);
    let rounds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(&pool)
        .await
        .unwrap();
    let kills: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((rounds, kills), (1, 108));
}

#[sqlx::test]
async fn concurrent_imports_of_different_rounds_add_up(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    // Many rounds with the same players at once: upserts on shared rows must not lose counts.
    let imp = importer(&pool);
    let paths: Vec<_> = (100..124)
        .map(|s| write_temp_v3(dir.path(), &RoundSpec::new(s, 1_763_400_000)))
        .collect();
    let tasks: Vec<_> = paths
        .iter()
        .cloned()
        .map(|p| {
            let imp = imp.clone();
            tokio::spawn(async move { imp.import_file(&p).await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap(), ImportOutcome::Imported { .. }));
    }
    let concurrent = snapshot(&pool).await;
    // The same files one by one into a clean schema give the same aggregates.
    reset(&pool).await;
    for p in &paths {
        expect_imported(&import(&imp, p).await);
    }
    let sequential = snapshot(&pool).await;
    // Everything, names included, is the same whatever the order the imports committed in.
    assert_same(&concurrent, &sequential);
}

#[sqlx::test]
async fn bad_input_is_reported_and_the_rest_is_imported(pool: PgPool) {
    let imp = importer(&pool);
    let bad = |name: &str| own_fixture(&format!("bad/{name}"));

    let crlf = import(
        &imp,
        &bad("2025-11-19-200000-goldrush-round-0_proximity.txt"),
    )
    .await;
    assert!(
        matches!(&crlf, ImportOutcome::Imported { kills: 20, rejected_lines, flags, .. } if rejected_lines.is_empty() && flags.is_empty()),
        "{crlf:?}"
    );

    let no_heatmap = import(
        &imp,
        &bad("2025-11-19-201000-goldrush-round-1_proximity.txt"),
    )
    .await;
    assert!(
        matches!(&no_heatmap, ImportOutcome::Imported { kills: 20, flags, .. } if flags.iter().any(|f| f.as_str() == "no_heatmap")),
        "{no_heatmap:?}"
    );

    let cut = import(
        &imp,
        &bad("2025-11-19-202000-goldrush-round-0_proximity.txt"),
    )
    .await;
    match &cut {
        ImportOutcome::Imported {
            kills,
            flags,
            rejected_lines,
            ..
        } => {
            assert_eq!(*kills, 20);
            assert!(flags.iter().any(|f| f.as_str() == "truncated"));
            assert_eq!(rejected_lines.len(), 1);
            assert_eq!(rejected_lines[0].line, 25);
        }
        other => panic!("{other:?}"),
    }

    let garbage = import(
        &imp,
        &bad("2025-11-19-203000-goldrush-round-1_proximity.txt"),
    )
    .await;
    match &garbage {
        ImportOutcome::Imported {
            kills,
            rejected_lines,
            ..
        } => {
            assert_eq!(*kills, 20);
            let lines: Vec<u32> = rejected_lines.iter().map(|l| l.line).collect();
            assert_eq!(lines, [8, 15, 20]);
            assert_eq!(rejected_lines[2].reason, "weapon is not a number");
        }
        other => panic!("{other:?}"),
    }
    // The rejected lines are in the import log, with the file.
    let logged: Vec<(i32, String)> = sqlx::query_as(
        "SELECT l.line_number, l.reason FROM import_rejected_lines l JOIN import_log g ON g.id = l.import_log_id
         WHERE g.source_path LIKE '%203000-goldrush%' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(logged.iter().map(|l| l.0).collect::<Vec<_>>(), [8, 15, 20]);

    assert_eq!(
        import(
            &imp,
            &bad("2025-11-19-204000-goldrush-round-0_proximity.txt")
        )
        .await,
        ImportOutcome::Empty
    );

    let mismatch = import(&imp, &bad("2025-11-19-205000-radar-round-0_proximity.txt")).await;
    assert!(
        matches!(&mismatch, ImportOutcome::Imported { map_name, flags, .. } if map_name == "goldrush" && flags.iter().any(|f| f.as_str() == "map_mismatch")),
        "{mismatch:?}"
    );
    let file_map: Option<String> = sqlx::query_scalar(
        "SELECT file_map_name FROM rounds WHERE source_path LIKE '%205000-radar%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(file_map.as_deref(), Some("radar"));

    let pipes = import(
        &imp,
        &bad("2025-11-19-210000-goldrush-round-1_proximity.txt"),
    )
    .await;
    assert!(
        matches!(&pipes, ImportOutcome::Imported { kills: 15, rejected_lines, .. } if rejected_lines.is_empty()),
        "{pipes:?}"
    );
    let lagger: Vec<String> = sqlx::query_scalar("SELECT DISTINCT k.killer_name FROM kill_context k JOIN rounds r ON r.id = k.round_id
         WHERE k.killer_guid = 'EECA5F8684D3ECE32D95F66432B9CC6E' AND r.source_path LIKE '%210000-goldrush%'")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(lagger, ["Lag|ger"]);
    // The ally named "com,ma" is one ally, credited by GUID.
    let comma_crossfire: i32 = sqlx::query_scalar(
        "SELECT crossfire_participations FROM player_proximity_stats WHERE player_guid = 'FFFF0000FFFF0000FFFF0000FFFF0000'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(comma_crossfire, 1);

    assert!(
        matches!(import(&imp, &bad("notes.txt")).await, ImportOutcome::Rejected { reason } if reason.contains("not a round file"))
    );

    let binary = import(&imp, &bad("2025-11-19-211000-oasis-round-0_proximity.txt")).await;
    assert!(
        matches!(&binary, ImportOutcome::Imported { kills: 6, rejected_lines, .. } if rejected_lines.len() == 1),
        "{binary:?}"
    );
    let nul_name: String = sqlx::query_scalar(
        "SELECT display_name FROM player_aliases WHERE raw_name = '\\x77006a73'::bytea",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(nul_name, "w\u{FFFD}js");

    let rejected_files: Vec<String> =
        sqlx::query_scalar("SELECT message FROM import_log WHERE outcome = 'rejected'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rejected_files.len(), 1);
}

#[sqlx::test]
async fn an_oversized_file_is_refused_without_reading_it(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("2025-11-19-210000-goldrush-round-0_proximity.txt");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(1 << 30).unwrap(); // sparse: 1 GiB that takes no disk
    let started = std::time::Instant::now();
    match import(&imp, &path).await {
        ImportOutcome::Rejected { reason } => {
            assert!(reason.contains("1073741824 bytes"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "a refusal must not read the file"
    );
}

#[sqlx::test]
async fn a_failed_import_leaves_nothing_and_a_retry_imports_once(pool: PgPool) {
    let imp = importer(&pool);
    import(&imp, &shared_fixture(SUPPLY)).await;
    let before = snapshot(&pool).await;
    // Make the last part of the import statement fail, after rounds, kills and stats were written.
    sqlx::raw_sql(
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
         CREATE TRIGGER boom BEFORE INSERT ON kill_heatmap FOR EACH ROW EXECUTE FUNCTION boom();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let err = imp
        .import_file(&shared_fixture(GOLDRUSH))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_same(&before, &snapshot(&pool).await);

    sqlx::raw_sql("DROP TRIGGER boom ON kill_heatmap")
        .execute(&pool)
        .await
        .unwrap();
    expect_imported(&import(&imp, &shared_fixture(GOLDRUSH)).await);
    assert!(matches!(
        import(&imp, &shared_fixture(GOLDRUSH)).await,
        ImportOutcome::AlreadyImported { .. }
    ));
    let rounds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rounds, 2);
}

#[sqlx::test]
async fn archiving_keeps_aggregates_and_later_imports_add_up(pool: PgPool) {
    let imp = importer(&pool);
    import(&imp, &shared_fixture(SUPPLY)).await;
    import(&imp, &shared_fixture(GOLDRUSH)).await;
    let aggregates = |s: Vec<(String, Vec<String>)>| {
        s.into_iter()
            // kill_heatmap_fine is where archiving keeps the archived days' positions.
            .filter(|(n, _)| !matches!(n.as_str(), "kill_context" | "kill_heatmap_fine"))
            .collect::<Vec<_>>()
    };
    let before = aggregates(snapshot(&pool).await);
    let counted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kill_context WHERE kind = 'kill'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let archived = etprox::db::retention::archive(&pool, 30).await.unwrap();
    assert_eq!(
        archived,
        [etprox::db::retention::ArchivedTable {
            table_name: "kill_context".to_owned(),
            rows_archived: 208
        }]
    );
    let kept: i64 = sqlx::query_scalar("SELECT SUM(kills)::int8 FROM kill_heatmap_cells")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        kept,
        2 * counted,
        "both positions of every archived kill stay in the day cells"
    );
    assert_same(&before, &aggregates(snapshot(&pool).await));
    // The rounds are still known: re-importing after archiving does not double anything.
    assert!(matches!(
        import(&imp, &shared_fixture(SUPPLY)).await,
        ImportOutcome::AlreadyImported { .. }
    ));
    // A new round adds on top of the archived days' aggregates.
    let (name, bytes) = synthetic_v2(
        &RoundSpec::new(3, 0),
        chrono::NaiveDateTime::parse_from_str("2025-11-18 22:00:00", "%Y-%m-%d %H:%M:%S").unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let kills_before: i64 =
        sqlx::query_scalar("SELECT SUM(total_kills) FROM player_proximity_stats")
            .fetch_one(&pool)
            .await
            .unwrap();
    expect_imported(&import(&imp, &path).await);
    let kills_after: i64 =
        sqlx::query_scalar("SELECT SUM(total_kills) FROM player_proximity_stats")
            .fetch_one(&pool)
            .await
            .unwrap();
    let new_counted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM kill_context WHERE kind = 'kill'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kills_after - kills_before, new_counted);
    let stats: Vec<(String, i64)> =
        sqlx::query_as("SELECT table_name, row_count FROM proximity_data_stats()")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(stats.iter().any(|(t, n)| t == "rounds" && *n == 3));
}

#[sqlx::test]
async fn a_session_crossing_midnight_is_one_day(pool: PgPool) {
    let imp = importer(&pool); // UTC, day starts 06:00
    let dir = tempfile::tempdir().unwrap();
    for (seed, stamp) in [
        (1, "2025-11-18 23:40:00"),
        (2, "2025-11-19 00:35:00"),
        (3, "2025-11-19 07:00:00"),
    ] {
        let when = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").unwrap();
        let (name, bytes) = synthetic_v2(&RoundSpec::new(seed, 0), when);
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    for path in etprox::ingest::round_files_in(dir.path()).unwrap() {
        expect_imported(&import(&imp, &path).await);
    }
    let days: Vec<(chrono::NaiveDate, i64)> =
        sqlx::query_as("SELECT session_date, COUNT(*) FROM rounds GROUP BY 1 ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(days, [(d("2025-11-18"), 2), (d("2025-11-19"), 1)]);
}

#[sqlx::test]
async fn hostile_names_are_stored_verbatim(pool: PgPool) {
    use etprox::round_file::{
        writer::write_v3, AllyRef, Combatant, KillKind, KillRecord, RoundHeader, Team,
    };
    use std::borrow::Cow;
    let names: [&[u8]; 6] = [
        b"'); DROP TABLE rounds; --",
        b"tab\there\\back\nline",
        b"@everyone **bold** `code`",
        b"zero\xe2\x80\x8bwidth",
        b"$1 %s {0} \\N",
        b"NONE",
    ];
    let kills: Vec<KillRecord<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| KillRecord {
            line: 13 + i as u32,
            game_time: 1000 * i as i64,
            time_ms: Some(1000 * i as i64),
            kind: KillKind::Kill,
            killer: Combatant {
                slot: i as i16,
                guid: Cow::Owned(format!("{:032X}", i + 1).into_bytes()),
                name: Cow::Borrowed(name),
                team: Team::Axis,
                pos: [1.0, 2.0, 3.0],
            },
            victim: Combatant {
                slot: 40,
                guid: Cow::Borrowed(b"V"),
                name: Cow::Borrowed(b"victim"),
                team: Team::Allies,
                pos: [4.0, 5.0, 6.0],
            },
            distance: 5.2,
            weapon: 3,
            means_of_death: 3,
            killer_allies: 1,
            victim_allies: 0,
            supporting_allies: vec![AllyRef {
                guid: Cow::Borrowed(b""),
                name: Cow::Borrowed(name),
            }],
        })
        .collect();
    let header = RoundHeader {
        server_id: Some("x'; --".into()),
        map_name: "goldrush".into(),
        round_number: 1,
        gametype: Some(3),
        round_id: Some("hostile".into()),
        started_unix: Some(1_763_000_000),
        ended_unix: Some(1_763_000_600),
        ..RoundHeader::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.txt");
    std::fs::write(&path, write_v3(&header, false, &kills)).unwrap();
    let imp = importer(&pool);
    expect_imported(&import(&imp, &path).await);
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT killer_name FROM kill_context ORDER BY kill_index")
            .fetch_all(&pool)
            .await
            .unwrap();
    let expected: Vec<String> = names
        .iter()
        .map(|n| String::from_utf8(n.to_vec()).unwrap())
        .collect();
    assert_eq!(stored, expected);
    let raw: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT raw_name FROM player_aliases WHERE player_guid LIKE 'NOGUID:%' ORDER BY raw_name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected_raw: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
    expected_raw.sort();
    assert_eq!(raw, expected_raw, "guid-less allies keep their exact bytes");
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tables, 1);
}

/// Empties every table the importer writes, so the same database can take a clean import.
async fn reset(pool: &PgPool) {
    common::truncate_imported(pool).await;
}

/// A snapshot of everything but the import log (which keeps the history of what was seen).
async fn data_snapshot(pool: &PgPool) -> Vec<(String, Vec<String>)> {
    snapshot(pool)
        .await
        .into_iter()
        .filter(|(name, _)| !name.starts_with("import_"))
        .collect()
}

fn local(stamp: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").unwrap()
}

async fn round_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM rounds")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_growing_v2_file_is_one_round_and_the_complete_version_wins(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    // Another round of the same evening with the same players, so the replaced round's
    // aggregates share rows with it.
    let (other_name, other) = synthetic_v2(&RoundSpec::new(3, 0), local("2025-11-18 21:00:00"));
    let other_path = dir.path().join(other_name);
    std::fs::write(&other_path, other).unwrap();
    let (name, full) = synthetic_v2(&RoundSpec::new(4, 0), local("2025-11-18 21:30:00"));
    let growing = dir.path().join(&name);
    expect_imported(&import(&imp, &other_path).await);

    // The file is read three times while it grows (cut in the middle of a line), then complete.
    let first_cut = full.len() / 3;
    let second_cut = full.len() * 2 / 3;
    assert_ne!(full[second_cut - 1], b'\n');
    // Each import rolls its version up with it, so each version is in the heatmap rollups
    // before the next arrives (and is taken out of them when it is replaced).
    let roll_up = || async { etprox::db::heatmap::roll_up_pending(&pool).await.unwrap() };
    std::fs::write(&growing, &full[..first_cut]).unwrap();
    let id = expect_imported(&import(&imp, &growing).await);
    assert_eq!(roll_up().await, 0);
    std::fs::write(&growing, &full[..second_cut]).unwrap();
    assert_eq!(expect_imported(&import(&imp, &growing).await), id);
    assert_eq!(roll_up().await, 0);
    std::fs::write(&growing, &full).unwrap();
    assert_eq!(expect_imported(&import(&imp, &growing).await), id);
    assert_eq!(roll_up().await, 0);
    assert_rollups_match_raw_kills(&pool).await;
    assert_eq!(round_count(&pool).await, 2);
    let grown = data_snapshot(&pool).await;
    let replaced: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM import_log WHERE message LIKE '%replaces%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(replaced, 2, "each replacement is in the import log");

    // An older, shorter copy seen after the complete file changes nothing.
    std::fs::write(&growing, &full[..first_cut]).unwrap();
    assert!(matches!(
        import(&imp, &growing).await,
        ImportOutcome::AlreadyImported { round_id, .. } if round_id == id
    ));
    assert_same(&grown, &data_snapshot(&pool).await);

    // Once the stored version's raw kills are archived it cannot be taken out exactly: it stays,
    // and the longer file is logged as not replacing it.
    reset(&pool).await;
    std::fs::write(&growing, &full[..first_cut]).unwrap();
    let id = expect_imported(&import(&imp, &growing).await);
    etprox::db::retention::archive(&pool, 30).await.unwrap();
    let archived = data_snapshot(&pool).await;
    std::fs::write(&growing, &full).unwrap();
    assert!(matches!(
        import(&imp, &growing).await,
        ImportOutcome::AlreadyImported { round_id, .. } if round_id == id
    ));
    assert_same(&archived, &data_snapshot(&pool).await);
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM import_log WHERE outcome = 'not_replaced'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kept, 1);

    // A batch holding a cut copy and the complete file stores the complete one.
    reset(&pool).await;
    let copy_dir = tempfile::tempdir().unwrap();
    let cut_copy = copy_dir.path().join(&name);
    std::fs::write(&cut_copy, &full[..second_cut]).unwrap();
    std::fs::write(&growing, &full).unwrap();
    expect_imported(&import(&imp, &other_path).await);
    let results = imp.import_files(&[cut_copy, growing.clone()]).await;
    assert!(matches!(
        results[0].1.as_ref().unwrap(),
        ImportOutcome::AlreadyImported { .. }
    ));
    expect_imported(results[1].1.as_ref().unwrap());
    assert_same(&grown, &data_snapshot(&pool).await);

    // Everything equals one import of the complete file.
    reset(&pool).await;
    std::fs::write(&growing, &full).unwrap();
    expect_imported(&import(&imp, &other_path).await);
    expect_imported(&import(&imp, &growing).await);
    assert_same(&grown, &data_snapshot(&pool).await);
}

#[sqlx::test]
async fn a_v3_file_imported_before_its_end_marker_is_completed_later(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.txt");
    std::fs::write(&other, synthetic_v3(&RoundSpec::new(8, 1_763_400_000))).unwrap();
    let full = synthetic_v3(&RoundSpec::new(9, 1_763_402_000));
    let path = dir
        .path()
        .join("2025-11-17-183000-goldrush-round-1_etprox.txt");
    expect_imported(&import(&imp, &other).await);
    // `etprox import` on a file still being copied: no end marker yet.
    let cut = full.len() / 2;
    std::fs::write(&path, &full[..cut]).unwrap();
    let id = match import(&imp, &path).await {
        ImportOutcome::Imported {
            round_id, flags, ..
        } => {
            assert!(flags.iter().any(|f| f.as_str() == "truncated"));
            round_id
        }
        other => panic!("{other:?}"),
    };
    std::fs::write(&path, &full).unwrap();
    assert_eq!(expect_imported(&import(&imp, &path).await), id);
    let completed = data_snapshot(&pool).await;
    // The cut copy again (from another folder) changes nothing.
    let copy = dir.path().join("copy.txt");
    std::fs::write(&copy, &full[..cut]).unwrap();
    assert!(matches!(
        import(&imp, &copy).await,
        ImportOutcome::AlreadyImported { .. }
    ));
    assert_same(&completed, &data_snapshot(&pool).await);

    reset(&pool).await;
    expect_imported(&import(&imp, &other).await);
    expect_imported(&import(&imp, &path).await);
    assert_same(&completed, &data_snapshot(&pool).await);
}

/// The same round as our tracker (v3) and the public v2 module write it.
fn both_trackers(
    seed: u64,
    start_unix: i64,
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let spec = RoundSpec::new(seed, start_unix);
    let v3 = synthetic_v3(&spec);
    // The v2 module names the file by the round's end (server local time, UTC here).
    let text = String::from_utf8(v3.clone()).unwrap();
    let end: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("# end_unix="))
        .unwrap()
        .parse()
        .unwrap();
    let ended = chrono::DateTime::from_timestamp(end, 0)
        .unwrap()
        .naive_utc();
    let (v2_name, v2) = synthetic_v2(&spec, ended);
    let v3_path = dir.join(format!(
        "{}-goldrush-round-1_etprox.txt",
        ended.format("%Y-%m-%d-%H%M%S")
    ));
    let v2_path = dir.join(v2_name);
    std::fs::write(&v3_path, v3).unwrap();
    std::fs::write(&v2_path, v2).unwrap();
    (v3_path, v2_path)
}

#[sqlx::test]
async fn the_same_round_from_both_trackers_is_imported_once(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let (v3, v2) = both_trackers(11, 1_763_400_000, dir.path());
    for (first, second) in [(&v3, &v2), (&v2, &v3)] {
        reset(&pool).await;
        let id = expect_imported(&import(&imp, first).await);
        let before = data_snapshot(&pool).await;
        match import(&imp, second).await {
            ImportOutcome::AlreadyImported {
                round_id,
                first_path,
            } => {
                assert_eq!(round_id, id);
                assert_eq!(first_path, first.display().to_string());
            }
            other => panic!("{}: {other:?}", second.display()),
        }
        assert_same(&before, &data_snapshot(&pool).await);
        let logged: Vec<(String, String)> = sqlx::query_as(
            "SELECT outcome, message FROM import_log WHERE source_path = $1 AND outcome <> 'imported'",
        )
        .bind(second.display().to_string())
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0].0, "duplicate");
        assert!(
            logged[0].1.contains(&first.display().to_string()),
            "{}",
            logged[0].1
        );
    }
    // Both files in one batch (`etprox import` of a folder with both): one round, the same.
    reset(&pool).await;
    expect_imported(&import(&imp, &v3).await);
    let one_by_one = data_snapshot(&pool).await;
    reset(&pool).await;
    let results = imp.import_files(&[v3.clone(), v2.clone()]).await;
    let id = expect_imported(results[0].1.as_ref().unwrap());
    assert!(
        matches!(results[1].1.as_ref().unwrap(), ImportOutcome::AlreadyImported { round_id, .. } if *round_id == id),
        "{:?}",
        results[1]
    );
    assert_same(&one_by_one, &data_snapshot(&pool).await);

    // A different round on the same map at the same time (another server) is not a duplicate.
    reset(&pool).await;
    let other_dir = tempfile::tempdir().unwrap();
    let (_, other_v2) = both_trackers(12, 1_763_400_000, other_dir.path());
    expect_imported(&import(&imp, &v3).await);
    expect_imported(&import(&imp, &other_v2).await);
    assert_eq!(round_count(&pool).await, 2);
}

#[sqlx::test]
async fn names_and_all_tables_do_not_depend_on_import_order(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    // The same players under other names in later rounds of the same evening; two rounds on
    // two servers start in the same second with different names for the same players.
    let mut files = Vec::new();
    for (seed, start, nick, server) in [
        (21, 1_763_400_000, "player", "a"),
        (21, 1_763_402_000, "renamed", "a"),
        (21, 1_763_404_000, "zed", "a"),
        (21, 1_763_404_000, "alpha", "b"),
    ] {
        let mut spec = RoundSpec::new(seed, start);
        spec.server_id = server.into();
        let text = String::from_utf8(synthetic_v3(&spec))
            .unwrap()
            .replace("player", nick);
        let path = dir.path().join(format!("{start}-{nick}.txt"));
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    let mut snapshots = Vec::new();
    for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
        reset(&pool).await;
        for i in order {
            expect_imported(&import(&imp, &files[i]).await);
        }
        snapshots.push(snapshot(&pool).await);
    }
    let name: String = sqlx::query_scalar(
        "SELECT player_name FROM player_proximity_stats ORDER BY player_guid LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(name.starts_with("zed"), "{name}");
    assert_same(&snapshots[0], &snapshots[1]);
    assert_same(&snapshots[0], &snapshots[2]);
    // A batch (one transaction for all files) gives the same too.
    reset(&pool).await;
    let mut reversed = files.clone();
    reversed.reverse();
    for (_, r) in imp.import_files(&reversed).await {
        expect_imported(&r.unwrap());
    }
    assert_same(&snapshots[0], &snapshot(&pool).await);
}

#[sqlx::test]
async fn a_name_changed_in_the_part_of_a_round_read_later_is_the_name_shown(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    let (name, v2) = synthetic_v2(&RoundSpec::new(6, 0), local("2025-11-18 21:30:00"));
    let text = String::from_utf8(v2).unwrap();
    // Everyone renames themselves half way through the round ("nick…" sorts before "player…",
    // so only knowing which version is the later one gets it right).
    let half = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    let full = format!(
        "{}{}",
        &text[..half],
        text[half..].replace("player", "nick")
    );
    let path = dir.path().join(&name);
    std::fs::write(&path, &full[..half]).unwrap();
    let id = expect_imported(&import(&imp, &path).await);
    std::fs::write(&path, &full).unwrap();
    assert_eq!(expect_imported(&import(&imp, &path).await), id);
    let grown = data_snapshot(&pool).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT last_name FROM players")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(names.iter().any(|n| n.starts_with("nick")), "{names:?}");
    reset(&pool).await;
    expect_imported(&import(&imp, &path).await);
    assert_same(&grown, &data_snapshot(&pool).await);
}

/// Sorted rows of a query, as text.
async fn rows_of(pool: &PgPool, sql: &str) -> Vec<String> {
    let mut rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(pool).await.unwrap();
    rows.sort();
    rows
}

/// What an import writes from the parsed kills (`ingest::derived`) equals what the SQL it
/// replaced computes from the stored raw kills: the heatmap rollups of migration 0010
/// (`heatmap_cells_of_rounds`) and the head-to-head rows of migration 0012.
async fn assert_rollups_match_raw_kills(pool: &PgPool) {
    let raw_cells = "SELECT c.* FROM heatmap_cells_of_rounds(
                         (SELECT array_agg(id ORDER BY id) FROM rounds)) c";
    let pairs = [
        (
            "kill_heatmap_cells",
            "SELECT c::text FROM (
                 SELECT session_date, map_name, position, player_guid, team, means_of_death,
                        engagement_class, cell_x, cell_y, sum(kills)
                 FROM kill_heatmap_cells GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
                 HAVING sum(kills) <> 0) c"
                .to_owned(),
            format!(
                "SELECT g::text FROM (
                     SELECT session_date, map_name, position, player_guid, team, means_of_death,
                            engagement_class, cell_x, cell_y, sum(kills)
                     FROM ({raw_cells}) c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9) g"
            ),
        ),
        (
            "kill_heatmap_cube_total",
            "SELECT (map_name, position, team, means_of_death, engagement_class, cell_x, cell_y,
                     kills)::text FROM kill_heatmap_cube_total"
                .to_owned(),
            format!(
                "SELECT g::text FROM (
                     SELECT map_name, position, team, means_of_death, engagement_class, cell_x,
                            cell_y, sum(kills)
                     FROM ({raw_cells}) c GROUP BY 1, 2, 3, 4, 5, 6, 7) g"
            ),
        ),
        (
            "kill_heatmap_fine_total",
            "SELECT (map_name, position, team, cell_x, cell_y, kills)::text
             FROM kill_heatmap_fine_total"
                .to_owned(),
            format!(
                "SELECT g::text FROM (
                     SELECT map_name, position, team, cell_x, cell_y, sum(kills)
                     FROM ({raw_cells}) c GROUP BY 1, 2, 3, 4, 5) g"
            ),
        ),
        (
            "player_versus_round_detail",
            "SELECT (round_id, killer_guid, victim_guid, weapon, engagement_class, kills)::text
             FROM player_versus_round_detail"
                .to_owned(),
            "SELECT (round_id, killer_guid, victim_guid, weapon, engagement_class, COUNT(*))::text
             FROM kill_context
             WHERE kind = 'kill' AND killer_guid <> '' AND victim_guid <> ''
               AND killer_guid <> victim_guid
             GROUP BY round_id, killer_guid, victim_guid, weapon, engagement_class"
                .to_owned(),
        ),
        (
            "player_versus_round_streak",
            "SELECT (round_id, killer_guid, victim_guid, longest_streak)::text
             FROM player_versus_round_streak"
                .to_owned(),
            "SELECT (round_id, killer_guid, victim_guid, MAX(n))::text FROM (
                 SELECT round_id, killer_guid, victim_guid, run, COUNT(*) AS n FROM (
                     SELECT round_id, killer_guid, victim_guid,
                            ROW_NUMBER() OVER (PARTITION BY round_id, LEAST(killer_guid, victim_guid),
                                               GREATEST(killer_guid, victim_guid) ORDER BY kill_index)
                          - ROW_NUMBER() OVER (PARTITION BY round_id, killer_guid, victim_guid
                                               ORDER BY kill_index) AS run
                     FROM kill_context
                     WHERE kind = 'kill' AND killer_guid <> '' AND victim_guid <> ''
                       AND killer_guid <> victim_guid) runs
                 GROUP BY 1, 2, 3, 4) per_run
             GROUP BY round_id, killer_guid, victim_guid"
                .to_owned(),
        ),
    ];
    for (table, stored, raw) in pairs {
        let stored = rows_of(pool, &stored).await;
        assert!(!stored.is_empty(), "{table} has rows");
        assert_eq!(
            stored,
            rows_of(pool, &raw).await,
            "{table} against the raw kills"
        );
    }
}

#[sqlx::test]
async fn the_rollups_an_import_writes_equal_the_raw_kills_recounted(pool: PgPool) {
    let imp = importer(&pool);
    let dir = tempfile::tempdir().unwrap();
    expect_imported(&import(&imp, &shared_fixture(SUPPLY)).await);
    expect_imported(&import(&imp, &shared_fixture(GOLDRUSH)).await);
    let mut batch = Vec::new();
    for seed in 0..6u64 {
        let mut spec = RoundSpec::new(100 + seed, 1_763_400_000 + seed as i64 * 1_500);
        spec.kills = 150;
        batch.push(write_temp_v3(dir.path(), &spec));
    }
    let (name, v2) = synthetic_v2(&RoundSpec::new(7, 0), local("2025-11-19 21:30:00"));
    let v2_path = dir.path().join(name);
    std::fs::write(&v2_path, v2).unwrap();
    batch.push(v2_path);
    for (_, r) in imp.import_files(&batch).await {
        expect_imported(&r.unwrap());
    }
    assert_rollups_match_raw_kills(&pool).await;
}
