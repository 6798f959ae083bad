//! The bot's background jobs, each a long-running task that [`supervise`] keeps alive:
//! - [`summaries`]: posts each round's summary to the summary channel;
//! - [`retention`]: archives raw kills once a day (the rules are in [`crate::retention`]);
//! - [`cache_warm`]: recomputes the cached totals after imports;
//! - [`partitions`]: creates the coming months' partitions of the raw kills (also for `watch`).
//!
//! `discord::run` starts them (`spawn_*`) beside the watcher and the remote sources.

pub mod cache_warm;
pub mod partitions;
pub mod retention;
pub mod summaries;
pub mod supervise;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::task::JoinSet;

use crate::commands::Env;
use crate::ingest::{ImportedRound, Importer};
use supervise::{supervise, RestartPolicy};

/// The bot's supervised tasks; one ends only with the error of a task that kept failing.
pub type Tasks = JoinSet<anyhow::Error>;

/// Starts cache warming, subscribed to the importer now (before the watcher starts, so no
/// round is missed); a restarted task subscribes again.
pub fn spawn_cache_warming(
    tasks: &mut Tasks,
    policy: RestartPolicy,
    env: &Env,
    importer: &Importer,
) {
    let mut first = Some(importer.subscribe());
    let (env, importer) = (env.clone(), importer.clone());
    tasks.spawn(supervise("cache warming", policy, move || {
        let rx = first.take().unwrap_or_else(|| importer.subscribe());
        let env = env.clone();
        async move {
            cache_warm::warm_cache(env, rx).await;
            Ok(())
        }
    }));
}

/// Where and what the summary poster posts.
pub struct Summaries {
    pub http: Arc<serenity::Http>,
    pub pool: PgPool,
    pub channel: serenity::ChannelId,
    /// Rounds that ended longer ago are not posted (backfills stay quiet).
    pub max_age: Duration,
}

/// Starts the summary poster on `rounds` (subscribed before the watcher started); a restarted
/// task subscribes again.
pub fn spawn_summaries(
    tasks: &mut Tasks,
    policy: RestartPolicy,
    summaries: Summaries,
    importer: &Importer,
    rounds: broadcast::Receiver<ImportedRound>,
) {
    let mut first = Some(rounds);
    let importer = importer.clone();
    tasks.spawn(supervise("summaries", policy, move || {
        let rx = first.take().unwrap_or_else(|| importer.subscribe());
        let (http, pool) = (Arc::clone(&summaries.http), summaries.pool.clone());
        let (channel, max_age) = (summaries.channel, summaries.max_age);
        async move {
            summaries::post_summaries(http, pool, rx, channel, max_age).await;
            Ok(())
        }
    }));
}

/// When and how the daily retention runs (ETPROX_RETENTION_*, ETPROX_EXPORT_DIR).
pub struct DailyRetention {
    pub pool: PgPool,
    pub days: u32,
    /// Hour of the day (UTC).
    pub hour: u32,
    pub export_dir: Option<PathBuf>,
}

pub fn spawn_daily_retention(tasks: &mut Tasks, policy: RestartPolicy, job: DailyRetention) {
    tasks.spawn(supervise("retention", policy, move || {
        let (pool, export_dir) = (job.pool.clone(), job.export_dir.clone());
        let (days, hour) = (job.days, job.hour);
        async move {
            retention::daily_retention(pool, days, hour, export_dir).await;
            Ok(())
        }
    }));
}
