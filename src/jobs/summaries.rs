//! The round summary poster: each recently ended round imported is posted once to its
//! server's summary channel, with a small heatmap of the round when its map is calibrated; a
//! stopwatch map's second half is added to its first half's post.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tracing::{info, warn};

use super::round_heatmap::round_heatmap;
use super::SummaryChannels;
use crate::assets::Assets;
use crate::commands::{self, Reply};
use crate::db;
use crate::discord::render;
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

/// Where summaries go and what they carry.
pub struct Poster {
    pub http: Arc<serenity::Http>,
    pub pool: PgPool,
    pub channels: SummaryChannels,
    pub max_age: Duration,
    /// Map calibration and images, for the round heatmaps.
    pub assets: Assets,
}

pub async fn post_summaries(poster: Poster, mut rounds: broadcast::Receiver<ImportedRound>) {
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
        if !is_recent(round.ended_at, poster.max_age) {
            continue;
        }
        if let Err(e) = post_one(&poster, &round).await {
            warn!(round_id = round.round_id, error = %format!("{e:#}"), "could not post the round summary");
        }
    }
}

async fn post_one(poster: &Poster, event: &ImportedRound) -> anyhow::Result<()> {
    let (http, pool) = (&poster.http, &poster.pool);
    if db::round_summary::posted(pool, event.round_id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let Some(round) = db::round_summary::round(pool, event.round_id).await? else {
        return Ok(());
    };
    let Some(channel) = poster.channels.for_server(&round.server_id) else {
        return Ok(());
    };
    let embed = commands::round::summary(pool, &round).await?;
    let heatmap = round_heatmap(pool, &poster.assets, &round).await;
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
                // The edit replaces the attachments: both halves' heatmaps.
                let first_heatmap = round_heatmap(pool, &poster.assets, &first).await;
                let reply = Reply {
                    embeds: vec![first_embed, embed.clone()],
                    attachments: first_heatmap.into_iter().chain(heatmap).collect(),
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
    let reply = Reply {
        embeds: vec![embed],
        attachments: heatmap.into_iter().collect(),
        ..Reply::default()
    }
    .fit(commands::reply::limits::UPLOAD);
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
