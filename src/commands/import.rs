//! `/import status` and `/import rescan` (admin): recent imports and refusals; importing
//! whatever the watched folders hold that is not in the database yet.

use super::reply::colour;
use super::text;
use super::{user_error, CommandResult, Embed, Env, Invocation, Reply};
use crate::db;
use crate::ingest::{round_files_in, ImportOutcome};

pub async fn run(env: &Env, inv: &Invocation) -> CommandResult {
    match inv.subcommand.as_deref() {
        Some("status") => status(env).await,
        Some("rescan") => rescan(env).await,
        _ => user_error("use /import status or /import rescan"),
    }
}

fn file_name(path: &str) -> String {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_owned());
    text::name_in_code(&name)
}

async fn status(env: &Env) -> CommandResult {
    let (counts, rounds, log) = tokio::try_join!(
        db::round_summary::import_counts(&env.pool),
        db::round_summary::recent_rounds(&env.pool, 5),
        db::round_summary::import_log(&env.pool, 8),
    )?;
    let (total_rounds, total_kills, last_day) = counts;
    let recent = rounds
        .iter()
        .map(|(id, map, n, kills, at)| {
            vec![
                format!("#{id}"),
                text::clip(&text::name_in_code(map), 16),
                n.to_string(),
                kills.to_string(),
                at.format("%m-%d %H:%M").to_string(),
            ]
        })
        .collect::<Vec<_>>();
    let refused = log
        .iter()
        .map(|e| {
            format!(
                "{} {}: {}{}",
                e.logged_at.format("%m-%d %H:%M"),
                file_name(&e.source_path),
                e.outcome,
                if e.rejected_lines > 0 {
                    format!(", {} lines rejected", e.rejected_lines)
                } else {
                    String::new()
                }
            )
        })
        .collect::<Vec<_>>();
    let mut embed = Embed::new("Imports", colour::INFO)
        .field("Rounds", total_rounds.to_string(), true)
        .field("Kills", total_kills.to_string(), true)
        .field("Rounds in the last 24 h", last_day.to_string(), true)
        .field(
            "Latest rounds",
            text::table(&["id", "map", "round", "kills", "imported"], &recent),
            false,
        );
    embed = embed.field(
        "Import log (refused files and lines)",
        if refused.is_empty() {
            "nothing refused".into()
        } else {
            format!("```\n{}\n```", refused.join("\n"))
        },
        false,
    );
    if let Some(lines) = crate::remote::status_lines(&env.pool).await? {
        embed = embed.field("Remote sources", text::clip(&lines, 1000), false);
    }
    Ok(Reply::embed(embed).ephemeral())
}

async fn rescan(env: &Env) -> CommandResult {
    let Some(importer) = &env.importer else {
        return user_error("this front end does not import; run etprox import or the bot");
    };
    if env.round_dirs.is_empty() {
        return user_error("ETPROX_ROUND_DIRS is not set: no folders to rescan");
    }
    let (mut imported, mut already, mut empty, mut refused, mut failed) = (0, 0, 0, 0, 0);
    for dir in &env.round_dirs {
        let files =
            round_files_in(dir).map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?;
        for chunk in files.chunks(32) {
            for (_, outcome) in importer.import_files(chunk).await {
                match outcome {
                    Ok(ImportOutcome::Imported { .. }) => imported += 1,
                    Ok(ImportOutcome::AlreadyImported { .. }) => already += 1,
                    Ok(ImportOutcome::Empty) => empty += 1,
                    Ok(ImportOutcome::Rejected { .. }) => refused += 1,
                    Err(_) => failed += 1,
                }
            }
        }
    }
    Ok(Reply::embed(Embed::new("Rescan done", colour::GOOD).description(format!(
        "{imported} imported, {already} already imported, {empty} empty, {refused} refused, {failed} failed (see /import status)"
    )))
    .ephemeral())
}
