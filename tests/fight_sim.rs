//! The whole fight end to end: the simulator plays stopwatch matches on the mock server, the
//! real tracker module (tracker 1.2) writes v3 files with the fight sections, the real importer
//! loads them, and the database must hold every fight event the simulator made, with each
//! aggregate equal to the simulator's truth (tracker side: tests/tracker_lua.rs; exact rows of
//! hand-written files: tests/fight.rs).

mod common;

use std::collections::BTreeMap;

use etprox::sim::match_sim::{DamageTruth, MatchSim, MatchTruth, SimConfig, Who};
use etprox::sim::TRACKER_LUA;
use etprox::stats::identity::player_key;
use sqlx::{PgPool, Row};

fn key(w: &Who) -> String {
    player_key(w.guid.as_deref().unwrap_or("").as_bytes(), &w.name)
}

/// What the aggregates must hold per player, computed from the truth's events with the rules
/// of docs/stats.md ("The whole fight: how the importer counts").
#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    damage_given: i64,
    damage_received: i64,
    team_damage_given: i64,
    team_damage_received: i64,
    hits: i64,
    headshots: i64,
    shots: i64,
    revives_given: i64,
    revives_received: i64,
    objective_plays: BTreeMap<&'static str, i64>,
    lives: i64,
    presence_seconds: i64,
}

/// A hit counts for accuracy when it took health from an enemy.
fn is_enemy_hit(d: &DamageTruth) -> bool {
    !d.team_damage && d.effective() > 0
}

fn expected(truth: &MatchTruth) -> (BTreeMap<String, Expected>, BTreeMap<(String, String), i64>) {
    let mut players: BTreeMap<String, Expected> = BTreeMap::new();
    let mut pairs: BTreeMap<(String, String), i64> = BTreeMap::new();
    for round in &truth.rounds {
        let f = &round.fight;
        for d in &f.damage {
            let e = d.effective();
            let (a, t) = (key(&d.attacker), key(&d.target));
            if d.team_damage {
                players.entry(a.clone()).or_default().team_damage_given += e;
                players.entry(t.clone()).or_default().team_damage_received += e;
            } else {
                players.entry(a.clone()).or_default().damage_given += e;
                players.entry(t.clone()).or_default().damage_received += e;
                *pairs.entry((a.clone(), t)).or_default() += e;
            }
            if is_enemy_hit(d) {
                let p = players.entry(a).or_default();
                p.hits += 1;
                p.headshots += i64::from(d.headshot);
            }
        }
        for ((who, _weapon), n) in &f.shots {
            players.entry(key(who)).or_default().shots += *n as i64;
        }
        for r in &f.revives {
            players.entry(key(&r.revived)).or_default().revives_received += 1;
            if let Some(m) = &r.medic {
                players.entry(key(m)).or_default().revives_given += 1;
            }
        }
        for o in &f.objectives {
            if let Some(p) = &o.player {
                *players
                    .entry(key(p))
                    .or_default()
                    .objective_plays
                    .entry(o.action.as_str())
                    .or_default() += 1;
            }
        }
        for s in &f.spawns {
            players.entry(key(&s.who)).or_default().lives += 1;
        }
        // A player alive when play began spawned before it (no spawn line): that first life
        // shows only by its death, which ends a life begun at the player's start.
        // Counted per identity (key, slot and team), as the players section lists them.
        let mut first_spawn: BTreeMap<(String, i64, &'static str), i64> = BTreeMap::new();
        for s in &f.spawns {
            let id = (key(&s.who), s.who.slot, s.who.team.label());
            first_spawn.entry(id).or_insert(s.t_ms);
        }
        let mut first_death: BTreeMap<(String, i64, &'static str), i64> = BTreeMap::new();
        for o in &round.obituaries {
            let v = &o.victim;
            let victim = player_key(v.guid().unwrap_or("").as_bytes(), &v.name);
            first_death
                .entry((victim, v.slot, v.team.label()))
                .or_insert(o.t_ms);
        }
        for (id, died) in first_death {
            if first_spawn.get(&id).is_none_or(|spawned| died < *spawned) {
                players.entry(id.0).or_default().lives += 1;
            }
        }
        for sample in &f.presence {
            for (who, _) in &sample.samples {
                players.entry(key(who)).or_default().presence_seconds += 1;
            }
        }
    }
    (players, pairs)
}

async fn stored(pool: &PgPool) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT player_guid, sum(damage_given)::BIGINT, sum(damage_received)::BIGINT,
                sum(team_damage_given)::BIGINT, sum(team_damage_received)::BIGINT,
                sum(hits)::BIGINT, sum(headshots)::BIGINT, sum(shots)::BIGINT,
                sum(revives_given)::BIGINT, sum(revives_received)::BIGINT, sum(lives)::BIGINT
         FROM player_fight_daily GROUP BY player_guid",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for r in rows {
        let n = |i: usize| r.get::<i64, _>(i);
        let e = out.entry(r.get(0)).or_default();
        (e.damage_given, e.damage_received) = (n(1), n(2));
        (e.team_damage_given, e.team_damage_received) = (n(3), n(4));
        (e.hits, e.headshots, e.shots) = (n(5), n(6), n(7));
        (e.revives_given, e.revives_received, e.lives) = (n(8), n(9), n(10));
    }
    let plays: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT player_guid, action, count(*) FROM objective_event
         WHERE player_guid IS NOT NULL GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (p, action, n) in plays {
        let label = [
            "steal", "drop", "return", "secure", "plant", "defuse", "destroy", "build",
        ]
        .into_iter()
        .find(|l| *l == action)
        .unwrap_or_else(|| panic!("unknown action {action}"));
        out.entry(p).or_default().objective_plays.insert(label, n);
    }
    let presence: Vec<(String, i64)> = sqlx::query_as(
        "SELECT player_guid, sum(seconds)::BIGINT FROM presence_cells_daily GROUP BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (p, s) in presence {
        out.entry(p).or_default().presence_seconds = s;
    }
    // A player the truth never saw fight would have an all-zero entry on either side.
    out.retain(|_, e| *e != Expected::default());
    out
}

#[sqlx::test]
async fn every_simulated_fight_event_is_stored_and_each_aggregate_equals_the_truth(pool: PgPool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("legacy");
    let config = SimConfig {
        seed: 1919,
        maps: vec!["goldrush".into(), "supply".into(), "oasis".into()],
        players: 32,
        kills_per_minute: 30.0,
        round_seconds: (120, 240),
        p_cut_short: 0.2,
        ..SimConfig::default()
    };
    let mut sim = MatchSim::new(config, &root, TRACKER_LUA);
    sim.run().expect("simulation runs");
    assert!(sim.mock().escaped_errors().is_empty());
    let truth = sim.into_truth();

    let importer = common::importer(&pool);
    for round in &truth.rounds {
        let path = root.join("proximity").join(round.v3_file_name());
        let outcome = common::import(&importer, &path).await;
        assert!(!outcome.has_rejections(), "{}: {outcome:?}", round.map);
        common::expect_imported(&outcome);
    }

    // Every event is there, one row each.
    let fights = || truth.rounds.iter().map(|r| &r.fight);
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let damage: usize = fights().map(|f| f.damage.len()).sum();
    let revives: usize = fights().map(|f| f.revives.len()).sum();
    let objectives: usize = fights().map(|f| f.objectives.len()).sum();
    let shots: u64 = fights().flat_map(|f| f.shots.values()).sum();
    assert!(
        damage > 1_000 && revives > 0 && objectives > 0,
        "the run has a fight"
    );
    assert_eq!(
        count("SELECT count(*) FROM damage_event").await,
        damage as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM revive_event").await,
        revives as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM objective_event").await,
        objectives as i64
    );
    assert_eq!(
        count("SELECT coalesce(sum(shots), 0)::BIGINT FROM round_weapon_fire").await,
        shots as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM rounds r WHERE NOT EXISTS (SELECT 1 FROM round_roster x WHERE x.round_id = r.id)").await,
        0,
        "every round has its players section"
    );
    assert!(fights().all(|f| f.cancelled == 0));

    // Each aggregate equals the truth.
    let (want, want_pairs) = expected(&truth);
    let want: BTreeMap<String, Expected> = want
        .into_iter()
        .filter(|(_, e)| *e != Expected::default())
        .collect();
    let got = stored(&pool).await;
    for (player, w) in &want {
        assert_eq!(got.get(player), Some(w), "player {player}");
    }
    assert_eq!(got.len(), want.len(), "no player beyond the truth's");

    let pairs: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT attacker_guid, target_guid, sum(damage)::BIGINT FROM pair_damage_daily
         GROUP BY 1, 2 HAVING sum(damage) <> 0",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let got_pairs: BTreeMap<(String, String), i64> =
        pairs.into_iter().map(|(a, t, d)| ((a, t), d)).collect();
    let want_pairs: BTreeMap<(String, String), i64> =
        want_pairs.into_iter().filter(|(_, d)| *d != 0).collect();
    assert_eq!(got_pairs, want_pairs);

    // A player who only fought (no kill, no death) is still a known player with a name.
    let nameless = count(
        "SELECT count(DISTINCT player_guid) FROM player_fight_daily f
         WHERE NOT EXISTS (SELECT 1 FROM players p WHERE p.player_guid = f.player_guid)",
    )
    .await;
    assert_eq!(
        nameless, 0,
        "every player of the fight tables is in players"
    );
}
