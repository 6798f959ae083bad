-- Rollups that answer every heatmap filter (player, weapon = means of death, engagement class,
-- team, kind, period) at the 64-unit cells of 0002, without raw kills, and kept forever like
-- the other rollups (so archived days still draw with any filter).
--
-- * kill_heatmap_cells: per session day, map, plotted side (position), that side's player and
--   team, means of death, engagement class and cell, the number of kills. Append-only: each
--   roll-up inserts the grouped counts of its rounds, and unrolling a round inserts the same
--   rows negated, so a key may have several rows and readers always sum(kills). Inserting
--   without ON CONFLICT is what keeps the roll-up cheap: at 64 units the keys are sparse (about
--   one per kill and side), so an upsert would merge almost nothing and cost an index probe
--   per row. Player heatmaps read it by player; other filters with a bounded period by day.
-- * kill_heatmap_cube_total: the same without day and player, summed over all time (bounded by
--   the map's area, not by the number of kills): filtered all-time heatmaps read it.
--   kill_heatmap_fine_total (0002) still answers unfiltered and team-only all-time heatmaps.
-- Both hold what the rounds rolled up so far counted (rounds.heatmap_rolled_up, 0003).

CREATE TABLE kill_heatmap_cells (
    session_date      DATE     NOT NULL,
    map_name          TEXT     NOT NULL,
    position          TEXT     NOT NULL CHECK (position IN ('killer', 'victim')),
    player_guid       TEXT     NOT NULL,
    team              TEXT     NOT NULL,
    means_of_death    SMALLINT NOT NULL,
    engagement_class  TEXT     NOT NULL,
    cell_x            INTEGER  NOT NULL,
    cell_y            INTEGER  NOT NULL,
    kills             INTEGER  NOT NULL
);

CREATE TABLE kill_heatmap_cube_total (
    map_name          TEXT     NOT NULL,
    position          TEXT     NOT NULL CHECK (position IN ('killer', 'victim')),
    team              TEXT     NOT NULL,
    means_of_death    SMALLINT NOT NULL,
    engagement_class  TEXT     NOT NULL,
    cell_x            INTEGER  NOT NULL,
    cell_y            INTEGER  NOT NULL,
    kills             BIGINT   NOT NULL CHECK (kills >= 0),
    -- A weapon filter is a range of this key (means of death after map and position); an
    -- engagement filter without one reads the index below. Team alone never comes here.
    PRIMARY KEY (map_name, position, means_of_death, engagement_class, team, cell_x, cell_y)
);

-- The cells of the given rounds' counted kills, one row per key (both sides of each kill).
CREATE FUNCTION heatmap_cells_of_rounds(ids BIGINT[])
RETURNS TABLE (session_date DATE, map_name TEXT, "position" TEXT, player_guid TEXT, team TEXT,
               means_of_death SMALLINT, engagement_class TEXT, cell_x INTEGER, cell_y INTEGER,
               kills INTEGER)
LANGUAGE sql STABLE AS $$
    -- A round's kills sit together (COPY, in id order): the id range lets BRIN find them.
    SELECT k.session_date, k.map_name, 'victim', k.victim_guid, k.victim_team, k.means_of_death,
           k.engagement_class,
           floor(greatest(-1e6, least(1e6, k.victim_x / 64)))::int,
           floor(greatest(-1e6, least(1e6, k.victim_y / 64)))::int, count(*)::int
    FROM kill_context k
    WHERE k.round_id BETWEEN ids[1] AND ids[array_length(ids, 1)]
      AND k.round_id = ANY (ids) AND k.kind = 'kill'
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    UNION ALL
    SELECT k.session_date, k.map_name, 'killer', k.killer_guid, k.killer_team, k.means_of_death,
           k.engagement_class,
           floor(greatest(-1e6, least(1e6, k.killer_x / 64)))::int,
           floor(greatest(-1e6, least(1e6, k.killer_y / 64)))::int, count(*)::int
    FROM kill_context k
    WHERE k.round_id BETWEEN ids[1] AND ids[array_length(ids, 1)]
      AND k.round_id = ANY (ids) AND k.kind = 'kill'
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
$$;

-- Adds the cells of the rounds (ids sorted) to the three rollups, in one statement that reads
-- kill_context once.
CREATE FUNCTION heatmap_roll_up_rounds(ids BIGINT[])
RETURNS VOID
LANGUAGE sql AS $$
    WITH c AS MATERIALIZED (
        SELECT * FROM heatmap_cells_of_rounds(ids)
    ), cells AS (
        INSERT INTO kill_heatmap_cells SELECT * FROM c
    ), cube AS (
        INSERT INTO kill_heatmap_cube_total AS t
            (map_name, position, team, means_of_death, engagement_class, cell_x, cell_y, kills)
        SELECT map_name, position, team, means_of_death, engagement_class, cell_x, cell_y,
               sum(kills)
        FROM c GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 4, 5, 3, 6, 7
        ON CONFLICT (map_name, position, means_of_death, engagement_class, team, cell_x, cell_y)
        DO UPDATE SET kills = t.kills + EXCLUDED.kills
    )
    INSERT INTO kill_heatmap_fine_total AS f (map_name, position, team, cell_x, cell_y, kills)
    SELECT map_name, position, team, cell_x, cell_y, sum(kills)
    FROM c GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (map_name, position, team, cell_x, cell_y)
    DO UPDATE SET kills = f.kills + EXCLUDED.kills;
$$;

-- Takes one rolled-up round back out of the three rollups (its raw kills must still be there):
-- negated rows in kill_heatmap_cells, subtracted totals, and total cells left at zero deleted,
-- as if the round had never been imported. Returns false (and does nothing) when the round was
-- not rolled up.
CREATE FUNCTION heatmap_unroll_round(round BIGINT)
RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    UPDATE rounds SET heatmap_rolled_up = false WHERE id = round AND heatmap_rolled_up;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    WITH c AS MATERIALIZED (
        SELECT * FROM heatmap_cells_of_rounds(ARRAY[round])
    ), cells AS (
        INSERT INTO kill_heatmap_cells
        SELECT session_date, map_name, position, player_guid, team, means_of_death,
               engagement_class, cell_x, cell_y, -kills
        FROM c
    ), cube AS (
        UPDATE kill_heatmap_cube_total t SET kills = t.kills - s.kills
        FROM (SELECT map_name, position, team, means_of_death, engagement_class, cell_x, cell_y,
                     sum(kills) AS kills
              FROM c GROUP BY 1, 2, 3, 4, 5, 6, 7) s
        WHERE (t.map_name, t.position, t.team, t.means_of_death, t.engagement_class, t.cell_x,
               t.cell_y)
            = (s.map_name, s.position, s.team, s.means_of_death, s.engagement_class, s.cell_x,
               s.cell_y)
    ), fine AS (
        UPDATE kill_heatmap_fine_total t SET kills = t.kills - s.kills
        FROM (SELECT map_name, position, team, cell_x, cell_y, sum(kills) AS kills
              FROM c GROUP BY 1, 2, 3, 4, 5) s
        WHERE (t.map_name, t.position, t.team, t.cell_x, t.cell_y)
            = (s.map_name, s.position, s.team, s.cell_x, s.cell_y)
    )
    SELECT count(*) INTO n FROM c;
    -- A statement cannot delete rows its own UPDATE changed: the zeros go in a second one,
    -- found through the round's keys again.
    WITH c AS MATERIALIZED (
        SELECT * FROM heatmap_cells_of_rounds(ARRAY[round])
    ), cube AS (
        DELETE FROM kill_heatmap_cube_total t USING c
        WHERE t.kills = 0
          AND (t.map_name, t.position, t.team, t.means_of_death, t.engagement_class, t.cell_x,
               t.cell_y)
            = (c.map_name, c.position, c.team, c.means_of_death, c.engagement_class, c.cell_x,
               c.cell_y)
    )
    DELETE FROM kill_heatmap_fine_total t USING c
    WHERE t.kills = 0
      AND (t.map_name, t.position, t.team, t.cell_x, t.cell_y)
        = (c.map_name, c.position, c.team, c.cell_x, c.cell_y);
    RETURN true;
END;
$$;

-- Same contract as 0003's: rolls up at most max_rounds pending committed rounds (all when
-- NULL), each exactly once, now into all three rollups. Returns the number of rounds.
CREATE OR REPLACE FUNCTION roll_up_heatmap(max_rounds INTEGER DEFAULT NULL)
RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
BEGIN
    -- Cheap when nothing is pending (the partial index answers).
    SELECT array_agg(id ORDER BY id) INTO ids
    FROM (SELECT id FROM rounds WHERE NOT heatmap_rolled_up
          ORDER BY id LIMIT max_rounds FOR UPDATE SKIP LOCKED) p;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM heatmap_roll_up_rounds(ids);
    UPDATE rounds SET heatmap_rolled_up = true WHERE id = ANY (ids);
    RETURN array_length(ids, 1);
END;
$$;

-- Fill from the raw kills of the rounds rolled up so far (pending rounds come with their
-- roll-up). Days archived before this migration have no raw kills left: they stay in
-- kill_heatmap_fine / kill_heatmap, which answer unfiltered and team heatmaps for them.
INSERT INTO kill_heatmap_cells
SELECT session_date, map_name, 'victim', victim_guid, victim_team, means_of_death,
       engagement_class,
       floor(greatest(-1e6, least(1e6, victim_x / 64)))::int,
       floor(greatest(-1e6, least(1e6, victim_y / 64)))::int, count(*)::int
FROM kill_context
WHERE kind = 'kill' AND round_id IN (SELECT id FROM rounds WHERE heatmap_rolled_up)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
UNION ALL
SELECT session_date, map_name, 'killer', killer_guid, killer_team, means_of_death,
       engagement_class,
       floor(greatest(-1e6, least(1e6, killer_x / 64)))::int,
       floor(greatest(-1e6, least(1e6, killer_y / 64)))::int, count(*)::int
FROM kill_context
WHERE kind = 'kill' AND round_id IN (SELECT id FROM rounds WHERE heatmap_rolled_up)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
ORDER BY 2, 3, 1;

INSERT INTO kill_heatmap_cube_total
SELECT map_name, position, team, means_of_death, engagement_class, cell_x, cell_y, sum(kills)
FROM kill_heatmap_cells
GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- Non-player filters with a bounded period read a map's days; player heatmaps read the player.
CREATE INDEX kill_heatmap_cells_day_idx
    ON kill_heatmap_cells (map_name, position, session_date);
CREATE INDEX kill_heatmap_cells_player_idx
    ON kill_heatmap_cells (player_guid, map_name, position, session_date);
CREATE INDEX kill_heatmap_cube_total_class_idx
    ON kill_heatmap_cube_total (map_name, position, engagement_class);

ANALYZE kill_heatmap_cells;
ANALYZE kill_heatmap_cube_total;

-- An archive (0008) no longer needs to copy the archived days' cells into kill_heatmap_fine:
-- kill_heatmap_cells already holds every rolled-up day, and the archive rolls up pending rounds
-- before it drops anything. kill_heatmap_fine keeps only the days archived before this
-- migration, which the cells cannot answer.
CREATE OR REPLACE FUNCTION keep_heatmap_cells_before(cutoff DATE) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    -- Nothing to keep: see above. The function stays so 0008's archive reads unchanged.
    PERFORM cutoff;
END;
$$;
