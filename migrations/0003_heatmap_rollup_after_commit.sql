-- How the 64-unit heatmap rollups (0002) are kept, measured on 200 rounds of 140 kills:
-- * kill_heatmap_fine_total (all time, one row per map/position/team/cell, bounded by the map's
--   area) is updated *after* each import commits, by roll_up_heatmap(), from the round's
--   kill_context rows. Inside the import transaction it cost a factor of five in import speed.
--   A round is rolled up exactly once (the flag below is set in the same statement); readers
--   call roll_up_heatmap() first, so they never miss a committed round.
-- * kill_heatmap_fine (per day) has about as many rows as there are kills, so it is written
--   only for days whose raw rows are being archived: recent days are read from kill_context
--   (BRIN by day), archived days from this table.

ALTER TABLE rounds ADD COLUMN heatmap_rolled_up BOOLEAN NOT NULL DEFAULT false;
-- 0002 filled the rollups from every raw row that existed when it ran.
UPDATE rounds SET heatmap_rolled_up = true;
CREATE INDEX rounds_heatmap_pending_idx ON rounds (id) WHERE NOT heatmap_rolled_up;

-- Adds the counted kills of committed rounds not rolled up yet (at most max_rounds, all when
-- NULL) to kill_heatmap_fine_total. Returns the number of rounds.
-- Concurrent callers skip each other's rounds (SKIP LOCKED).
CREATE FUNCTION roll_up_heatmap(max_rounds INTEGER DEFAULT NULL)
RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    n INTEGER;
BEGIN
    WITH pending AS (
        SELECT id FROM rounds
        WHERE NOT heatmap_rolled_up
        ORDER BY id
        LIMIT max_rounds
        FOR UPDATE SKIP LOCKED
    ),
    cells AS (
        SELECT k.map_name, 'victim'::text AS position, k.victim_team AS team,
               floor(greatest(-1e6, least(1e6, k.victim_x / 64)))::int AS cell_x,
               floor(greatest(-1e6, least(1e6, k.victim_y / 64)))::int AS cell_y,
               count(*)::int AS kills
        FROM kill_context k JOIN pending p ON p.id = k.round_id
        WHERE k.kind = 'kill'
        GROUP BY 1, 2, 3, 4, 5
        UNION ALL
        SELECT k.map_name, 'killer'::text, k.killer_team,
               floor(greatest(-1e6, least(1e6, k.killer_x / 64)))::int,
               floor(greatest(-1e6, least(1e6, k.killer_y / 64)))::int,
               count(*)::int
        FROM kill_context k JOIN pending p ON p.id = k.round_id
        WHERE k.kind = 'kill'
        GROUP BY 1, 2, 3, 4, 5
    ),
    total AS (
        INSERT INTO kill_heatmap_fine_total AS f (map_name, position, team, cell_x, cell_y, kills)
        SELECT * FROM cells ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (map_name, position, team, cell_x, cell_y)
        DO UPDATE SET kills = f.kills + EXCLUDED.kills
    )
    UPDATE rounds SET heatmap_rolled_up = true WHERE id IN (SELECT id FROM pending);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

-- Archiving rolls up first, keeps the days it removes in kill_heatmap_fine, then deletes.
CREATE OR REPLACE FUNCTION archive_old_proximity_data(days INTEGER)
RETURNS TABLE (table_name TEXT, rows_archived BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    IF days IS NULL OR days < 1 THEN
        RAISE EXCEPTION 'archive_old_proximity_data: days must be at least 1, got %', days;
    END IF;
    PERFORM roll_up_heatmap(NULL);
    INSERT INTO kill_heatmap_fine AS f (session_date, map_name, position, team, cell_x, cell_y, kills)
    SELECT * FROM (
        SELECT session_date, map_name, 'victim'::text, victim_team,
               floor(greatest(-1e6, least(1e6, victim_x / 64)))::int,
               floor(greatest(-1e6, least(1e6, victim_y / 64)))::int, count(*)::int
        FROM kill_context WHERE kind = 'kill' AND session_date < CURRENT_DATE - days
        GROUP BY 1, 2, 3, 4, 5, 6
        UNION ALL
        SELECT session_date, map_name, 'killer'::text, killer_team,
               floor(greatest(-1e6, least(1e6, killer_x / 64)))::int,
               floor(greatest(-1e6, least(1e6, killer_y / 64)))::int, count(*)::int
        FROM kill_context WHERE kind = 'kill' AND session_date < CURRENT_DATE - days
        GROUP BY 1, 2, 3, 4, 5, 6
    ) c
    ON CONFLICT (session_date, map_name, position, team, cell_x, cell_y)
    DO UPDATE SET kills = f.kills + EXCLUDED.kills;
    DELETE FROM kill_context WHERE session_date < CURRENT_DATE - days;
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
