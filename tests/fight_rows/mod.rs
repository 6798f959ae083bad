//! Fight rows for the bot's tests, written with plain INSERTs into the tables of migration
//! 0013 (the importer of fight sections is tested on its own): three players of the fixture
//! rounds with known numbers, so every reply can be checked by hand.
//!
//! On 2025-11-18 (the fixtures' session day):
//! - SlomiX (AXIS): 40 min, 12,000 damage given → 300.0 per minute; MP40 600 shots, 180 hits,
//!   30 headshots (30.0 %, headshots 16.7 %), Panzerfaust 4 shots 1 hit (not a bullet
//!   weapon); 3 revives given, 1 received; 2 steals and 1 secure.
//! - carniee (AXIS): 35 min, 8,400 damage → 240.0 per minute; MP40 500 shots, 200 hits
//!   (40.0 %); 7 revives given; 2 builds and 1 plant.
//! - Lagger (ALLIES): 5 min, 3,000 damage → 600.0 per minute but under the 30-minute rule;
//!   Thompson 90 shots 72 hits (80.0 %), under the 200-shot and the recap's 100-shot rules.
//!
//! In the goldrush round: SlomiX steals and secures the gold, carniee builds, a time-out return;
//! carniee revives twice, SlomiX once. Presence and objective cells on goldrush.

#![allow(dead_code)]

use sqlx::PgPool;

pub const DAY: &str = "2025-11-18";

/// The key of the player called `name` now.
pub async fn guid(pool: &PgPool, name: &str) -> String {
    sqlx::query_scalar("SELECT player_guid FROM players WHERE last_name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("no player {name}: {e}"))
}

/// The id of the fixtures' round on `map`.
pub async fn round_on(pool: &PgPool, map: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM rounds WHERE map_name = $1 ORDER BY id LIMIT 1")
        .bind(map)
        .fetch_one(pool)
        .await
        .expect("round")
}

/// One player's day: minutes, damage given and received, revives given and received, and
/// steals, secures, plants, builds.
#[allow(clippy::too_many_arguments)]
pub async fn day(
    pool: &PgPool,
    name: &str,
    minutes: i64,
    damage: (i64, i64),
    revives: (i32, i32),
    objectives: [i32; 4],
) {
    let guid = guid(pool, name).await;
    sqlx::query(
        "INSERT INTO player_fight_daily (session_date, player_guid, time_played_ms, damage_given,
            damage_received, revives_given, revives_received, obj_steals, obj_secures,
            obj_plants, obj_builds)
         VALUES ($1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(DAY)
    .bind(&guid)
    .bind(minutes * 60_000)
    .bind(damage.0)
    .bind(damage.1)
    .bind(revives.0)
    .bind(revives.1)
    .bind(objectives[0])
    .bind(objectives[1])
    .bind(objectives[2])
    .bind(objectives[3])
    .execute(pool)
    .await
    .expect("player_fight_daily");
}

/// One player's shots, hits, headshots and damage with a weapon on the day.
pub async fn weapon(pool: &PgPool, name: &str, weapon: i16, fire: [i32; 3], damage: i64) {
    let guid = guid(pool, name).await;
    sqlx::query(
        "INSERT INTO player_weapon_fight_daily (session_date, player_guid, weapon, shots, hits,
            headshots, damage) VALUES ($1::date, $2, $3, $4, $5, $6, $7)",
    )
    .bind(DAY)
    .bind(&guid)
    .bind(weapon)
    .bind(fire[0])
    .bind(fire[1])
    .bind(fire[2])
    .bind(damage)
    .execute(pool)
    .await
    .expect("player_weapon_fight_daily");
}

/// An objective play in a round (`name` None: a return by time-out).
pub async fn objective(
    pool: &PgPool,
    round: i64,
    t_ms: i32,
    name: Option<&str>,
    team: &str,
    action: &str,
    target: &str,
) {
    let guid = match name {
        Some(n) => Some(guid(pool, n).await),
        None => None,
    };
    sqlx::query(
        "INSERT INTO objective_event (round_id, session_date, map_name, t_ms, player_guid, team,
            action, target) VALUES ($1, $2::date, 'goldrush', $3, $4, $5, $6, $7)",
    )
    .bind(round)
    .bind(DAY)
    .bind(t_ms)
    .bind(guid)
    .bind(team)
    .bind(action)
    .bind(target)
    .execute(pool)
    .await
    .expect("objective_event");
}

/// A revive in a round.
pub async fn revive(pool: &PgPool, round: i64, t_ms: i32, medic: &str, revived: &str) {
    let (medic, revived) = (guid(pool, medic).await, guid(pool, revived).await);
    sqlx::query(
        "INSERT INTO revive_event (round_id, session_date, map_name, t_ms, revived_guid,
            medic_guid, team, x, y, z) VALUES ($1, $2::date, 'goldrush', $3, $4, $5, 'AXIS', 0, 0, 0)",
    )
    .bind(round)
    .bind(DAY)
    .bind(t_ms)
    .bind(revived)
    .bind(medic)
    .execute(pool)
    .await
    .expect("revive_event");
}

/// Seconds a player spent in a 64-unit cell of goldrush.
pub async fn presence(pool: &PgPool, name: &str, team: &str, cell: (i32, i32), seconds: i64) {
    let guid = guid(pool, name).await;
    sqlx::query(
        "INSERT INTO presence_cells_daily (session_date, map_name, team, player_guid, cell_x,
            cell_y, seconds) VALUES ($1::date, 'goldrush', $2, $3, $4, $5, $6)",
    )
    .bind(DAY)
    .bind(team)
    .bind(&guid)
    .bind(cell.0)
    .bind(cell.1)
    .bind(seconds)
    .execute(pool)
    .await
    .expect("presence_cells_daily");
}

/// Objective plays of a player in a 64-unit cell of goldrush.
pub async fn objective_cell(pool: &PgPool, name: &str, action: &str, cell: (i32, i32), plays: i32) {
    let guid = guid(pool, name).await;
    sqlx::query(
        "INSERT INTO objective_cells_daily (session_date, map_name, team, player_guid, action,
            cell_x, cell_y, plays) VALUES ($1::date, 'goldrush', 'AXIS', $2, $3, $4, $5, $6)",
    )
    .bind(DAY)
    .bind(&guid)
    .bind(action)
    .bind(cell.0)
    .bind(cell.1)
    .bind(plays)
    .execute(pool)
    .await
    .expect("objective_cells_daily");
}

/// The rows described in the module comment (the fixture rounds must be imported first).
pub async fn seed(pool: &PgPool) {
    day(pool, "SlomiX", 40, (12_000, 9_000), (3, 1), [2, 1, 0, 0]).await;
    day(pool, "carniee", 35, (8_400, 7_000), (7, 0), [0, 0, 1, 2]).await;
    day(pool, "Lagger", 5, (3_000, 500), (0, 2), [0, 0, 0, 0]).await;
    weapon(pool, "SlomiX", 3, [600, 180, 30], 9_000).await;
    weapon(pool, "SlomiX", 5, [4, 1, 0], 3_000).await;
    weapon(pool, "carniee", 3, [500, 200, 50], 8_400).await;
    weapon(pool, "Lagger", 8, [90, 72, 10], 3_000).await;
    let round = round_on(pool, "goldrush").await;
    objective(
        pool,
        round,
        92_500,
        Some("SlomiX"),
        "AXIS",
        "steal",
        "the Gold Crate",
    )
    .await;
    objective(
        pool,
        round,
        100_000,
        Some("SlomiX"),
        "AXIS",
        "drop",
        "the Gold Crate",
    )
    .await;
    objective(
        pool,
        round,
        130_000,
        None,
        "ALLIES",
        "return",
        "the Gold Crate",
    )
    .await;
    objective(
        pool,
        round,
        150_000,
        Some("carniee"),
        "AXIS",
        "build",
        "the Tank Barrier",
    )
    .await;
    objective(
        pool,
        round,
        301_000,
        Some("SlomiX"),
        "AXIS",
        "secure",
        "the Gold Crate",
    )
    .await;
    revive(pool, round, 50_000, "carniee", "SlomiX").await;
    revive(pool, round, 70_000, "carniee", "SlomiX").await;
    revive(pool, round, 90_000, "SlomiX", "carniee").await;
    for (i, seconds) in [120, 300, 60].into_iter().enumerate() {
        presence(pool, "SlomiX", "AXIS", (i as i32, 4), seconds).await;
    }
    presence(pool, "Lagger", "ALLIES", (-10, -3), 240).await;
    objective_cell(pool, "SlomiX", "steal", (5, 6), 2).await;
    objective_cell(pool, "SlomiX", "secure", (-4, 2), 1).await;
    objective_cell(pool, "carniee", "build", (0, 0), 2).await;
}
