//! Rounds: writing imported rounds with everything they add, and taking a replaced version's
//! contribution out again. The caller runs these in one transaction; kills go in with COPY (a
//! COPY has no bind parameters, so it is not a checked macro).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

use super::copy_text::CopyText;
use super::stored::StoredRound;
use crate::ingest::derived::{VersusDetail, VersusStreak};
use crate::round_file::KillRecord;
use crate::stats::batch::BatchAggregates;
use crate::stats::round_stats::{write_engagement_type, PlayerInRound};
use crate::stats::RoundStats;

/// The round row and its source.
#[derive(Debug, Clone)]
pub struct RoundRow {
    pub round_key: String,
    pub content_sha256: String,
    pub format_version: i16,
    pub server_id: String,
    pub server_name: Option<String>,
    pub map_name: String,
    pub file_map_name: Option<String>,
    pub round_number: i16,
    pub gametype: Option<i16>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub session_date: NaiveDate,
    pub source_path: String,
    /// The file name: with the server, a v2 round's identity.
    pub source_name: String,
    /// Bytes read, so a later, longer version of the file is recognised as this one grown.
    pub content_bytes: i64,
    pub kill_count: i32,
    pub flags: Vec<String>,
    pub warnings: serde_json::Value,
}

/// A new round's id, and the index into the rows it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertedRound {
    pub index: usize,
    pub id: i64,
}

columns!(RoundColumns<'a> from &'a RoundRow {
    round_key: &'a str = |r| r.round_key.as_str(),
    content_sha256: &'a str = |r| r.content_sha256.as_str(),
    format_version: i16 = |r| r.format_version,
    server_id: &'a str = |r| r.server_id.as_str(),
    server_name: Option<&'a str> = |r| r.server_name.as_deref(),
    map_name: &'a str = |r| r.map_name.as_str(),
    file_map_name: Option<&'a str> = |r| r.file_map_name.as_deref(),
    round_number: i16 = |r| r.round_number,
    gametype: Option<i16> = |r| r.gametype,
    started_at: Option<DateTime<Utc>> = |r| r.started_at,
    ended_at: Option<DateTime<Utc>> = |r| r.ended_at,
    session_date: NaiveDate = |r| r.session_date,
    source_path: &'a str = |r| r.source_path.as_str(),
    kill_count: i32 = |r| r.kill_count,
    // A jsonb array each: PostgreSQL arrays of arrays must all have one length.
    flags: serde_json::Value = |r| serde_json::json!(r.flags),
    warnings: &'a serde_json::Value = |r| &r.warnings,
    source_name: &'a str = |r| r.source_name.as_str(),
    content_bytes: i64 = |r| r.content_bytes,
});

/// Inserts the rounds that are not there yet (same content or same round key), returning the
/// ones inserted. They are rolled up: the import writes their heatmap rollups in the same
/// transaction (`db::heatmap::add_rollup`).
pub async fn insert_rounds(
    conn: &mut PgConnection,
    rows: &[&RoundRow],
) -> sqlx::Result<Vec<InsertedRound>> {
    let c = RoundColumns::new(rows);
    let inserted = sqlx::query!(
        "INSERT INTO rounds (round_key, content_sha256, format_version, server_id, server_name,
                             map_name, file_map_name, round_number, gametype, started_at, ended_at,
                             session_date, source_path, kill_count, flags, warnings,
                             source_name, content_bytes, heatmap_rolled_up)
         SELECT t.round_key, t.content_sha256, t.format_version, t.server_id, t.server_name,
                t.map_name, t.file_map_name, t.round_number, t.gametype, t.started_at, t.ended_at,
                t.session_date, t.source_path, t.kill_count,
                ARRAY(SELECT jsonb_array_elements_text(t.flags)), t.warnings,
                t.source_name, t.content_bytes, true
         FROM unnest($1::text[], $2::text[], $3::int2[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::int2[], $9::int2[], $10::timestamptz[], $11::timestamptz[],
                     $12::date[], $13::text[], $14::int4[], $15::jsonb[], $16::jsonb[],
                     $17::text[], $18::int8[])
              AS t(round_key, content_sha256, format_version, server_id, server_name,
                   map_name, file_map_name, round_number, gametype, started_at, ended_at,
                   session_date, source_path, kill_count, flags, warnings,
                   source_name, content_bytes)
         ON CONFLICT DO NOTHING
         RETURNING round_key, id",
        &c.round_key as &[&str],
        &c.content_sha256 as &[&str],
        &c.format_version,
        &c.server_id as &[&str],
        &c.server_name as &[Option<&str>],
        &c.map_name as &[&str],
        &c.file_map_name as &[Option<&str>],
        &c.round_number,
        &c.gametype as &[Option<i16>],
        &c.started_at as &[Option<DateTime<Utc>>],
        &c.ended_at as &[Option<DateTime<Utc>>],
        &c.session_date,
        &c.source_path as &[&str],
        &c.kill_count,
        &c.flags,
        &c.warnings as &[&serde_json::Value],
        &c.source_name as &[&str],
        &c.content_bytes,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(inserted
        .into_iter()
        .filter_map(|new| {
            let index = rows.iter().position(|r| r.round_key == new.round_key)?;
            Some(InsertedRound { index, id: new.id })
        })
        .collect())
}

/// A round's kills, ready to be written.
pub struct KillsOfRound<'r, 'k> {
    pub round_id: i64,
    pub row: &'r RoundRow,
    pub kills: &'r [KillRecord<'k>],
    pub stats: &'r RoundStats,
}

/// Writes the kills of several rounds with one COPY.
pub async fn copy_kills(
    conn: &mut PgConnection,
    rounds: &[KillsOfRound<'_, '_>],
) -> sqlx::Result<u64> {
    let total: usize = rounds.iter().map(|r| r.kills.len()).sum();
    if total == 0 {
        return Ok(0);
    }
    let mut out = CopyText::with_capacity(total * 320);
    let mut engagement = String::with_capacity(8);
    for round in rounds {
        let row = round.row;
        let stats = round.stats;
        for (kill, resolved) in round.kills.iter().zip(&stats.kills) {
            engagement.clear();
            write_engagement_type(&mut engagement, kill.killer_allies, kill.victim_allies);
            let (killer_key, killer_name) = match resolved.killer {
                Some(id) => (stats.key(id), stats.name(id)),
                None => ("", ""),
            };
            out.value(round.round_id)
                .value(resolved.index)
                .value(row.session_date)
                .text(&row.map_name)
                .value(row.round_number)
                .value(kill.game_time)
                .opt(kill.time_ms.and_then(|t| i32::try_from(t).ok()))
                .text(kill.kind.as_str())
                .value(kill.killer.slot)
                .text(killer_key)
                .text(killer_name)
                .text(kill.killer.team.as_str())
                .value(kill.killer.pos[0])
                .value(kill.killer.pos[1])
                .value(kill.killer.pos[2])
                .value(kill.victim.slot)
                .text(stats.key(resolved.victim))
                .text(stats.name(resolved.victim))
                .text(kill.victim.team.as_str())
                .value(kill.victim.pos[0])
                .value(kill.victim.pos[1])
                .value(kill.victim.pos[2])
                .value(kill.distance)
                .value(kill.weapon)
                .value(kill.means_of_death)
                .text(&engagement)
                .text(resolved.class.as_str())
                .value(kill.killer_allies.min(i16::MAX as u16))
                .value(kill.victim_allies.min(i16::MAX as u16))
                .text(&stats.allies_json(resolved));
            out.end_row();
        }
    }
    // COPY is not a preparable statement, so no macro checks it: the column list is the
    // order the values are written in above.
    let mut sink = conn
        .copy_in_raw(
            "COPY kill_context (round_id, kill_index, session_date, map_name, round_number,
                game_time, time_ms, kind, killer_slot, killer_guid, killer_name, killer_team,
                killer_x, killer_y, killer_z, victim_slot, victim_guid, victim_name, victim_team,
                victim_x, victim_y, victim_z, distance, weapon, means_of_death, engagement_type,
                engagement_class, killer_allies, victim_allies, supporting_allies) FROM STDIN",
        )
        .await?;
    sink.send(out.into_bytes()).await?;
    sink.finish().await
}

/// A player's row in one new round, ready for `player_rounds`.
struct PlayerRoundRow<'a> {
    round_id: i64,
    session_date: NaiveDate,
    player: &'a PlayerInRound,
}

columns!(PlayerRoundColumns<'a> from PlayerRoundRow<'a> {
    player_guid: &'a str = |r| r.player.key.as_str(),
    round_id: i64 = |r| r.round_id,
    session_date: NaiveDate = |r| r.session_date,
    team: &'a str = |r| r.player.team.as_str(),
    kills: i32 = |r| r.player.kills,
    deaths: i32 = |r| r.player.deaths,
});

/// `player_rounds`: each player's team, kills and deaths in each new round.
pub async fn insert_player_rounds(
    conn: &mut PgConnection,
    rounds: &[KillsOfRound<'_, '_>],
) -> sqlx::Result<()> {
    let rows: Vec<PlayerRoundRow<'_>> = rounds
        .iter()
        .flat_map(|r| {
            r.stats.in_round.iter().map(move |player| PlayerRoundRow {
                round_id: r.round_id,
                session_date: r.row.session_date,
                player,
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let c = PlayerRoundColumns::new(&rows);
    sqlx::query!(
        "INSERT INTO player_rounds (player_guid, round_id, session_date, team, kills, deaths)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::date[], $4::text[], $5::int4[], $6::int4[])",
        &c.player_guid as &[&str],
        &c.round_id,
        &c.session_date,
        &c.team as &[&str],
        &c.kills,
        &c.deaths,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes a stored round's contribution out again: its heatmap roll-up (when done), raw kills,
/// player rounds, head-to-head rows, and (`negated`) every counter it added. The caller then writes the new version.
pub async fn remove_round_contribution(
    conn: &mut PgConnection,
    old: &StoredRound,
    negated: &BatchAggregates,
) -> sqlx::Result<()> {
    if old.heatmap_rolled_up {
        remove_fine_heatmap(conn, old.id).await?;
    }
    super::stats::add_engagements(conn, &[old.id], -1).await?;
    sqlx::query!("DELETE FROM kill_context WHERE round_id = $1", old.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "WITH p AS (DELETE FROM player_rounds WHERE round_id = $1),
              d AS (DELETE FROM player_versus_round_detail WHERE round_id = $1)
         DELETE FROM player_versus_round_streak WHERE round_id = $1",
        old.id
    )
    .execute(&mut *conn)
    .await?;
    super::aggregates::upsert_aggregates(conn, negated).await
}

/// Takes a rolled-up round's kills out of every heatmap rollup (`db::heatmap::unroll_round`).
async fn remove_fine_heatmap(conn: &mut PgConnection, round_id: i64) -> sqlx::Result<()> {
    super::heatmap::unroll_round(&mut *conn, round_id).await?;
    Ok(())
}

/// After a replacement: rows no round contributes to any more (every counter back to zero) go,
/// as they would never have been written by an import of the rounds that remain.
pub async fn delete_emptied_rows(
    conn: &mut PgConnection,
    day: NaiveDate,
    map_name: &str,
    keys: &[&str],
) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH a AS (DELETE FROM player_proximity_stats WHERE session_date = $1
                    AND player_guid = ANY ($3) AND rounds_played = 0),
              b AS (DELETE FROM teammate_synergy_daily WHERE session_date = $1
                    AND player1_guid = ANY ($3) AND rounds_together = 0),
              c AS (DELETE FROM kill_heatmap WHERE session_date = $1 AND map_name = $2
                    AND axis_kills = 0 AND allies_kills = 0),
              d AS (DELETE FROM player_weapon_daily WHERE session_date = $1
                    AND player_guid = ANY ($3) AND kills = 0 AND deaths = 0),
              e AS (DELETE FROM player_versus_daily WHERE session_date = $1
                    AND killer_guid = ANY ($3) AND kills = 0)
         DELETE FROM player_aliases WHERE player_guid = ANY ($3) AND times_seen = 0",
        day,
        map_name,
        keys as &[&str],
    )
    .execute(&mut *conn)
    .await?;
    // A player is known while any of their names is.
    sqlx::query!(
        "DELETE FROM players p WHERE p.player_guid = ANY ($1)
         AND NOT EXISTS (SELECT 1 FROM player_aliases a WHERE a.player_guid = p.player_guid)",
        keys as &[&str],
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A player whose name in the new version of a round differs from the replaced version's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rename<'a> {
    pub key: &'a str,
    pub old: &'a str,
    pub new: &'a str,
}

columns!(RenameColumns<'a> from Rename<'a> {
    key: &'a str = |r| r.key,
    old: &'a str = |r| r.old,
    new: &'a str = |r| r.new,
});

/// After a replacement: where the stored name came from the replaced version of the round (same
/// time, that version's name), the new version's name for the player is the right one.
pub async fn rename_from_replaced(
    conn: &mut PgConnection,
    day: NaiveDate,
    seen: DateTime<Utc>,
    renames: &[Rename<'_>],
) -> sqlx::Result<()> {
    if renames.is_empty() {
        return Ok(());
    }
    let c = RenameColumns::new(renames);
    sqlx::query!(
        "WITH r AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS r(key, old, new)),
         p AS (UPDATE players p SET last_name = r.new FROM r
               WHERE p.player_guid = r.key AND p.last_name = r.old AND p.name_seen = $4)
         UPDATE player_proximity_stats s SET player_name = r.new FROM r
         WHERE s.session_date = $5 AND s.player_guid = r.key AND s.player_name = r.old
           AND s.name_seen = $4",
        &c.key as &[&str],
        &c.old as &[&str],
        &c.new as &[&str],
        seen,
        day,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a new version of a stored round into its row (the id, and so posted summaries, stay).
/// Its kills and heatmap rollups are written again in the same transaction.
pub async fn update_round(conn: &mut PgConnection, id: i64, row: &RoundRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE rounds SET round_key = $2, content_sha256 = $3, format_version = $4, server_id = $5,
            server_name = $6, map_name = $7, file_map_name = $8, round_number = $9, gametype = $10,
            started_at = $11, ended_at = $12, session_date = $13, source_path = $14,
            kill_count = $15, flags = $16, warnings = $17, source_name = $18, content_bytes = $19,
            imported_at = now(), heatmap_rolled_up = true
         WHERE id = $1",
        id,
        row.round_key,
        row.content_sha256,
        row.format_version,
        row.server_id,
        row.server_name,
        row.map_name,
        row.file_map_name,
        row.round_number,
        row.gametype,
        row.started_at,
        row.ended_at,
        row.session_date,
        row.source_path,
        row.kill_count,
        &row.flags,
        row.warnings,
        row.source_name,
        row.content_bytes,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes the row of a stored round whose contribution was taken out (an older duplicate).
pub async fn delete_round(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM rounds WHERE id = $1", id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What changes whenever a round is stored: the rounds table's largest id and row count (a
/// round committed out of id order still changes the count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundsVersion {
    pub max_id: i64,
    pub count: i64,
}

pub async fn version(pool: &PgPool) -> sqlx::Result<RoundsVersion> {
    sqlx::query_as!(
        RoundsVersion,
        r#"SELECT COALESCE(MAX(id), 0) AS "max_id!", COUNT(*) AS "count!" FROM rounds"#
    )
    .fetch_one(pool)
    .await
}

columns!(VersusDetailColumns<'a> from VersusDetail<'a> {
    round_id: i64 = |d| d.round_id,
    killer_guid: &'a str = |d| d.killer_guid,
    victim_guid: &'a str = |d| d.victim_guid,
    weapon: i16 = |d| d.weapon,
    engagement_class: &'a str = |d| d.engagement_class,
    kills: i32 = |d| d.kills,
});

columns!(VersusStreakColumns<'a> from VersusStreak<'a> {
    round_id: i64 = |s| s.round_id,
    killer_guid: &'a str = |s| s.killer_guid,
    victim_guid: &'a str = |s| s.victim_guid,
    longest_streak: i32 = |s| s.longest_streak,
});

/// The head-to-head rows of new rounds (migration 0012), computed from their parsed kills
/// (`ingest::derived::versus_rounds`). A replaced version's rows went with its contribution.
pub async fn insert_versus_rounds(
    conn: &mut PgConnection,
    details: &[VersusDetail<'_>],
    streaks: &[VersusStreak<'_>],
) -> sqlx::Result<()> {
    let d = VersusDetailColumns::new(details);
    let s = VersusStreakColumns::new(streaks);
    sqlx::query!(
        "WITH detail AS (
             INSERT INTO player_versus_round_detail
                 (round_id, killer_guid, victim_guid, weapon, engagement_class, kills)
             SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int2[], $5::text[],
                                  $6::int4[])
         )
         INSERT INTO player_versus_round_streak (round_id, killer_guid, victim_guid, longest_streak)
         SELECT * FROM unnest($7::int8[], $8::text[], $9::text[], $10::int4[])",
        &d.round_id,
        &d.killer_guid as &[&str],
        &d.victim_guid as &[&str],
        &d.weapon,
        &d.engagement_class as &[&str],
        &d.kills,
        &s.round_id,
        &s.killer_guid as &[&str],
        &s.victim_guid as &[&str],
        &s.longest_streak,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
