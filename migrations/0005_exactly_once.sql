-- Every round once, whatever the order; upgrades keep history; retention with one cutoff.

-- A round's identity besides its content: the file name (a v2 file is one round per server and
-- name, whatever it held when it was read) and the length that was read, so a later, longer
-- version of the same file can be recognised as the same bytes grown (and replace it).
ALTER TABLE rounds ADD COLUMN source_name TEXT;
ALTER TABLE rounds ADD COLUMN content_bytes BIGINT;
UPDATE rounds SET source_name = regexp_replace(source_path, '^.*[/\\]', '');
CREATE INDEX rounds_source_name_idx ON rounds (server_id, source_name) WHERE format_version = 2;
-- The same round written by both trackers is found by map, round number and time.
CREATE INDEX rounds_map_round_time_idx ON rounds (map_name, round_number, ended_at);

-- The name shown is the one of the latest round by game time (not the last imported); a tie
-- (two rounds in the same second) goes to the greater name, so the order never matters.
-- name_seen is when the stored name was used.
ALTER TABLE players ADD COLUMN name_seen TIMESTAMPTZ;
UPDATE players SET name_seen = last_seen;
ALTER TABLE player_proximity_stats ADD COLUMN name_seen TIMESTAMPTZ;

-- 0004 created player_weapon_daily, player_versus_daily and player_rounds empty; the importer
-- fills them from then on. This adds the rounds it has not filled them from (those imported
-- before 0004), one round at a time from the raw kills still stored: nothing is truncated, so
-- days whose raw kills were archived after 0004 keep their rows. A round is pending when it has
-- counted kills by a player and no player_rounds row. Idempotent: a second call adds nothing.
-- The rules are the importer's: only kind = 'kill' with a killing player counts; a player's team
-- in a round is AXIS when more of their kills and deaths were on AXIS than on ALLIES.
DROP FUNCTION backfill_player_aggregates();
CREATE FUNCTION backfill_player_aggregates() RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
BEGIN
    SELECT array_agg(r.id ORDER BY r.id) INTO ids FROM rounds r
    WHERE NOT EXISTS (SELECT 1 FROM player_rounds p WHERE p.round_id = r.id)
      AND EXISTS (SELECT 1 FROM kill_context k
                  WHERE k.round_id = r.id AND k.kind = 'kill' AND k.killer_guid <> '');
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO player_weapon_daily AS w (player_guid, session_date, weapon, kills, deaths)
    SELECT guid, session_date, weapon, SUM(k), SUM(d) FROM (
        SELECT killer_guid AS guid, session_date, weapon, 1 AS k, 0 AS d FROM kill_context
        WHERE round_id = ANY (ids) AND kind = 'kill' AND killer_guid <> ''
        UNION ALL
        SELECT victim_guid, session_date, weapon, 0, 1 FROM kill_context
        WHERE round_id = ANY (ids) AND kind = 'kill' AND killer_guid <> '') s
    WHERE guid <> '' GROUP BY 1, 2, 3
    ON CONFLICT (player_guid, session_date, weapon) DO UPDATE SET
        kills = w.kills + EXCLUDED.kills, deaths = w.deaths + EXCLUDED.deaths;
    INSERT INTO player_versus_daily AS v (killer_guid, victim_guid, session_date, kills)
    SELECT killer_guid, victim_guid, session_date, COUNT(*) FROM kill_context
    WHERE round_id = ANY (ids) AND kind = 'kill' AND killer_guid <> '' AND victim_guid <> ''
    GROUP BY 1, 2, 3
    ON CONFLICT (killer_guid, victim_guid, session_date) DO UPDATE SET kills = v.kills + EXCLUDED.kills;
    INSERT INTO player_rounds (player_guid, round_id, session_date, team, kills, deaths)
    SELECT guid, round_id, MAX(session_date),
           CASE WHEN COUNT(*) FILTER (WHERE team = 'AXIS') > COUNT(*) FILTER (WHERE team = 'ALLIES')
                THEN 'AXIS' ELSE 'ALLIES' END,
           SUM(k), SUM(d) FROM (
        SELECT killer_guid AS guid, round_id, session_date, killer_team AS team, 1 AS k, 0 AS d
        FROM kill_context WHERE round_id = ANY (ids) AND kind = 'kill' AND killer_guid <> ''
        UNION ALL
        SELECT victim_guid, round_id, session_date, victim_team, 0, 1
        FROM kill_context WHERE round_id = ANY (ids) AND kind = 'kill' AND killer_guid <> '') s
    WHERE guid <> '' GROUP BY guid, round_id;
    RETURN array_length(ids, 1);
END;
$$;
SELECT backfill_player_aggregates();

-- Archiving with a cutoff date the caller computed once: the export and the delete of one
-- archive run in one REPEATABLE READ transaction and both use this date, so a row the export did
-- not see is not deleted.
CREATE FUNCTION archive_proximity_data_before(cutoff DATE)
RETURNS TABLE (table_name TEXT, rows_archived BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'archive_proximity_data_before: the cutoff date is missing';
    END IF;
    PERFORM roll_up_heatmap(NULL);
    INSERT INTO kill_heatmap_fine AS f (session_date, map_name, position, team, cell_x, cell_y, kills)
    SELECT * FROM (
        SELECT session_date, map_name, 'victim'::text, victim_team,
               floor(greatest(-1e6, least(1e6, victim_x / 64)))::int,
               floor(greatest(-1e6, least(1e6, victim_y / 64)))::int, count(*)::int
        FROM kill_context WHERE kind = 'kill' AND session_date < cutoff
        GROUP BY 1, 2, 3, 4, 5, 6
        UNION ALL
        SELECT session_date, map_name, 'killer'::text, killer_team,
               floor(greatest(-1e6, least(1e6, killer_x / 64)))::int,
               floor(greatest(-1e6, least(1e6, killer_y / 64)))::int, count(*)::int
        FROM kill_context WHERE kind = 'kill' AND session_date < cutoff
        GROUP BY 1, 2, 3, 4, 5, 6
    ) c
    ON CONFLICT (session_date, map_name, position, team, cell_x, cell_y)
    DO UPDATE SET kills = f.kills + EXCLUDED.kills;
    DELETE FROM kill_context WHERE session_date < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    -- After a large delete the planner's statistics are stale until autovacuum gets there.
    IF n > 0 THEN
        ANALYZE kill_context;
    END IF;
    table_name := 'kill_context';
    rows_archived := n;
    RETURN NEXT;
END;
$$;

-- The seed's name, kept: the cutoff is computed once here and handed on.
CREATE OR REPLACE FUNCTION archive_old_proximity_data(days INTEGER)
RETURNS TABLE (table_name TEXT, rows_archived BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    IF days IS NULL OR days < 1 THEN
        RAISE EXCEPTION 'archive_old_proximity_data: days must be at least 1, got %', days;
    END IF;
    RETURN QUERY SELECT * FROM archive_proximity_data_before(CURRENT_DATE - days);
END;
$$;
