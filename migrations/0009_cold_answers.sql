-- All-time rows and indexes so every command answers fast without the result cache (the first
-- call after an import). The importer adds to them in the round's transaction, in the same
-- statement as the daily rows (src/db/sql/upsert_aggregates.sql); they hold sums and counts
-- only, so they equal the sums of the daily rows whatever the order of imports, and, like the
-- daily rows, retention never touches them (it archives raw kills only).

-- A player's totals over every day: the sums of player_proximity_stats.
-- days_played counts the daily rows with a round (rows left at zero by a replaced round are
-- deleted by the importer, so it equals COUNT(*) of that player's daily rows).
CREATE TABLE player_totals (
    player_guid              TEXT    NOT NULL PRIMARY KEY,
    is_bot                   BOOLEAN NOT NULL DEFAULT false,
    total_kills              BIGINT  NOT NULL DEFAULT 0,
    solo_kills               BIGINT  NOT NULL DEFAULT 0,
    assisted_kills           BIGINT  NOT NULL DEFAULT 0,
    even_kills               BIGINT  NOT NULL DEFAULT 0,
    outgunned_kills          BIGINT  NOT NULL DEFAULT 0,
    total_deaths             BIGINT  NOT NULL DEFAULT 0,
    solo_deaths              BIGINT  NOT NULL DEFAULT 0,
    ganked_deaths            BIGINT  NOT NULL DEFAULT 0,
    even_deaths              BIGINT  NOT NULL DEFAULT 0,
    outnumbering_deaths      BIGINT  NOT NULL DEFAULT 0,
    team_kills               BIGINT  NOT NULL DEFAULT 0,
    team_deaths              BIGINT  NOT NULL DEFAULT 0,
    suicides                 BIGINT  NOT NULL DEFAULT 0,
    world_deaths             BIGINT  NOT NULL DEFAULT 0,
    crossfire_participations BIGINT  NOT NULL DEFAULT 0,
    sum_kill_distance        DOUBLE PRECISION NOT NULL DEFAULT 0,
    rounds_played            BIGINT  NOT NULL DEFAULT 0,
    days_played              INTEGER NOT NULL DEFAULT 0
);

-- A teammate pair over every day, both directions in one row (player_a < player_b, the order
-- of LEAST/GREATEST): counters added, and each direction's rounds_together kept apart so a
-- reader takes the larger, as for the daily rows. score orders /duo's top pairs by index.
CREATE TABLE pair_totals (
    player_a            TEXT   NOT NULL,
    player_b            TEXT   NOT NULL,
    kills_within_range  BIGINT NOT NULL DEFAULT 0,
    simultaneous_kills  BIGINT NOT NULL DEFAULT 0,
    trade_kills         BIGINT NOT NULL DEFAULT 0,
    rounds_ab           BIGINT NOT NULL DEFAULT 0,
    rounds_ba           BIGINT NOT NULL DEFAULT 0,
    score               BIGINT GENERATED ALWAYS AS
                            (kills_within_range + simultaneous_kills + trade_kills) STORED,
    PRIMARY KEY (player_a, player_b),
    CHECK (player_a < player_b)
);
CREATE INDEX pair_totals_score_idx ON pair_totals (score DESC, player_a, player_b);
CREATE INDEX pair_totals_b_idx ON pair_totals (player_b);

-- Kills and deaths per player and weapon, and kills per killer and victim, over every day.
CREATE TABLE player_weapon_totals (
    player_guid  TEXT     NOT NULL,
    weapon       SMALLINT NOT NULL,
    kills        BIGINT   NOT NULL DEFAULT 0,
    deaths       BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (player_guid, weapon)
);
CREATE TABLE player_versus_totals (
    killer_guid  TEXT   NOT NULL,
    victim_guid  TEXT   NOT NULL,
    kills        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (killer_guid, victim_guid)
);
CREATE INDEX player_versus_totals_victim_idx ON player_versus_totals (victim_guid);

-- Counted kills per engagement type and class, per day and map (kills and the exact sum of
-- their distances, so the average is computed when read), and the same over every day.
-- Written from the round's raw kills in its transaction (src/db/stats.rs, add_engagements).
CREATE TABLE engagement_daily (
    session_date      DATE    NOT NULL,
    map_name          TEXT    NOT NULL,
    engagement_type   TEXT    NOT NULL,
    engagement_class  TEXT    NOT NULL,
    kills             INTEGER NOT NULL DEFAULT 0,
    sum_distance      DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (session_date, map_name, engagement_type, engagement_class)
);
CREATE TABLE engagement_totals (
    map_name          TEXT    NOT NULL,
    engagement_type   TEXT    NOT NULL,
    engagement_class  TEXT    NOT NULL,
    kills             BIGINT  NOT NULL DEFAULT 0,
    sum_distance      DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (map_name, engagement_type, engagement_class)
);

-- Date ranges (30d) of pairs read the days in the range only, from the index alone.
CREATE INDEX teammate_synergy_daily_date_idx ON teammate_synergy_daily (session_date)
    INCLUDE (player1_guid, player2_guid, kills_within_range, simultaneous_kills, trade_kills,
             rounds_together);

-- Typed names: "contains" searches over names and aliases by trigram index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX players_last_name_trgm_idx ON players USING gin (last_name gin_trgm_ops);
CREATE INDEX player_aliases_display_name_trgm_idx ON player_aliases USING gin (display_name gin_trgm_ops);
CREATE INDEX player_aliases_name_trgm_idx ON player_aliases USING gin (name gin_trgm_ops);

-- Filled exactly from what an existing database holds.
INSERT INTO player_totals (player_guid, is_bot, total_kills, solo_kills, assisted_kills,
    even_kills, outgunned_kills, total_deaths, solo_deaths, ganked_deaths, even_deaths,
    outnumbering_deaths, team_kills, team_deaths, suicides, world_deaths,
    crossfire_participations, sum_kill_distance, rounds_played, days_played)
SELECT player_guid, bool_or(is_bot), SUM(total_kills), SUM(solo_kills), SUM(assisted_kills),
       SUM(even_kills), SUM(outgunned_kills), SUM(total_deaths), SUM(solo_deaths),
       SUM(ganked_deaths), SUM(even_deaths), SUM(outnumbering_deaths), SUM(team_kills),
       SUM(team_deaths), SUM(suicides), SUM(world_deaths), SUM(crossfire_participations),
       SUM(sum_kill_distance), SUM(rounds_played), COUNT(*) FILTER (WHERE rounds_played > 0)
FROM player_proximity_stats GROUP BY player_guid;

INSERT INTO pair_totals (player_a, player_b, kills_within_range, simultaneous_kills,
    trade_kills, rounds_ab, rounds_ba)
SELECT LEAST(player1_guid, player2_guid), GREATEST(player1_guid, player2_guid),
       SUM(kills_within_range), SUM(simultaneous_kills), SUM(trade_kills),
       COALESCE(SUM(rounds_together) FILTER (WHERE player1_guid < player2_guid), 0),
       COALESCE(SUM(rounds_together) FILTER (WHERE player1_guid > player2_guid), 0)
FROM teammate_synergy_daily WHERE player1_guid <> player2_guid GROUP BY 1, 2;

INSERT INTO player_weapon_totals (player_guid, weapon, kills, deaths)
SELECT player_guid, weapon, SUM(kills), SUM(deaths) FROM player_weapon_daily GROUP BY 1, 2;

INSERT INTO player_versus_totals (killer_guid, victim_guid, kills)
SELECT killer_guid, victim_guid, SUM(kills) FROM player_versus_daily GROUP BY 1, 2;

-- Engagements of the days whose raw kills are still stored (the old /engagements read the same).
INSERT INTO engagement_daily (session_date, map_name, engagement_type, engagement_class, kills,
    sum_distance)
SELECT session_date, map_name, engagement_type, engagement_class, COUNT(*), SUM(distance::float8)
FROM kill_context WHERE kind = 'kill' GROUP BY 1, 2, 3, 4;

INSERT INTO engagement_totals (map_name, engagement_type, engagement_class, kills, sum_distance)
SELECT map_name, engagement_type, engagement_class, SUM(kills), SUM(sum_distance)
FROM engagement_daily GROUP BY 1, 2, 3;
