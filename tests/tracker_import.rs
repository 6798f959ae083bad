//! End to end: the simulator plays stopwatch matches on the mock server, the real tracker module
//! writes v3 files, the real importer loads them into PostgreSQL, and the database must hold
//! exactly what the simulator knows happened: every obituary, every name, every ally.
//! Each test gets a fresh database (#[sqlx::test]).

mod common;

use std::collections::HashSet;

use etprox::ingest::ImportOutcome;
use etprox::round_file::name::decode_name;
use etprox::sim::match_sim::{MatchSim, ObituaryTruth, PlayerAtKill, RoundStatus, SimConfig};
use etprox::sim::TRACKER_LUA;
use etprox::stats::identity::player_key;
use sqlx::{PgPool, Row};

fn key_of(p: &PlayerAtKill) -> String {
    player_key(p.guid().unwrap_or("").as_bytes(), &p.name)
}

fn close(stored: f32, truth: f64) -> bool {
    // One decimal in the file, REAL in the database.
    (f64::from(stored) - truth).abs() <= 0.051
}

fn check_kill(row: &sqlx::postgres::PgRow, o: &ObituaryTruth, ctx: &str) {
    let get_i16 = |c: &str| row.get::<i16, _>(c);
    assert_eq!(
        row.get::<Option<i32>, _>("time_ms"),
        Some(o.t_ms as i32),
        "{ctx}"
    );
    assert_eq!(row.get::<String, _>("kind"), o.kind.label(), "{ctx}");
    assert_eq!(i64::from(get_i16("killer_slot")), o.killer_slot, "{ctx}");
    match &o.killer {
        Some(k) => {
            assert_eq!(row.get::<String, _>("killer_guid"), key_of(k), "{ctx}");
            assert_eq!(
                row.get::<String, _>("killer_name"),
                decode_name(&k.name),
                "{ctx}"
            );
            assert_eq!(row.get::<String, _>("killer_team"), k.team.label(), "{ctx}");
            assert!(close(row.get("killer_x"), k.origin[0]), "{ctx}");
            assert!(close(row.get("killer_y"), k.origin[1]), "{ctx}");
            assert!(close(row.get("killer_z"), k.origin[2]), "{ctx}");
        }
        None => assert_eq!(row.get::<String, _>("killer_team"), "WORLD", "{ctx}"),
    }
    let v = &o.victim;
    assert_eq!(i64::from(get_i16("victim_slot")), v.slot, "{ctx}");
    assert_eq!(row.get::<String, _>("victim_guid"), key_of(v), "{ctx}");
    assert_eq!(
        row.get::<String, _>("victim_name"),
        decode_name(&v.name),
        "{ctx}"
    );
    assert_eq!(row.get::<String, _>("victim_team"), v.team.label(), "{ctx}");
    assert!(close(row.get("victim_x"), v.origin[0]), "{ctx}");
    assert!(close(row.get("victim_y"), v.origin[1]), "{ctx}");
    assert!(close(row.get("victim_z"), v.origin[2]), "{ctx}");
    assert!(close(row.get("distance"), o.distance), "{ctx}");
    assert_eq!(i64::from(get_i16("weapon")), o.weapon, "{ctx}");
    assert_eq!(
        i64::from(get_i16("means_of_death")),
        o.means_of_death,
        "{ctx}"
    );
    assert_eq!(
        get_i16("killer_allies") as usize,
        o.killer_allies.len(),
        "{ctx}"
    );
    assert_eq!(
        get_i16("victim_allies") as usize,
        o.victim_allies.len(),
        "{ctx}"
    );
    let allies: serde_json::Value = row.get("supporting_allies");
    let stored: Vec<String> = allies
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["guid"].as_str().unwrap_or("<unresolved>").to_string())
                .collect()
        })
        .unwrap_or_default();
    let want: Vec<String> = o.killer_allies.iter().map(key_of).collect();
    assert_eq!(stored, want, "{ctx}: supporting allies");
}

#[sqlx::test]
async fn simulated_matches_import_to_exactly_what_happened(pool: PgPool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("legacy");
    let config = SimConfig {
        seed: 4243,
        maps: vec![
            "goldrush".into(),
            "supply".into(),
            "oasis".into(),
            "radar".into(),
        ],
        players: 48,
        kills_per_minute: 40.0,
        round_seconds: (120, 300),
        p_zero_kill_round: 0.15,
        p_cut_short: 0.2,
        ..SimConfig::default()
    };
    let mut sim = MatchSim::new(config, &root, TRACKER_LUA);
    sim.run().expect("simulation runs");
    assert!(sim.mock().escaped_errors().is_empty());
    let truth = sim.into_truth();
    // The run covers what the importer has to take from the tracker.
    let rounds = &truth.rounds;
    assert!(rounds.iter().any(|r| r.status == RoundStatus::Incomplete));
    assert!(rounds.iter().any(|r| r.obituaries.is_empty()));
    assert!(rounds.iter().any(|r| r.round == 2));
    let obits = || rounds.iter().flat_map(|r| &r.obituaries);
    assert!(obits().any(|o| o.killer_allies.iter().any(|a| a.guid().is_none())));
    assert!(obits().any(|o| o.victim.name.contains(&b'|') || o.victim.name.contains(&b',')));

    let importer = common::importer(&pool);
    let mut people: HashSet<(String, Vec<u8>)> = HashSet::new();
    for (ri, round) in truth.rounds.iter().enumerate() {
        let ctx = format!("round #{ri} {} r{}", round.map, round.round);
        let path = root.join("proximity").join(round.v3_file_name());
        let outcome = common::import(&importer, &path).await;
        assert!(!outcome.has_rejections(), "{ctx}: {outcome:?}");
        let id = common::expect_imported(&outcome);

        let r = sqlx::query(
            "SELECT map_name, round_number, kill_count, flags, time_ms_null \
             FROM (SELECT *, (SELECT count(*) FROM kill_context k WHERE k.round_id = rounds.id \
                   AND k.time_ms IS NULL) AS time_ms_null FROM rounds) r WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("round row");
        assert_eq!(r.get::<String, _>("map_name"), round.map, "{ctx}");
        assert_eq!(
            i64::from(r.get::<i16, _>("round_number")),
            round.round,
            "{ctx}"
        );
        assert_eq!(
            r.get::<i32, _>("kill_count") as usize,
            round.obituaries.len(),
            "{ctx}"
        );
        assert_eq!(r.get::<i64, _>("time_ms_null"), 0, "{ctx}");
        let flags: Vec<String> = r.get("flags");
        assert_eq!(
            flags.contains(&"incomplete".to_string()),
            round.status == RoundStatus::Incomplete,
            "{ctx}: {flags:?}"
        );

        let rows =
            sqlx::query("SELECT * FROM kill_context WHERE round_id = $1 ORDER BY kill_index")
                .bind(id)
                .fetch_all(&pool)
                .await
                .expect("kills");
        assert_eq!(
            rows.len(),
            round.obituaries.len(),
            "{ctx}: every obituary stored"
        );
        for (i, (row, o)) in rows.iter().zip(&round.obituaries).enumerate() {
            check_kill(row, o, &format!("{ctx} kill #{i}"));
            for p in o.killer.iter().chain([&o.victim]).chain(&o.killer_allies) {
                people.insert((key_of(p), p.name.clone()));
            }
        }
    }

    // Every (player, raw name bytes) the simulator saw is stored as an alias.
    let stored: HashSet<(String, Vec<u8>)> =
        sqlx::query_as("SELECT player_guid, raw_name FROM player_aliases")
            .fetch_all(&pool)
            .await
            .expect("aliases")
            .into_iter()
            .collect();
    let missing: Vec<_> = people.difference(&stored).collect();
    assert!(missing.is_empty(), "names not stored: {missing:?}");

    // Importing the same files again changes nothing.
    for round in &truth.rounds {
        let path = root.join("proximity").join(round.v3_file_name());
        let again = common::import(&importer, &path).await;
        assert!(
            matches!(again, ImportOutcome::AlreadyImported { .. }),
            "{again:?}"
        );
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM kill_context")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(total as usize, truth.obituary_count());
    println!(
        "imported {} rounds, {} obituaries, {} (player, name) pairs",
        truth.rounds.len(),
        total,
        people.len()
    );
}
