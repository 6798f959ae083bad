-- Head-to-head detail kept after the raw kills are archived: for each round, the kills of one
-- player by another per weapon and engagement class, and the longest run of kills one made on
-- the other in that round without dying to them in between. /versus reads these (the map and
-- the session day come from the round). Written by the importer in the round's transaction
-- (db/versus.rs); a round replaced by a longer version is recomputed, a deleted round takes its
-- rows with it.
CREATE TABLE player_versus_round_detail (
    round_id          BIGINT   NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    killer_guid       TEXT     NOT NULL,
    victim_guid       TEXT     NOT NULL,
    weapon            SMALLINT NOT NULL,
    engagement_class  TEXT     NOT NULL,
    kills             INTEGER  NOT NULL,
    -- The pair first, the count included: /versus reads a pair's rows from the index alone.
    PRIMARY KEY (killer_guid, victim_guid, round_id, weapon, engagement_class) INCLUDE (kills)
);
-- Replacing or deleting a round finds its rows.
CREATE INDEX player_versus_round_detail_round_idx ON player_versus_round_detail (round_id);

CREATE TABLE player_versus_round_streak (
    round_id        BIGINT  NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    killer_guid     TEXT    NOT NULL,
    victim_guid     TEXT    NOT NULL,
    longest_streak  INTEGER NOT NULL,
    PRIMARY KEY (killer_guid, victim_guid, round_id) INCLUDE (longest_streak)
);
CREATE INDEX player_versus_round_streak_round_idx ON player_versus_round_streak (round_id);

-- Existing data: from the raw kills still stored (rounds archived earlier have no detail; /versus
-- says how many of the pair's kills its detail covers).
INSERT INTO player_versus_round_detail
    (round_id, killer_guid, victim_guid, weapon, engagement_class, kills)
SELECT k.round_id, k.killer_guid, k.victim_guid, k.weapon, k.engagement_class, COUNT(*)
FROM kill_context k JOIN rounds r ON r.id = k.round_id
WHERE k.kind = 'kill' AND k.killer_guid <> '' AND k.victim_guid <> ''
  AND k.killer_guid <> k.victim_guid
GROUP BY 1, 2, 3, 4, 5;

-- A run: consecutive kills between the two (in kill order) by the same killer. The difference of
-- the two row numbers is constant along a run.
INSERT INTO player_versus_round_streak (round_id, killer_guid, victim_guid, longest_streak)
SELECT round_id, killer_guid, victim_guid, MAX(n) FROM (
    SELECT round_id, killer_guid, victim_guid, run, COUNT(*) AS n FROM (
        SELECT k.round_id, k.killer_guid, k.victim_guid,
               ROW_NUMBER() OVER (PARTITION BY k.round_id, LEAST(k.killer_guid, k.victim_guid),
                                  GREATEST(k.killer_guid, k.victim_guid) ORDER BY k.kill_index)
             - ROW_NUMBER() OVER (PARTITION BY k.round_id, k.killer_guid, k.victim_guid
                                  ORDER BY k.kill_index) AS run
        FROM kill_context k JOIN rounds r ON r.id = k.round_id
        WHERE k.kind = 'kill' AND k.killer_guid <> '' AND k.victim_guid <> ''
          AND k.killer_guid <> k.victim_guid) runs
    GROUP BY 1, 2, 3, 4) per_run
GROUP BY 1, 2, 3;
