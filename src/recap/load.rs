//! Reads what a recap is computed from, and builds the finished reply (embed and chart) that
//! `/session` and the recap job send.

use chrono::{Duration, NaiveDate};
use sqlx::PgPool;

use super::{compute, embed::recap_embed, Recap, SessionInput, REFERENCE_DAYS};
use crate::commands::{Attachment, Reply};
use crate::db::recap as db;

/// Reads the rounds of `server` on `day` and the numbers of their players.
pub async fn session_input(
    pool: &PgPool,
    server: &str,
    day: NaiveDate,
) -> sqlx::Result<SessionInput> {
    let rounds = db::session_rounds(pool, server, day).await?;
    let ids: Vec<i64> = rounds.iter().map(|r| r.id).collect();
    let player_rounds = db::player_rounds(pool, &ids).await?;
    let mut guids: Vec<String> = player_rounds
        .iter()
        .map(|r| r.player_guid.clone())
        .collect();
    guids.sort();
    guids.dedup();
    let day_rows = db::day_players(pool, day, &guids).await?;
    let pairs = db::pairs(pool, day, &guids).await?;
    let (from, to) = (
        day - Duration::days(REFERENCE_DAYS),
        day - Duration::days(1),
    );
    let reference_duels = db::duels(pool, from, to, &guids).await?;
    let fight = crate::db::fight_stats::day_fight(pool, day, &guids).await?;
    Ok(SessionInput {
        server_id: server.to_owned(),
        // The name the server used that day (its id when its files carry none).
        server_name: rounds
            .iter()
            .rev()
            .find_map(|r| r.server_name.clone())
            .unwrap_or_else(|| server.to_owned()),
        date: Some(day),
        rounds,
        player_rounds,
        day: day_rows,
        pairs,
        reference_duels,
        fight,
    })
}

/// The recap of `server` on `day`.
pub async fn recap(pool: &PgPool, server: &str, day: NaiveDate) -> sqlx::Result<Recap> {
    Ok(compute(&session_input(pool, server, day).await?))
}

/// The recap as a reply: the embed, and the chart as `recap-<server>-<day>.png` (left out, with
/// a warning in the log, if it cannot be drawn: the numbers still go out).
pub async fn recap_reply(recap: &Recap) -> Reply {
    let mut reply = Reply::embed(recap_embed(recap));
    if recap.series.rounds.is_empty() || recap.series.players.is_empty() {
        return reply;
    }
    let series = recap.series.clone();
    let title = format!(
        "{} · {}",
        crate::players::strip_colour_codes(&recap.server_name),
        recap.date.map(|d| d.to_string()).unwrap_or_default()
    );
    let drawn = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let png = crate::charts::evening::kills_per_round_png(&title, &series);
        let render_ms = started.elapsed().as_secs_f64() * 1e3;
        tracing::debug!(render_ms, "drew the recap chart");
        png
    })
    .await;
    match drawn {
        Ok(Ok(png)) => reply.attachments.push(Attachment {
            name: attachment_name(recap),
            bytes: png,
        }),
        Ok(Err(e)) => tracing::warn!(error = %e, "could not draw the recap chart"),
        Err(e) => tracing::warn!(error = %e, "the recap chart task failed"),
    }
    reply
}

/// `recap-eu-1-2025-11-21.png`, only characters safe in a file name.
fn attachment_name(recap: &Recap) -> String {
    let server: String = recap
        .server_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let day = recap.date.map(|d| d.to_string()).unwrap_or_default();
    format!("recap-{server}-{day}.png")
}
