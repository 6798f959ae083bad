//! Tasks beside the commands: round summary posts and the daily retention run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tracing::{info, warn};

use super::render;
use crate::commands::{self, Reply};
use crate::db;
use crate::ingest::ImportedRound;

/// How long after its first half a round 2 counts as the same stopwatch map.
const STOPWATCH_WINDOW_MINUTES: i64 = 90;

/// Whether a round ended recently enough to be posted (backfills stay quiet).
pub fn is_recent(ended_at: Option<chrono::DateTime<chrono::Utc>>, max_age: Duration) -> bool {
    let Some(ended) = ended_at else {
        return false;
    };
    let age = chrono::Utc::now() - ended;
    age <= chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX)
        && age >= -chrono::Duration::minutes(5)
}

pub async fn post_summaries(
    http: Arc<serenity::Http>,
    pool: PgPool,
    mut rounds: broadcast::Receiver<ImportedRound>,
    channel: serenity::ChannelId,
    max_age: Duration,
) {
    loop {
        let round = match rounds.recv().await {
            Ok(round) => round,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                warn!(
                    skipped = n,
                    "round summaries fell behind; skipped some (backfill?)"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if !is_recent(round.ended_at, max_age) {
            continue;
        }
        if let Err(e) = post_one(&http, &pool, channel, &round).await {
            warn!(round_id = round.round_id, error = %format!("{e:#}"), "could not post the round summary");
        }
    }
}

async fn post_one(
    http: &serenity::Http,
    pool: &PgPool,
    channel: serenity::ChannelId,
    event: &ImportedRound,
) -> anyhow::Result<()> {
    if db::round_summary::posted(pool, event.round_id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let Some(round) = db::round_summary::round(pool, event.round_id).await? else {
        return Ok(());
    };
    let embed = commands::round::summary(pool, &round).await?;
    // Second half of a stopwatch map: add it to the first half's post.
    if round.round_number == 2 {
        let window = chrono::Duration::minutes(STOPWATCH_WINDOW_MINUTES);
        if let Some(first) = db::round_summary::first_half(pool, &round, window).await? {
            if let Some(db::round_summary::Posted {
                channel_id: ch,
                message_id: msg,
            }) = db::round_summary::posted(pool, first.id).await?
            {
                let first_embed = commands::round::summary(pool, &first).await?;
                let reply = Reply {
                    embeds: vec![first_embed, embed.clone()],
                    ..Reply::default()
                }
                .fit(commands::reply::limits::UPLOAD);
                let (ch_id, msg_id) = (u64::try_from(ch)?, u64::try_from(msg)?);
                serenity::ChannelId::new(ch_id)
                    .edit_message(
                        http,
                        serenity::MessageId::new(msg_id),
                        render::edit_message(&reply),
                    )
                    .await?;
                db::round_summary::record_post(pool, round.id, ch, msg).await?;
                info!(
                    round_id = round.id,
                    first_half = first.id,
                    "added the second half to the summary post"
                );
                return Ok(());
            }
        }
    }
    let reply = Reply::embed(embed).fit(commands::reply::limits::UPLOAD);
    let message = channel
        .send_message(http, render::channel_message(&reply))
        .await?;
    db::round_summary::record_post(
        pool,
        round.id,
        i64::try_from(channel.get())?,
        i64::try_from(message.id.get())?,
    )
    .await?;
    info!(round_id = round.id, "posted the round summary");
    Ok(())
}

/// Archives raw kills older than `days` once a day at `hour` (UTC), exporting them to a new
/// CSV file in `export_dir` first when it is set (ETPROX_EXPORT_DIR); a day's run is recorded,
/// so a restart does not run it again.
pub async fn daily_retention(pool: PgPool, days: u32, hour: u32, export_dir: Option<PathBuf>) {
    loop {
        let now = chrono::Utc::now();
        let today_at = now
            .date_naive()
            .and_hms_opt(hour, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now);
        let next = if today_at > now {
            today_at
        } else {
            today_at + chrono::Duration::days(1)
        };
        let wait = (next - now).to_std().unwrap_or(Duration::from_secs(3600));
        info!(
            days,
            next_run = %next.format("%Y-%m-%d %H:%M UTC"),
            "daily retention: raw kills older than the given days are archived at the next run"
        );
        tokio::time::sleep(wait).await;
        match run_retention_exporting(&pool, days, export_dir.as_deref()).await {
            Ok(Some(_)) => {}
            Ok(None) => info!("daily retention already ran today (before a restart)"),
            Err(e) => {
                warn!(error = %format!("{e:#}"), "daily retention failed; trying again tomorrow")
            }
        }
    }
}

/// Today's retention run without an export; see [`run_retention_exporting`].
pub async fn run_retention(pool: &PgPool, days: u32) -> anyhow::Result<Option<i64>> {
    run_retention_exporting(pool, days, None).await
}

/// Today's retention run, once a day: `None` when it ran today already, else the rows archived.
/// With `export_dir`, the rows go to a new CSV file there first (the same rows that are
/// deleted; the file is on disk before the delete commits).
pub async fn run_retention_exporting(
    pool: &PgPool,
    days: u32,
    export_dir: Option<&Path>,
) -> anyhow::Result<Option<i64>> {
    let days = i32::try_from(days)?;
    if !db::retention::claim_daily_run(pool, days).await? {
        return Ok(None);
    }
    let archived = archive_now(pool, days, export_dir).await;
    let archived = match archived {
        Ok(n) => n,
        Err(e) => {
            // Not done today after all: a restart may try again.
            let _ = db::retention::release_daily_run(pool).await;
            return Err(e);
        }
    };
    db::retention::finish_daily_run(pool, archived).await?;
    Ok(Some(archived))
}

async fn archive_now(pool: &PgPool, days: i32, export_dir: Option<&Path>) -> anyhow::Result<i64> {
    use anyhow::Context;
    let mut file = match export_dir {
        Some(dir) => Some(
            db::retention::ExportFile::create_new(dir, chrono::Utc::now())
                .with_context(|| format!("creating an export file in {}", dir.display()))?,
        ),
        None => None,
    };
    let report = db::retention::archive_older_than(
        pool,
        days,
        file.as_mut()
            .map(|f| f as &mut dyn db::retention::ExportSink),
    )
    .await?;
    match (&file, report.exported) {
        (Some(f), Some(n)) => info!(
            days,
            archived = report.archived,
            exported = n,
            file = %f.path().display(),
            "daily retention exported and archived raw kills"
        ),
        _ => info!(
            days,
            archived = report.archived,
            "daily retention archived raw kills"
        ),
    }
    Ok(report.archived)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recent_rounds_are_posted() {
        let now = chrono::Utc::now();
        let max = Duration::from_secs(30 * 60);
        assert!(is_recent(Some(now - chrono::Duration::minutes(5)), max));
        assert!(!is_recent(Some(now - chrono::Duration::hours(2)), max));
        assert!(!is_recent(None, max));
        assert!(!is_recent(Some(now + chrono::Duration::hours(1)), max));
    }
}
