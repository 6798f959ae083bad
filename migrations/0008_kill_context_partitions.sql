-- Raw kills partitioned by month of session_date, so retention drops whole months instead of
-- deleting rows one by one (measured on 1 M kills over three years, whole process under load:
-- the drops 1.7-2.4 s, against a DELETE that leaves dead rows until vacuum; what else an archive
-- costs is in docs/operations.md, "Speed of the retention job").
--
-- * kill_context is now a declaratively partitioned table, RANGE (session_date), one partition
--   per calendar month named kill_context_yYYYYmMM, plus kill_context_default for any day that
--   has no month partition yet (a raw INSERT never fails; the importer creates the month first,
--   and ensure_kill_context_partitions() moves rows out of the default when it creates a month).
-- * The BRIN indexes are defined on the parent, so every partition gets them.
-- * Existing rows are moved in place, in their stored order (round by round, as COPY wrote them,
--   which is what BRIN relies on). The engagement_breakdown view is recreated on the new table.
-- * Retention (archive_proximity_data_before) detaches and drops the months wholly before the
--   cutoff and deletes the rest row-wise (a partly kept month, the default partition).

-- The partition of the month holding `day`: its name (no schema).
CREATE FUNCTION kill_context_partition_name(day DATE) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'kill_context_y' || to_char(day, 'YYYY') || 'm' || to_char(day, 'MM')
$$;

ALTER TABLE kill_context RENAME TO kill_context_before_0008;
ALTER INDEX kill_context_round_brin RENAME TO kill_context_before_0008_round_brin;
ALTER INDEX kill_context_session_brin RENAME TO kill_context_before_0008_session_brin;

CREATE TABLE kill_context (
    LIKE kill_context_before_0008 INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE
) PARTITION BY RANGE (session_date);
CREATE TABLE kill_context_default PARTITION OF kill_context DEFAULT;

-- One partition per month that holds rows; indexes come after the rows (one build per partition
-- instead of upkeep per row).
DO $$
DECLARE
    m DATE;
BEGIN
    FOR m IN SELECT DISTINCT date_trunc('month', session_date)::date
             FROM kill_context_before_0008 ORDER BY 1 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF kill_context FOR VALUES FROM (%L) TO (%L)',
                       kill_context_partition_name(m), m, (m + INTERVAL '1 month')::date);
    END LOOP;
END;
$$;

INSERT INTO kill_context SELECT * FROM kill_context_before_0008;

DROP VIEW engagement_breakdown;
DROP TABLE kill_context_before_0008;

-- A round's kills are found by a b-tree on round_id, not a BRIN as before: a BRIN range only
-- answers once VACUUM has summarized it, so right after a bulk import a round's lookup (/round,
-- the heatmap roll-up, the round summary) read every unsummarized page (measured: 1-3 s cold at
-- 1 M kills). Round ids grow with each import, so inserts append at the index's right edge.
CREATE INDEX kill_context_round_idx ON kill_context (round_id);
CREATE INDEX kill_context_session_brin ON kill_context USING brin (session_date) WITH (pages_per_range = 8);

-- Unchanged from 0001; a view is bound to its table, so it is made again on the new one.
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

-- Month partitions of kill_context, oldest first: name, first day, day after the last, rows as
-- the planner estimates them (exact counts would read every row).
CREATE FUNCTION kill_context_partitions()
RETURNS TABLE (partition_name TEXT, first_day DATE, end_day DATE, estimated_rows BIGINT, total_bytes BIGINT)
LANGUAGE sql STABLE AS $$
    SELECT c.relname::text,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM $r$FROM \('([0-9-]+)'\)$r$)::date,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM $r$TO \('([0-9-]+)'\)$r$)::date,
           greatest(c.reltuples, 0)::bigint,
           pg_total_relation_size(c.oid)
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'kill_context'::regclass
      AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    ORDER BY 2
$$;

-- Makes sure the month partition of every given day exists; returns how many it created.
-- Cheap when they exist (one catalog look-up per distinct month, no lock). A missing month is
-- created under a lock on kill_context (concurrent importers wait for each other and find it
-- made) as a plain table attached afterwards: ATTACH takes a lighter lock on kill_context than
-- CREATE TABLE ... PARTITION OF, so readers are not blocked. Rows of that month that went to
-- the default partition meanwhile are moved into it first.
CREATE FUNCTION ensure_kill_context_partitions(days DATE[])
RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    m DATE;
    part TEXT;
    created INTEGER := 0;
BEGIN
    FOR m IN SELECT DISTINCT date_trunc('month', d)::date FROM unnest(days) d
             WHERE d IS NOT NULL ORDER BY 1 LOOP
        part := kill_context_partition_name(m);
        CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
        -- One creator at a time; the lock is the one ATTACH takes anyway (writers and readers go
        -- on), and taking it makes the winner's partition visible to the look-up below.
        LOCK TABLE kill_context IN SHARE UPDATE EXCLUSIVE MODE;
        CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I (LIKE kill_context INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part);
        EXECUTE format('WITH moved AS (DELETE FROM kill_context_default WHERE session_date >= %L AND session_date < %L RETURNING *)
                        INSERT INTO %I SELECT * FROM moved',
                       m, (m + INTERVAL '1 month')::date, part);
        EXECUTE format('ALTER TABLE kill_context ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       part, m, (m + INTERVAL '1 month')::date);
        created := created + 1;
    END LOOP;
    RETURN created;
END;
$$;

-- This month and the next two exist from the start.
SELECT ensure_kill_context_partitions(ARRAY[CURRENT_DATE, (CURRENT_DATE + INTERVAL '1 month')::date,
                                            (CURRENT_DATE + INTERVAL '2 months')::date]);

-- What the heatmap keeps of raw kills about to be archived: their 64-unit cells per day in
-- kill_heatmap_fine (as 0003/0005 did inside the archive). This is nearly all of an archive's
-- time (measured on 1 M kills: about 99 %; one row per kill and position, as the comment in 0003
-- says), so it is its own function: when the heatmap rollups keep per-day cells at import
-- time, this becomes a no-op and an archive is the partition drops alone.
-- The aggregation sorts about as many groups as rows: in memory, not in spill files.
CREATE FUNCTION keep_heatmap_cells_before(cutoff DATE) RETURNS VOID
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
BEGIN
    INSERT INTO kill_heatmap_fine AS f (session_date, map_name, position, team, cell_x, cell_y, kills)
    SELECT * FROM (
        SELECT session_date, map_name, 'victim'::text, victim_team,
               floor(greatest(-1e6, least(1e6, victim_x / 64)))::int,
               floor(greatest(-1e6, least(1e6, victim_y / 64)))::int, count(*)::int
        FROM kill_context WHERE kind = 'kill' AND session_date < cutoff
        GROUP BY 1, 2, 3, 4, 5, 6
        UNION ALL
        SELECT session_date, map_name, 'killer'::text, killer_team,
               floor(greatest(-1e6, least(1e6, killer_x / 64)))::int,
               floor(greatest(-1e6, least(1e6, killer_y / 64)))::int, count(*)::int
        FROM kill_context WHERE kind = 'kill' AND session_date < cutoff
        GROUP BY 1, 2, 3, 4, 5, 6
    ) c
    ON CONFLICT (session_date, map_name, position, team, cell_x, cell_y)
    DO UPDATE SET kills = f.kills + EXCLUDED.kills;
END;
$$;

-- Archiving with partitions: writers wait (SHARE ROW EXCLUSIVE lets readers through, and is
-- taken by one archive at a time), pending heatmap roll-ups are done, the archived days' cells
-- are kept (keep_heatmap_cells_before), then the months wholly before the cutoff are
-- detached and dropped, and the rest (a partly kept month, the default partition) is deleted
-- row by row. The caller that exports first takes the same lock before its snapshot, so the rows
-- dropped are exactly the rows it exported.
CREATE OR REPLACE FUNCTION archive_proximity_data_before(cutoff DATE)
RETURNS TABLE (table_name TEXT, rows_archived BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT := 0;
    dropped BIGINT;
    p RECORD;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'archive_proximity_data_before: the cutoff date is missing';
    END IF;
    LOCK TABLE kill_context IN SHARE ROW EXCLUSIVE MODE;
    PERFORM roll_up_heatmap(NULL);
    PERFORM keep_heatmap_cells_before(cutoff);
    FOR p IN SELECT partition_name FROM kill_context_partitions() WHERE end_day <= cutoff LOOP
        EXECUTE format('SELECT count(*) FROM %I', p.partition_name) INTO dropped;
        EXECUTE format('ALTER TABLE kill_context DETACH PARTITION %I', p.partition_name);
        EXECUTE format('DROP TABLE %I', p.partition_name);
        n := n + dropped;
    END LOOP;
    DELETE FROM kill_context WHERE session_date < cutoff;
    GET DIAGNOSTICS dropped = ROW_COUNT;
    n := n + dropped;
    -- After a large delete the planner's statistics are stale until autovacuum gets there.
    IF dropped > 0 THEN
        ANALYZE kill_context;
    END IF;
    table_name := 'kill_context';
    rows_archived := n;
    RETURN NEXT;
END;
$$;

-- As in 0001, with the size of kill_context summed over its partitions (a partitioned table
-- has no storage of its own).
CREATE OR REPLACE FUNCTION proximity_data_stats()
RETURNS TABLE (table_name TEXT, row_count BIGINT, total_bytes BIGINT, oldest_date DATE, newest_date DATE)
LANGUAGE sql STABLE AS $$
    SELECT 'rounds', COUNT(*), pg_total_relation_size('rounds'), MIN(session_date), MAX(session_date) FROM rounds
    UNION ALL
    SELECT 'kill_context', COUNT(*),
           (SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0)::bigint
            FROM pg_partition_tree('kill_context')),
           MIN(session_date), MAX(session_date) FROM kill_context
    UNION ALL
    SELECT 'kill_heatmap', COUNT(*), pg_total_relation_size('kill_heatmap'), MIN(session_date), MAX(session_date) FROM kill_heatmap
    UNION ALL
    SELECT 'player_proximity_stats', COUNT(*), pg_total_relation_size('player_proximity_stats'), MIN(session_date), MAX(session_date) FROM player_proximity_stats
    UNION ALL
    SELECT 'teammate_synergy_daily', COUNT(*), pg_total_relation_size('teammate_synergy_daily'), MIN(session_date), MAX(session_date) FROM teammate_synergy_daily
$$;
