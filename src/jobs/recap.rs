//! The session recap poster: when a server has had no new round for ETPROX_RECAP_AFTER_MINS,
//! the recap of its session day goes to its summary channel, once per server and session day
//! (the `posted_recaps` row is claimed before posting, so restarts and several bots agree).
//! A recap that fell due longer ago than ETPROX_SUMMARY_MAX_AGE_MINS is not posted: importing
//! old days (a backfill) stays quiet, as it does for round summaries.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use poise::serenity_prelude as serenity;
use sqlx::PgPool;
use tracing::{info, warn};

use super::SummaryChannels;
use crate::commands;
use crate::db;
use crate::discord::render;
use crate::recap::load;

/// What the recap job needs.
#[derive(Clone)]
pub struct RecapJob {
    pub http: Arc<serenity::Http>,
    pub pool: PgPool,
    pub channels: SummaryChannels,
    /// Quiet time after a server's last round before its recap is due.
    pub after: Duration,
    /// How long after falling due a recap is still posted.
    pub max_age: Duration,
}

/// How often the job looks: a quarter of the idle time, between half a second and a minute.
pub fn poll_interval(after: Duration) -> Duration {
    (after / 4).clamp(Duration::from_millis(500), Duration::from_secs(60))
}

/// Whether a recap whose server's last round ended at `ended` is due at `now`: the server has
/// been quiet for `after`, and the recap fell due at most `max_age` ago.
pub fn is_due(
    ended: DateTime<Utc>,
    now: DateTime<Utc>,
    after: Duration,
    max_age: Duration,
) -> bool {
    let (Ok(after), Ok(max_age)) = (
        chrono::Duration::from_std(after),
        chrono::Duration::from_std(max_age),
    ) else {
        return false;
    };
    let due_at = ended + after;
    now >= due_at && now - due_at <= max_age
}

pub async fn post_recaps(job: RecapJob) {
    let every = poll_interval(job.after);
    loop {
        if let Err(e) = post_due(&job).await {
            warn!(error = %format!("{e:#}"), "could not check for session recaps to post");
        }
        tokio::time::sleep(every).await;
    }
}

/// Posts the recap of every server that is due.
async fn post_due(job: &RecapJob) -> anyhow::Result<()> {
    let now = Utc::now();
    for last in db::recap::last_rounds(&job.pool).await? {
        if !is_due(last.ended_at, now, job.after, job.max_age) {
            continue;
        }
        let Some(channel) = job.channels.for_server(&last.server_id) else {
            continue;
        };
        if let Err(e) = post_once(job, &last.server_id, last.session_date, channel).await {
            warn!(server = %last.server_id, day = %last.session_date, error = %format!("{e:#}"), "could not post the session recap");
        }
    }
    Ok(())
}

/// Claims the recap, posts it and records the message; a failed post gives the claim back so
/// the next look tries again.
async fn post_once(
    job: &RecapJob,
    server: &str,
    day: NaiveDate,
    channel: serenity::ChannelId,
) -> anyhow::Result<()> {
    if !db::recap::claim_recap(&job.pool, server, day).await? {
        return Ok(());
    }
    match post(job, server, day, channel).await {
        Ok(message) => {
            db::recap::record_recap(
                &job.pool,
                server,
                day,
                i64::try_from(channel.get())?,
                i64::try_from(message.get())?,
            )
            .await?;
            info!(server, day = %day, "posted the session recap");
            Ok(())
        }
        Err(e) => {
            db::recap::release_recap(&job.pool, server, day).await?;
            Err(e)
        }
    }
}

async fn post(
    job: &RecapJob,
    server: &str,
    day: NaiveDate,
    channel: serenity::ChannelId,
) -> anyhow::Result<serenity::MessageId> {
    let recap = load::recap(&job.pool, server, day).await?;
    let reply = load::recap_reply(&recap)
        .await
        .fit(commands::reply::limits::UPLOAD);
    let message = channel
        .send_message(&job.http, render::channel_message(&reply))
        .await?;
    Ok(message.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recap_is_due_after_the_quiet_time_and_not_for_old_days() {
        let now = Utc::now();
        let (after, max_age) = (Duration::from_secs(30 * 60), Duration::from_secs(30 * 60));
        let min = chrono::Duration::minutes;
        assert!(!is_due(now - min(10), now, after, max_age), "still playing");
        assert!(is_due(now - min(31), now, after, max_age));
        assert!(
            is_due(now - min(59), now, after, max_age),
            "after a short restart"
        );
        assert!(
            !is_due(now - min(61), now, after, max_age),
            "fell due too long ago"
        );
        assert!(
            !is_due(now - min(3 * 24 * 60), now, after, max_age),
            "a backfilled day"
        );
        assert!(!is_due(now + min(5), now, after, max_age), "a clock ahead");
    }

    #[test]
    fn the_job_looks_often_enough_for_the_quiet_time() {
        assert_eq!(
            poll_interval(Duration::from_secs(3)),
            Duration::from_millis(750)
        );
        assert_eq!(
            poll_interval(Duration::from_secs(1800)),
            Duration::from_secs(60)
        );
        assert_eq!(
            poll_interval(Duration::from_millis(100)),
            Duration::from_millis(500)
        );
    }
}
