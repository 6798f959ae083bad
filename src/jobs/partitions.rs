//! Month partitions made ahead of time: the bot and `etprox watch` create this month's and the
//! next [`MONTHS_AHEAD`] months' partitions of `kill_context` at start and then once a day, so
//! the first round of a new month finds its partition waiting. (The importer still makes sure
//! of the months of every batch, for backfills of old days.)

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Months after the current one whose partitions exist in advance.
pub const MONTHS_AHEAD: u32 = 2;

/// The running job; dropping it stops the job.
pub struct MonthsAhead(JoinHandle<()>);

impl Drop for MonthsAhead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the job on the runtime.
pub fn spawn_months_ahead(pool: PgPool) -> MonthsAhead {
    MonthsAhead(tokio::spawn(keep_months_ahead(pool)))
}

/// Creates the coming months' partitions now and every day after; a failure is logged and
/// tried again an hour later.
pub async fn keep_months_ahead(pool: PgPool) {
    loop {
        let today = chrono::Utc::now().date_naive();
        let wait = match crate::db::partitions::ensure_months_ahead(&pool, today, MONTHS_AHEAD)
            .await
        {
            Ok(0) => Duration::from_secs(24 * 3600),
            Ok(created) => {
                info!(
                    created,
                    "created month partitions of kill_context ahead of time"
                );
                Duration::from_secs(24 * 3600)
            }
            Err(e) => {
                warn!(error = %e, "creating month partitions ahead failed; trying again in an hour");
                Duration::from_secs(3600)
            }
        };
        tokio::time::sleep(wait).await;
    }
}
