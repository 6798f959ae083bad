//! The aggregate upsert (`db::aggregates`) against the real PostgreSQL: every counter lands in
//! its own column (each gets a distinct value, so two swapped columns fail here), a second
//! upsert adds to the first, and the negated batch takes it out again.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use etprox::db::aggregates::upsert_aggregates;
use etprox::stats::batch::{
    AliasRow, BatchAggregates, CellRow, DailyPlayerRow, PairRow, PlayerRow, VersusRow, WeaponRow,
};
use etprox::stats::round_stats::PlayerRoundStats;
use sqlx::PgPool;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 18).unwrap()
}

/// One row per table, every number different from every other.
fn batch() -> BatchAggregates {
    let seen = Utc.with_ymd_and_hms(2025, 11, 18, 21, 0, 0).unwrap();
    let stats = PlayerRoundStats {
        key: "GUID-A".into(),
        name: "Alice".into(),
        is_bot: false,
        kills: [1, 2, 3, 4],
        deaths: [5, 6, 7, 8],
        team_kills: 9,
        team_deaths: 10,
        suicides: 11,
        world_deaths: 12,
        crossfire: 13,
        sum_distance: 1400.5,
        min_distance: Some(15.0),
        max_distance: Some(1600.0),
    };
    BatchAggregates {
        players: vec![PlayerRow {
            key: "GUID-A".into(),
            name: "Alice".into(),
            name_seen: seen,
            is_bot: false,
            first_seen: seen,
            last_seen: seen,
        }],
        aliases: vec![AliasRow {
            key: "GUID-A".into(),
            raw_name: b"^1Alice".to_vec(),
            name: "alice".into(),
            display_name: "Alice".into(),
            first_seen: seen,
            last_seen: seen,
            times_seen: 17,
        }],
        daily_players: vec![DailyPlayerRow {
            session_date: day(),
            stats,
            rounds_played: 18,
            name_seen: seen,
        }],
        daily_pairs: vec![PairRow {
            player1: "GUID-A".into(),
            player2: "GUID-B".into(),
            kills_within_range: 19,
            simultaneous_kills: 20,
            trade_kills: 21,
            rounds_together: 22,
            first_seen: day(),
            last_seen: day(),
        }],
        cells: vec![CellRow {
            session_date: day(),
            map_name: "goldrush".into(),
            grid_x: 23,
            grid_y: 24,
            axis_kills: 25,
            allies_kills: 26,
        }],
        weapons: vec![WeaponRow {
            player: "GUID-A".into(),
            session_date: day(),
            weapon: 27,
            kills: 28,
            deaths: 29,
        }],
        versus: vec![VersusRow {
            killer: "GUID-A".into(),
            victim: "GUID-B".into(),
            session_date: day(),
            kills: 30,
        }],
    }
}

/// Every aggregate column written, as text, in a fixed order.
async fn stored(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT concat_ws(' ', total_kills, solo_kills, assisted_kills, even_kills,
                outgunned_kills, total_deaths, solo_deaths, ganked_deaths, even_deaths,
                outnumbering_deaths, team_kills, team_deaths, suicides, world_deaths,
                crossfire_participations, sum_kill_distance, min_kill_distance,
                max_kill_distance, rounds_played, player_name)
         FROM player_proximity_stats
         UNION ALL SELECT concat_ws(' ', last_name, is_bot) FROM players
         UNION ALL SELECT concat_ws(' ', name, display_name, times_seen) FROM player_aliases
         UNION ALL SELECT concat_ws(' ', player1_guid, player2_guid, kills_within_range,
                simultaneous_kills, trade_kills, rounds_together) FROM teammate_synergy_daily
         UNION ALL SELECT concat_ws(' ', map_name, grid_x, grid_y, axis_kills, allies_kills,
                total_kills) FROM kill_heatmap
         UNION ALL SELECT concat_ws(' ', player_guid, weapon, kills, deaths) FROM player_weapon_daily
         UNION ALL SELECT concat_ws(' ', killer_guid, victim_guid, kills) FROM player_versus_daily",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "etprox::db::MIGRATOR")]
async fn each_counter_lands_in_its_own_column_and_adds_up(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    upsert_aggregates(&mut conn, &batch()).await.unwrap();
    assert_eq!(
        stored(&pool).await,
        [
            "10 1 2 3 4 26 5 6 7 8 9 10 11 12 13 1400.5 15 1600 18 Alice",
            "Alice f",
            "alice Alice 17",
            "GUID-A GUID-B 19 20 21 22",
            "goldrush 23 24 25 26 51",
            "GUID-A 27 28 29",
            "GUID-A GUID-B 30",
        ]
    );
    // A second batch of the same adds every counter; min and max distance stay.
    upsert_aggregates(&mut conn, &batch()).await.unwrap();
    assert_eq!(
        stored(&pool).await,
        [
            "20 2 4 6 8 52 10 12 14 16 18 20 22 24 26 2801 15 1600 36 Alice",
            "Alice f",
            "alice Alice 34",
            "GUID-A GUID-B 38 40 42 44",
            "goldrush 23 24 50 52 102",
            "GUID-A 27 56 58",
            "GUID-A GUID-B 60",
        ]
    );
    // The negated batch (a replaced round taken out) brings the counters back.
    upsert_aggregates(&mut conn, &batch().negated())
        .await
        .unwrap();
    assert_eq!(
        stored(&pool).await[0],
        "10 1 2 3 4 26 5 6 7 8 9 10 11 12 13 1400.5 15 1600 18 Alice"
    );
}
