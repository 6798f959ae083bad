//! The aggregates an import adds to (players, their names, daily player stats, daily pairs,
//! heatmap cells, weapons, opponents): one upsert per table. Each table's rows become one array
//! per column, built in one `columns!` list where the column's name sits beside its value, and
//! the statement names the same columns in the same order.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::stats::batch::{
    AliasRow, BatchAggregates, CellRow, DailyPlayerRow, PairRow, PlayerRow, VersusRow, WeaponRow,
};
use crate::stats::round_stats::{
    DEATH_EVEN, DEATH_GANKED, DEATH_OUTNUMBERING, DEATH_SOLO, KILL_ASSISTED, KILL_EVEN,
    KILL_OUTGUNNED, KILL_SOLO,
};

columns!(PlayerColumns<'a> from PlayerRow {
    player_guid: &'a str = |p| p.key.as_str(),
    last_name: &'a str = |p| p.name.as_str(),
    is_bot: bool = |p| p.is_bot,
    first_seen: DateTime<Utc> = |p| p.first_seen,
    last_seen: DateTime<Utc> = |p| p.last_seen,
    name_seen: DateTime<Utc> = |p| p.name_seen,
});

columns!(AliasColumns<'a> from AliasRow {
    player_guid: &'a str = |a| a.key.as_str(),
    raw_name: &'a [u8] = |a| a.raw_name.as_slice(),
    name: &'a str = |a| a.name.as_str(),
    display_name: &'a str = |a| a.display_name.as_str(),
    first_seen: DateTime<Utc> = |a| a.first_seen,
    last_seen: DateTime<Utc> = |a| a.last_seen,
    times_seen: i32 = |a| a.times_seen,
});

columns!(DailyPlayerColumns<'a> from DailyPlayerRow {
    session_date: NaiveDate = |d| d.session_date,
    player_guid: &'a str = |d| d.stats.key.as_str(),
    player_name: &'a str = |d| d.stats.name.as_str(),
    is_bot: bool = |d| d.stats.is_bot,
    solo_kills: i32 = |d| d.stats.kills[KILL_SOLO],
    assisted_kills: i32 = |d| d.stats.kills[KILL_ASSISTED],
    even_kills: i32 = |d| d.stats.kills[KILL_EVEN],
    outgunned_kills: i32 = |d| d.stats.kills[KILL_OUTGUNNED],
    solo_deaths: i32 = |d| d.stats.deaths[DEATH_SOLO],
    ganked_deaths: i32 = |d| d.stats.deaths[DEATH_GANKED],
    even_deaths: i32 = |d| d.stats.deaths[DEATH_EVEN],
    outnumbering_deaths: i32 = |d| d.stats.deaths[DEATH_OUTNUMBERING],
    team_kills: i32 = |d| d.stats.team_kills,
    team_deaths: i32 = |d| d.stats.team_deaths,
    suicides: i32 = |d| d.stats.suicides,
    world_deaths: i32 = |d| d.stats.world_deaths,
    crossfire_participations: i32 = |d| d.stats.crossfire,
    sum_kill_distance: f64 = |d| d.stats.sum_distance,
    min_kill_distance: Option<f32> = |d| d.stats.min_distance,
    max_kill_distance: Option<f32> = |d| d.stats.max_distance,
    rounds_played: i32 = |d| d.rounds_played,
    name_seen: DateTime<Utc> = |d| d.name_seen,
});

columns!(PairColumns<'a> from PairRow {
    session_date: NaiveDate = |p| p.first_seen,
    player1_guid: &'a str = |p| p.player1.as_str(),
    player2_guid: &'a str = |p| p.player2.as_str(),
    kills_within_range: i32 = |p| p.kills_within_range,
    simultaneous_kills: i32 = |p| p.simultaneous_kills,
    trade_kills: i32 = |p| p.trade_kills,
    rounds_together: i32 = |p| p.rounds_together,
});

columns!(CellColumns<'a> from CellRow {
    session_date: NaiveDate = |c| c.session_date,
    map_name: &'a str = |c| c.map_name.as_str(),
    grid_x: i32 = |c| c.grid_x,
    grid_y: i32 = |c| c.grid_y,
    axis_kills: i32 = |c| c.axis_kills,
    allies_kills: i32 = |c| c.allies_kills,
});

columns!(WeaponColumns<'a> from WeaponRow {
    player_guid: &'a str = |w| w.player.as_str(),
    session_date: NaiveDate = |w| w.session_date,
    weapon: i16 = |w| w.weapon,
    kills: i32 = |w| w.kills,
    deaths: i32 = |w| w.deaths,
});

columns!(VersusColumns<'a> from VersusRow {
    killer_guid: &'a str = |v| v.killer.as_str(),
    victim_guid: &'a str = |v| v.victim.as_str(),
    session_date: NaiveDate = |v| v.session_date,
    kills: i32 = |v| v.kills,
});

/// Adds a batch's merged aggregates (or, negated, takes a replaced round's out again), in one
/// statement: each table's upsert is a step of one `WITH`, so a batch costs one round trip
/// (seven statements cost ~7 % of the bulk import). Each step lists its columns in the order of
/// its `columns!` list above, and the binds below follow those lists table by table;
/// `tests/aggregates.rs` gives every counter its own value, so a swapped bind fails there.
pub async fn upsert_aggregates(conn: &mut PgConnection, agg: &BatchAggregates) -> sqlx::Result<()> {
    let pl = PlayerColumns::new(&agg.players);
    let al = AliasColumns::new(&agg.aliases);
    let dp = DailyPlayerColumns::new(&agg.daily_players);
    let pr = PairColumns::new(&agg.daily_pairs);
    let ce = CellColumns::new(&agg.cells);
    let we = WeaponColumns::new(&agg.weapons);
    let vs = VersusColumns::new(&agg.versus);
    sqlx::query_file!(
        "src/db/sql/upsert_aggregates.sql",
        // players
        &pl.player_guid as &[&str],
        &pl.last_name as &[&str],
        &pl.is_bot,
        &pl.first_seen,
        &pl.last_seen,
        &pl.name_seen,
        // player_aliases
        &al.player_guid as &[&str],
        &al.raw_name as &[&[u8]],
        &al.name as &[&str],
        &al.display_name as &[&str],
        &al.first_seen,
        &al.last_seen,
        &al.times_seen,
        // player_proximity_stats
        &dp.session_date,
        &dp.player_guid as &[&str],
        &dp.player_name as &[&str],
        &dp.is_bot,
        &dp.solo_kills,
        &dp.assisted_kills,
        &dp.even_kills,
        &dp.outgunned_kills,
        &dp.solo_deaths,
        &dp.ganked_deaths,
        &dp.even_deaths,
        &dp.outnumbering_deaths,
        &dp.team_kills,
        &dp.team_deaths,
        &dp.suicides,
        &dp.world_deaths,
        &dp.crossfire_participations,
        &dp.sum_kill_distance,
        &dp.min_kill_distance as &[Option<f32>],
        &dp.max_kill_distance as &[Option<f32>],
        &dp.rounds_played,
        &dp.name_seen,
        // teammate_synergy_daily
        &pr.session_date,
        &pr.player1_guid as &[&str],
        &pr.player2_guid as &[&str],
        &pr.kills_within_range,
        &pr.simultaneous_kills,
        &pr.trade_kills,
        &pr.rounds_together,
        // kill_heatmap
        &ce.session_date,
        &ce.map_name as &[&str],
        &ce.grid_x,
        &ce.grid_y,
        &ce.axis_kills,
        &ce.allies_kills,
        // player_weapon_daily
        &we.player_guid as &[&str],
        &we.session_date,
        &we.weapon,
        &we.kills,
        &we.deaths,
        // player_versus_daily
        &vs.killer_guid as &[&str],
        &vs.victim_guid as &[&str],
        &vs.session_date,
        &vs.kills,
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}
