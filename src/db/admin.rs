//! Creating and dropping whole databases (the importer's own on first start, the benches' and
//! the demo's scratch databases, tests' siblings). Names are identifiers, not values: they
//! cannot be bind parameters, so these statements are built at run time with the name quoted.

use sqlx::PgConnection;

/// `name` as a quoted SQL identifier (`"a""b"` for `a"b`).
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `CREATE DATABASE name`.
pub async fn create_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    // CREATE DATABASE takes no parameters: the name is quoted instead.
    sqlx::raw_sql(&format!("CREATE DATABASE {}", quote_identifier(name)))
        .execute(conn)
        .await?;
    Ok(())
}

/// `DROP DATABASE IF EXISTS name WITH (FORCE)`: sessions still connected to it are ended.
pub async fn drop_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    // DROP DATABASE takes no parameters: the name is quoted instead.
    sqlx::raw_sql(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_identifier(name)
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a database of that name exists on the server.
pub async fn database_exists(conn: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
        name
    )
    .fetch_one(conn)
    .await
}

/// Drops the database when it exists, then creates it empty.
pub async fn recreate_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    drop_database(conn, name).await?;
    create_database(conn, name).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(super::quote_identifier("etprox"), "\"etprox\"");
        assert_eq!(super::quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
