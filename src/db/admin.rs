//! Creating and dropping whole databases (the importer's own on first start, the benches' and
//! the demo's scratch databases, tests' siblings). Names are identifiers, not values: they
//! cannot be bind parameters, so these statements are built at run time with the name quoted.

use sqlx::{Acquire, PgExecutor, PgPool, Postgres};

/// `name` as a quoted SQL identifier (`"a""b"` for `a"b`).
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `CREATE DATABASE name`.
pub async fn create_database<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    name: &str,
) -> sqlx::Result<()> {
    // CREATE DATABASE takes no parameters: the name is quoted instead.
    let sql = format!("CREATE DATABASE {}", quote_identifier(name));
    sqlx::raw_sql(&sql)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// `DROP DATABASE IF EXISTS name WITH (FORCE)`: sessions still connected to it are ended.
pub async fn drop_database<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    name: &str,
) -> sqlx::Result<()> {
    // DROP DATABASE takes no parameters: the name is quoted instead.
    let sql = format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_identifier(name)
    );
    sqlx::raw_sql(&sql)
        .execute(&mut *db.acquire().await?)
        .await?;
    Ok(())
}

/// Whether a database of that name exists on the server.
pub async fn database_exists(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
        name
    )
    .fetch_one(db)
    .await
}

/// Drops the database when it exists, then creates it empty.
pub async fn recreate_database(conn: &mut sqlx::PgConnection, name: &str) -> sqlx::Result<()> {
    drop_database(&mut *conn, name).await?;
    create_database(conn, name).await
}

/// Fresh planner statistics for the whole database (after a bulk load).
pub async fn analyze(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query!("ANALYZE").execute(pool).await?;
    Ok(())
}

/// Versions of the migrations applied successfully, oldest first. Fails with SQLSTATE 42P01
/// when the database was never migrated (no `_sqlx_migrations` table).
pub async fn applied_migrations(pool: &PgPool) -> sqlx::Result<Vec<i64>> {
    // Runtime, not a macro: the table is sqlx's bookkeeping, not part of the schema the macros
    // are checked against, and it is missing in exactly the case this must report.
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(super::quote_identifier("etprox"), "\"etprox\"");
        assert_eq!(super::quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
