//! The month partitions of `kill_context` (migration 0008): making sure a month's partition
//! exists before its rows arrive (the importer before each batch, the bot and the watcher for the
//! coming months), and listing them. Retention drops them (`db::retention`).

use chrono::{Datelike, Months, NaiveDate};
use sqlx::{PgExecutor, PgPool};

/// One month partition of `kill_context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthPartition {
    pub name: String,
    /// First session day it holds.
    pub first_day: NaiveDate,
    /// The day after the last one it holds (the first of the next month).
    pub end_day: NaiveDate,
    /// Rows as the planner last counted them (exact counts would read every row).
    pub estimated_rows: i64,
    pub total_bytes: i64,
}

/// Creates the month partitions missing for these session days; returns how many it created.
/// One catalog look-up per distinct month when they exist; concurrent callers wait for each
/// other (a lock on `kill_context` in `ensure_kill_context_partitions`) and never fail on a month
/// another one made. Run it outside the transaction that writes the rows, so the lock that
/// attaching a partition takes is held for an instant, not for the whole import.
pub async fn ensure_months(db: impl PgExecutor<'_>, days: &[NaiveDate]) -> sqlx::Result<i32> {
    let mut months: Vec<NaiveDate> = days.iter().map(|d| first_of_month(*d)).collect();
    months.sort_unstable();
    months.dedup();
    sqlx::query_scalar!(
        r#"SELECT ensure_kill_context_partitions($1::date[]) AS "created!""#,
        &months
    )
    .fetch_one(db)
    .await
}

/// Creates the partitions of `today`'s month and of the `ahead` months after it.
pub async fn ensure_months_ahead(pool: &PgPool, today: NaiveDate, ahead: u32) -> sqlx::Result<i32> {
    let first = first_of_month(today);
    let months: Vec<NaiveDate> = (0..=ahead)
        .filter_map(|n| first.checked_add_months(Months::new(n)))
        .collect();
    ensure_months(pool, &months).await
}

/// The month partitions, oldest first (not the default partition).
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<MonthPartition>> {
    sqlx::query_as!(
        MonthPartition,
        r#"SELECT partition_name AS "name!", first_day AS "first_day!", end_day AS "end_day!",
                  estimated_rows AS "estimated_rows!", total_bytes AS "total_bytes!"
           FROM kill_context_partitions()"#
    )
    .fetch_all(db)
    .await
}

/// The first day of the month holding `day`.
pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_belongs_to_the_month_it_is_in() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(first_of_month(d(2024, 2, 29)), d(2024, 2, 1));
        assert_eq!(first_of_month(d(2025, 12, 1)), d(2025, 12, 1));
        assert_eq!(first_of_month(d(2025, 12, 31)), d(2025, 12, 1));
    }
}
