//! Stored rounds a new file may be another version or copy of: by content, by round key or v2
//! file name, or (the other tracker's copy) by map, round number and time; and the advisory
//! locks that make imports of the same round run one after the other.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use super::rounds::RoundRow;

/// A round an earlier import stored with one of the contents or round keys asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRound {
    pub content_sha256: String,
    pub round_key: String,
    pub id: i64,
    pub source_path: String,
}

/// Rounds an earlier import stored for these contents or round keys.
pub async fn find_existing(
    conn: &mut PgConnection,
    content_sha256: &[&str],
    round_keys: &[&str],
) -> sqlx::Result<Vec<ExistingRound>> {
    sqlx::query_as!(
        ExistingRound,
        "SELECT content_sha256, round_key, id, source_path FROM rounds
         WHERE content_sha256 = ANY($1) OR round_key = ANY($2)",
        content_sha256 as &[&str],
        round_keys as &[&str],
    )
    .fetch_all(conn)
    .await
}

/// A stored round that a new file may be another version of.
#[derive(Debug, Clone)]
pub struct StoredRound {
    pub id: i64,
    pub content_sha256: String,
    pub content_bytes: Option<i64>,
    pub format_version: i16,
    pub source_path: String,
    pub source_name: Option<String>,
    pub session_date: NaiveDate,
    pub map_name: String,
    pub round_number: i16,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub imported_at: DateTime<Utc>,
    pub kill_count: i32,
    pub heatmap_rolled_up: bool,
}

/// A stored round found for one of the rows asked about.
#[derive(Debug, Clone)]
pub struct StoredFor {
    /// Index into the rows asked about.
    pub index: usize,
    pub round: StoredRound,
}

/// Takes a transaction-level advisory lock on each key, in sorted order (every import takes
/// them in that order, so two never wait on each other crosswise): imports that could be the
/// same round run one after the other.
pub async fn lock_round_keys(conn: &mut PgConnection, keys: &[String]) -> sqlx::Result<()> {
    let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    // One statement; the function scan hands the rows over in array order.
    sqlx::query!(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))
         FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n)",
        &keys as &[&str],
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(())
}

/// 1-based ordinals from `WITH ORDINALITY` back to indexes into the rows.
fn index_of(ordinal: i64) -> Option<usize> {
    usize::try_from(ordinal - 1).ok()
}

/// Stored versions of the rounds of `rows`, by the v3 round key, or (v2) the same file name on
/// the same server. The rows found are locked (and read after the lock), so a concurrent
/// heatmap roll-up of them finishes first.
pub async fn stored_versions(
    conn: &mut PgConnection,
    rows: &[&RoundRow],
) -> sqlx::Result<Vec<StoredFor>> {
    let keys: Vec<&str> = rows.iter().map(|r| r.round_key.as_str()).collect();
    let versions: Vec<i16> = rows.iter().map(|r| r.format_version).collect();
    let servers: Vec<&str> = rows.iter().map(|r| r.server_id.as_str()).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.source_name.as_str()).collect();
    let found = sqlx::query!(
        r#"SELECT t.i AS "i!", r.id AS "id!"
         FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[]) WITH ORDINALITY
              AS t(key, fv, server, name, i)
         JOIN rounds r ON r.round_key = t.key WHERE t.fv <> 2
         UNION ALL
         SELECT t.i, r.id
         FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[]) WITH ORDINALITY
              AS t(key, fv, server, name, i)
         JOIN rounds r ON r.format_version = 2 AND r.server_id = t.server AND r.source_name = t.name
         WHERE t.fv = 2"#,
        &keys as &[&str],
        &versions,
        &servers as &[&str],
        &names as &[&str],
    )
    .fetch_all(&mut *conn)
    .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = found.iter().map(|f| f.id).collect();
    let locked = lock_stored(conn, &ids).await?;
    let mut out: Vec<StoredFor> = found
        .iter()
        .filter_map(|f| {
            let round = locked.iter().find(|l| l.id == f.id)?.clone();
            Some(StoredFor {
                index: index_of(f.i)?,
                round,
            })
        })
        .collect();
    out.sort_by_key(|s| (s.index, s.round.id));
    Ok(out)
}

/// Locks the rounds' rows (in id order) and reads them.
async fn lock_stored(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<Vec<StoredRound>> {
    sqlx::query_as!(
        StoredRound,
        "SELECT id, content_sha256, content_bytes, format_version, source_path, source_name,
                session_date, map_name, round_number, started_at, ended_at, imported_at,
                kill_count, heatmap_rolled_up
         FROM rounds WHERE id = ANY ($1) ORDER BY id FOR UPDATE",
        ids,
    )
    .fetch_all(&mut *conn)
    .await
}

/// Rounds written by the other tracker that may be one of `rows`: same map and round number,
/// time windows within two minutes of each other.
pub async fn other_tracker_candidates(
    conn: &mut PgConnection,
    rows: &[&RoundRow],
) -> sqlx::Result<Vec<StoredFor>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let maps: Vec<&str> = rows.iter().map(|r| r.map_name.as_str()).collect();
    let numbers: Vec<i16> = rows.iter().map(|r| r.round_number).collect();
    let versions: Vec<i16> = rows.iter().map(|r| r.format_version).collect();
    let starts: Vec<Option<DateTime<Utc>>> =
        rows.iter().map(|r| r.started_at.or(r.ended_at)).collect();
    let ends: Vec<Option<DateTime<Utc>>> =
        rows.iter().map(|r| r.ended_at.or(r.started_at)).collect();
    let found = sqlx::query!(
        r#"SELECT t.i AS "i!", r.id, r.content_sha256, r.content_bytes, r.format_version,
                r.source_path, r.source_name, r.session_date, r.map_name, r.round_number,
                r.started_at, r.ended_at, r.imported_at, r.kill_count, r.heatmap_rolled_up
         FROM unnest($1::text[], $2::int2[], $3::int2[], $4::timestamptz[], $5::timestamptz[])
              WITH ORDINALITY AS t(map, rn, fv, s, e, i)
         JOIN rounds r ON r.map_name = t.map AND r.round_number = t.rn AND r.format_version <> t.fv
          -- A range of the (map_name, round_number, ended_at) index (every imported round has
          -- an end time; no round lasts six hours) ...
          AND r.ended_at BETWEEN t.s - interval '2 minutes' AND t.e + interval '6 hours'
          -- ... then the overlap itself.
          AND COALESCE(r.started_at, r.ended_at) <= t.e + interval '2 minutes'
         ORDER BY t.i, r.id"#,
        &maps as &[&str],
        &numbers,
        &versions,
        &starts as &[Option<DateTime<Utc>>],
        &ends as &[Option<DateTime<Utc>>],
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(found
        .into_iter()
        .filter_map(|f| {
            let round = StoredRound {
                id: f.id,
                content_sha256: f.content_sha256,
                content_bytes: f.content_bytes,
                format_version: f.format_version,
                source_path: f.source_path,
                source_name: f.source_name,
                session_date: f.session_date,
                map_name: f.map_name,
                round_number: f.round_number,
                started_at: f.started_at,
                ended_at: f.ended_at,
                imported_at: f.imported_at,
                kill_count: f.kill_count,
                heatmap_rolled_up: f.heatmap_rolled_up,
            };
            Some(StoredFor {
                index: index_of(f.i)?,
                round,
            })
        })
        .collect())
}

/// What identifies a kill across the two trackers' files of one round (ordered by killer,
/// victim, means of death).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KillSignature {
    pub killer: String,
    pub victim: String,
    pub means_of_death: i16,
}

/// The signatures of a stored round's kills and team kills by a player, sorted: compared with
/// `ingest::identity::kill_signatures` of a new file.
pub async fn kill_signatures(
    conn: &mut PgConnection,
    round_id: i64,
) -> sqlx::Result<Vec<KillSignature>> {
    let mut signatures = sqlx::query_as!(
        KillSignature,
        "SELECT killer_guid AS killer, victim_guid AS victim, means_of_death FROM kill_context
         WHERE round_id = $1 AND kind IN ('kill', 'teamkill') AND killer_guid <> ''",
        round_id,
    )
    .fetch_all(&mut *conn)
    .await?;
    signatures.sort();
    Ok(signatures)
}

/// Raw kill rows still stored for a round (0 once its day was archived).
pub async fn stored_kill_rows(conn: &mut PgConnection, round_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!" FROM kill_context WHERE round_id = $1"#,
        round_id
    )
    .fetch_one(&mut *conn)
    .await
}
