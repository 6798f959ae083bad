-- All-time fight totals, so /player, /weapons and /leaderboard answer "all time" from one row per
-- player (and weapon) instead of summing every day (issue "The whole fight", "Stored and shown").
--
-- They are the sums of the per-day tables of 0013 (player_fight_daily,
-- player_weapon_fight_daily) and nothing else. Triggers on those tables keep them so: every
-- insert, update or delete of a daily row adds the new row and takes out the old one, in the
-- same transaction. The importer therefore does nothing for them: whatever writes the daily
-- rows (upsert per round, taking out a replaced round, a rebuild) keeps the totals exact, in any
-- order of imports. Retention never touches the daily rows, so it never touches these.
-- A TRUNCATE of a daily table fires no row trigger: truncate the totals with it.
--
-- Cost: one upsert of a totals row per daily row written (a round writes one daily row per
-- player and one per player and weapon fired). Rows are written in the order the statement
-- writes the daily rows; the importer writes them in key order, so concurrent imports lock
-- totals rows in the same order.

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

-- `sign` 1 adds a daily row, -1 takes it out.
CREATE FUNCTION player_fight_totals_add(r player_fight_daily, sign INTEGER) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO player_fight_totals AS t VALUES (
        r.player_guid, sign, sign * r.time_played_ms, sign * r.time_alive_ms, sign * r.lives,
        sign * r.damage_given, sign * r.damage_received, sign * r.team_damage_given,
        sign * r.team_damage_received, sign * r.hits, sign * r.headshots, sign * r.shots,
        sign * r.revives_given, sign * r.revives_received, sign * r.down_ms,
        sign * r.obj_steals, sign * r.obj_secures, sign * r.obj_returns, sign * r.obj_plants,
        sign * r.obj_defuses, sign * r.obj_destroys, sign * r.obj_builds)
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
$$;

CREATE FUNCTION player_fight_totals_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM player_fight_totals_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM player_fight_totals_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER player_fight_totals_follow
    AFTER INSERT OR UPDATE OR DELETE ON player_fight_daily
    FOR EACH ROW EXECUTE FUNCTION player_fight_totals_follow();

CREATE FUNCTION player_weapon_fight_totals_add(r player_weapon_fight_daily, sign INTEGER)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO player_weapon_fight_totals AS t VALUES (
        r.player_guid, r.weapon, sign * r.shots, sign * r.hits, sign * r.headshots,
        sign * r.damage)
    ON CONFLICT (player_guid, weapon) DO UPDATE SET
        shots = t.shots + EXCLUDED.shots,
        hits = t.hits + EXCLUDED.hits,
        headshots = t.headshots + EXCLUDED.headshots,
        damage = t.damage + EXCLUDED.damage
$$;

CREATE FUNCTION player_weapon_fight_totals_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM player_weapon_fight_totals_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM player_weapon_fight_totals_add(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER player_weapon_fight_totals_follow
    AFTER INSERT OR UPDATE OR DELETE ON player_weapon_fight_daily
    FOR EACH ROW EXECUTE FUNCTION player_weapon_fight_totals_follow();

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
