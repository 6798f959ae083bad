//! The whole fight (tracker 1.2 sections) imported into the raw fight tables and the per-day
//! aggregates of migration 0013, against the real PostgreSQL: every event of a hand-made round
//! lands as the expected rows, aggregates are exact sums whatever the import order, a re-import
//! and a longer version behave as for kills, archiving removes raw rows and keeps aggregates,
//! and files without fight sections write nothing new.

mod common;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use common::{
    assert_same, expect_imported, import, importer, snapshot, truncate_imported,
    FIGHT_AGGREGATE_TABLES, FIGHT_RAW_TABLES,
};
use etprox::ingest::ImportOutcome;
use etprox::round_file::fight::{
    DamageEvent, FightSections, ObjectiveAction, ObjectiveEvent, PresenceSample, PresenceSecond,
    ReviveEvent, RosterEntry, ShotCount, SpawnEvent,
};
use etprox::round_file::synthetic::{synthetic_v3, synthetic_v3_fight, RoundSpec};
use etprox::round_file::writer::{write_v3, write_v3_fight};
use etprox::round_file::{Combatant, KillKind, KillRecord, RoundHeader, Team};
use sqlx::PgPool;

const ALPHA: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const BRAVO: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
const CHARLIE: &str = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
const DELTA: &str = "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD";
/// The player without a GUID: keyed by name.
const NOG: &str = "NOGUID:nog";

fn header(round_id: &str, start_unix: i64) -> RoundHeader {
    RoundHeader {
        server_id: Some("eu-1".into()),
        map_name: "goldrush".into(),
        round_number: 1,
        gametype: Some(3),
        round_id: Some(round_id.into()),
        started_unix: Some(start_unix),
        ended_unix: Some(start_unix + 600),
        mod_family: Some("etlegacy".into()),
        ..RoundHeader::default()
    }
}

fn side(slot: i16, guid: &'static str, name: &'static str, team: Team) -> Combatant<'static> {
    Combatant {
        slot,
        guid: Cow::Borrowed(guid.as_bytes()),
        name: Cow::Borrowed(name.as_bytes()),
        team,
        pos: [0.0, 0.0, 0.0],
    }
}

fn kill(
    t: i64,
    killer: Combatant<'static>,
    victim: Combatant<'static>,
    mod_: i16,
) -> KillRecord<'static> {
    KillRecord {
        line: 0,
        game_time: t,
        time_ms: Some(t),
        kind: KillKind::Kill,
        killer,
        victim,
        distance: 100.0,
        weapon: 3,
        means_of_death: mod_,
        killer_allies: 0,
        victim_allies: 0,
        supporting_allies: Vec::new(),
    }
}

/// Alpha (AXIS, slot 3); Bravo (ALLIES, joins at 15.25 s); Charlie the medic (ALLIES); nog
/// (AXIS, no GUID, leaves at 300 s) whose slot 11 Delta (ALLIES) takes over.
fn kills() -> Vec<KillRecord<'static>> {
    let alpha = side(3, ALPHA, "Alpha", Team::Axis);
    vec![
        kill(
            20_000,
            alpha.clone(),
            side(7, BRAVO, "Bravo", Team::Allies),
            8,
        ),
        kill(
            40_000,
            side(9, CHARLIE, "Charlie", Team::Allies),
            alpha.clone(),
            9,
        ),
        kill(350_000, side(11, DELTA, "Delta", Team::Allies), alpha, 46),
    ]
}

fn damage(t_ms: i32, attacker: u16, target: u16, d: (i32, i32, i16), flags: &str) -> DamageEvent {
    DamageEvent {
        line: 0,
        t_ms,
        attacker,
        target,
        damage: d.0,
        health: d.1,
        means_of_death: d.2,
        headshot: flags.contains('h'),
        team_damage: flags.contains('t'),
        splash: flags.contains('s'),
    }
}

fn fight() -> FightSections<'static> {
    let entry = |index: u16, slot, guid: &'static str, name: &'static str, team, from_ms, to_ms| {
        RosterEntry {
            line: 0,
            index,
            slot,
            guid: Cow::Borrowed(guid.as_bytes()),
            name: Cow::Borrowed(name.as_bytes()),
            team,
            from_ms,
            to_ms,
        }
    };
    let spawn = |t_ms, player, revived| SpawnEvent {
        line: 0,
        t_ms,
        player,
        revived,
    };
    let objective = |t_ms, player, team, action, pos| ObjectiveEvent {
        line: 0,
        t_ms,
        player,
        team,
        action,
        target: Cow::Borrowed(b"the Gold Crate"),
        pos,
    };
    let sample = |player, x: f32, y: f32| PresenceSample {
        player,
        qx: PresenceSample::quantise(x),
        qy: PresenceSample::quantise(y),
    };
    FightSections {
        players: vec![
            entry(0, 3, ALPHA, "Alpha", Team::Axis, 0, 600_000),
            entry(1, 7, BRAVO, "Bravo", Team::Allies, 15_250, 600_000),
            entry(2, 9, CHARLIE, "Charlie", Team::Allies, 0, 600_000),
            entry(3, 11, "", "nog", Team::Axis, 0, 300_000),
            entry(4, 11, DELTA, "Delta", Team::Allies, 300_000, 600_000),
        ],
        damage: vec![
            damage(12_000, 0, 1, (18, 100, 8), ""),
            damage(12_034, 0, 1, (56, 82, 8), "h"),
            damage(19_999, 0, 1, (30, 26, 8), ""), // overkill: 26 taken
            damage(20_500, 0, 1, (20, -10, 8), ""), // corpse: nothing taken, no hit
            damage(30_000, 3, 0, (10, 100, 8), "t"), // team damage
            damage(39_000, 2, 0, (40, 100, 9), ""),
            damage(39_900, 2, 0, (70, 60, 9), "h"),
            damage(41_000, 2, 3, (25, 100, 18), "s"), // grenade splash
            damage(42_000, 0, 2, (20, 100, 44), ""),  // mobile MG42
            damage(349_000, 4, 0, (50, 100, 46), "h"), // scoped Garand
            damage(349_500, 4, 0, (50, 50, 46), ""),
        ],
        shots: vec![
            ShotCount {
                line: 0,
                player: 0,
                weapon: 3,
                shots: 41,
            },
            ShotCount {
                line: 0,
                player: 0,
                weapon: 47,
                shots: 10,
            }, // MG42 deployed
            ShotCount {
                line: 0,
                player: 2,
                weapon: 8,
                shots: 30,
            },
            ShotCount {
                line: 0,
                player: 4,
                weapon: 40,
                shots: 3,
            },
            ShotCount {
                line: 0,
                player: 1,
                weapon: 10,
                shots: 5,
            },
        ],
        revives: vec![
            ReviveEvent {
                line: 0,
                t_ms: 25_000,
                revived: 1,
                medic: Some(2),
                pos: [1.0, 2.0, 3.0],
                down_ms: Some(5_000),
            },
            ReviveEvent {
                line: 0,
                t_ms: 45_000,
                revived: 0,
                medic: None, // the engine did not say
                pos: [4.0, 5.0, 6.0],
                down_ms: None,
            },
        ],
        objectives: vec![
            objective(
                30_500,
                Some(0),
                Team::Axis,
                ObjectiveAction::Steal,
                Some([101.0, -2030.0, 64.1]),
            ),
            objective(
                31_000,
                Some(0),
                Team::Axis,
                ObjectiveAction::Drop,
                Some([150.0, -2030.0, 64.1]),
            ),
            objective(61_000, None, Team::Allies, ObjectiveAction::Return, None), // time-out
            objective(
                70_000,
                Some(2),
                Team::Allies,
                ObjectiveAction::Plant,
                Some([10.0, 10.0, 0.0]),
            ),
            objective(80_000, Some(4), Team::Allies, ObjectiveAction::Defuse, None),
            objective(
                90_000,
                Some(0),
                Team::Axis,
                ObjectiveAction::Secure,
                Some([101.0, -2030.0, 64.1]),
            ),
            objective(
                95_000,
                Some(3),
                Team::Axis,
                ObjectiveAction::Build,
                Some([-1.0, -1.0, 0.0]),
            ),
        ],
        spawns: vec![
            spawn(0, 0, false),
            spawn(0, 2, false),
            spawn(0, 3, false),
            spawn(15_250, 1, false),
            spawn(25_000, 1, true),
            spawn(45_000, 0, true),
            spawn(300_000, 4, false),
        ],
        presence: vec![
            PresenceSecond {
                line: 0,
                t_s: 1,
                samples: vec![sample(0, 100.0, -2030.0), sample(2, 0.0, 0.0)],
            },
            PresenceSecond {
                line: 0,
                t_s: 2,
                samples: vec![sample(0, 110.0, -2030.0), sample(2, 70.0, 0.0)],
            },
        ],
    }
}

fn sample_at(player: u16, x: f32, y: f32) -> PresenceSample {
    PresenceSample {
        player,
        qx: PresenceSample::quantise(x),
        qy: PresenceSample::quantise(y),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// 2025-11-18 20:00 UTC.
const START: i64 = 1_763_496_000;

fn sample_file(dir: &Path) -> PathBuf {
    let bytes = write_v3_fight(&header("r-1", START), false, &kills(), &fight());
    write(
        dir,
        "2025-11-18-201000-goldrush-round-1_etprox_eu-1_1.txt",
        &bytes,
    )
}

async fn rows(pool: &PgPool, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn every_event_lands_in_the_raw_tables(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    let outcome = import(&imp, &sample_file(dir.path())).await;
    let round_id = expect_imported(&outcome);
    if let ImportOutcome::Imported {
        flags,
        rejected_lines,
        ..
    } = &outcome
    {
        assert!(flags.is_empty() && rejected_lines.is_empty(), "{outcome:?}");
    }
    let roster = rows(
        &pool,
        "SELECT format('%s %s %s %s %s-%s', roster_index, player_guid, slot, team, from_ms, to_ms)
         FROM round_roster ORDER BY roster_index",
    )
    .await;
    assert_eq!(
        roster,
        [
            format!("0 {ALPHA} 3 AXIS 0-600000"),
            format!("1 {BRAVO} 7 ALLIES 15250-600000"),
            format!("2 {CHARLIE} 9 ALLIES 0-600000"),
            format!("3 {NOG} 11 AXIS 0-300000"),
            format!("4 {DELTA} 11 ALLIES 300000-600000"),
        ]
    );
    let damage = rows(
        &pool,
        "SELECT format('%s %s>%s %s/%s %s w%s %s%s%s', t_ms, left(attacker_guid, 1),
                       left(target_guid, 1), damage, effective, mod, weapon,
                       CASE WHEN headshot THEN 'h' ELSE '' END,
                       CASE WHEN team_damage THEN 't' ELSE '' END,
                       CASE WHEN splash THEN 's' ELSE '' END)
         FROM damage_event ORDER BY t_ms",
    )
    .await;
    assert_eq!(
        damage,
        [
            "12000 A>B 18/18 8 w3 ",
            "12034 A>B 56/56 8 w3 h",
            "19999 A>B 30/26 8 w3 ",
            "20500 A>B 20/0 8 w3 ",
            "30000 N>A 10/10 8 w3 t",
            "39000 C>A 40/40 9 w8 ",
            "39900 C>A 70/60 9 w8 h",
            "41000 C>N 25/25 18 w9 s",
            "42000 A>C 20/20 44 w30 ",
            "349000 D>A 50/50 46 w40 h",
            "349500 D>A 50/50 46 w40 ",
        ]
    );
    let fire = rows(
        &pool,
        "SELECT format('%s w%s %s/%s/%s', left(player_guid, 1), weapon, shots, hits, headshots)
         FROM round_weapon_fire ORDER BY player_guid, weapon",
    )
    .await;
    assert_eq!(
        fire,
        [
            "A w3 41/3/1",  // the corpse hit is no hit
            "A w30 10/1/0", // deployed MG42 shots meet the MG42's hits
            "B w10 5/0/0",
            "C w8 30/2/1",
            "C w9 0/1/0", // a grenade: hits without a shot the tracker saw
            "D w40 3/2/1",
        ]
    );
    let revives = rows(
        &pool,
        "SELECT format('%s %s<%s %s %s', t_ms, left(revived_guid, 1), coalesce(left(medic_guid, 1), '?'),
                       team, coalesce(down_ms::text, '-'))
         FROM revive_event ORDER BY t_ms",
    )
    .await;
    assert_eq!(revives, ["25000 B<C ALLIES 5000", "45000 A<? AXIS -"]);
    let objectives = rows(
        &pool,
        "SELECT format('%s %s %s %s %s %s', t_ms, coalesce(left(player_guid, 1), '-'), team,
                       action, target, coalesce(x::text, '-'))
         FROM objective_event ORDER BY t_ms",
    )
    .await;
    assert_eq!(
        objectives,
        [
            "30500 A AXIS steal the Gold Crate 101",
            "31000 A AXIS drop the Gold Crate 150",
            "61000 - ALLIES return the Gold Crate -",
            "70000 C ALLIES plant the Gold Crate 10",
            "80000 D ALLIES defuse the Gold Crate -",
            "90000 A AXIS secure the Gold Crate 101",
            "95000 N AXIS build the Gold Crate -1",
        ]
    );
    let lives = rows(
        &pool,
        "SELECT format('%s %s-%s%s%s', left(player_guid, 1), start_ms, end_ms,
                       CASE WHEN revived THEN ' revived' ELSE '' END,
                       CASE WHEN ended_by_death THEN ' died' ELSE '' END)
         FROM round_life ORDER BY player_guid, start_ms",
    )
    .await;
    assert_eq!(
        lives,
        [
            "A 0-40000 died",
            "A 45000-350000 revived died",
            "B 15250-20000 died",
            "B 25000-600000 revived",
            "C 0-600000",
            "D 300000-600000",
            "N 0-300000",
        ]
    );
    let presence = rows(
        &pool,
        "SELECT format('%s %s %s,%s %s', left(player_guid, 1), team, cell_x, cell_y, seconds)
         FROM round_presence_cells ORDER BY player_guid, cell_x",
    )
    .await;
    assert_eq!(
        presence,
        ["A AXIS 1,-32 2", "C ALLIES 0,0 1", "C ALLIES 1,0 1"]
    );
    let other_rounds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM damage_event WHERE round_id <> $1 OR session_date <> '2025-11-18'",
    )
    .bind(round_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(other_rounds, 0);
}

#[sqlx::test]
async fn the_aggregates_are_exact_sums(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    expect_imported(&import(&imp, &sample_file(dir.path())).await);
    let players = rows(
        &pool,
        "SELECT format('%s played=%s alive=%s lives=%s dmg=%s/%s team=%s/%s hits=%s hs=%s shots=%s rev=%s/%s down=%s obj=%s,%s,%s,%s,%s,%s,%s',
                       left(player_guid, 1), time_played_ms, time_alive_ms, lives, damage_given,
                       damage_received, team_damage_given, team_damage_received, hits, headshots,
                       shots, revives_given, revives_received, down_ms, obj_steals, obj_secures,
                       obj_returns, obj_plants, obj_defuses, obj_destroys, obj_builds)
         FROM player_fight_daily WHERE session_date = '2025-11-18' ORDER BY player_guid",
    )
    .await;
    assert_eq!(
        players,
        [
            // 18 + 56 + 26 + 0 to Bravo, 20 to Charlie; 40 + 60 + 50 + 50 taken; 10 team damage.
            "A played=600000 alive=345000 lives=2 dmg=120/200 team=0/10 hits=4 hs=1 shots=51 rev=0/1 down=0 obj=1,1,0,0,0,0,0",
            "B played=584750 alive=579750 lives=2 dmg=0/100 team=0/0 hits=0 hs=0 shots=5 rev=0/1 down=5000 obj=0,0,0,0,0,0,0",
            "C played=600000 alive=600000 lives=1 dmg=125/20 team=0/0 hits=3 hs=1 shots=30 rev=1/0 down=0 obj=0,0,0,1,0,0,0",
            "D played=300000 alive=300000 lives=1 dmg=100/0 team=0/0 hits=2 hs=1 shots=3 rev=0/0 down=0 obj=0,0,0,0,1,0,0",
            "N played=300000 alive=300000 lives=1 dmg=0/25 team=10/0 hits=0 hs=0 shots=0 rev=0/0 down=0 obj=0,0,0,0,0,0,1",
        ]
    );
    let weapons = rows(
        &pool,
        "SELECT format('%s w%s %s/%s/%s %s', left(player_guid, 1), weapon, shots, hits, headshots, damage)
         FROM player_weapon_fight_daily ORDER BY player_guid, weapon",
    )
    .await;
    assert_eq!(
        weapons,
        [
            "A w3 41/3/1 100",
            "A w30 10/1/0 20",
            "B w10 5/0/0 0",
            "C w8 30/2/1 100",
            "C w9 0/1/0 25",
            "D w40 3/2/1 100",
        ]
    );
    let pairs = rows(
        &pool,
        "SELECT format('%s>%s %s %s', left(attacker_guid, 1), left(target_guid, 1), damage, hits)
         FROM pair_damage_daily ORDER BY 1",
    )
    .await;
    // Team damage (nog → Alpha) is not a pair's damage.
    assert_eq!(
        pairs,
        [
            "A>B 100 3",
            "A>C 20 1",
            "C>A 100 2",
            "C>N 25 1",
            "D>A 100 2"
        ]
    );
    let presence = rows(
        &pool,
        "SELECT format('%s %s %s %s,%s %s', map_name, left(player_guid, 1), team, cell_x, cell_y, seconds)
         FROM presence_cells_daily ORDER BY 1",
    )
    .await;
    assert_eq!(
        presence,
        [
            "goldrush A AXIS 1,-32 2",
            "goldrush C ALLIES 0,0 1",
            "goldrush C ALLIES 1,0 1"
        ]
    );
    let cells = rows(
        &pool,
        "SELECT format('%s %s %s %s,%s %s', left(player_guid, 1), team, action, cell_x, cell_y, plays)
         FROM objective_cells_daily ORDER BY 1",
    )
    .await;
    // The time-out return has no player, the defuse no position: neither is a cell.
    assert_eq!(
        cells,
        [
            "A AXIS drop 2,-32 1",
            "A AXIS secure 1,-32 1",
            "A AXIS steal 1,-32 1",
            "C ALLIES plant 0,0 1",
            "N AXIS build -1,-1 1",
        ]
    );
}

/// Three rounds over two days, several players in common.
fn three_rounds(dir: &Path) -> Vec<PathBuf> {
    (0..3u64)
        .map(|n| {
            let spec = RoundSpec {
                kills: 25,
                team_size: 3,
                server_id: "eu-1".into(),
                ..RoundSpec::new(n + 1, START + n as i64 * 50_000)
            };
            let name = format!(
                "2025-11-1{}-201000-goldrush-round-1_etprox_eu-1_{n}.txt",
                8 + n
            );
            write(dir, &name, &synthetic_v3_fight(&spec))
        })
        .collect()
}

#[sqlx::test]
async fn the_import_order_does_not_change_anything(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let files = three_rounds(dir.path());
    let imp = importer(&pool);
    for f in &files {
        expect_imported(&import(&imp, f).await);
    }
    let forward = snapshot(&pool).await;
    assert!(count(&pool, "damage_event").await > 50);
    assert!(count(&pool, "player_fight_daily").await > 6);
    truncate_imported(&pool).await;
    for f in files.iter().rev() {
        expect_imported(&import(&imp, f).await);
    }
    assert_same(&forward, &snapshot(&pool).await);
    // The aggregates are the raw rows summed, however many rounds a day has.
    let (given, raw): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT sum(damage_given + team_damage_given)::int8 FROM player_fight_daily),
                (SELECT sum(effective)::int8 FROM damage_event)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(given, raw);
}

#[sqlx::test]
async fn a_reimport_is_refused_and_a_longer_version_replaces_the_fight(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    let full = std::fs::read(sample_file(dir.path())).unwrap();
    // The whole file once, for reference.
    let path = write(
        dir.path(),
        "2025-11-18-201000-goldrush-round-1_etprox_eu-1_1.txt",
        &full,
    );
    let id = expect_imported(&import(&imp, &path).await);
    let reference = snapshot(&pool).await;
    // Again, and under another name: nothing changes.
    for name in [
        "2025-11-18-201000-goldrush-round-1_etprox_eu-1_1.txt",
        "copy.txt",
    ] {
        let again = write(dir.path(), name, &full);
        match import(&imp, &again).await {
            ImportOutcome::AlreadyImported { round_id, .. } => assert_eq!(round_id, id),
            other => panic!("expected already imported, got {other:?}"),
        }
    }
    let mut after = snapshot(&pool).await;
    after.retain(|(t, _)| t != "import_log");
    let mut expected = reference.clone();
    expected.retain(|(t, _)| t != "import_log");
    assert_same(&expected, &after);
    // A version cut in the middle of the damage section first, then the whole file: the whole
    // file's fight replaces the cut one's exactly.
    truncate_imported(&pool).await;
    let text = String::from_utf8(full.clone()).unwrap();
    let cut_at = text.find("39000|").unwrap();
    let cut = write(
        dir.path(),
        "2025-11-18-201000-goldrush-round-1_etprox_eu-1_1.txt",
        &full[..cut_at],
    );
    expect_imported(&import(&imp, &cut).await);
    assert_eq!(count(&pool, "damage_event").await, 5);
    // No spawns yet: only the two lives that a kill ended (alive since they joined).
    assert_eq!(count(&pool, "round_life").await, 2);
    let whole = write(
        dir.path(),
        "2025-11-18-201000-goldrush-round-1_etprox_eu-1_1.txt",
        &full,
    );
    expect_imported(&import(&imp, &whole).await);
    let fight_only = |s: Vec<(String, Vec<String>)>| -> Vec<(String, Vec<String>)> {
        s.into_iter()
            .filter(|(t, _)| {
                FIGHT_RAW_TABLES.contains(&t.as_str())
                    || FIGHT_AGGREGATE_TABLES.contains(&t.as_str())
            })
            .collect()
    };
    assert_same(&fight_only(reference), &fight_only(snapshot(&pool).await));
}

#[sqlx::test]
async fn archiving_removes_raw_fight_rows_and_keeps_the_aggregates(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    let files = three_rounds(dir.path());
    for f in &files {
        expect_imported(&import(&imp, f).await);
    }
    let aggregates = |s: Vec<(String, Vec<String>)>| -> Vec<(String, Vec<String>)> {
        s.into_iter()
            .filter(|(t, _)| FIGHT_AGGREGATE_TABLES.contains(&t.as_str()))
            .collect()
    };
    let before = aggregates(snapshot(&pool).await);
    assert!(before.iter().all(|(_, rows)| !rows.is_empty()));
    let raw_before = count(&pool, "damage_event").await;
    let archived = etprox::db::retention::archive(&pool, 30).await.unwrap();
    assert_eq!(archived[0].table_name, "kill_context");
    let fight_archived: i64 = archived
        .iter()
        .filter(|a| a.table_name == "damage_event")
        .map(|a| a.rows_archived)
        .sum();
    assert_eq!(fight_archived, raw_before);
    for table in FIGHT_RAW_TABLES {
        assert_eq!(count(&pool, table).await, 0, "{table}");
    }
    assert_same(&before, &aggregates(snapshot(&pool).await));
}

#[sqlx::test]
async fn the_archive_with_export_still_checks_the_kill_rows(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    for f in three_rounds(dir.path()) {
        expect_imported(&import(&imp, &f).await);
    }
    let kills = count(&pool, "kill_context").await;
    let out = tempfile::tempdir().unwrap();
    let mut file =
        etprox::db::retention::ExportFile::create_new(out.path(), chrono::Utc::now()).unwrap();
    let report = etprox::db::retention::archive_older_than(
        &pool,
        30,
        Some(&mut file as &mut dyn etprox::db::retention::ExportSink),
    )
    .await
    .unwrap();
    assert_eq!((report.archived, report.exported), (kills, Some(kills)));
    assert_eq!(count(&pool, "round_life").await, 0);
}

#[sqlx::test]
async fn files_without_fight_sections_write_no_fight_rows(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    let spec = RoundSpec {
        kills: 20,
        ..RoundSpec::new(5, START)
    };
    let old_v3 = write(
        dir.path(),
        "2025-11-18-201000-goldrush-round-1_etprox.txt",
        &synthetic_v3(&spec),
    );
    expect_imported(&import(&imp, &old_v3).await);
    expect_imported(&import(&imp, &common::shared_fixture(common::SUPPLY)).await);
    let plain = write_v3(&header("r-9", START + 4_000), false, &kills());
    expect_imported(&import(&imp, &write(dir.path(), "plain.txt", &plain)).await);
    for table in FIGHT_RAW_TABLES.iter().chain(&FIGHT_AGGREGATE_TABLES) {
        assert_eq!(count(&pool, table).await, 0, "{table}");
    }
}

/// A round of about 10 000 damage events (the size the tracker writes for a busy 20-minute
/// round) imports whole, and its aggregates are its raw rows summed. Prints the time the fight
/// adds to the import (the same kills without fight sections, then with them).
#[sqlx::test]
async fn a_round_of_ten_thousand_damage_events_imports_exactly(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let imp = importer(&pool);
    let spec = RoundSpec {
        kills: 4_600,
        team_size: 12,
        server_id: "eu-1".into(),
        ..RoundSpec::new(77, START)
    };
    let plain = write(dir.path(), "plain.txt", &synthetic_v3(&spec));
    let started = std::time::Instant::now();
    expect_imported(&import(&imp, &plain).await);
    let kills_only = started.elapsed();
    truncate_imported(&pool).await;
    // Presence as a 20-minute round has it: one line a second, 24 players walking about.
    let synthetic = synthetic_v3_fight(&spec);
    let parsed = etprox::round_file::parse_round_file(&synthetic, "fight.txt").unwrap();
    let mut fight = parsed.fight.clone().unwrap();
    let mut rng = etprox::prng::SplitMix64::new(5);
    let mut at: Vec<(f32, f32)> = (0..24).map(|_| (0.0, 0.0)).collect();
    fight.presence = (1..=1_200)
        .map(|t_s| PresenceSecond {
            line: 0,
            t_s,
            samples: at
                .iter_mut()
                .enumerate()
                .map(|(p, (x, y))| {
                    *x += rng.range_f64(-300.0, 300.0) as f32;
                    *y += rng.range_f64(-300.0, 300.0) as f32;
                    sample_at(p as u16, *x, *y)
                })
                .collect(),
        })
        .collect();
    let bytes = write_v3_fight(&parsed.header, false, &parsed.kills, &fight);
    let file = write(dir.path(), "fight.txt", &bytes);
    let started = std::time::Instant::now();
    expect_imported(&import(&imp, &file).await);
    let with_fight = started.elapsed();
    let damage = count(&pool, "damage_event").await;
    assert!(damage >= 10_000, "{damage}");
    let (given, raw, hits, raw_hits): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT sum(damage_given + team_damage_given)::int8 FROM player_fight_daily),
                (SELECT sum(effective)::int8 FROM damage_event),
                (SELECT sum(hits)::int8 FROM player_weapon_fight_daily),
                (SELECT count(*) FROM damage_event WHERE effective > 0 AND NOT team_damage)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((given, hits), (raw, raw_hits));
    eprintln!(
        "import of {} kills: {kills_only:?} without fight sections, {with_fight:?} with {damage} damage events and 1 200 presence seconds of 24 players: {} presence rows ({} bytes)",
        spec.kills,
        count(&pool, "round_presence_cells").await,
        bytes.len()
    );
}
