//! Rounds: writing imported rounds with everything they add. The caller runs these in one
//! transaction; each function is one statement (kills go in with COPY).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use super::copy_text::CopyText;
use crate::round_file::{KillRecord, LineIssue};
use crate::stats::batch::BatchAggregates;
use crate::stats::round_stats::{
    write_engagement_type, DEATH_EVEN, DEATH_GANKED, DEATH_OUTNUMBERING, DEATH_SOLO, KILL_ASSISTED,
    KILL_EVEN, KILL_OUTGUNNED, KILL_SOLO,
};
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

/// Inserts the rounds that are not there yet (same content or same round key). Returns
/// `(index into rows, new round id)` for the ones inserted.
pub async fn insert_rounds(
    conn: &mut PgConnection,
    rows: &[&RoundRow],
) -> sqlx::Result<Vec<(usize, i64)>> {
    let inserted: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO rounds (round_key, content_sha256, format_version, server_id, server_name,
                             map_name, file_map_name, round_number, gametype, started_at, ended_at,
                             session_date, source_path, kill_count, flags, warnings,
                             source_name, content_bytes)
         SELECT t.round_key, t.sha, t.fv, t.server_id, t.server_name, t.map, t.file_map, t.rn, t.gt,
                t.started, t.ended, t.day, t.path, t.kills,
                ARRAY(SELECT jsonb_array_elements_text(t.flags)), t.warnings, t.name, t.len
         FROM unnest($1::text[], $2::text[], $3::int2[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::int2[], $9::int2[], $10::timestamptz[], $11::timestamptz[],
                     $12::date[], $13::text[], $14::int4[], $15::jsonb[], $16::jsonb[],
                     $17::text[], $18::int8[])
              AS t(round_key, sha, fv, server_id, server_name, map, file_map, rn, gt, started,
                   ended, day, path, kills, flags, warnings, name, len)
         ON CONFLICT DO NOTHING
         RETURNING round_key, id",
    )
    .bind(
        rows.iter()
            .map(|r| r.round_key.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.content_sha256.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.format_version).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.server_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.server_name.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.map_name.as_str()).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.file_map_name.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.round_number).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.gametype).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.started_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.ended_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.session_date).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.source_path.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.kill_count).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| serde_json::json!(r.flags))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.warnings.clone()).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.source_name.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.content_bytes).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    Ok(inserted
        .into_iter()
        .filter_map(|(key, id)| {
            rows.iter()
                .position(|r| r.round_key == key)
                .map(|i| (i, id))
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

/// Adds a batch's merged aggregates, in one statement.
pub async fn upsert_aggregates(conn: &mut PgConnection, agg: &BatchAggregates) -> sqlx::Result<()> {
    let daily = &agg.daily_players;
    let count = |f: &dyn Fn(&crate::stats::round_stats::PlayerRoundStats) -> i32| -> Vec<i32> {
        daily.iter().map(|d| f(&d.stats)).collect()
    };
    sqlx::query(UPSERT_AGGREGATES_SQL)
        // players ($1..$5)
        .bind(
            agg.players
                .iter()
                .map(|p| p.key.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.players
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(agg.players.iter().map(|p| p.is_bot).collect::<Vec<_>>())
        .bind(agg.players.iter().map(|p| p.first_seen).collect::<Vec<_>>())
        .bind(agg.players.iter().map(|p| p.last_seen).collect::<Vec<_>>())
        // aliases ($6..$12)
        .bind(
            agg.aliases
                .iter()
                .map(|a| a.key.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.aliases
                .iter()
                .map(|a| a.raw_name.as_slice())
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.aliases
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.aliases
                .iter()
                .map(|a| a.display_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(agg.aliases.iter().map(|a| a.first_seen).collect::<Vec<_>>())
        .bind(agg.aliases.iter().map(|a| a.last_seen).collect::<Vec<_>>())
        .bind(agg.aliases.iter().map(|a| a.times_seen).collect::<Vec<_>>())
        // daily player stats ($13..$33)
        .bind(daily.iter().map(|d| d.session_date).collect::<Vec<_>>())
        .bind(
            daily
                .iter()
                .map(|d| d.stats.key.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            daily
                .iter()
                .map(|d| d.stats.name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(daily.iter().map(|d| d.stats.is_bot).collect::<Vec<_>>())
        .bind(count(&|p| p.kills[KILL_SOLO]))
        .bind(count(&|p| p.kills[KILL_ASSISTED]))
        .bind(count(&|p| p.kills[KILL_EVEN]))
        .bind(count(&|p| p.kills[KILL_OUTGUNNED]))
        .bind(count(&|p| p.deaths[DEATH_SOLO]))
        .bind(count(&|p| p.deaths[DEATH_GANKED]))
        .bind(count(&|p| p.deaths[DEATH_EVEN]))
        .bind(count(&|p| p.deaths[DEATH_OUTNUMBERING]))
        .bind(count(&|p| p.team_kills))
        .bind(count(&|p| p.team_deaths))
        .bind(count(&|p| p.suicides))
        .bind(count(&|p| p.world_deaths))
        .bind(count(&|p| p.crossfire))
        .bind(
            daily
                .iter()
                .map(|d| d.stats.sum_distance)
                .collect::<Vec<_>>(),
        )
        .bind(
            daily
                .iter()
                .map(|d| d.stats.min_distance)
                .collect::<Vec<_>>(),
        )
        .bind(
            daily
                .iter()
                .map(|d| d.stats.max_distance)
                .collect::<Vec<_>>(),
        )
        .bind(daily.iter().map(|d| d.rounds_played).collect::<Vec<_>>())
        // daily pairs ($34..$40)
        .bind(
            agg.daily_pairs
                .iter()
                .map(|p| p.first_seen)
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.daily_pairs
                .iter()
                .map(|p| p.player1.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.daily_pairs
                .iter()
                .map(|p| p.player2.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.daily_pairs
                .iter()
                .map(|p| p.kills_within_range)
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.daily_pairs
                .iter()
                .map(|p| p.simultaneous_kills)
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.daily_pairs
                .iter()
                .map(|p| p.trade_kills)
                .collect::<Vec<_>>(),
        )
        .bind(
            agg.daily_pairs
                .iter()
                .map(|p| p.rounds_together)
                .collect::<Vec<_>>(),
        )
        // heatmap cells ($41..$46)
        .bind(agg.cells.iter().map(|c| c.session_date).collect::<Vec<_>>())
        .bind(
            agg.cells
                .iter()
                .map(|c| c.map_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(agg.cells.iter().map(|c| c.grid_x).collect::<Vec<_>>())
        .bind(agg.cells.iter().map(|c| c.grid_y).collect::<Vec<_>>())
        .bind(agg.cells.iter().map(|c| c.axis_kills).collect::<Vec<_>>())
        .bind(agg.cells.iter().map(|c| c.allies_kills).collect::<Vec<_>>())
        // per-player weapons and opponents ($47..$55)
        .bind(agg.weapons.iter().map(|w| w.0.as_str()).collect::<Vec<_>>())
        .bind(agg.weapons.iter().map(|w| w.1).collect::<Vec<_>>())
        .bind(agg.weapons.iter().map(|w| w.2).collect::<Vec<_>>())
        .bind(agg.weapons.iter().map(|w| w.3).collect::<Vec<_>>())
        .bind(agg.weapons.iter().map(|w| w.4).collect::<Vec<_>>())
        .bind(agg.versus.iter().map(|v| v.0.as_str()).collect::<Vec<_>>())
        .bind(agg.versus.iter().map(|v| v.1.as_str()).collect::<Vec<_>>())
        .bind(agg.versus.iter().map(|v| v.2).collect::<Vec<_>>())
        .bind(agg.versus.iter().map(|v| v.3).collect::<Vec<_>>())
        // when each name was used ($56, $57)
        .bind(agg.players.iter().map(|p| p.name_seen).collect::<Vec<_>>())
        .bind(daily.iter().map(|d| d.name_seen).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `player_rounds`: each player's team, kills and deaths in each new round.
pub async fn insert_player_rounds(
    conn: &mut PgConnection,
    rounds: &[KillsOfRound<'_, '_>],
) -> sqlx::Result<()> {
    let rows: Vec<(i64, NaiveDate, &crate::stats::round_stats::PlayerInRound)> = rounds
        .iter()
        .flat_map(|r| {
            r.stats
                .in_round
                .iter()
                .map(move |p| (r.round_id, r.row.session_date, p))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO player_rounds (player_guid, round_id, session_date, team, kills, deaths)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::date[], $4::text[], $5::int4[], $6::int4[])",
    )
    .bind(rows.iter().map(|r| r.2.key.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2.team.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2.kills).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2.deaths).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One import-log entry: a round that was imported, with the lines it rejected.
pub struct ImportLogEntry<'a> {
    pub source_path: &'a str,
    pub content_sha256: &'a str,
    pub round_id: i64,
    pub rejected: &'a [LineIssue],
    /// Set when this import replaced an earlier version of the round.
    pub message: Option<String>,
}

/// Logs imported rounds and their rejected lines.
pub async fn log_imports(
    conn: &mut PgConnection,
    entries: &[ImportLogEntry<'_>],
) -> sqlx::Result<()> {
    let lines: Vec<(i64, &LineIssue)> = entries
        .iter()
        .flat_map(|e| e.rejected.iter().map(move |l| (e.round_id, l)))
        .collect();
    sqlx::query(
        "WITH lg AS (
            INSERT INTO import_log (source_path, content_sha256, outcome, round_id, message)
            SELECT t.path, t.sha, CASE WHEN t.bad > 0 THEN 'imported_with_rejected_lines' ELSE 'imported' END, t.round_id, t.message
            FROM unnest($1::text[], $2::text[], $3::int8[], $4::int4[], $9::text[]) AS t(path, sha, round_id, bad, message)
            RETURNING id, round_id
         )
         INSERT INTO import_rejected_lines (import_log_id, line_number, reason, line_excerpt)
         SELECT lg.id, t.line, t.reason, t.excerpt
         FROM unnest($5::int8[], $6::int4[], $7::text[], $8::text[]) AS t(round_id, line, reason, excerpt)
         JOIN lg ON lg.round_id = t.round_id
         ON CONFLICT DO NOTHING",
    )
    .bind(entries.iter().map(|e| e.source_path).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.content_sha256).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.round_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.rejected.len() as i32).collect::<Vec<_>>())
    .bind(lines.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(lines.iter().map(|(_, l)| l.line as i32).collect::<Vec<_>>())
    .bind(lines.iter().map(|(_, l)| l.reason.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|(_, l)| l.excerpt.as_str()).collect::<Vec<_>>())
    .bind(
        entries
            .iter()
            .map(|e| e.message.as_deref())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rounds an earlier import stored for these contents or round keys: `(round_key or sha, id, path)`.
pub async fn find_existing(
    conn: &mut PgConnection,
    content_sha256: &[&str],
    round_keys: &[&str],
) -> sqlx::Result<Vec<(String, String, i64, String)>> {
    sqlx::query_as(
        "SELECT content_sha256, round_key, id, source_path FROM rounds
         WHERE content_sha256 = ANY($1) OR round_key = ANY($2)",
    )
    .bind(content_sha256)
    .bind(round_keys)
    .fetch_all(conn)
    .await
}

/// A stored round that a new file may be another version of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredRound {
    pub id: i64,
    pub content_sha256: String,
    pub content_bytes: Option<i64>,
    pub format_version: i16,
    pub source_path: String,
    pub source_name: Option<String>,
    pub session_date: NaiveDate,
    pub map_name: String,
    pub round_number: i16,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub imported_at: DateTime<Utc>,
    pub kill_count: i32,
    pub heatmap_rolled_up: bool,
}

const STORED: &str = "SELECT id, content_sha256, content_bytes, format_version, source_path,
    source_name, session_date, map_name, round_number, started_at, ended_at, imported_at,
    kill_count, heatmap_rolled_up FROM rounds";

/// Takes a transaction-level advisory lock on each key, in sorted order (every import takes
/// them in that order, so two never wait on each other crosswise): imports that could be the
/// same round run one after the other.
pub async fn lock_round_keys(conn: &mut PgConnection, keys: &[String]) -> sqlx::Result<()> {
    let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    // One statement; the function scan hands the rows over in array order.
    sqlx::query(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))
         FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n)",
    )
    .bind(&keys)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Indexed {
    i: i64,
    #[sqlx(flatten)]
    round: StoredRound,
}

/// Stored versions of the rounds of `rows`: `(index into rows, stored round)`, by the v3 round
/// key, or (v2) the same file name on the same server. The rows found are locked (and read
/// again), so a concurrent heatmap roll-up of them finishes first.
pub async fn stored_versions(
    conn: &mut PgConnection,
    rows: &[&RoundRow],
) -> sqlx::Result<Vec<(usize, StoredRound)>> {
    let columns = "r.id, r.content_sha256, r.content_bytes, r.format_version, r.source_path,
        r.source_name, r.session_date, r.map_name, r.round_number, r.started_at, r.ended_at,
        r.imported_at, r.kill_count, r.heatmap_rolled_up";
    let found: Vec<Indexed> = sqlx::query_as(&format!(
        "SELECT t.i, {columns}
         FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[]) WITH ORDINALITY
              AS t(key, fv, server, name, i)
         JOIN rounds r ON r.round_key = t.key WHERE t.fv <> 2
         UNION ALL
         SELECT t.i, {columns}
         FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[]) WITH ORDINALITY
              AS t(key, fv, server, name, i)
         JOIN rounds r ON r.format_version = 2 AND r.server_id = t.server AND r.source_name = t.name
         WHERE t.fv = 2"
    ))
    .bind(
        rows.iter()
            .map(|r| r.round_key.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.format_version).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.server_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.source_name.as_str())
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = found.iter().map(|f| f.round.id).collect();
    let locked: Vec<StoredRound> = sqlx::query_as(&format!(
        "{STORED} WHERE id = ANY ($1) ORDER BY id FOR UPDATE"
    ))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<(usize, StoredRound)> = found
        .iter()
        .filter_map(|f| {
            let round = locked.iter().find(|l| l.id == f.round.id)?.clone();
            Some((usize::try_from(f.i - 1).ok()?, round))
        })
        .collect();
    out.sort_by_key(|(i, r)| (*i, r.id));
    Ok(out)
}

/// Rounds written by the other tracker that may be one of `rows`: same map and round number,
/// time windows within two minutes of each other. `(index into rows, stored round)`.
pub async fn other_tracker_candidates(
    conn: &mut PgConnection,
    rows: &[&RoundRow],
) -> sqlx::Result<Vec<(usize, StoredRound)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<Indexed> = sqlx::query_as(
        "SELECT t.i, r.id, r.content_sha256, r.content_bytes, r.format_version, r.source_path,
                r.source_name, r.session_date, r.map_name, r.round_number, r.started_at,
                r.ended_at, r.imported_at, r.kill_count, r.heatmap_rolled_up
         FROM unnest($1::text[], $2::int2[], $3::int2[], $4::timestamptz[], $5::timestamptz[])
              WITH ORDINALITY AS t(map, rn, fv, s, e, i)
         JOIN rounds r ON r.map_name = t.map AND r.round_number = t.rn AND r.format_version <> t.fv
          -- A range of the (map_name, round_number, ended_at) index (every imported round has
          -- an end time; no round lasts six hours) ...
          AND r.ended_at BETWEEN t.s - interval '2 minutes' AND t.e + interval '6 hours'
          -- ... then the overlap itself.
          AND COALESCE(r.started_at, r.ended_at) <= t.e + interval '2 minutes'
         ORDER BY t.i, r.id",
    )
    .bind(rows.iter().map(|r| r.map_name.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.round_number).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.format_version).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.started_at.or(r.ended_at))
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.ended_at.or(r.started_at))
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(found
        .into_iter()
        .filter_map(|f| Some((usize::try_from(f.i - 1).ok()?, f.round)))
        .collect())
}

/// (killer, victim, means of death) of a stored round's kills and team kills by a player.
pub async fn kill_signatures(
    conn: &mut PgConnection,
    round_id: i64,
) -> sqlx::Result<Vec<(String, String, i16)>> {
    let mut rows: Vec<(String, String, i16)> = sqlx::query_as(
        "SELECT killer_guid, victim_guid, means_of_death FROM kill_context
         WHERE round_id = $1 AND kind IN ('kill', 'teamkill') AND killer_guid <> ''",
    )
    .bind(round_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.sort();
    Ok(rows)
}

/// Raw kill rows still stored for a round (0 once its day was archived).
pub async fn stored_kill_rows(conn: &mut PgConnection, round_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM kill_context WHERE round_id = $1")
        .bind(round_id)
        .fetch_one(&mut *conn)
        .await
}

/// Takes a stored round's contribution out again: its heatmap roll-up (when done), raw kills,
/// player rounds, and (`negated`) every counter it added. The caller then writes the new version.
pub async fn remove_round_contribution(
    conn: &mut PgConnection,
    old: &StoredRound,
    negated: &BatchAggregates,
) -> sqlx::Result<()> {
    if old.heatmap_rolled_up {
        sqlx::query(
            "WITH cells AS (
                SELECT k.map_name, 'victim'::text AS position, k.victim_team AS team,
                       floor(greatest(-1e6, least(1e6, k.victim_x / 64)))::int AS cell_x,
                       floor(greatest(-1e6, least(1e6, k.victim_y / 64)))::int AS cell_y,
                       count(*)::int AS kills
                FROM kill_context k WHERE k.round_id = $1 AND k.kind = 'kill'
                GROUP BY 1, 2, 3, 4, 5
                UNION ALL
                SELECT k.map_name, 'killer'::text, k.killer_team,
                       floor(greatest(-1e6, least(1e6, k.killer_x / 64)))::int,
                       floor(greatest(-1e6, least(1e6, k.killer_y / 64)))::int, count(*)::int
                FROM kill_context k WHERE k.round_id = $1 AND k.kind = 'kill'
                GROUP BY 1, 2, 3, 4, 5),
             upd AS (
                UPDATE kill_heatmap_fine_total f SET kills = f.kills - c.kills FROM cells c
                WHERE f.map_name = c.map_name AND f.position = c.position AND f.team = c.team
                  AND f.cell_x = c.cell_x AND f.cell_y = c.cell_y
                RETURNING f.map_name, f.position, f.team, f.cell_x, f.cell_y, f.kills)
             DELETE FROM kill_heatmap_fine_total f USING upd
             WHERE upd.kills = 0 AND f.map_name = upd.map_name AND f.position = upd.position
               AND f.team = upd.team AND f.cell_x = upd.cell_x AND f.cell_y = upd.cell_y",
        )
        .bind(old.id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM kill_context WHERE round_id = $1")
        .bind(old.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM player_rounds WHERE round_id = $1")
        .bind(old.id)
        .execute(&mut *conn)
        .await?;
    upsert_aggregates(conn, negated).await
}

/// After a replacement: rows no round contributes to any more (every counter back to zero) go,
/// as they would never have been written by an import of the rounds that remain.
pub async fn delete_emptied_rows(
    conn: &mut PgConnection,
    day: NaiveDate,
    map_name: &str,
    keys: &[&str],
) -> sqlx::Result<()> {
    sqlx::query(
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
    )
    .bind(day)
    .bind(map_name)
    .bind(keys)
    .execute(&mut *conn)
    .await?;
    // A player is known while any of their names is.
    sqlx::query(
        "DELETE FROM players p WHERE p.player_guid = ANY ($1)
         AND NOT EXISTS (SELECT 1 FROM player_aliases a WHERE a.player_guid = p.player_guid)",
    )
    .bind(keys)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// After a replacement: where the stored name came from the replaced version of the round (same
/// time, that version's name), the new version's name for the player is the right one.
pub async fn rename_from_replaced(
    conn: &mut PgConnection,
    day: NaiveDate,
    seen: DateTime<Utc>,
    renames: &[(&str, &str, &str)],
) -> sqlx::Result<()> {
    if renames.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = renames.iter().map(|r| r.0).collect();
    let old: Vec<&str> = renames.iter().map(|r| r.1).collect();
    let new: Vec<&str> = renames.iter().map(|r| r.2).collect();
    sqlx::query(
        "WITH r AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS r(key, old, new)),
         p AS (UPDATE players p SET last_name = r.new FROM r
               WHERE p.player_guid = r.key AND p.last_name = r.old AND p.name_seen = $4)
         UPDATE player_proximity_stats s SET player_name = r.new FROM r
         WHERE s.session_date = $5 AND s.player_guid = r.key AND s.player_name = r.old
           AND s.name_seen = $4",
    )
    .bind(&keys)
    .bind(&old)
    .bind(&new)
    .bind(seen)
    .bind(day)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a new version of a stored round into its row (the id, and so posted summaries, stay).
/// Its kills are written again, so the heatmap roll-up is due again.
pub async fn update_round(conn: &mut PgConnection, id: i64, row: &RoundRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE rounds SET round_key = $2, content_sha256 = $3, format_version = $4, server_id = $5,
            server_name = $6, map_name = $7, file_map_name = $8, round_number = $9, gametype = $10,
            started_at = $11, ended_at = $12, session_date = $13, source_path = $14,
            kill_count = $15, flags = $16, warnings = $17, source_name = $18, content_bytes = $19,
            imported_at = now(), heatmap_rolled_up = false
         WHERE id = $1",
    )
    .bind(id)
    .bind(&row.round_key)
    .bind(&row.content_sha256)
    .bind(row.format_version)
    .bind(&row.server_id)
    .bind(&row.server_name)
    .bind(&row.map_name)
    .bind(&row.file_map_name)
    .bind(row.round_number)
    .bind(row.gametype)
    .bind(row.started_at)
    .bind(row.ended_at)
    .bind(row.session_date)
    .bind(&row.source_path)
    .bind(row.kill_count)
    .bind(&row.flags)
    .bind(&row.warnings)
    .bind(&row.source_name)
    .bind(row.content_bytes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes the row of a stored round whose contribution was taken out (an older duplicate).
pub async fn delete_round(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rounds WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Logs a file that was not imported because it is another copy of a stored round; once per
/// path, content and outcome.
pub async fn log_not_imported(
    conn: &mut PgConnection,
    source_path: &str,
    content_sha256: &str,
    outcome: &str,
    round_id: Option<i64>,
    message: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO import_log (source_path, content_sha256, outcome, round_id, message)
         SELECT $1, $2, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM import_log WHERE source_path = $1
                           AND content_sha256 IS NOT DISTINCT FROM $2 AND outcome = $3)",
    )
    .bind(source_path)
    .bind(content_sha256)
    .bind(outcome)
    .bind(round_id)
    .bind(message)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const UPSERT_AGGREGATES_SQL: &str = r#"
WITH pl AS (
    INSERT INTO players AS p (player_guid, last_name, is_bot, first_seen, last_seen, name_seen)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::timestamptz[], $5::timestamptz[],
                         $56::timestamptz[])
    ON CONFLICT (player_guid) DO UPDATE SET
        -- stats::batch::newer_name: a name beats none, the later round wins, ties go to the
        -- greater name; never the order of imports.
        last_name = CASE WHEN (EXCLUDED.last_name <> '', EXCLUDED.name_seen, EXCLUDED.last_name COLLATE "C")
                            > (p.last_name <> '', COALESCE(p.name_seen, '-infinity'), p.last_name COLLATE "C")
                         THEN EXCLUDED.last_name ELSE p.last_name END,
        name_seen = CASE WHEN (EXCLUDED.last_name <> '', EXCLUDED.name_seen, EXCLUDED.last_name COLLATE "C")
                            > (p.last_name <> '', COALESCE(p.name_seen, '-infinity'), p.last_name COLLATE "C")
                         THEN EXCLUDED.name_seen ELSE p.name_seen END,
        is_bot = p.is_bot OR EXCLUDED.is_bot,
        first_seen = LEAST(p.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen)
),
al AS (
    INSERT INTO player_aliases AS a (player_guid, raw_name, name, display_name, first_seen, last_seen, times_seen)
    SELECT * FROM unnest($6::text[], $7::bytea[], $8::text[], $9::text[], $10::timestamptz[],
                         $11::timestamptz[], $12::int4[])
    ON CONFLICT (player_guid, raw_name) DO UPDATE SET
        times_seen = a.times_seen + EXCLUDED.times_seen,
        first_seen = LEAST(a.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen)
),
st AS (
    INSERT INTO player_proximity_stats AS s (session_date, player_guid, player_name, is_bot,
        total_kills, solo_kills, assisted_kills, even_kills, outgunned_kills,
        total_deaths, solo_deaths, ganked_deaths, even_deaths, outnumbering_deaths,
        team_kills, team_deaths, suicides, world_deaths, crossfire_participations,
        sum_kill_distance, min_kill_distance, max_kill_distance, rounds_played, name_seen)
    SELECT t.day, t.key, t.name, t.is_bot,
        t.ks + t.ka + t.ke + t.ko, t.ks, t.ka, t.ke, t.ko,
        t.ds + t.dg + t.de + t.dn, t.ds, t.dg, t.de, t.dn,
        t.tk, t.td, t.su, t.wd, t.cf, t.sum_d, t.min_d, t.max_d, t.rounds, t.name_seen
    FROM unnest($13::date[], $14::text[], $15::text[], $16::bool[], $17::int4[], $18::int4[],
                $19::int4[], $20::int4[], $21::int4[], $22::int4[], $23::int4[], $24::int4[],
                $25::int4[], $26::int4[], $27::int4[], $28::int4[], $29::int4[], $30::float8[],
                $31::float4[], $32::float4[], $33::int4[], $57::timestamptz[])
         AS t(day, key, name, is_bot, ks, ka, ke, ko, ds, dg, de, dn, tk, td, su, wd, cf, sum_d,
              min_d, max_d, rounds, name_seen)
    ON CONFLICT (session_date, player_guid) DO UPDATE SET
        player_name = CASE WHEN (EXCLUDED.player_name <> '', EXCLUDED.name_seen, EXCLUDED.player_name COLLATE "C")
                              > (s.player_name <> '', COALESCE(s.name_seen, '-infinity'), s.player_name COLLATE "C")
                           THEN EXCLUDED.player_name ELSE s.player_name END,
        name_seen = CASE WHEN (EXCLUDED.player_name <> '', EXCLUDED.name_seen, EXCLUDED.player_name COLLATE "C")
                            > (s.player_name <> '', COALESCE(s.name_seen, '-infinity'), s.player_name COLLATE "C")
                         THEN EXCLUDED.name_seen ELSE s.name_seen END,
        is_bot = s.is_bot OR EXCLUDED.is_bot,
        total_kills = s.total_kills + EXCLUDED.total_kills,
        solo_kills = s.solo_kills + EXCLUDED.solo_kills,
        assisted_kills = s.assisted_kills + EXCLUDED.assisted_kills,
        even_kills = s.even_kills + EXCLUDED.even_kills,
        outgunned_kills = s.outgunned_kills + EXCLUDED.outgunned_kills,
        total_deaths = s.total_deaths + EXCLUDED.total_deaths,
        solo_deaths = s.solo_deaths + EXCLUDED.solo_deaths,
        ganked_deaths = s.ganked_deaths + EXCLUDED.ganked_deaths,
        even_deaths = s.even_deaths + EXCLUDED.even_deaths,
        outnumbering_deaths = s.outnumbering_deaths + EXCLUDED.outnumbering_deaths,
        team_kills = s.team_kills + EXCLUDED.team_kills,
        team_deaths = s.team_deaths + EXCLUDED.team_deaths,
        suicides = s.suicides + EXCLUDED.suicides,
        world_deaths = s.world_deaths + EXCLUDED.world_deaths,
        crossfire_participations = s.crossfire_participations + EXCLUDED.crossfire_participations,
        sum_kill_distance = s.sum_kill_distance + EXCLUDED.sum_kill_distance,
        min_kill_distance = LEAST(s.min_kill_distance, EXCLUDED.min_kill_distance),
        max_kill_distance = GREATEST(s.max_kill_distance, EXCLUDED.max_kill_distance),
        rounds_played = s.rounds_played + EXCLUDED.rounds_played
),
syd AS (
    INSERT INTO teammate_synergy_daily AS s (session_date, player1_guid, player2_guid,
        kills_within_range, simultaneous_kills, trade_kills, rounds_together)
    SELECT * FROM unnest($34::date[], $35::text[], $36::text[], $37::int4[], $38::int4[],
                         $39::int4[], $40::int4[])
    ON CONFLICT (player1_guid, player2_guid, session_date) DO UPDATE SET
        kills_within_range = s.kills_within_range + EXCLUDED.kills_within_range,
        simultaneous_kills = s.simultaneous_kills + EXCLUDED.simultaneous_kills,
        trade_kills = s.trade_kills + EXCLUDED.trade_kills,
        rounds_together = s.rounds_together + EXCLUDED.rounds_together
),
hm AS (
    INSERT INTO kill_heatmap AS h (session_date, map_name, grid_x, grid_y, axis_kills, allies_kills, total_kills)
    SELECT t.day, t.map, t.gx, t.gy, t.ax, t.al, t.ax + t.al
    FROM unnest($41::date[], $42::text[], $43::int4[], $44::int4[], $45::int4[], $46::int4[])
         AS t(day, map, gx, gy, ax, al)
    ON CONFLICT (session_date, map_name, grid_x, grid_y) DO UPDATE SET
        axis_kills = h.axis_kills + EXCLUDED.axis_kills,
        allies_kills = h.allies_kills + EXCLUDED.allies_kills,
        total_kills = h.total_kills + EXCLUDED.total_kills
),
pw AS (
    INSERT INTO player_weapon_daily AS w (player_guid, session_date, weapon, kills, deaths)
    SELECT * FROM unnest($47::text[], $48::date[], $49::int2[], $50::int4[], $51::int4[])
    ON CONFLICT (player_guid, session_date, weapon) DO UPDATE SET
        kills = w.kills + EXCLUDED.kills,
        deaths = w.deaths + EXCLUDED.deaths
)
INSERT INTO player_versus_daily AS v (killer_guid, victim_guid, session_date, kills)
SELECT * FROM unnest($52::text[], $53::text[], $54::date[], $55::int4[])
ON CONFLICT (killer_guid, victim_guid, session_date) DO UPDATE SET
    kills = v.kills + EXCLUDED.kills
"#;
