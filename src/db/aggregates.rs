//! The aggregates an import adds to (players, their names, daily player stats, daily pairs,
//! heatmap cells, weapons, opponents): one upsert per table. Each table's rows become one array
//! per column, built in one `columns!` list where the column's name sits beside its value, and
//! the statement names the same columns in the same order.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::stats::batch::{AliasRow, BatchAggregates, CellRow, DailyPlayerRow, PairRow, PlayerRow};
use crate::stats::round_stats::{
    DEATH_EVEN, DEATH_GANKED, DEATH_OUTNUMBERING, DEATH_SOLO, KILL_ASSISTED, KILL_EVEN,
    KILL_OUTGUNNED, KILL_SOLO,
};

/// Adds a batch's merged aggregates (or, negated, takes a replaced round's out again): one
/// statement per table that has rows. Players go first: the other tables refer to them.
pub async fn upsert_aggregates(conn: &mut PgConnection, agg: &BatchAggregates) -> sqlx::Result<()> {
    upsert_players(conn, &agg.players).await?;
    upsert_aliases(conn, &agg.aliases).await?;
    upsert_daily_players(conn, &agg.daily_players).await?;
    upsert_daily_pairs(conn, &agg.daily_pairs).await?;
    upsert_cells(conn, &agg.cells).await?;
    upsert_weapons(conn, &agg.weapons).await?;
    upsert_versus(conn, &agg.versus).await
}

columns!(PlayerColumns<'a> from PlayerRow {
    player_guid: &'a str = |p| p.key.as_str(),
    last_name: &'a str = |p| p.name.as_str(),
    is_bot: bool = |p| p.is_bot,
    first_seen: DateTime<Utc> = |p| p.first_seen,
    last_seen: DateTime<Utc> = |p| p.last_seen,
    name_seen: DateTime<Utc> = |p| p.name_seen,
});

async fn upsert_players(conn: &mut PgConnection, rows: &[PlayerRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let c = PlayerColumns::new(rows);
    // The name follows stats::batch::newer_name: a name beats none, the later round wins, ties
    // go to the greater name; never the order of imports.
    sqlx::query!(
        r#"INSERT INTO players AS p (player_guid, last_name, is_bot, first_seen, last_seen, name_seen)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::timestamptz[],
                             $5::timestamptz[], $6::timestamptz[])
        ON CONFLICT (player_guid) DO UPDATE SET
            last_name = CASE WHEN (EXCLUDED.last_name <> '', EXCLUDED.name_seen, EXCLUDED.last_name COLLATE "C")
                                > (p.last_name <> '', COALESCE(p.name_seen, '-infinity'), p.last_name COLLATE "C")
                             THEN EXCLUDED.last_name ELSE p.last_name END,
            name_seen = CASE WHEN (EXCLUDED.last_name <> '', EXCLUDED.name_seen, EXCLUDED.last_name COLLATE "C")
                                > (p.last_name <> '', COALESCE(p.name_seen, '-infinity'), p.last_name COLLATE "C")
                             THEN EXCLUDED.name_seen ELSE p.name_seen END,
            is_bot = p.is_bot OR EXCLUDED.is_bot,
            first_seen = LEAST(p.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen)"#,
        &c.player_guid as &[&str],
        &c.last_name as &[&str],
        &c.is_bot,
        &c.first_seen,
        &c.last_seen,
        &c.name_seen,
    )
    .execute(conn)
    .await?;
    Ok(())
}

columns!(AliasColumns<'a> from AliasRow {
    player_guid: &'a str = |a| a.key.as_str(),
    raw_name: &'a [u8] = |a| a.raw_name.as_slice(),
    name: &'a str = |a| a.name.as_str(),
    display_name: &'a str = |a| a.display_name.as_str(),
    first_seen: DateTime<Utc> = |a| a.first_seen,
    last_seen: DateTime<Utc> = |a| a.last_seen,
    times_seen: i32 = |a| a.times_seen,
});

async fn upsert_aliases(conn: &mut PgConnection, rows: &[AliasRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let c = AliasColumns::new(rows);
    sqlx::query!(
        "INSERT INTO player_aliases AS a (player_guid, raw_name, name, display_name, first_seen,
                                          last_seen, times_seen)
        SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::timestamptz[],
                             $6::timestamptz[], $7::int4[])
        ON CONFLICT (player_guid, raw_name) DO UPDATE SET
            times_seen = a.times_seen + EXCLUDED.times_seen,
            first_seen = LEAST(a.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen)",
        &c.player_guid as &[&str],
        &c.raw_name as &[&[u8]],
        &c.name as &[&str],
        &c.display_name as &[&str],
        &c.first_seen,
        &c.last_seen,
        &c.times_seen,
    )
    .execute(conn)
    .await?;
    Ok(())
}

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

async fn upsert_daily_players(
    conn: &mut PgConnection,
    rows: &[DailyPlayerRow],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let c = DailyPlayerColumns::new(rows);
    sqlx::query!(
        r#"INSERT INTO player_proximity_stats AS s (session_date, player_guid, player_name, is_bot,
            total_kills, solo_kills, assisted_kills, even_kills, outgunned_kills,
            total_deaths, solo_deaths, ganked_deaths, even_deaths, outnumbering_deaths,
            team_kills, team_deaths, suicides, world_deaths, crossfire_participations,
            sum_kill_distance, min_kill_distance, max_kill_distance, rounds_played, name_seen)
        SELECT t.session_date, t.player_guid, t.player_name, t.is_bot,
            t.solo_kills + t.assisted_kills + t.even_kills + t.outgunned_kills,
            t.solo_kills, t.assisted_kills, t.even_kills, t.outgunned_kills,
            t.solo_deaths + t.ganked_deaths + t.even_deaths + t.outnumbering_deaths,
            t.solo_deaths, t.ganked_deaths, t.even_deaths, t.outnumbering_deaths,
            t.team_kills, t.team_deaths, t.suicides, t.world_deaths, t.crossfire_participations,
            t.sum_kill_distance, t.min_kill_distance, t.max_kill_distance, t.rounds_played,
            t.name_seen
        FROM unnest($1::date[], $2::text[], $3::text[], $4::bool[], $5::int4[], $6::int4[],
                    $7::int4[], $8::int4[], $9::int4[], $10::int4[], $11::int4[], $12::int4[],
                    $13::int4[], $14::int4[], $15::int4[], $16::int4[], $17::int4[],
                    $18::float8[], $19::float4[], $20::float4[], $21::int4[], $22::timestamptz[])
             AS t(session_date, player_guid, player_name, is_bot, solo_kills, assisted_kills,
                  even_kills, outgunned_kills, solo_deaths, ganked_deaths, even_deaths,
                  outnumbering_deaths, team_kills, team_deaths, suicides, world_deaths,
                  crossfire_participations, sum_kill_distance, min_kill_distance,
                  max_kill_distance, rounds_played, name_seen)
        ON CONFLICT (session_date, player_guid) DO UPDATE SET
            player_name = CASE WHEN (EXCLUDED.player_name <> '', EXCLUDED.name_seen, EXCLUDED.player_name COLLATE "C")
                                  > (s.player_name <> '', COALESCE(s.name_seen, '-infinity'), s.player_name COLLATE "C")
                               THEN EXCLUDED.player_name ELSE s.player_name END,
            name_seen = CASE WHEN (EXCLUDED.player_name <> '', EXCLUDED.name_seen, EXCLUDED.player_name COLLATE "C")
                                > (s.player_name <> '', COALESCE(s.name_seen, '-infinity'), s.player_name COLLATE "C")
                             THEN EXCLUDED.name_seen ELSE s.name_seen END,
            is_bot = s.is_bot OR EXCLUDED.is_bot,
            total_kills = s.total_kills + EXCLUDED.total_kills, solo_kills = s.solo_kills + EXCLUDED.solo_kills,
            assisted_kills = s.assisted_kills + EXCLUDED.assisted_kills, even_kills = s.even_kills + EXCLUDED.even_kills,
            outgunned_kills = s.outgunned_kills + EXCLUDED.outgunned_kills,
            total_deaths = s.total_deaths + EXCLUDED.total_deaths, solo_deaths = s.solo_deaths + EXCLUDED.solo_deaths,
            ganked_deaths = s.ganked_deaths + EXCLUDED.ganked_deaths, even_deaths = s.even_deaths + EXCLUDED.even_deaths,
            outnumbering_deaths = s.outnumbering_deaths + EXCLUDED.outnumbering_deaths,
            team_kills = s.team_kills + EXCLUDED.team_kills, team_deaths = s.team_deaths + EXCLUDED.team_deaths,
            suicides = s.suicides + EXCLUDED.suicides, world_deaths = s.world_deaths + EXCLUDED.world_deaths,
            crossfire_participations = s.crossfire_participations + EXCLUDED.crossfire_participations,
            sum_kill_distance = s.sum_kill_distance + EXCLUDED.sum_kill_distance,
            min_kill_distance = LEAST(s.min_kill_distance, EXCLUDED.min_kill_distance),
            max_kill_distance = GREATEST(s.max_kill_distance, EXCLUDED.max_kill_distance),
            rounds_played = s.rounds_played + EXCLUDED.rounds_played"#,
        &c.session_date,
        &c.player_guid as &[&str],
        &c.player_name as &[&str],
        &c.is_bot,
        &c.solo_kills,
        &c.assisted_kills,
        &c.even_kills,
        &c.outgunned_kills,
        &c.solo_deaths,
        &c.ganked_deaths,
        &c.even_deaths,
        &c.outnumbering_deaths,
        &c.team_kills,
        &c.team_deaths,
        &c.suicides,
        &c.world_deaths,
        &c.crossfire_participations,
        &c.sum_kill_distance,
        &c.min_kill_distance as &[Option<f32>],
        &c.max_kill_distance as &[Option<f32>],
        &c.rounds_played,
        &c.name_seen,
    )
    .execute(conn)
    .await?;
    Ok(())
}

columns!(PairColumns<'a> from PairRow {
    session_date: NaiveDate = |p| p.first_seen,
    player1_guid: &'a str = |p| p.player1.as_str(),
    player2_guid: &'a str = |p| p.player2.as_str(),
    kills_within_range: i32 = |p| p.kills_within_range,
    simultaneous_kills: i32 = |p| p.simultaneous_kills,
    trade_kills: i32 = |p| p.trade_kills,
    rounds_together: i32 = |p| p.rounds_together,
});

async fn upsert_daily_pairs(conn: &mut PgConnection, rows: &[PairRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let c = PairColumns::new(rows);
    sqlx::query!(
        "INSERT INTO teammate_synergy_daily AS s (session_date, player1_guid, player2_guid,
            kills_within_range, simultaneous_kills, trade_kills, rounds_together)
        SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::int4[], $5::int4[],
                             $6::int4[], $7::int4[])
        ON CONFLICT (player1_guid, player2_guid, session_date) DO UPDATE SET
            kills_within_range = s.kills_within_range + EXCLUDED.kills_within_range,
            simultaneous_kills = s.simultaneous_kills + EXCLUDED.simultaneous_kills,
            trade_kills = s.trade_kills + EXCLUDED.trade_kills,
            rounds_together = s.rounds_together + EXCLUDED.rounds_together",
        &c.session_date,
        &c.player1_guid as &[&str],
        &c.player2_guid as &[&str],
        &c.kills_within_range,
        &c.simultaneous_kills,
        &c.trade_kills,
        &c.rounds_together,
    )
    .execute(conn)
    .await?;
    Ok(())
}

columns!(CellColumns<'a> from CellRow {
    session_date: NaiveDate = |c| c.session_date,
    map_name: &'a str = |c| c.map_name.as_str(),
    grid_x: i32 = |c| c.grid_x,
    grid_y: i32 = |c| c.grid_y,
    axis_kills: i32 = |c| c.axis_kills,
    allies_kills: i32 = |c| c.allies_kills,
});

async fn upsert_cells(conn: &mut PgConnection, rows: &[CellRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let c = CellColumns::new(rows);
    sqlx::query!(
        "INSERT INTO kill_heatmap AS h (session_date, map_name, grid_x, grid_y, axis_kills,
                                        allies_kills, total_kills)
        SELECT t.session_date, t.map_name, t.grid_x, t.grid_y, t.axis_kills, t.allies_kills,
               t.axis_kills + t.allies_kills
        FROM unnest($1::date[], $2::text[], $3::int4[], $4::int4[], $5::int4[], $6::int4[])
             AS t(session_date, map_name, grid_x, grid_y, axis_kills, allies_kills)
        ON CONFLICT (session_date, map_name, grid_x, grid_y) DO UPDATE SET
            axis_kills = h.axis_kills + EXCLUDED.axis_kills,
            allies_kills = h.allies_kills + EXCLUDED.allies_kills,
            total_kills = h.total_kills + EXCLUDED.total_kills",
        &c.session_date,
        &c.map_name as &[&str],
        &c.grid_x,
        &c.grid_y,
        &c.axis_kills,
        &c.allies_kills,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `stats::batch`'s weapon row: (player, day, weapon, kills, deaths).
type WeaponRow = (String, NaiveDate, i16, i32, i32);

columns!(WeaponColumns<'a> from WeaponRow {
    player_guid: &'a str = |w| w.0.as_str(),
    session_date: NaiveDate = |w| w.1,
    weapon: i16 = |w| w.2,
    kills: i32 = |w| w.3,
    deaths: i32 = |w| w.4,
});

async fn upsert_weapons(conn: &mut PgConnection, rows: &[WeaponRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let c = WeaponColumns::new(rows);
    sqlx::query!(
        "INSERT INTO player_weapon_daily AS w (player_guid, session_date, weapon, kills, deaths)
        SELECT * FROM unnest($1::text[], $2::date[], $3::int2[], $4::int4[], $5::int4[])
        ON CONFLICT (player_guid, session_date, weapon) DO UPDATE SET
            kills = w.kills + EXCLUDED.kills,
            deaths = w.deaths + EXCLUDED.deaths",
        &c.player_guid as &[&str],
        &c.session_date,
        &c.weapon,
        &c.kills,
        &c.deaths,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `stats::batch`'s opponent row: (killer, victim, day, kills).
type VersusRow = (String, String, NaiveDate, i32);

columns!(VersusColumns<'a> from VersusRow {
    killer_guid: &'a str = |v| v.0.as_str(),
    victim_guid: &'a str = |v| v.1.as_str(),
    session_date: NaiveDate = |v| v.2,
    kills: i32 = |v| v.3,
});

async fn upsert_versus(conn: &mut PgConnection, rows: &[VersusRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let c = VersusColumns::new(rows);
    sqlx::query!(
        "INSERT INTO player_versus_daily AS v (killer_guid, victim_guid, session_date, kills)
        SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::int4[])
        ON CONFLICT (killer_guid, victim_guid, session_date) DO UPDATE SET
            kills = v.kills + EXCLUDED.kills",
        &c.killer_guid as &[&str],
        &c.victim_guid as &[&str],
        &c.session_date,
        &c.kills,
    )
    .execute(conn)
    .await?;
    Ok(())
}
