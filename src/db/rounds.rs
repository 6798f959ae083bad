//! Rounds: writing one imported round, with everything it adds, in a single statement.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::round_file::{KillRecord, LineIssue};
use crate::stats::round_stats::{
    DEATH_EVEN, DEATH_GANKED, DEATH_OUTNUMBERING, DEATH_SOLO, KILL_ASSISTED, KILL_EVEN,
    KILL_OUTGUNNED, KILL_SOLO,
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
    pub flags: Vec<String>,
    pub warnings: serde_json::Value,
}

/// Inserts the round and everything it adds, atomically. Returns the new round id, or `None`
/// when the same content or the same round id was imported before (then nothing changes).
pub async fn insert_round(
    conn: &mut PgConnection,
    row: &RoundRow,
    kills: &[KillRecord<'_>],
    stats: &RoundStats,
    rejected: &[LineIssue],
) -> sqlx::Result<Option<i64>> {
    let seen = row.started_at.or(row.ended_at).unwrap_or_else(Utc::now);
    let k = &stats.kills;
    let col = |f: &dyn Fn(usize) -> f32| -> Vec<f32> { (0..kills.len()).map(f).collect() };

    let players = &stats.players;
    let count = |f: &dyn Fn(&crate::stats::round_stats::PlayerRoundStats) -> i32| -> Vec<i32> {
        players.iter().map(f).collect()
    };
    let name_of = |key: &str| -> String {
        players
            .binary_search_by(|p| p.key.as_str().cmp(key))
            .map(|i| players[i].name.clone())
            .unwrap_or_default()
    };
    let outcome = if rejected.is_empty() {
        "imported"
    } else {
        "imported_with_rejected_lines"
    };

    let id: Option<(i64,)> = sqlx::query_as(INSERT_ROUND_SQL)
        // round
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
        .bind(kills.len() as i32)
        .bind(&row.flags)
        .bind(&row.warnings)
        // kills ($17..)
        .bind(k.iter().map(|x| x.index).collect::<Vec<i32>>())
        .bind(kills.iter().map(|x| x.game_time).collect::<Vec<i64>>())
        .bind(
            kills
                .iter()
                .map(|x| x.time_ms.and_then(|t| i32::try_from(t).ok()))
                .collect::<Vec<Option<i32>>>(),
        )
        .bind(kills.iter().map(|x| x.kind.as_str()).collect::<Vec<&str>>())
        .bind(kills.iter().map(|x| x.killer.slot).collect::<Vec<i16>>())
        .bind(
            k.iter()
                .map(|x| x.killer_key.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            k.iter()
                .map(|x| x.killer_name.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            kills
                .iter()
                .map(|x| x.killer.team.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(col(&|i| kills[i].killer.pos[0]))
        .bind(col(&|i| kills[i].killer.pos[1]))
        .bind(col(&|i| kills[i].killer.pos[2]))
        .bind(kills.iter().map(|x| x.victim.slot).collect::<Vec<i16>>())
        .bind(
            k.iter()
                .map(|x| x.victim_key.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            k.iter()
                .map(|x| x.victim_name.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            kills
                .iter()
                .map(|x| x.victim.team.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(col(&|i| kills[i].victim.pos[0]))
        .bind(col(&|i| kills[i].victim.pos[1]))
        .bind(col(&|i| kills[i].victim.pos[2]))
        .bind(col(&|i| kills[i].distance))
        .bind(kills.iter().map(|x| x.weapon).collect::<Vec<i16>>())
        .bind(kills.iter().map(|x| x.means_of_death).collect::<Vec<i16>>())
        .bind(
            k.iter()
                .map(|x| x.engagement_type.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(k.iter().map(|x| x.class.as_str()).collect::<Vec<&str>>())
        .bind(
            kills
                .iter()
                .map(|x| x.killer_allies.min(i16::MAX as u16) as i16)
                .collect::<Vec<i16>>(),
        )
        .bind(
            kills
                .iter()
                .map(|x| x.victim_allies.min(i16::MAX as u16) as i16)
                .collect::<Vec<i16>>(),
        )
        .bind(
            k.iter()
                .map(|x| x.supporting_allies.to_string())
                .collect::<Vec<String>>(),
        )
        // players ($43..)
        .bind(
            players
                .iter()
                .map(|p| p.key.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            players
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(players.iter().map(|p| p.is_bot).collect::<Vec<bool>>())
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
        .bind(players.iter().map(|p| p.sum_distance).collect::<Vec<f64>>())
        .bind(
            players
                .iter()
                .map(|p| p.min_distance)
                .collect::<Vec<Option<f32>>>(),
        )
        .bind(
            players
                .iter()
                .map(|p| p.max_distance)
                .collect::<Vec<Option<f32>>>(),
        )
        // pairs ($62..)
        .bind(
            stats
                .pairs
                .iter()
                .map(|p| p.player1.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            stats
                .pairs
                .iter()
                .map(|p| p.player2.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            stats
                .pairs
                .iter()
                .map(|p| name_of(&p.player1))
                .collect::<Vec<String>>(),
        )
        .bind(
            stats
                .pairs
                .iter()
                .map(|p| name_of(&p.player2))
                .collect::<Vec<String>>(),
        )
        .bind(
            stats
                .pairs
                .iter()
                .map(|p| p.kills_within_range)
                .collect::<Vec<i32>>(),
        )
        .bind(
            stats
                .pairs
                .iter()
                .map(|p| p.simultaneous_kills)
                .collect::<Vec<i32>>(),
        )
        .bind(
            stats
                .pairs
                .iter()
                .map(|p| p.trade_kills)
                .collect::<Vec<i32>>(),
        )
        // heatmap cells ($69..)
        .bind(stats.cells.iter().map(|c| c.grid_x).collect::<Vec<i32>>())
        .bind(stats.cells.iter().map(|c| c.grid_y).collect::<Vec<i32>>())
        .bind(
            stats
                .cells
                .iter()
                .map(|c| c.axis_kills)
                .collect::<Vec<i32>>(),
        )
        .bind(
            stats
                .cells
                .iter()
                .map(|c| c.allies_kills)
                .collect::<Vec<i32>>(),
        )
        // aliases ($73..)
        .bind(
            stats
                .aliases
                .iter()
                .map(|a| a.key.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            stats
                .aliases
                .iter()
                .map(|a| a.raw_name.as_slice())
                .collect::<Vec<&[u8]>>(),
        )
        .bind(
            stats
                .aliases
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            stats
                .aliases
                .iter()
                .map(|a| a.display_name.as_str())
                .collect::<Vec<&str>>(),
        )
        // seen time, import log ($77..)
        .bind(seen)
        .bind(outcome)
        .bind(rejected.iter().map(|l| l.line as i32).collect::<Vec<i32>>())
        .bind(
            rejected
                .iter()
                .map(|l| l.reason.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(
            rejected
                .iter()
                .map(|l| l.excerpt.as_str())
                .collect::<Vec<&str>>(),
        )
        .fetch_optional(&mut *conn)
        .await?;
    Ok(id.map(|(id,)| id))
}

/// The round an earlier import stored for this content or round key.
pub async fn find_existing(
    conn: &mut PgConnection,
    content_sha256: &str,
    round_key: &str,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, source_path FROM rounds WHERE content_sha256 = $1 OR round_key = $2 LIMIT 1",
    )
    .bind(content_sha256)
    .bind(round_key)
    .fetch_optional(conn)
    .await
}

/// One statement, so the round and all it adds commit or fail together. Every part joins on `r`:
/// when the round exists already, `r` is empty and nothing else is written.
const INSERT_ROUND_SQL: &str = r#"
WITH r AS (
    INSERT INTO rounds (round_key, content_sha256, format_version, server_id, server_name, map_name,
                        file_map_name, round_number, gametype, started_at, ended_at, session_date,
                        source_path, kill_count, flags, warnings)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
    ON CONFLICT DO NOTHING
    RETURNING id, session_date, map_name, round_number
),
k AS (
    INSERT INTO kill_context (round_id, kill_index, session_date, map_name, round_number, game_time,
        time_ms, kind, killer_slot, killer_guid, killer_name, killer_team, killer_x, killer_y,
        killer_z, victim_slot, victim_guid, victim_name, victim_team, victim_x, victim_y, victim_z,
        distance, weapon, means_of_death, engagement_type, engagement_class, killer_allies,
        victim_allies, supporting_allies)
    SELECT r.id, t.kill_index, r.session_date, r.map_name, r.round_number, t.game_time, t.time_ms,
        t.kind, t.killer_slot, t.killer_guid, t.killer_name, t.killer_team, t.kx, t.ky, t.kz,
        t.victim_slot, t.victim_guid, t.victim_name, t.victim_team, t.vx, t.vy, t.vz, t.distance,
        t.weapon, t.mod, t.engagement_type, t.engagement_class, t.ka, t.va, t.allies::jsonb
    FROM r, unnest($17::int4[], $18::int8[], $19::int4[], $20::text[], $21::int2[], $22::text[],
                   $23::text[], $24::text[], $25::float4[], $26::float4[], $27::float4[],
                   $28::int2[], $29::text[], $30::text[], $31::text[], $32::float4[],
                   $33::float4[], $34::float4[], $35::float4[], $36::int2[], $37::int2[],
                   $38::text[], $39::text[], $40::int2[], $41::int2[], $42::text[])
         AS t(kill_index, game_time, time_ms, kind, killer_slot, killer_guid, killer_name,
              killer_team, kx, ky, kz, victim_slot, victim_guid, victim_name, victim_team, vx, vy,
              vz, distance, weapon, mod, engagement_type, engagement_class, ka, va, allies)
),
pl AS (
    INSERT INTO players (player_guid, last_name, is_bot, first_seen, last_seen)
    SELECT t.key, t.name, t.is_bot, $77, $77
    FROM r, unnest($43::text[], $44::text[], $45::bool[]) AS t(key, name, is_bot)
    ON CONFLICT (player_guid) DO UPDATE SET
        last_name = CASE WHEN EXCLUDED.last_seen >= players.last_seen AND EXCLUDED.last_name <> ''
                         THEN EXCLUDED.last_name ELSE players.last_name END,
        is_bot = players.is_bot OR EXCLUDED.is_bot,
        first_seen = LEAST(players.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(players.last_seen, EXCLUDED.last_seen)
),
al AS (
    INSERT INTO player_aliases (player_guid, raw_name, name, display_name, first_seen, last_seen, times_seen)
    SELECT t.key, t.raw, t.name, t.display, $77, $77, 1
    FROM r, unnest($73::text[], $74::bytea[], $75::text[], $76::text[]) AS t(key, raw, name, display)
    ON CONFLICT (player_guid, raw_name) DO UPDATE SET
        times_seen = player_aliases.times_seen + 1,
        first_seen = LEAST(player_aliases.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(player_aliases.last_seen, EXCLUDED.last_seen)
),
st AS (
    INSERT INTO player_proximity_stats AS s (session_date, player_guid, player_name, is_bot,
        total_kills, solo_kills, assisted_kills, even_kills, outgunned_kills,
        total_deaths, solo_deaths, ganked_deaths, even_deaths, outnumbering_deaths,
        team_kills, team_deaths, suicides, world_deaths, crossfire_participations,
        sum_kill_distance, min_kill_distance, max_kill_distance, rounds_played)
    SELECT r.session_date, t.key, t.name, t.is_bot,
        t.ks + t.ka + t.ke + t.ko, t.ks, t.ka, t.ke, t.ko,
        t.ds + t.dg + t.de + t.dn, t.ds, t.dg, t.de, t.dn,
        t.tk, t.td, t.su, t.wd, t.cf, t.sum_d, t.min_d, t.max_d, 1
    FROM r, unnest($43::text[], $44::text[], $45::bool[], $46::int4[], $47::int4[], $48::int4[],
                   $49::int4[], $50::int4[], $51::int4[], $52::int4[], $53::int4[], $54::int4[],
                   $55::int4[], $56::int4[], $57::int4[], $58::int4[], $59::float8[],
                   $60::float4[], $61::float4[])
         AS t(key, name, is_bot, ks, ka, ke, ko, ds, dg, de, dn, tk, td, su, wd, cf, sum_d, min_d, max_d)
    ON CONFLICT (session_date, player_guid) DO UPDATE SET
        player_name = CASE WHEN EXCLUDED.player_name <> '' THEN EXCLUDED.player_name ELSE s.player_name END,
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
        rounds_played = s.rounds_played + 1
),
sy AS (
    INSERT INTO teammate_synergy AS s (player1_guid, player2_guid, player1_name, player2_name,
        kills_within_range, simultaneous_kills, trade_kills, rounds_together, first_seen, last_seen)
    SELECT t.p1, t.p2, t.n1, t.n2, t.kwr, t.sim, t.trade, 1, r.session_date, r.session_date
    FROM r, unnest($62::text[], $63::text[], $64::text[], $65::text[], $66::int4[], $67::int4[],
                   $68::int4[]) AS t(p1, p2, n1, n2, kwr, sim, trade)
    ON CONFLICT (player1_guid, player2_guid) DO UPDATE SET
        player1_name = CASE WHEN EXCLUDED.last_seen >= s.last_seen AND EXCLUDED.player1_name <> ''
                            THEN EXCLUDED.player1_name ELSE s.player1_name END,
        player2_name = CASE WHEN EXCLUDED.last_seen >= s.last_seen AND EXCLUDED.player2_name <> ''
                            THEN EXCLUDED.player2_name ELSE s.player2_name END,
        kills_within_range = s.kills_within_range + EXCLUDED.kills_within_range,
        simultaneous_kills = s.simultaneous_kills + EXCLUDED.simultaneous_kills,
        trade_kills = s.trade_kills + EXCLUDED.trade_kills,
        rounds_together = s.rounds_together + 1,
        first_seen = LEAST(s.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen)
),
syd AS (
    INSERT INTO teammate_synergy_daily AS s (session_date, player1_guid, player2_guid,
        kills_within_range, simultaneous_kills, trade_kills, rounds_together)
    SELECT r.session_date, t.p1, t.p2, t.kwr, t.sim, t.trade, 1
    FROM r, unnest($62::text[], $63::text[], $66::int4[], $67::int4[], $68::int4[])
         AS t(p1, p2, kwr, sim, trade)
    ON CONFLICT (session_date, player1_guid, player2_guid) DO UPDATE SET
        kills_within_range = s.kills_within_range + EXCLUDED.kills_within_range,
        simultaneous_kills = s.simultaneous_kills + EXCLUDED.simultaneous_kills,
        trade_kills = s.trade_kills + EXCLUDED.trade_kills,
        rounds_together = s.rounds_together + 1
),
hm AS (
    INSERT INTO kill_heatmap AS h (session_date, map_name, grid_x, grid_y, axis_kills, allies_kills, total_kills)
    SELECT r.session_date, r.map_name, t.gx, t.gy, t.ax, t.al, t.ax + t.al
    FROM r, unnest($69::int4[], $70::int4[], $71::int4[], $72::int4[]) AS t(gx, gy, ax, al)
    ON CONFLICT (session_date, map_name, grid_x, grid_y) DO UPDATE SET
        axis_kills = h.axis_kills + EXCLUDED.axis_kills,
        allies_kills = h.allies_kills + EXCLUDED.allies_kills,
        total_kills = h.total_kills + EXCLUDED.total_kills
),
lg AS (
    INSERT INTO import_log (source_path, content_sha256, outcome, round_id, message)
    SELECT $13, $2, $78, r.id, NULL FROM r
    RETURNING id
),
ll AS (
    INSERT INTO import_rejected_lines (import_log_id, line_number, reason, line_excerpt)
    SELECT lg.id, t.line, t.reason, t.excerpt
    FROM lg, unnest($79::int4[], $80::text[], $81::text[]) AS t(line, reason, excerpt)
    ON CONFLICT DO NOTHING
)
SELECT id FROM r
"#;
