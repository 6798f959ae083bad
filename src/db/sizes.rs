//! How big the database is, for the benches: rows that matter, bytes on disk, largest tables.

use sqlx::PgPool;

/// (counted kills, rounds, players) stored.
pub async fn counts(pool: &PgPool) -> sqlx::Result<(i64, i64, i64)> {
    let r = sqlx::query!(
        r#"SELECT (SELECT COUNT(*) FROM kill_context WHERE kind = 'kill') AS "kills!",
                  (SELECT COUNT(*) FROM rounds) AS "rounds!",
                  (SELECT COUNT(*) FROM players) AS "players!""#
    )
    .fetch_one(pool)
    .await?;
    Ok((r.kills, r.rounds, r.players))
}

/// Vacuums and analyses the whole database (after a bulk load, as autovacuum would in time).
pub async fn vacuum_analyze(pool: &PgPool) -> sqlx::Result<()> {
    // Runtime, not a macro: a utility statement with no parameters and no rows, so nothing
    // to check; sent as a simple query, outside any transaction, as VACUUM requires.
    sqlx::raw_sql("VACUUM (ANALYZE)").execute(pool).await?;
    Ok(())
}

/// Bytes of the current database on disk.
pub async fn database_bytes(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT pg_database_size(current_database()) AS "bytes!""#)
        .fetch_one(pool)
        .await
}

/// A table's bytes: its rows (with TOAST) and its indexes.
#[derive(Debug, Clone)]
pub struct TableBytes {
    pub name: String,
    pub table_bytes: i64,
    pub index_bytes: i64,
}

/// The `limit` largest tables of the public schema, by rows + indexes (a partitioned table
/// counts its partitions).
pub async fn largest_tables(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<TableBytes>> {
    sqlx::query_as!(
        TableBytes,
        r#"WITH t AS (
            SELECT COALESCE(i.inhparent, c.oid) AS top, c.oid
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p'))
         SELECT t.top::regclass::text AS "name!",
                SUM(pg_table_size(t.oid))::bigint AS "table_bytes!",
                SUM(pg_indexes_size(t.oid))::bigint AS "index_bytes!"
         FROM t GROUP BY t.top
         ORDER BY SUM(pg_total_relation_size(t.oid)) DESC LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await
}
