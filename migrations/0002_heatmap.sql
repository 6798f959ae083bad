-- Heatmap rollup at 64 world units per cell, per session day, kept forever like
-- kill_heatmap, so all-time heatmaps stay sharp after archive_old_proximity_data.
--
-- One row per (day, map, position, team, cell). For every kill_context row with
-- kind = 'kill' the importer adds 1 to two rows:
--   position 'victim', team = victim_team, cell = (floor(victim_x / 64), floor(victim_y / 64))
--   position 'killer', team = killer_team, cell = (floor(killer_x / 64), floor(killer_y / 64))
-- etprox::heatmap::query::rollup_round(tx, round_id) does exactly this for one round.
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
CREATE INDEX kill_heatmap_fine_map_idx ON kill_heatmap_fine (map_name, position, session_date);
