//! The whole fight's rows (migrations 0013, 0014): the raw per-round tables written as arrays
//! (one statement per table and batch, whatever the number of events), and the per-day
//! aggregates made from those raw rows by `fight_aggregate_rounds`, so what the aggregates hold
//! is exactly what the raw rows say. `ingest::fight` builds the columns.

use chrono::NaiveDate;
use sqlx::PgConnection;

/// `round_roster` rows, column by column.
#[derive(Debug, Default)]
pub struct RosterColumns {
    pub round_id: Vec<i64>,
    pub session_date: Vec<NaiveDate>,
    pub roster_index: Vec<i32>,
    pub player_guid: Vec<String>,
    pub slot: Vec<i16>,
    pub team: Vec<&'static str>,
    pub from_ms: Vec<i32>,
    pub to_ms: Vec<i32>,
}

/// `damage_event` rows.
#[derive(Debug, Default)]
pub struct DamageColumns {
    pub round_id: Vec<i64>,
    pub session_date: Vec<NaiveDate>,
    pub t_ms: Vec<i32>,
    pub attacker_guid: Vec<String>,
    pub target_guid: Vec<String>,
    pub attacker_team: Vec<&'static str>,
    pub target_team: Vec<&'static str>,
    pub damage: Vec<i32>,
    pub effective: Vec<i32>,
    pub means_of_death: Vec<i16>,
    pub weapon: Vec<i16>,
    pub headshot: Vec<bool>,
    pub team_damage: Vec<bool>,
    pub splash: Vec<bool>,
}

/// `round_weapon_fire` rows.
#[derive(Debug, Default)]
pub struct WeaponFireColumns {
    pub round_id: Vec<i64>,
    pub session_date: Vec<NaiveDate>,
    pub player_guid: Vec<String>,
    pub weapon: Vec<i16>,
    pub shots: Vec<i32>,
    pub hits: Vec<i32>,
    pub headshots: Vec<i32>,
}

/// `revive_event` rows.
#[derive(Debug, Default)]
pub struct ReviveColumns {
    pub round_id: Vec<i64>,
    pub session_date: Vec<NaiveDate>,
    pub map_name: Vec<String>,
    pub t_ms: Vec<i32>,
    pub revived_guid: Vec<String>,
    pub medic_guid: Vec<Option<String>>,
    pub team: Vec<&'static str>,
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub z: Vec<f32>,
    pub down_ms: Vec<Option<i32>>,
}

/// `objective_event` rows.
#[derive(Debug, Default)]
pub struct ObjectiveColumns {
    pub round_id: Vec<i64>,
    pub session_date: Vec<NaiveDate>,
    pub map_name: Vec<String>,
    pub t_ms: Vec<i32>,
    pub player_guid: Vec<Option<String>>,
    pub team: Vec<&'static str>,
    pub action: Vec<&'static str>,
    pub target: Vec<String>,
    pub x: Vec<Option<f32>>,
    pub y: Vec<Option<f32>>,
    pub z: Vec<Option<f32>>,
}

/// `round_life` rows.
#[derive(Debug, Default)]
pub struct LifeColumns {
    pub round_id: Vec<i64>,
    pub session_date: Vec<NaiveDate>,
    pub player_guid: Vec<String>,
    pub team: Vec<&'static str>,
    pub start_ms: Vec<i32>,
    pub end_ms: Vec<i32>,
    pub revived: Vec<bool>,
    pub ended_by_death: Vec<bool>,
}

/// `round_presence_cells` rows.
#[derive(Debug, Default)]
pub struct PresenceColumns {
    pub round_id: Vec<i64>,
    pub session_date: Vec<NaiveDate>,
    pub map_name: Vec<String>,
    pub player_guid: Vec<String>,
    pub team: Vec<&'static str>,
    pub cell_x: Vec<i32>,
    pub cell_y: Vec<i32>,
    pub seconds: Vec<i32>,
}

/// Every raw fight row of a batch of rounds.
#[derive(Debug, Default)]
pub struct FightRows {
    pub round_ids: Vec<i64>,
    pub roster: RosterColumns,
    pub damage: DamageColumns,
    pub weapon_fire: WeaponFireColumns,
    pub revives: ReviveColumns,
    pub objectives: ObjectiveColumns,
    pub lives: LifeColumns,
    pub presence: PresenceColumns,
}

/// Takes out what these rounds wrote before (a longer version of a round replaces it under
/// the same id): their aggregate contribution and raw rows. Nothing for new rounds.
pub async fn take_out_rounds(conn: &mut PgConnection, round_ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query!("SELECT fight_take_out_rounds($1::int8[])", round_ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes the raw rows, then adds the rounds to the aggregates (from those rows).
pub async fn write_rounds(conn: &mut PgConnection, rows: &FightRows) -> sqlx::Result<()> {
    if rows.round_ids.is_empty() {
        return Ok(());
    }
    insert_roster(conn, &rows.roster).await?;
    insert_damage(conn, &rows.damage).await?;
    insert_weapon_fire(conn, &rows.weapon_fire).await?;
    insert_revives(conn, &rows.revives).await?;
    insert_objectives(conn, &rows.objectives).await?;
    insert_lives(conn, &rows.lives).await?;
    insert_presence(conn, &rows.presence).await?;
    sqlx::query!(
        "SELECT fight_aggregate_rounds($1::int8[], 1)",
        &rows.round_ids
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_roster(conn: &mut PgConnection, c: &RosterColumns) -> sqlx::Result<()> {
    if c.round_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO round_roster (round_id, session_date, roster_index, player_guid, slot, team,
                                   from_ms, to_ms)
         SELECT * FROM unnest($1::int8[], $2::date[], $3::int4[], $4::text[], $5::int2[],
                              $6::text[], $7::int4[], $8::int4[])",
        &c.round_id,
        &c.session_date,
        &c.roster_index,
        &c.player_guid,
        &c.slot,
        &c.team as &[&str],
        &c.from_ms,
        &c.to_ms,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_damage(conn: &mut PgConnection, c: &DamageColumns) -> sqlx::Result<()> {
    if c.round_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO damage_event (round_id, session_date, t_ms, attacker_guid, target_guid,
                                   attacker_team, target_team, damage, effective, mod, weapon,
                                   headshot, team_damage, splash)
         SELECT * FROM unnest($1::int8[], $2::date[], $3::int4[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::int4[], $9::int4[], $10::int2[],
                              $11::int2[], $12::bool[], $13::bool[], $14::bool[])",
        &c.round_id,
        &c.session_date,
        &c.t_ms,
        &c.attacker_guid,
        &c.target_guid,
        &c.attacker_team as &[&str],
        &c.target_team as &[&str],
        &c.damage,
        &c.effective,
        &c.means_of_death,
        &c.weapon,
        &c.headshot,
        &c.team_damage,
        &c.splash,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_weapon_fire(conn: &mut PgConnection, c: &WeaponFireColumns) -> sqlx::Result<()> {
    if c.round_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO round_weapon_fire (round_id, session_date, player_guid, weapon, shots, hits,
                                        headshots)
         SELECT * FROM unnest($1::int8[], $2::date[], $3::text[], $4::int2[], $5::int4[],
                              $6::int4[], $7::int4[])",
        &c.round_id,
        &c.session_date,
        &c.player_guid,
        &c.weapon,
        &c.shots,
        &c.hits,
        &c.headshots,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_revives(conn: &mut PgConnection, c: &ReviveColumns) -> sqlx::Result<()> {
    if c.round_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO revive_event (round_id, session_date, map_name, t_ms, revived_guid,
                                   medic_guid, team, x, y, z, down_ms)
         SELECT * FROM unnest($1::int8[], $2::date[], $3::text[], $4::int4[], $5::text[],
                              $6::text[], $7::text[], $8::float4[], $9::float4[], $10::float4[],
                              $11::int4[])",
        &c.round_id,
        &c.session_date,
        &c.map_name,
        &c.t_ms,
        &c.revived_guid,
        &c.medic_guid as &[Option<String>],
        &c.team as &[&str],
        &c.x,
        &c.y,
        &c.z,
        &c.down_ms as &[Option<i32>],
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_objectives(conn: &mut PgConnection, c: &ObjectiveColumns) -> sqlx::Result<()> {
    if c.round_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO objective_event (round_id, session_date, map_name, t_ms, player_guid, team,
                                      action, target, x, y, z)
         SELECT * FROM unnest($1::int8[], $2::date[], $3::text[], $4::int4[], $5::text[],
                              $6::text[], $7::text[], $8::text[], $9::float4[], $10::float4[],
                              $11::float4[])",
        &c.round_id,
        &c.session_date,
        &c.map_name,
        &c.t_ms,
        &c.player_guid as &[Option<String>],
        &c.team as &[&str],
        &c.action as &[&str],
        &c.target,
        &c.x as &[Option<f32>],
        &c.y as &[Option<f32>],
        &c.z as &[Option<f32>],
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_lives(conn: &mut PgConnection, c: &LifeColumns) -> sqlx::Result<()> {
    if c.round_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO round_life (round_id, session_date, player_guid, team, start_ms, end_ms,
                                 revived, ended_by_death)
         SELECT * FROM unnest($1::int8[], $2::date[], $3::text[], $4::text[], $5::int4[],
                              $6::int4[], $7::bool[], $8::bool[])",
        &c.round_id,
        &c.session_date,
        &c.player_guid,
        &c.team as &[&str],
        &c.start_ms,
        &c.end_ms,
        &c.revived,
        &c.ended_by_death,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_presence(conn: &mut PgConnection, c: &PresenceColumns) -> sqlx::Result<()> {
    if c.round_id.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO round_presence_cells (round_id, session_date, map_name, player_guid, team,
                                           cell_x, cell_y, seconds)
         SELECT * FROM unnest($1::int8[], $2::date[], $3::text[], $4::text[], $5::text[],
                              $6::int4[], $7::int4[], $8::int4[])",
        &c.round_id,
        &c.session_date,
        &c.map_name,
        &c.player_guid,
        &c.team as &[&str],
        &c.cell_x,
        &c.cell_y,
        &c.seconds,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
