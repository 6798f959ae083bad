-- The raw fight tables of 0013 live and go with the raw kills (issue "The whole fight"):
-- * their month partitions (<table>_yYYYYmMM) are made by ensure_kill_context_partitions, for
--   the same months as kill_context's, so the importer's one call before each batch covers them;
-- * archive_proximity_data_before drops the same whole months and deletes the same days row by
--   row from them as from kill_context. The per-day aggregates of 0013 are never touched.
-- kill_context's own behaviour (names, locks, the rows it returns) is unchanged.

-- The raw tables partitioned like kill_context, kill_context first.
CREATE FUNCTION raw_partitioned_tables() RETURNS TEXT[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['kill_context', 'round_roster', 'damage_event', 'round_weapon_fire',
                 'revive_event', 'objective_event', 'round_life', 'round_presence_cells']
$$;

-- The month partition of `parent` holding `day`: its name (no schema). For kill_context it is
-- kill_context_partition_name(day).
CREATE FUNCTION raw_partition_name(parent TEXT, day DATE) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT parent || '_y' || to_char(day, 'YYYY') || 'm' || to_char(day, 'MM')
$$;

-- Month partitions of any of those tables, oldest first (kill_context_partitions() for one).
CREATE FUNCTION raw_month_partitions(parent TEXT)
RETURNS TABLE (partition_name TEXT, first_day DATE, end_day DATE)
LANGUAGE sql STABLE AS $$
    SELECT c.relname::text,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM $r$FROM \('([0-9-]+)'\)$r$)::date,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM $r$TO \('([0-9-]+)'\)$r$)::date
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent::regclass
      AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    ORDER BY 2
$$;

-- As in 0008, for every table of raw_partitioned_tables(): a missing month is created under the
-- lock on kill_context (one creator at a time), filled from the table's default partition, and
-- attached. Returns how many months of kill_context it created, as before (the fight tables'
-- partitions of those months come with them and are not counted).
CREATE OR REPLACE FUNCTION ensure_kill_context_partitions(days DATE[])
RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    m DATE;
    t TEXT;
    part TEXT;
    created INTEGER := 0;
BEGIN
    FOR m IN SELECT DISTINCT date_trunc('month', d)::date FROM unnest(days) d
             WHERE d IS NOT NULL ORDER BY 1 LOOP
        FOREACH t IN ARRAY raw_partitioned_tables() LOOP
            part := raw_partition_name(t, m);
            CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
            LOCK TABLE kill_context IN SHARE UPDATE EXCLUSIVE MODE;
            CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part, t);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE session_date >= %L AND session_date < %L RETURNING *)
                            INSERT INTO %I SELECT * FROM moved',
                           t || '_default', m, (m + INTERVAL '1 month')::date, part);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           t, part, m, (m + INTERVAL '1 month')::date);
            IF t = 'kill_context' THEN
                created := created + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN created;
END;
$$;

-- Every month kill_context has (this month and the next two at least) gets the fight tables'.
SELECT ensure_kill_context_partitions(
    ARRAY(SELECT first_day FROM kill_context_partitions())
    || ARRAY[CURRENT_DATE, (CURRENT_DATE + INTERVAL '1 month')::date,
             (CURRENT_DATE + INTERVAL '2 months')::date]);

-- As in 0008 for kill_context (its row first, as before), then the same for each raw fight
-- table: whole months before the cutoff dropped, the rest deleted row by row. A fight table
-- has a row in the result only when it lost rows, so callers that know only kill_context see
-- what they saw before.
CREATE OR REPLACE FUNCTION archive_proximity_data_before(cutoff DATE)
RETURNS TABLE (table_name TEXT, rows_archived BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
    dropped BIGINT;
    p RECORD;
    t TEXT;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'archive_proximity_data_before: the cutoff date is missing';
    END IF;
    LOCK TABLE kill_context IN SHARE ROW EXCLUSIVE MODE;
    PERFORM roll_up_heatmap(NULL);
    PERFORM keep_heatmap_cells_before(cutoff);
    FOREACH t IN ARRAY raw_partitioned_tables() LOOP
        n := 0;
        FOR p IN SELECT partition_name FROM raw_month_partitions(t) WHERE end_day <= cutoff LOOP
            EXECUTE format('SELECT count(*) FROM %I', p.partition_name) INTO dropped;
            EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', t, p.partition_name);
            EXECUTE format('DROP TABLE %I', p.partition_name);
            n := n + dropped;
        END LOOP;
        EXECUTE format('DELETE FROM %I WHERE session_date < %L', t, cutoff);
        GET DIAGNOSTICS dropped = ROW_COUNT;
        n := n + dropped;
        -- After a large delete the planner's statistics are stale until autovacuum gets there.
        IF dropped > 0 THEN
            EXECUTE format('ANALYZE %I', t);
        END IF;
        IF t = 'kill_context' OR n > 0 THEN
            table_name := t;
            rows_archived := n;
            RETURN NEXT;
        END IF;
    END LOOP;
END;
$$;

-- The aggregates of 0013 from the raw rows of some rounds: `sign` 1 adds the rounds (the
-- import, in the round's transaction, after its raw rows), -1 takes them out again (a longer
-- version of the round replaces it). Sums and counts only, so the result never depends on the
-- order rounds arrive in. A hit is a damage event on an enemy that took health (effective > 0:
-- not a corpse); team damage is counted apart and never as a hit.
CREATE FUNCTION fight_aggregate_rounds(ids BIGINT[], sign INTEGER) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO player_fight_daily AS t (
        session_date, player_guid, time_played_ms, time_alive_ms, lives, damage_given,
        damage_received, team_damage_given, team_damage_received, hits, headshots, shots,
        revives_given, revives_received, down_ms, obj_steals, obj_secures, obj_returns,
        obj_plants, obj_defuses, obj_destroys, obj_builds)
    SELECT session_date, player_guid,
           sign * sum(played), sign * sum(alive), sign * sum(lives)::int,
           sign * sum(dg), sign * sum(dr), sign * sum(tdg), sign * sum(tdr),
           sign * sum(hits)::int, sign * sum(hs)::int, sign * sum(shots)::int,
           sign * sum(rg)::int, sign * sum(rr)::int, sign * sum(down),
           sign * sum(steal)::int, sign * sum(secure)::int, sign * sum(ret)::int,
           sign * sum(plant)::int, sign * sum(defuse)::int, sign * sum(destroy)::int,
           sign * sum(build)::int
    FROM (
        SELECT session_date, player_guid, (to_ms - from_ms)::bigint AS played, 0::bigint AS alive,
               0::bigint AS lives, 0::bigint AS dg, 0::bigint AS dr, 0::bigint AS tdg,
               0::bigint AS tdr, 0::bigint AS hits, 0::bigint AS hs, 0::bigint AS shots,
               0::bigint AS rg, 0::bigint AS rr, 0::bigint AS down, 0::bigint AS steal,
               0::bigint AS secure, 0::bigint AS ret, 0::bigint AS plant, 0::bigint AS defuse,
               0::bigint AS destroy, 0::bigint AS build
        FROM round_roster WHERE round_id = ANY(ids)
        UNION ALL
        SELECT session_date, player_guid, 0, (end_ms - start_ms), 1, 0, 0, 0, 0, 0, 0, 0,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM round_life WHERE round_id = ANY(ids)
        UNION ALL
        SELECT session_date, attacker_guid, 0, 0, 0,
               CASE WHEN team_damage THEN 0 ELSE effective END, 0,
               CASE WHEN team_damage THEN effective ELSE 0 END, 0, 0, 0, 0,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM damage_event WHERE round_id = ANY(ids)
        UNION ALL
        SELECT session_date, target_guid, 0, 0, 0, 0,
               CASE WHEN team_damage THEN 0 ELSE effective END, 0,
               CASE WHEN team_damage THEN effective ELSE 0 END, 0, 0, 0,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM damage_event WHERE round_id = ANY(ids)
        UNION ALL
        SELECT session_date, player_guid, 0, 0, 0, 0, 0, 0, 0, hits, headshots, shots,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM round_weapon_fire WHERE round_id = ANY(ids)
        UNION ALL
        SELECT session_date, medic_guid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               1, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM revive_event WHERE round_id = ANY(ids) AND medic_guid IS NOT NULL
        UNION ALL
        SELECT session_date, revived_guid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, 1, coalesce(down_ms, 0), 0, 0, 0, 0, 0, 0, 0
        FROM revive_event WHERE round_id = ANY(ids)
        UNION ALL
        SELECT session_date, player_guid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               (action = 'steal')::int, (action = 'secure')::int, (action = 'return')::int,
               (action = 'plant')::int, (action = 'defuse')::int, (action = 'destroy')::int,
               (action = 'build')::int
        FROM objective_event WHERE round_id = ANY(ids) AND player_guid IS NOT NULL
    ) s
    GROUP BY session_date, player_guid
    ON CONFLICT (player_guid, session_date) DO UPDATE SET
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
        obj_builds = t.obj_builds + EXCLUDED.obj_builds;

    INSERT INTO player_weapon_fight_daily AS t (session_date, player_guid, weapon, shots, hits,
                                                headshots, damage)
    SELECT session_date, player_guid, weapon, sign * sum(shots)::int, sign * sum(hits)::int,
           sign * sum(hs)::int, sign * sum(damage)
    FROM (
        SELECT session_date, player_guid, weapon, shots::bigint, hits::bigint,
               headshots::bigint AS hs, 0::bigint AS damage
        FROM round_weapon_fire WHERE round_id = ANY(ids)
        UNION ALL
        SELECT session_date, attacker_guid, weapon, 0, 0, 0, effective
        FROM damage_event WHERE round_id = ANY(ids) AND NOT team_damage
    ) s
    GROUP BY session_date, player_guid, weapon
    ON CONFLICT (player_guid, weapon, session_date) DO UPDATE SET
        shots = t.shots + EXCLUDED.shots,
        hits = t.hits + EXCLUDED.hits,
        headshots = t.headshots + EXCLUDED.headshots,
        damage = t.damage + EXCLUDED.damage;

    INSERT INTO pair_damage_daily AS t (session_date, attacker_guid, target_guid, damage, hits)
    SELECT session_date, attacker_guid, target_guid, sign * sum(effective),
           sign * count(*) FILTER (WHERE effective > 0)
    FROM damage_event WHERE round_id = ANY(ids) AND NOT team_damage
    GROUP BY session_date, attacker_guid, target_guid
    ON CONFLICT (attacker_guid, target_guid, session_date) DO UPDATE SET
        damage = t.damage + EXCLUDED.damage,
        hits = t.hits + EXCLUDED.hits;

    INSERT INTO presence_cells_daily AS t (session_date, map_name, team, player_guid, cell_x,
                                           cell_y, seconds)
    SELECT session_date, map_name, team, player_guid, cell_x, cell_y, sign * sum(seconds)
    FROM round_presence_cells WHERE round_id = ANY(ids)
    GROUP BY session_date, map_name, team, player_guid, cell_x, cell_y
    ON CONFLICT (map_name, session_date, team, player_guid, cell_x, cell_y) DO UPDATE SET
        seconds = t.seconds + EXCLUDED.seconds;

    INSERT INTO objective_cells_daily AS t (session_date, map_name, team, player_guid, action,
                                            cell_x, cell_y, plays)
    SELECT session_date, map_name, team, player_guid, action,
           floor(x / 64)::int, floor(y / 64)::int, sign * count(*)::int
    FROM objective_event
    WHERE round_id = ANY(ids) AND player_guid IS NOT NULL AND x IS NOT NULL AND y IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (map_name, session_date, team, player_guid, action, cell_x, cell_y)
    DO UPDATE SET plays = t.plays + EXCLUDED.plays;
END;
$$;

-- Takes rounds' fight out: their contribution to the aggregates, the aggregate rows only they
-- made (all counters back at 0), and their raw rows. Nothing happens for rounds without fight
-- rows. Used before a longer version of a round is written under the same id.
CREATE FUNCTION fight_take_out_rounds(ids BIGINT[]) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    days DATE[];
BEGIN
    SELECT array_agg(DISTINCT session_date) INTO days FROM round_roster WHERE round_id = ANY(ids);
    IF days IS NULL THEN
        RETURN;
    END IF;
    PERFORM fight_aggregate_rounds(ids, -1);
    DELETE FROM player_fight_daily
    WHERE session_date = ANY(days)
      AND time_played_ms = 0 AND time_alive_ms = 0 AND lives = 0 AND damage_given = 0
      AND damage_received = 0 AND team_damage_given = 0 AND team_damage_received = 0
      AND hits = 0 AND headshots = 0 AND shots = 0 AND revives_given = 0
      AND revives_received = 0 AND down_ms = 0 AND obj_steals = 0 AND obj_secures = 0
      AND obj_returns = 0 AND obj_plants = 0 AND obj_defuses = 0 AND obj_destroys = 0
      AND obj_builds = 0;
    DELETE FROM player_weapon_fight_daily
    WHERE session_date = ANY(days) AND shots = 0 AND hits = 0 AND headshots = 0 AND damage = 0;
    DELETE FROM pair_damage_daily WHERE session_date = ANY(days) AND damage = 0 AND hits = 0;
    DELETE FROM presence_cells_daily WHERE session_date = ANY(days) AND seconds = 0;
    DELETE FROM objective_cells_daily WHERE session_date = ANY(days) AND plays = 0;
    DELETE FROM round_roster WHERE round_id = ANY(ids);
    DELETE FROM damage_event WHERE round_id = ANY(ids);
    DELETE FROM round_weapon_fire WHERE round_id = ANY(ids);
    DELETE FROM revive_event WHERE round_id = ANY(ids);
    DELETE FROM objective_event WHERE round_id = ANY(ids);
    DELETE FROM round_life WHERE round_id = ANY(ids);
    DELETE FROM round_presence_cells WHERE round_id = ANY(ids);
END;
$$;
