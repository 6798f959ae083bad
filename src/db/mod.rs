//! Database access: pool, migrations, and one file per domain. Every static statement is a
//! `sqlx::query!`-family macro, checked against the schema when it compiles (offline from the
//! committed `.sqlx/`; docs/contributing.md says how to regenerate it).

/// Declares a struct holding one `Vec` per column and a constructor that fills each from the
/// rows, for `unnest($1::type[], ...)` statements: a column's name, type and source are written
/// once, on one line, and the statement binds `&columns.name` in the order it names them.
/// Borrowed text columns are bound `as &[&str]` (and nullable ones `as &[Option<_>]`): the
/// macros expect owned `Vec<String>` for `text[]`, and the override spares copying every string
/// of a batch; the statement's `$n::text[]` cast states the SQL side.
macro_rules! columns {
    ($name:ident<$lt:lifetime> from $row:ty {
        $($col:ident: $ty:ty = |$r:ident| $value:expr),+ $(,)?
    }) => {
        struct $name<$lt> {
            $($col: Vec<$ty>,)+
        }
        impl<$lt> $name<$lt> {
            fn new(rows: &$lt [$row]) -> Self {
                Self { $($col: rows.iter().map(|$r| $value).collect(),)+ }
            }
        }
    };
}

pub mod admin;
pub mod aggregates;
pub mod copy_text;
pub mod demo;
pub mod fight;
pub mod fight_stats;
pub mod heatmap;
pub mod import_log;
pub mod links;
pub mod partitions;
pub mod players;
pub mod recap;
pub mod remote_fetches;
pub mod retention;
pub mod round_summary;
pub mod rounds;
pub mod servers;
pub mod sizes;
pub mod stats;
pub mod stored;
pub mod synergy;
pub mod trend;
pub mod versus;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects, creating the database first if it does not exist yet, and applies migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .with_context(|| {
            format!(
                "DATABASE_URL \"{}\" is not a valid PostgreSQL URL",
                crate::config::Redacted(url)
            )
        })?
        .log_statements(tracing::log::LevelFilter::Trace)
        .application_name("etprox");
    create_database_if_missing(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await
        .with_context(|| {
            format!(
                "cannot connect to PostgreSQL at {}:{} (is it running? check DATABASE_URL)",
                options.get_host(),
                options.get_port()
            )
        })?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Like [`connect_and_migrate`], but waits for a database that is down or starting, retrying
/// with a growing pause (up to 30 s) and saying so in the log. Configuration errors are not retried.
pub async fn connect_with_retry(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let mut pause = Duration::from_secs(1);
    loop {
        match connect_and_migrate(url, max_connections).await {
            Ok(pool) => return Ok(pool),
            Err(e) if is_transient(&e) => {
                tracing::warn!(error = %format!("{e:#}"), retry_in_s = pause.as_secs(), "database not reachable, waiting");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(e),
        }
    }
}

/// True for failures that a later attempt may not have: the server is down, starting or
/// unreachable, or the connection broke.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| match cause.downcast_ref::<sqlx::Error>() {
            Some(e) => is_unavailable(e),
            None => cause.downcast_ref::<std::io::Error>().is_some(),
        })
}

/// True when the database is away (down, restarting, unreachable, out of connections) rather
/// than refusing this particular query.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations")
}

async fn create_database_if_missing(options: &PgConnectOptions) -> anyhow::Result<()> {
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Ok(());
    };
    match options.connect().await {
        Ok(conn) => {
            let _ = conn.close().await;
            Ok(())
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
            let mut conn = options
                .clone()
                .database("postgres")
                .connect()
                .await
                .context("connecting to the 'postgres' database to create the etprox database")?;
            admin::create_database(&mut conn, &name)
                .await
                .with_context(|| format!("creating database {}", admin::quote_identifier(&name)))?;
            tracing::info!(database = %name, "created database");
            Ok(())
        }
        // Other errors (server down, auth) are reported by the pool connect with context.
        Err(_) => Ok(()),
    }
}
