-- All-time fight totals, so /player, /weapons and /leaderboard answer "all time" from one row per
-- player (and weapon) instead of summing every day (issue "The whole fight", "Stored and shown").
--
-- They are the sums of the per-day tables of 0013 (player_fight_daily,
-- player_weapon_fight_daily) and nothing else. Statement triggers on those tables keep them so:
-- after every INSERT (also INSERT ... ON CONFLICT DO UPDATE), UPDATE or DELETE of daily rows,
-- the rows written are added and the rows replaced or removed taken out, in the same
-- transaction. The importer therefore does nothing for them: whatever writes the daily
-- rows (upsert per round, taking out a replaced round, a rebuild) keeps the totals exact, in any
-- order of imports. Retention never touches the daily rows, so it never touches these.
-- A TRUNCATE of a daily table fires no row trigger: truncate the totals with it.
--
-- Cost: one grouped upsert per statement that writes daily rows, about as dear as the daily
-- upsert itself (measured at load ~10 on 2 cores: 4,000 player rows 0.5-0.9 s with, 0.3-0.55 s
-- without; 2.1-2.9 s with row-level triggers). Totals rows are written in key order, so
-- concurrent imports lock them in the same order.

CREATE TABLE player_fight_totals (
    player_guid           TEXT    NOT NULL PRIMARY KEY,
    days_played           INTEGER NOT NULL DEFAULT 0,
    time_played_ms        BIGINT  NOT NULL DEFAULT 0,
    time_alive_ms         BIGINT  NOT NULL DEFAULT 0,
    lives                 BIGINT  NOT NULL DEFAULT 0,
    damage_given          BIGINT  NOT NULL DEFAULT 0,
    damage_received       BIGINT  NOT NULL DEFAULT 0,
    team_damage_given     BIGINT  NOT NULL DEFAULT 0,
    team_damage_received  BIGINT  NOT NULL DEFAULT 0,
    hits                  BIGINT  NOT NULL DEFAULT 0,
    headshots             BIGINT  NOT NULL DEFAULT 0,
    shots                 BIGINT  NOT NULL DEFAULT 0,
    revives_given         BIGINT  NOT NULL DEFAULT 0,
    revives_received      BIGINT  NOT NULL DEFAULT 0,
    down_ms               BIGINT  NOT NULL DEFAULT 0,
    obj_steals            BIGINT  NOT NULL DEFAULT 0,
    obj_secures           BIGINT  NOT NULL DEFAULT 0,
    obj_returns           BIGINT  NOT NULL DEFAULT 0,
    obj_plants            BIGINT  NOT NULL DEFAULT 0,
    obj_defuses           BIGINT  NOT NULL DEFAULT 0,
    obj_destroys          BIGINT  NOT NULL DEFAULT 0,
    obj_builds            BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE player_weapon_fight_totals (
    player_guid  TEXT     NOT NULL,
    weapon       SMALLINT NOT NULL,
    shots        BIGINT   NOT NULL DEFAULT 0,
    hits         BIGINT   NOT NULL DEFAULT 0,
    headshots    BIGINT   NOT NULL DEFAULT 0,
    damage       BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (player_guid, weapon)
);

-- The rows a statement changed, signed: +1 for each row written (new_rows), -1 for each row
-- replaced or removed (old_rows). Statement-level triggers with transition tables: one grouped
-- upsert per statement, however many daily rows it wrote.
CREATE FUNCTION fight_changed_rows(op TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE op
        WHEN 'INSERT' THEN 'SELECT 1 AS s, * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS s, * FROM old_rows'
        ELSE 'SELECT 1 AS s, * FROM new_rows UNION ALL SELECT -1 AS s, * FROM old_rows'
    END
$$;

CREATE FUNCTION player_fight_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO player_fight_totals AS t
        SELECT player_guid, SUM(s), SUM(s * time_played_ms), SUM(s * time_alive_ms),
            SUM(s * lives), SUM(s * damage_given), SUM(s * damage_received),
            SUM(s * team_damage_given), SUM(s * team_damage_received), SUM(s * hits),
            SUM(s * headshots), SUM(s * shots), SUM(s * revives_given), SUM(s * revives_received),
            SUM(s * down_ms), SUM(s * obj_steals), SUM(s * obj_secures), SUM(s * obj_returns),
            SUM(s * obj_plants), SUM(s * obj_defuses), SUM(s * obj_destroys), SUM(s * obj_builds)
        FROM (%s) d GROUP BY player_guid ORDER BY player_guid
        ON CONFLICT (player_guid) DO UPDATE SET
            days_played = t.days_played + EXCLUDED.days_played,
            time_played_ms = t.time_played_ms + EXCLUDED.time_played_ms,
            time_alive_ms = t.time_alive_ms + EXCLUDED.time_alive_ms,
            lives = t.lives + EXCLUDED.lives,
            damage_given = t.damage_given + EXCLUDED.damage_given,
            damage_received = t.damage_received + EXCLUDED.damage_received,
            team_damage_given = t.team_damage_given + EXCLUDED.team_damage_given,
            team_damage_received = t.team_damage_received + EXCLUDED.team_damage_received,
            hits = t.hits + EXCLUDED.hits,
            headshots = t.headshots + EXCLUDED.headshots,
            shots = t.shots + EXCLUDED.shots,
            revives_given = t.revives_given + EXCLUDED.revives_given,
            revives_received = t.revives_received + EXCLUDED.revives_received,
            down_ms = t.down_ms + EXCLUDED.down_ms,
            obj_steals = t.obj_steals + EXCLUDED.obj_steals,
            obj_secures = t.obj_secures + EXCLUDED.obj_secures,
            obj_returns = t.obj_returns + EXCLUDED.obj_returns,
            obj_plants = t.obj_plants + EXCLUDED.obj_plants,
            obj_defuses = t.obj_defuses + EXCLUDED.obj_defuses,
            obj_destroys = t.obj_destroys + EXCLUDED.obj_destroys,
            obj_builds = t.obj_builds + EXCLUDED.obj_builds
        $q$, fight_changed_rows(TG_OP));
    RETURN NULL;
END
$$;

CREATE TRIGGER player_fight_totals_insert AFTER INSERT ON player_fight_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION player_fight_totals_follow();
CREATE TRIGGER player_fight_totals_update AFTER UPDATE ON player_fight_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION player_fight_totals_follow();
CREATE TRIGGER player_fight_totals_delete AFTER DELETE ON player_fight_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION player_fight_totals_follow();

CREATE FUNCTION player_weapon_fight_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO player_weapon_fight_totals AS t
        SELECT player_guid, weapon, SUM(s * shots), SUM(s * hits), SUM(s * headshots),
            SUM(s * damage)
        FROM (%s) d GROUP BY player_guid, weapon ORDER BY player_guid, weapon
        ON CONFLICT (player_guid, weapon) DO UPDATE SET
            shots = t.shots + EXCLUDED.shots,
            hits = t.hits + EXCLUDED.hits,
            headshots = t.headshots + EXCLUDED.headshots,
            damage = t.damage + EXCLUDED.damage
        $q$, fight_changed_rows(TG_OP));
    RETURN NULL;
END
$$;

CREATE TRIGGER player_weapon_fight_totals_insert AFTER INSERT ON player_weapon_fight_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION player_weapon_fight_totals_follow();
CREATE TRIGGER player_weapon_fight_totals_update AFTER UPDATE ON player_weapon_fight_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION player_weapon_fight_totals_follow();
CREATE TRIGGER player_weapon_fight_totals_delete AFTER DELETE ON player_weapon_fight_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION player_weapon_fight_totals_follow();

-- Daily rows written before this migration (none on a fresh database).
INSERT INTO player_fight_totals
SELECT player_guid, COUNT(*), SUM(time_played_ms), SUM(time_alive_ms), SUM(lives),
       SUM(damage_given), SUM(damage_received), SUM(team_damage_given), SUM(team_damage_received),
       SUM(hits), SUM(headshots), SUM(shots), SUM(revives_given), SUM(revives_received),
       SUM(down_ms), SUM(obj_steals), SUM(obj_secures), SUM(obj_returns), SUM(obj_plants),
       SUM(obj_defuses), SUM(obj_destroys), SUM(obj_builds)
FROM player_fight_daily GROUP BY player_guid;

INSERT INTO player_weapon_fight_totals
SELECT player_guid, weapon, SUM(shots), SUM(hits), SUM(headshots), SUM(damage)
FROM player_weapon_fight_daily GROUP BY player_guid, weapon;
