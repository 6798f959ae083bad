-- Heatmap rollup at 64 world units per cell, per session day, kept forever like
-- kill_heatmap, so all-time heatmaps stay sharp after archive_old_proximity_data.
--
-- One row per (day, map, position, team, cell). For every kill_context row with
-- kind = 'kill' the importer adds 1 to two rows:
--   position 'victim', team = victim_team, cell = (floor(victim_x / 64), floor(victim_y / 64))
--   position 'killer', team = killer_team, cell = (floor(killer_x / 64), floor(killer_y / 64))
-- The same counts without the day go to kill_heatmap_fine_total, which answers all-time
-- heatmaps from one row per cell instead of one per cell and day.
-- etprox::heatmap::query::rollup_round(tx, round_id) does both for one round.
CREATE TABLE kill_heatmap_fine (
    session_date  DATE    NOT NULL,
    map_name      TEXT    NOT NULL,
    position      TEXT    NOT NULL CHECK (position IN ('killer', 'victim')),
    team          TEXT    NOT NULL,
    cell_x        INTEGER NOT NULL,
    cell_y        INTEGER NOT NULL,
    kills         INTEGER NOT NULL CHECK (kills >= 0),
    PRIMARY KEY (session_date, map_name, position, team, cell_x, cell_y)
);
CREATE INDEX kill_heatmap_fine_map_idx ON kill_heatmap_fine (map_name, session_date);

CREATE TABLE kill_heatmap_fine_total (
    map_name      TEXT    NOT NULL,
    position      TEXT    NOT NULL CHECK (position IN ('killer', 'victim')),
    team          TEXT    NOT NULL,
    cell_x        INTEGER NOT NULL,
    cell_y        INTEGER NOT NULL,
    kills         BIGINT  NOT NULL CHECK (kills >= 0),
    PRIMARY KEY (map_name, position, team, cell_x, cell_y)
);

-- Backfill from the raw kills present when this migration runs (days archived before
-- it stay in kill_heatmap only; the renderer reads those from there).
INSERT INTO kill_heatmap_fine (session_date, map_name, position, team, cell_x, cell_y, kills)
SELECT session_date, map_name, 'victim', victim_team,
       floor(greatest(-1e6, least(1e6, victim_x / 64)))::int,
       floor(greatest(-1e6, least(1e6, victim_y / 64)))::int, count(*)
FROM kill_context WHERE kind = 'kill'
GROUP BY 1, 2, 3, 4, 5, 6
UNION ALL
SELECT session_date, map_name, 'killer', killer_team,
       floor(greatest(-1e6, least(1e6, killer_x / 64)))::int,
       floor(greatest(-1e6, least(1e6, killer_y / 64)))::int, count(*)
FROM kill_context WHERE kind = 'kill'
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO kill_heatmap_fine_total (map_name, position, team, cell_x, cell_y, kills)
SELECT map_name, position, team, cell_x, cell_y, sum(kills)
FROM kill_heatmap_fine
GROUP BY 1, 2, 3, 4, 5;
