-- etprox schema: rounds, raw kills, per-map grid, per-player and per-pair aggregates.
-- Seed names (kill_context, kill_heatmap, player_proximity_stats, teammate_synergy,
-- engagement_breakdown, heatmap_by_map, archive_old_proximity_data, proximity_data_stats)
-- are kept so the seed's analytics queries run unchanged.

-- One row per imported round. content_sha256 and round_key make an import happen once.
CREATE TABLE rounds (
    id              BIGSERIAL PRIMARY KEY,
    round_key       TEXT        NOT NULL UNIQUE,
    content_sha256  TEXT        NOT NULL UNIQUE,
    format_version  SMALLINT    NOT NULL,
    server_id       TEXT        NOT NULL,
    server_name     TEXT,
    map_name        TEXT        NOT NULL,
    file_map_name   TEXT,
    round_number    SMALLINT    NOT NULL,
    gametype        SMALLINT,
    started_at      TIMESTAMPTZ,
    ended_at        TIMESTAMPTZ,
    session_date    DATE        NOT NULL,
    source_path     TEXT        NOT NULL,
    kill_count      INTEGER     NOT NULL,
    flags           TEXT[]      NOT NULL DEFAULT '{}',
    warnings        JSONB       NOT NULL DEFAULT '[]',
    imported_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rounds_session_date_idx ON rounds (session_date);
CREATE INDEX rounds_map_idx ON rounds (map_name, session_date);

-- Raw kills. kind: kill | teamkill | suicide | world. Only kind = 'kill' counts in stats.
-- Written with COPY, a round at a time, so a round's rows sit together on disk and BRIN indexes
-- (tiny, nearly free to maintain) find them by round and by day; by map, go through `rounds`.
-- Measured on 28,000 rows: COPY into the bare table 152 ms; a btree primary key adds 37 ms, a
-- (map_name, session_date) btree 53 ms, each GUID btree about 45 ms; BRIN about 6 ms each.
-- (round_id, kill_index) is unique by construction: kills are written only in the transaction
-- that creates their round row, and `rounds` refuses a second import of the same round.
-- Rows are archived after 30 days; the aggregates do not depend on them.
CREATE TABLE kill_context (
    round_id            BIGINT      NOT NULL,
    kill_index          INTEGER     NOT NULL,
    session_date        DATE        NOT NULL,
    map_name            TEXT        NOT NULL,
    round_number        SMALLINT    NOT NULL,
    game_time           BIGINT      NOT NULL,
    time_ms             INTEGER,
    kind                TEXT        NOT NULL,
    killer_slot         SMALLINT    NOT NULL,
    killer_guid         TEXT        NOT NULL,
    killer_name         TEXT        NOT NULL,
    killer_team         TEXT        NOT NULL,
    killer_x            REAL        NOT NULL,
    killer_y            REAL        NOT NULL,
    killer_z            REAL        NOT NULL,
    victim_slot         SMALLINT    NOT NULL,
    victim_guid         TEXT        NOT NULL,
    victim_name         TEXT        NOT NULL,
    victim_team         TEXT        NOT NULL,
    victim_x            REAL        NOT NULL,
    victim_y            REAL        NOT NULL,
    victim_z            REAL        NOT NULL,
    distance            REAL        NOT NULL,
    weapon              SMALLINT    NOT NULL,
    means_of_death      SMALLINT    NOT NULL,
    engagement_type     TEXT        NOT NULL,
    engagement_class    TEXT        NOT NULL,
    killer_allies       SMALLINT    NOT NULL,
    victim_allies       SMALLINT    NOT NULL,
    supporting_allies   JSONB       NOT NULL DEFAULT '[]',
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX kill_context_round_brin ON kill_context USING brin (round_id) WITH (pages_per_range = 8);
CREATE INDEX kill_context_session_brin ON kill_context USING brin (session_date) WITH (pages_per_range = 8);

-- Per-map 512-unit grid of kills (victim position), per session day. Kept forever.
CREATE TABLE kill_heatmap (
    session_date  DATE    NOT NULL,
    map_name      TEXT    NOT NULL,
    grid_x        INTEGER NOT NULL,
    grid_y        INTEGER NOT NULL,
    axis_kills    INTEGER NOT NULL DEFAULT 0,
    allies_kills  INTEGER NOT NULL DEFAULT 0,
    total_kills   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_date, map_name, grid_x, grid_y)
);
CREATE INDEX kill_heatmap_map_idx ON kill_heatmap (map_name);

-- Per player and session day. Every kill is in exactly one engagement class, so
-- solo + assisted + even + outgunned = total_kills, and likewise for deaths.
CREATE TABLE player_proximity_stats (
    session_date             DATE    NOT NULL,
    player_guid              TEXT    NOT NULL,
    player_name              TEXT    NOT NULL,
    total_kills              INTEGER NOT NULL DEFAULT 0,
    solo_kills               INTEGER NOT NULL DEFAULT 0,
    assisted_kills           INTEGER NOT NULL DEFAULT 0,
    even_kills               INTEGER NOT NULL DEFAULT 0,
    outgunned_kills          INTEGER NOT NULL DEFAULT 0,
    total_deaths             INTEGER NOT NULL DEFAULT 0,
    solo_deaths              INTEGER NOT NULL DEFAULT 0,
    ganked_deaths            INTEGER NOT NULL DEFAULT 0,
    even_deaths              INTEGER NOT NULL DEFAULT 0,
    outnumbering_deaths      INTEGER NOT NULL DEFAULT 0,
    team_kills               INTEGER NOT NULL DEFAULT 0,
    team_deaths              INTEGER NOT NULL DEFAULT 0,
    suicides                 INTEGER NOT NULL DEFAULT 0,
    world_deaths             INTEGER NOT NULL DEFAULT 0,
    crossfire_participations INTEGER NOT NULL DEFAULT 0,
    sum_kill_distance        DOUBLE PRECISION NOT NULL DEFAULT 0,
    min_kill_distance        REAL,
    max_kill_distance        REAL,
    avg_kill_distance        DOUBLE PRECISION
        GENERATED ALWAYS AS (sum_kill_distance / NULLIF(total_kills, 0)) STORED,
    rounds_played            INTEGER NOT NULL DEFAULT 0,
    is_bot                   BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (session_date, player_guid)
);
CREATE INDEX player_proximity_stats_guid_idx ON player_proximity_stats (player_guid);

-- Teammate pairs per session day (player1 = the one who killed). Directional counters:
-- kills_within_range = kills by player1 with player2 among the supporting allies;
-- simultaneous_kills = kills by player1 with a kill by player2 within 3 s;
-- trade_kills = deaths of player1 avenged by player2 within 3 s;
-- rounds_together = rounds in which the pair had any of these.
CREATE TABLE teammate_synergy_daily (
    player1_guid        TEXT    NOT NULL,
    player2_guid        TEXT    NOT NULL,
    session_date        DATE    NOT NULL,
    kills_within_range  INTEGER NOT NULL DEFAULT 0,
    simultaneous_kills  INTEGER NOT NULL DEFAULT 0,
    trade_kills         INTEGER NOT NULL DEFAULT 0,
    rounds_together     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (player1_guid, player2_guid, session_date)
);
CREATE INDEX teammate_synergy_daily_player2_idx ON teammate_synergy_daily (player2_guid);

-- Every player key ever seen, and every name each one used.
CREATE TABLE players (
    player_guid  TEXT        NOT NULL PRIMARY KEY,
    last_name    TEXT        NOT NULL,
    is_bot       BOOLEAN     NOT NULL DEFAULT false,
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL
);

CREATE TABLE player_aliases (
    player_guid  TEXT        NOT NULL,
    raw_name     BYTEA       NOT NULL,
    name         TEXT        NOT NULL,
    display_name TEXT        NOT NULL,
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL,
    times_seen   INTEGER     NOT NULL DEFAULT 0,
    PRIMARY KEY (player_guid, raw_name)
);

-- Every file the importer looked at that was not imported cleanly, and every rejected line.
CREATE TABLE import_log (
    id             BIGSERIAL PRIMARY KEY,
    source_path    TEXT        NOT NULL,
    content_sha256 TEXT,
    outcome        TEXT        NOT NULL,
    round_id       BIGINT,
    message        TEXT,
    logged_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX import_log_logged_at_idx ON import_log (logged_at DESC);

CREATE TABLE import_rejected_lines (
    import_log_id  BIGINT  NOT NULL REFERENCES import_log (id) ON DELETE CASCADE,
    line_number    INTEGER NOT NULL,
    reason         TEXT    NOT NULL,
    line_excerpt   TEXT    NOT NULL,
    PRIMARY KEY (import_log_id, line_number)
);

-- Kills per engagement type and day. Percentages are of the day's counted kills.
CREATE VIEW engagement_breakdown AS
SELECT session_date,
       engagement_type,
       engagement_class,
       COUNT(*)::INTEGER AS kill_count,
       ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY session_date), 1) AS percentage,
       ROUND(AVG(distance)::NUMERIC, 1) AS avg_distance
FROM kill_context
WHERE kind = 'kill'
GROUP BY session_date, engagement_type, engagement_class;

-- Teammate pairs, all time, in both directions (a pair that interacted one way also appears
-- the other way with zeros), with the players' latest names.
CREATE VIEW teammate_synergy AS
SELECT d.player1_guid,
       d.player2_guid,
       COALESCE(p1.last_name, d.player1_guid) AS player1_name,
       COALESCE(p2.last_name, d.player2_guid) AS player2_name,
       SUM(d.kills_within_range)::INTEGER AS kills_within_range,
       SUM(d.simultaneous_kills)::INTEGER AS simultaneous_kills,
       SUM(d.trade_kills)::INTEGER        AS trade_kills,
       SUM(d.rounds_together)::INTEGER    AS rounds_together,
       MIN(d.session_date)                AS first_seen,
       MAX(d.session_date)                AS last_seen
FROM (
    SELECT player1_guid, player2_guid, session_date, kills_within_range, simultaneous_kills,
           trade_kills, rounds_together
    FROM teammate_synergy_daily
    UNION ALL
    SELECT player2_guid, player1_guid, session_date, 0, 0, 0, 0
    FROM teammate_synergy_daily
) d
LEFT JOIN players p1 ON p1.player_guid = d.player1_guid
LEFT JOIN players p2 ON p2.player_guid = d.player2_guid
GROUP BY d.player1_guid, d.player2_guid, p1.last_name, p2.last_name;

-- All-time grid per map, from the aggregate table (survives archiving).
CREATE VIEW heatmap_by_map AS
SELECT map_name,
       grid_x,
       grid_y,
       SUM(axis_kills)::INTEGER   AS axis_kills,
       SUM(allies_kills)::INTEGER AS allies_kills,
       SUM(total_kills)::INTEGER  AS total_kills
FROM kill_heatmap
GROUP BY map_name, grid_x, grid_y;

-- Deletes raw kills of session days older than `days` days. Aggregates are untouched.
CREATE FUNCTION archive_old_proximity_data(days INTEGER)
RETURNS TABLE (table_name TEXT, rows_archived BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    IF days IS NULL OR days < 1 THEN
        RAISE EXCEPTION 'archive_old_proximity_data: days must be at least 1, got %', days;
    END IF;
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

-- Rows, size and date range per table.
CREATE FUNCTION proximity_data_stats()
RETURNS TABLE (table_name TEXT, row_count BIGINT, total_bytes BIGINT, oldest_date DATE, newest_date DATE)
LANGUAGE sql STABLE AS $$
    SELECT 'rounds', COUNT(*), pg_total_relation_size('rounds'), MIN(session_date), MAX(session_date) FROM rounds
    UNION ALL
    SELECT 'kill_context', COUNT(*), pg_total_relation_size('kill_context'), MIN(session_date), MAX(session_date) FROM kill_context
    UNION ALL
    SELECT 'kill_heatmap', COUNT(*), pg_total_relation_size('kill_heatmap'), MIN(session_date), MAX(session_date) FROM kill_heatmap
    UNION ALL
    SELECT 'player_proximity_stats', COUNT(*), pg_total_relation_size('player_proximity_stats'), MIN(session_date), MAX(session_date) FROM player_proximity_stats
    UNION ALL
    SELECT 'teammate_synergy_daily', COUNT(*), pg_total_relation_size('teammate_synergy_daily'), MIN(session_date), MAX(session_date) FROM teammate_synergy_daily
$$;
