-- The whole fight (tracker 1.2, issue "The whole fight"): damage, shots, revives, objective
-- plays, presence and lives, from the new sections of a v3 round file
-- (docs/round-file-format.md, "Fight sections").
--
-- Two layers, like the kills:
-- * raw rows per round, partitioned by month of session_date exactly like kill_context, and
--   archived with the kills (archive_proximity_data_before drops or trims the same months);
-- * aggregates per player (and pair) and session day, kept forever. They are sums and counts
--   only (never a stored average), written in the round's import transaction, so they stay
--   exact under incremental imports and after the raw rows are archived.
--
-- Players are keys of `players.player_guid` (GUID, or NOGUID:<name>, as for kills). Every
-- event line of a file names players by their index in the file's players section; the
-- importer resolves that to the key before it writes.

-- Raw, per round ------------------------------------------------------------------------------

-- The file's players section: who held which slot and team, and for how long in this round.
CREATE TABLE round_roster (
    round_id      BIGINT   NOT NULL,
    session_date  DATE     NOT NULL,
    roster_index  INTEGER  NOT NULL,
    player_guid   TEXT     NOT NULL,
    slot          SMALLINT NOT NULL,
    team          TEXT     NOT NULL,
    from_ms       INTEGER  NOT NULL,
    to_ms         INTEGER  NOT NULL
) PARTITION BY RANGE (session_date);
CREATE TABLE round_roster_default PARTITION OF round_roster DEFAULT;
CREATE INDEX round_roster_round_idx ON round_roster (round_id);

-- Every damage event between two players (self-damage and world damage are not written).
-- `damage` is the engine's value; `effective` is the part that took health
-- (min(damage, health before the hit), 0 on a corpse): damage per minute uses `effective`.
CREATE TABLE damage_event (
    round_id      BIGINT   NOT NULL,
    session_date  DATE     NOT NULL,
    t_ms          INTEGER  NOT NULL,
    attacker_guid TEXT     NOT NULL,
    target_guid   TEXT     NOT NULL,
    attacker_team TEXT     NOT NULL,
    target_team   TEXT     NOT NULL,
    damage        INTEGER  NOT NULL,
    effective     INTEGER  NOT NULL,
    mod           SMALLINT NOT NULL,
    weapon        SMALLINT NOT NULL,
    headshot      BOOLEAN  NOT NULL,
    team_damage   BOOLEAN  NOT NULL,
    splash        BOOLEAN  NOT NULL
) PARTITION BY RANGE (session_date);
CREATE TABLE damage_event_default PARTITION OF damage_event DEFAULT;
CREATE INDEX damage_event_round_idx ON damage_event (round_id);

-- Shots fired per player and weapon in a round (et_WeaponFire), with the hits and headshots
-- on enemies counted from the damage events of that weapon.
CREATE TABLE round_weapon_fire (
    round_id      BIGINT   NOT NULL,
    session_date  DATE     NOT NULL,
    player_guid   TEXT     NOT NULL,
    weapon        SMALLINT NOT NULL,
    shots         INTEGER  NOT NULL,
    hits          INTEGER  NOT NULL,
    headshots     INTEGER  NOT NULL,
    PRIMARY KEY (round_id, session_date, player_guid, weapon)
) PARTITION BY RANGE (session_date);
CREATE TABLE round_weapon_fire_default PARTITION OF round_weapon_fire DEFAULT;

-- Medic revives: who was revived, by whom (NULL when the engine did not say), where and after
-- how long down.
CREATE TABLE revive_event (
    round_id      BIGINT  NOT NULL,
    session_date  DATE    NOT NULL,
    map_name      TEXT    NOT NULL,
    t_ms          INTEGER NOT NULL,
    revived_guid  TEXT    NOT NULL,
    medic_guid    TEXT,
    team          TEXT    NOT NULL,
    x             REAL    NOT NULL,
    y             REAL    NOT NULL,
    z             REAL    NOT NULL,
    down_ms       INTEGER
) PARTITION BY RANGE (session_date);
CREATE TABLE revive_event_default PARTITION OF revive_event DEFAULT;
CREATE INDEX revive_event_round_idx ON revive_event (round_id);

-- Objective plays. action: steal, drop, return, secure, plant, defuse, destroy, build.
-- player_guid is NULL for a return by time-out. target is the engine's track or item message,
-- or the map script's announcement (a label only).
CREATE TABLE objective_event (
    round_id      BIGINT  NOT NULL,
    session_date  DATE    NOT NULL,
    map_name      TEXT    NOT NULL,
    t_ms          INTEGER NOT NULL,
    player_guid   TEXT,
    team          TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    x             REAL,
    y             REAL,
    z             REAL
) PARTITION BY RANGE (session_date);
CREATE TABLE objective_event_default PARTITION OF objective_event DEFAULT;
CREATE INDEX objective_event_round_idx ON objective_event (round_id);

-- Lives: from a spawn (or revive) to the death that ended it (or the player's end in the round).
CREATE TABLE round_life (
    round_id      BIGINT  NOT NULL,
    session_date  DATE    NOT NULL,
    player_guid   TEXT    NOT NULL,
    team          TEXT    NOT NULL,
    start_ms      INTEGER NOT NULL,
    end_ms        INTEGER NOT NULL,
    revived       BOOLEAN NOT NULL,
    ended_by_death BOOLEAN NOT NULL
) PARTITION BY RANGE (session_date);
CREATE TABLE round_life_default PARTITION OF round_life DEFAULT;
CREATE INDEX round_life_round_idx ON round_life (round_id);

-- Presence samples of a round, binned: seconds a living player spent in a heatmap cell
-- (the 64-unit cells of kill_heatmap_cells: cell = floor(position / 64)).
CREATE TABLE round_presence_cells (
    round_id      BIGINT  NOT NULL,
    session_date  DATE    NOT NULL,
    map_name      TEXT    NOT NULL,
    player_guid   TEXT    NOT NULL,
    team          TEXT    NOT NULL,
    cell_x        INTEGER NOT NULL,
    cell_y        INTEGER NOT NULL,
    seconds       INTEGER NOT NULL
) PARTITION BY RANGE (session_date);
CREATE TABLE round_presence_cells_default PARTITION OF round_presence_cells DEFAULT;
CREATE INDEX round_presence_cells_round_idx ON round_presence_cells (round_id);

-- Aggregates, kept forever ---------------------------------------------------------------------

-- Per player and session day. Objective columns count the player's own plays.
CREATE TABLE player_fight_daily (
    session_date          DATE    NOT NULL,
    player_guid           TEXT    NOT NULL,
    time_played_ms        BIGINT  NOT NULL DEFAULT 0,
    time_alive_ms         BIGINT  NOT NULL DEFAULT 0,
    lives                 INTEGER NOT NULL DEFAULT 0,
    damage_given          BIGINT  NOT NULL DEFAULT 0,
    damage_received       BIGINT  NOT NULL DEFAULT 0,
    team_damage_given     BIGINT  NOT NULL DEFAULT 0,
    team_damage_received  BIGINT  NOT NULL DEFAULT 0,
    hits                  INTEGER NOT NULL DEFAULT 0,
    headshots             INTEGER NOT NULL DEFAULT 0,
    shots                 INTEGER NOT NULL DEFAULT 0,
    revives_given         INTEGER NOT NULL DEFAULT 0,
    revives_received      INTEGER NOT NULL DEFAULT 0,
    down_ms               BIGINT  NOT NULL DEFAULT 0,
    obj_steals            INTEGER NOT NULL DEFAULT 0,
    obj_secures           INTEGER NOT NULL DEFAULT 0,
    obj_returns           INTEGER NOT NULL DEFAULT 0,
    obj_plants            INTEGER NOT NULL DEFAULT 0,
    obj_defuses           INTEGER NOT NULL DEFAULT 0,
    obj_destroys          INTEGER NOT NULL DEFAULT 0,
    obj_builds            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (player_guid, session_date)
);
CREATE INDEX player_fight_daily_date_idx ON player_fight_daily (session_date);

-- Per player, weapon and session day: shots, hits and headshots on enemies, damage to enemies
-- (effective), and kills with it.
CREATE TABLE player_weapon_fight_daily (
    session_date  DATE     NOT NULL,
    player_guid   TEXT     NOT NULL,
    weapon        SMALLINT NOT NULL,
    shots         INTEGER  NOT NULL DEFAULT 0,
    hits          INTEGER  NOT NULL DEFAULT 0,
    headshots     INTEGER  NOT NULL DEFAULT 0,
    damage        BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (player_guid, weapon, session_date)
);
CREATE INDEX player_weapon_fight_daily_date_idx ON player_weapon_fight_daily (session_date);

-- Per ordered pair and session day: damage the attacker did to the target (effective) and hits.
CREATE TABLE pair_damage_daily (
    session_date   DATE   NOT NULL,
    attacker_guid  TEXT   NOT NULL,
    target_guid    TEXT   NOT NULL,
    damage         BIGINT NOT NULL DEFAULT 0,
    hits           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (attacker_guid, target_guid, session_date)
);
CREATE INDEX pair_damage_daily_target_idx ON pair_damage_daily (target_guid, session_date);

-- Presence and objective heatmaps: per day, map, team, player and fine cell.
CREATE TABLE presence_cells_daily (
    session_date  DATE    NOT NULL,
    map_name      TEXT    NOT NULL,
    team          TEXT    NOT NULL,
    player_guid   TEXT    NOT NULL,
    cell_x        INTEGER NOT NULL,
    cell_y        INTEGER NOT NULL,
    seconds       BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (map_name, session_date, team, player_guid, cell_x, cell_y)
);
CREATE INDEX presence_cells_daily_player_idx ON presence_cells_daily (player_guid, map_name);

CREATE TABLE objective_cells_daily (
    session_date  DATE    NOT NULL,
    map_name      TEXT    NOT NULL,
    team          TEXT    NOT NULL,
    player_guid   TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    cell_x        INTEGER NOT NULL,
    cell_y        INTEGER NOT NULL,
    plays         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (map_name, session_date, team, player_guid, action, cell_x, cell_y)
);
