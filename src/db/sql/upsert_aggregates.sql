-- The aggregates of one import batch, in one round trip: each table's upsert is a step of one
-- WITH (src/db/aggregates.rs binds the arrays, table by table, in the order of its columns!
-- lists). Checked at build time like every query! (sqlx::query_file!).
WITH pl AS (
        INSERT INTO players AS p (player_guid, last_name, is_bot, first_seen, last_seen, name_seen)
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
            last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen)
    ),
    al AS (
        INSERT INTO player_aliases AS a (player_guid, raw_name, name, display_name, first_seen,
                                          last_seen, times_seen)
        SELECT * FROM unnest($7::text[], $8::bytea[], $9::text[], $10::text[], $11::timestamptz[],
                             $12::timestamptz[], $13::int4[])
        ON CONFLICT (player_guid, raw_name) DO UPDATE SET
            times_seen = a.times_seen + EXCLUDED.times_seen,
            first_seen = LEAST(a.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen)
    ),
    dpt AS (
        SELECT *
        FROM unnest($14::date[], $15::text[], $16::text[], $17::bool[], $18::int4[], $19::int4[],
                    $20::int4[], $21::int4[], $22::int4[], $23::int4[], $24::int4[], $25::int4[],
                    $26::int4[], $27::int4[], $28::int4[], $29::int4[], $30::int4[],
                    $31::float8[], $32::float4[], $33::float4[], $34::int4[], $35::timestamptz[])
             AS t(session_date, player_guid, player_name, is_bot, solo_kills, assisted_kills,
                  even_kills, outgunned_kills, solo_deaths, ganked_deaths, even_deaths,
                  outnumbering_deaths, team_kills, team_deaths, suicides, world_deaths,
                  crossfire_participations, sum_kill_distance, min_kill_distance,
                  max_kill_distance, rounds_played, name_seen)
    ),
    dp AS (
        INSERT INTO player_proximity_stats AS s (session_date, player_guid, player_name, is_bot,
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
        FROM dpt AS t
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
            rounds_played = s.rounds_played + EXCLUDED.rounds_played
        RETURNING s.session_date, s.player_guid, s.rounds_played
    ),
    -- All-time player rows: the batch's daily rows summed per player. A daily row counts as a
    -- day played while it has a round, so days_played follows rows that appear or empty.
    pt AS (
        INSERT INTO player_totals AS s (player_guid, is_bot, total_kills, solo_kills,
            assisted_kills, even_kills, outgunned_kills, total_deaths, solo_deaths, ganked_deaths,
            even_deaths, outnumbering_deaths, team_kills, team_deaths, suicides, world_deaths,
            crossfire_participations, sum_kill_distance, rounds_played, days_played)
        SELECT t.player_guid, bool_or(t.is_bot),
            SUM(t.solo_kills + t.assisted_kills + t.even_kills + t.outgunned_kills),
            SUM(t.solo_kills), SUM(t.assisted_kills), SUM(t.even_kills), SUM(t.outgunned_kills),
            SUM(t.solo_deaths + t.ganked_deaths + t.even_deaths + t.outnumbering_deaths),
            SUM(t.solo_deaths), SUM(t.ganked_deaths), SUM(t.even_deaths),
            SUM(t.outnumbering_deaths), SUM(t.team_kills), SUM(t.team_deaths), SUM(t.suicides),
            SUM(t.world_deaths), SUM(t.crossfire_participations), SUM(t.sum_kill_distance),
            SUM(t.rounds_played),
            SUM((d.rounds_played > 0)::int - (d.rounds_played - t.rounds_played > 0)::int)
        FROM dpt AS t JOIN dp AS d USING (session_date, player_guid)
        GROUP BY t.player_guid ORDER BY t.player_guid
        ON CONFLICT (player_guid) DO UPDATE SET
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
            rounds_played = s.rounds_played + EXCLUDED.rounds_played,
            days_played = s.days_played + EXCLUDED.days_played
    ),
    pr AS (
        INSERT INTO teammate_synergy_daily AS s (session_date, player1_guid, player2_guid,
            kills_within_range, simultaneous_kills, trade_kills, rounds_together)
        SELECT * FROM unnest($36::date[], $37::text[], $38::text[], $39::int4[], $40::int4[],
                             $41::int4[], $42::int4[])
        ON CONFLICT (player1_guid, player2_guid, session_date) DO UPDATE SET
            kills_within_range = s.kills_within_range + EXCLUDED.kills_within_range,
            simultaneous_kills = s.simultaneous_kills + EXCLUDED.simultaneous_kills,
            trade_kills = s.trade_kills + EXCLUDED.trade_kills,
            rounds_together = s.rounds_together + EXCLUDED.rounds_together
    ),
    -- All-time pair rows, both directions in one row; each direction's rounds kept apart.
    pa AS (
        INSERT INTO pair_totals AS s (player_a, player_b, kills_within_range, simultaneous_kills,
            trade_kills, rounds_ab, rounds_ba)
        SELECT LEAST(t.p1, t.p2), GREATEST(t.p1, t.p2), SUM(t.kwr), SUM(t.sim), SUM(t.tr),
               COALESCE(SUM(t.rt) FILTER (WHERE t.p1 < t.p2), 0),
               COALESCE(SUM(t.rt) FILTER (WHERE t.p1 > t.p2), 0)
        FROM unnest($37::text[], $38::text[], $39::int4[], $40::int4[], $41::int4[], $42::int4[])
             AS t(p1, p2, kwr, sim, tr, rt)
        WHERE t.p1 <> t.p2
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (player_a, player_b) DO UPDATE SET
            kills_within_range = s.kills_within_range + EXCLUDED.kills_within_range,
            simultaneous_kills = s.simultaneous_kills + EXCLUDED.simultaneous_kills,
            trade_kills = s.trade_kills + EXCLUDED.trade_kills,
            rounds_ab = s.rounds_ab + EXCLUDED.rounds_ab,
            rounds_ba = s.rounds_ba + EXCLUDED.rounds_ba
    ),
    ce AS (
        INSERT INTO kill_heatmap AS h (session_date, map_name, grid_x, grid_y, axis_kills,
                                        allies_kills, total_kills)
        SELECT t.session_date, t.map_name, t.grid_x, t.grid_y, t.axis_kills, t.allies_kills,
               t.axis_kills + t.allies_kills
        FROM unnest($43::date[], $44::text[], $45::int4[], $46::int4[], $47::int4[], $48::int4[])
             AS t(session_date, map_name, grid_x, grid_y, axis_kills, allies_kills)
        ON CONFLICT (session_date, map_name, grid_x, grid_y) DO UPDATE SET
            axis_kills = h.axis_kills + EXCLUDED.axis_kills,
            allies_kills = h.allies_kills + EXCLUDED.allies_kills,
            total_kills = h.total_kills + EXCLUDED.total_kills
    ),
    we AS (
        INSERT INTO player_weapon_daily AS w (player_guid, session_date, weapon, kills, deaths)
        SELECT * FROM unnest($49::text[], $50::date[], $51::int2[], $52::int4[], $53::int4[])
        ON CONFLICT (player_guid, session_date, weapon) DO UPDATE SET
            kills = w.kills + EXCLUDED.kills,
            deaths = w.deaths + EXCLUDED.deaths
    ),
    vs AS (
        INSERT INTO player_versus_daily AS v (killer_guid, victim_guid, session_date, kills)
        SELECT * FROM unnest($54::text[], $55::text[], $56::date[], $57::int4[])
        ON CONFLICT (killer_guid, victim_guid, session_date) DO UPDATE SET
            kills = v.kills + EXCLUDED.kills
    ),
    wt AS (
        INSERT INTO player_weapon_totals AS w (player_guid, weapon, kills, deaths)
        SELECT t.player_guid, t.weapon, SUM(t.kills), SUM(t.deaths)
        FROM unnest($49::text[], $51::int2[], $52::int4[], $53::int4[])
             AS t(player_guid, weapon, kills, deaths)
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (player_guid, weapon) DO UPDATE SET
            kills = w.kills + EXCLUDED.kills,
            deaths = w.deaths + EXCLUDED.deaths
    ),
    vt AS (
        INSERT INTO player_versus_totals AS v (killer_guid, victim_guid, kills)
        SELECT t.killer_guid, t.victim_guid, SUM(t.kills)
        FROM unnest($54::text[], $55::text[], $57::int4[]) AS t(killer_guid, victim_guid, kills)
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (killer_guid, victim_guid) DO UPDATE SET
            kills = v.kills + EXCLUDED.kills
    )
    SELECT 1 AS "done!"
