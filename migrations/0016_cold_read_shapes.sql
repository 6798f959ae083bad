-- Read shapes for answering cold at 10 M kills (issue 17): indexes only, no new rows to write.
-- Each replaces an index that a read could not use well, or serves a read that scanned a whole
-- table; measured cost on disk is in docs/operations.md ("Every command and heatmap filter").

-- `/round` (the latest round, of any server or of one): the newest round by its time, read from
-- the top of an index instead of sorting every round.
CREATE INDEX rounds_latest_idx
    ON rounds ((COALESCE(ended_at, started_at, imported_at)) DESC, id DESC);
CREATE INDEX rounds_server_latest_idx
    ON rounds (server_id, (COALESCE(ended_at, started_at, imported_at)) DESC, id DESC);

-- `/trend` (a player's last sessions) and a player's totals over a period: the player's days in
-- date order, with the counters the trend reads, instead of every day of the player in heap order.
CREATE INDEX player_proximity_stats_player_day_idx
    ON player_proximity_stats (player_guid, session_date DESC)
    INCLUDE (rounds_played, total_kills, total_deaths, solo_kills, solo_deaths, outgunned_kills,
             crossfire_participations);
DROP INDEX player_proximity_stats_guid_idx;

-- A player's pairs over a period (`/duo player`, `/player`): the rows where the player is
-- player2, by day (player1's are the primary key's prefix). Replaces the index on player2 alone,
-- which read every day of the player and filtered the dates afterwards.
CREATE INDEX teammate_synergy_daily_player2_day_idx
    ON teammate_synergy_daily (player2_guid, session_date);
DROP INDEX teammate_synergy_daily_player2_idx;

-- The same key as teammate_synergy_daily_date_idx (0009), which also covers the counters: one
-- index less to write per pair and day, and the planner reads the covering one.
DROP INDEX IF EXISTS teammate_synergy_daily_day_idx;
