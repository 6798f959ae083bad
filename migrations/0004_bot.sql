-- Discord bot: links from Discord users to players, posted round summaries, and per-player
-- aggregates for /player that raw kills (no GUID index, archived after 30 days) cannot serve.

-- One player per Discord user; a player may be linked by several users (shared accounts).
CREATE TABLE discord_links (
    discord_user_id  BIGINT      NOT NULL PRIMARY KEY,
    player_guid      TEXT        NOT NULL,
    linked_by        BIGINT      NOT NULL,
    linked_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX discord_links_player_idx ON discord_links (player_guid);

-- Round summaries posted to the summary channel, so a round is posted once (also across
-- restarts), and the second half of a stopwatch map can edit the first half's post.
CREATE TABLE posted_summaries (
    round_id    BIGINT      NOT NULL PRIMARY KEY,
    channel_id  BIGINT      NOT NULL,
    message_id  BIGINT      NOT NULL,
    posted_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Kills and deaths per player, weapon and session day (only kind = 'kill'; the weapon of a
-- death is the killer's). Written by the importer in the round's transaction; kept forever.
CREATE TABLE player_weapon_daily (
    player_guid   TEXT     NOT NULL,
    session_date  DATE     NOT NULL,
    weapon        SMALLINT NOT NULL,
    kills         INTEGER  NOT NULL DEFAULT 0,
    deaths        INTEGER  NOT NULL DEFAULT 0,
    PRIMARY KEY (player_guid, session_date, weapon)
);

-- Kills of one player by another per session day (only kind = 'kill'), for nemesis and
-- favourite victim. Written by the importer in the round's transaction; kept forever.
CREATE TABLE player_versus_daily (
    killer_guid   TEXT    NOT NULL,
    victim_guid   TEXT    NOT NULL,
    session_date  DATE    NOT NULL,
    kills         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (killer_guid, victim_guid, session_date)
);
CREATE INDEX player_versus_daily_victim_idx ON player_versus_daily (victim_guid);

-- Days on which automatic retention ran, so a restart does not run it twice.
CREATE TABLE retention_runs (
    ran_on         DATE        NOT NULL PRIMARY KEY,
    days           INTEGER     NOT NULL,
    rows_archived  BIGINT      NOT NULL,
    ran_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per player and round (only kind = 'kill' counted): the player's team (the side of
-- most of their kills and deaths), kills and deaths. /duo uses it for "together vs apart".
-- Written by the importer in the round's transaction; kept forever.
CREATE TABLE player_rounds (
    player_guid   TEXT    NOT NULL,
    round_id      BIGINT  NOT NULL,
    session_date  DATE    NOT NULL,
    team          TEXT    NOT NULL,
    kills         INTEGER NOT NULL DEFAULT 0,
    deaths        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (player_guid, round_id)
);

-- Rebuilds player_weapon_daily, player_versus_daily and player_rounds from the raw kills
-- still stored (for data imported before the importer wrote them).
CREATE FUNCTION backfill_player_aggregates() RETURNS void LANGUAGE sql AS $$
    TRUNCATE player_weapon_daily, player_versus_daily, player_rounds;
    INSERT INTO player_weapon_daily (player_guid, session_date, weapon, kills, deaths)
    SELECT guid, session_date, weapon, SUM(k), SUM(d) FROM (
        SELECT killer_guid AS guid, session_date, weapon, 1 AS k, 0 AS d FROM kill_context WHERE kind = 'kill'
        UNION ALL
        SELECT victim_guid, session_date, weapon, 0, 1 FROM kill_context WHERE kind = 'kill') s
    WHERE guid <> '' GROUP BY 1, 2, 3;
    INSERT INTO player_versus_daily (killer_guid, victim_guid, session_date, kills)
    SELECT killer_guid, victim_guid, session_date, COUNT(*) FROM kill_context
    WHERE kind = 'kill' AND killer_guid <> '' AND victim_guid <> '' GROUP BY 1, 2, 3;
    INSERT INTO player_rounds (player_guid, round_id, session_date, team, kills, deaths)
    SELECT guid, round_id, MAX(session_date), mode() WITHIN GROUP (ORDER BY team), SUM(k), SUM(d) FROM (
        SELECT killer_guid AS guid, round_id, session_date, killer_team AS team, 1 AS k, 0 AS d FROM kill_context WHERE kind = 'kill'
        UNION ALL
        SELECT victim_guid, round_id, session_date, victim_team, 0, 1 FROM kill_context WHERE kind = 'kill') s
    WHERE guid <> '' GROUP BY guid, round_id;
$$;
