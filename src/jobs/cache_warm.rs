//! Cache warming: after imports, the cached all-time and 30-day totals and pairs are computed
//! again, so the first /solo, /duo or /leaderboard after a round is fast too.

use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tracing::warn;

use crate::commands::{self, Env};
use crate::ingest::ImportedRound;
use crate::period::Period;

/// Recomputes the cached totals after imports, batched: waits for a quiet second first.
/// Returns when the importer is gone.
pub async fn warm_cache(env: Env, mut rounds: broadcast::Receiver<ImportedRound>) {
    loop {
        match rounds.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        loop {
            match rounds.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        for period in [Period::All, Period::MONTH] {
            let Ok(range) = commands::range(&env, period).await else {
                continue;
            };
            let totals = env.cache.totals(&env.pool, range.from, range.to).await;
            let pairs = env.cache.best_pairs(&env.pool, range.from, range.to).await;
            if let Err(e) = totals.and(pairs) {
                warn!(error = %e, "could not refresh cached totals");
            }
        }
    }
}
