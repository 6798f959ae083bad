//! `/import status` and `/import rescan` (admin): recent imports and refusals; importing
//! whatever the watched folders hold that is not in the database yet.

use super::reply::colour;
use super::slash::{Ctx, Error, Front};
use super::text;
use super::{
    user_error, Caller, Command, CommandError, CommandResult, Embed, Env, Invocation, Reply,
};
use crate::db;
use crate::ingest::{round_files_in, ImportOutcome};

/// The options of `/import`: which subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Import {
    Status,
    Rescan,
}

impl Command for Import {
    const NAME: &'static str = "import";
    const DESCRIPTION: &'static str = "Imports: status and rescan (admins).";
    const ADMIN: bool = true;
    const PRIVATE: bool = true;
    const SUBCOMMANDS: &'static [&'static str] = &["status", "rescan"];

    fn from_invocation(inv: &Invocation) -> Result<Import, CommandError> {
        match inv.subcommand.as_deref() {
            Some("status") => Ok(Import::Status),
            Some("rescan") => Ok(Import::Rescan),
            _ => user_error("use /import status or /import rescan"),
        }
    }

    fn to_invocation(&self) -> Invocation {
        let sub = match self {
            Import::Status => "status",
            Import::Rescan => "rescan",
        };
        Invocation {
            subcommand: Some(sub.into()),
            ..Invocation::new(Self::NAME)
        }
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        match self {
            Import::Status => status(env).await,
            Import::Rescan => rescan(env).await,
        }
    }
}

#[poise::command(
    slash_command,
    subcommands("slash_status", "slash_rescan"),
    subcommand_required
)]
pub async fn slash<D: Front>(_ctx: Ctx<'_, D>) -> Result<(), Error> {
    Ok(())
}

/// Last imports, rejected files and lines.
#[poise::command(slash_command, rename = "status")]
pub async fn slash_status<D: Front>(ctx: Ctx<'_, D>) -> Result<(), Error> {
    D::answer(ctx, Ok(Import::Status)).await
}

/// Import what the round folders hold and the database does not.
#[poise::command(slash_command, rename = "rescan")]
pub async fn slash_rescan<D: Front>(ctx: Ctx<'_, D>) -> Result<(), Error> {
    D::answer(ctx, Ok(Import::Rescan)).await
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
    let db::round_summary::ImportCounts {
        rounds: total_rounds,
        kills: total_kills,
        rounds_last_day: last_day,
    } = counts;
    let recent = rounds
        .iter()
        .map(|r| {
            let (id, map, n, kills, at) = (
                r.id,
                &r.map_name,
                r.round_number,
                r.kill_count,
                r.imported_at,
            );
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
