//! The bot's background jobs, each a long-running task that [`supervise`] keeps alive:
//! - [`summaries`]: posts each round's summary (with [`round_heatmap`]) to its server's channel;
//! - [`recap`]: posts a server's session recap once it has gone quiet;
//! - [`retention`]: archives raw kills once a day (the rules are in [`crate::retention`]);
//! - [`cache_warm`]: recomputes the cached totals after imports;
//! - [`partitions`]: creates the coming months' partitions of the raw kills (also for `watch`).
//!
//! `discord::run` starts them (`spawn_*`) beside the watcher and the remote sources.

pub mod cache_warm;
pub mod partitions;
pub mod recap;
pub mod retention;
pub mod round_heatmap;
pub mod summaries;
pub mod supervise;

use std::collections::BTreeMap;
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

/// Which channel each server's round summaries and recaps go to (ETPROX_SUMMARY_CHANNELS,
/// else ETPROX_SUMMARY_CHANNEL_ID).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryChannels {
    pub default: Option<serenity::ChannelId>,
    pub by_server: BTreeMap<String, serenity::ChannelId>,
}

impl SummaryChannels {
    pub fn from_config(bot: &crate::config::BotConfig) -> SummaryChannels {
        SummaryChannels {
            default: bot.summary_channel_id.map(serenity::ChannelId::new),
            by_server: bot
                .server_channels
                .iter()
                .map(|(server, channel)| (server.clone(), serenity::ChannelId::new(*channel)))
                .collect(),
        }
    }

    /// The channel of `server`; `None`: its rounds and recaps are not posted.
    pub fn for_server(&self, server: &str) -> Option<serenity::ChannelId> {
        self.by_server.get(server).copied().or(self.default)
    }

    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.by_server.is_empty()
    }
}

/// Where and what the summary poster and the recap job post.
pub struct Summaries {
    pub http: Arc<serenity::Http>,
    pub pool: PgPool,
    pub channels: SummaryChannels,
    /// Rounds that ended longer ago are not posted (backfills stay quiet); recaps that fell
    /// due longer ago neither.
    pub max_age: Duration,
    /// Map calibration and images, for the round heatmaps.
    pub assets: crate::assets::Assets,
    /// A server's recap is due once it has had no new round for this long.
    pub recap_after: Duration,
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
        let poster = summaries::Poster {
            http: Arc::clone(&summaries.http),
            pool: summaries.pool.clone(),
            channels: summaries.channels.clone(),
            max_age: summaries.max_age,
            assets: summaries.assets.clone(),
        };
        async move {
            summaries::post_summaries(poster, rx).await;
            Ok(())
        }
    }));
}

/// Starts the recap job: every server's session recap, posted once when the server goes quiet.
pub fn spawn_recaps(tasks: &mut Tasks, policy: RestartPolicy, summaries: &Summaries) {
    let job = recap::RecapJob {
        http: Arc::clone(&summaries.http),
        pool: summaries.pool.clone(),
        channels: summaries.channels.clone(),
        after: summaries.recap_after,
        max_age: summaries.max_age,
    };
    tasks.spawn(supervise("recaps", policy, move || {
        let job = job.clone();
        async move {
            recap::post_recaps(job).await;
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
