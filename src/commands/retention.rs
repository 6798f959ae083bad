//! `/retention stats` and `/retention archive [days] [dry_run] [export]` (admin): what the raw
//! tables hold, and deleting raw kills past a number of days after a confirmation.

use super::reply::colour;
use super::text;
use super::{user_error, Button, ButtonStyle, CommandResult, Embed, Env, Invocation, Reply};
pub use crate::retention::human_bytes;
use crate::retention::{self, ArchiveFailure};

pub const DEFAULT_DAYS: i32 = 30;

pub async fn run(env: &Env, inv: &Invocation) -> CommandResult {
    match inv.subcommand.as_deref() {
        Some("stats") => stats(env).await,
        Some("archive") => archive(env, inv).await,
        _ => user_error("use /retention stats or /retention archive [days] [dry_run]"),
    }
}

async fn stats(env: &Env) -> CommandResult {
    let tables = retention::stats(&env.pool).await?;
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = tables
        .iter()
        .map(|t| {
            vec![
                t.table_name.clone(),
                t.row_count.to_string(),
                human_bytes(t.total_bytes),
                day(t.oldest_date),
                day(t.newest_date),
            ]
        })
        .collect();
    Ok(Reply::embed(
        Embed::new("Stored data", colour::INFO)
            .description(text::table(
                &["table", "rows", "size", "oldest", "newest"],
                &rows,
            ))
            .footer("raw kills (kill_context) can be archived; aggregates are kept"),
    )
    .ephemeral())
}

async fn archive(env: &Env, inv: &Invocation) -> CommandResult {
    let days = match inv.get("days") {
        Some(d) => match d.trim().parse::<i32>() {
            Ok(n) if (1..=36_500).contains(&n) => n,
            _ => {
                return user_error(format!(
                    "days: {d:?} is not a number of days from 1 to 36500"
                ))
            }
        },
        None => DEFAULT_DAYS,
    };
    let export = inv.flag("export")?;
    let plan = retention::plan(&env.pool, days).await?;
    let (rows, range) = (plan.rows, plan.range());
    if rows == 0 {
        return Ok(Reply::text(format!(
            "Nothing to archive: no raw kills older than {days} days."
        ))
        .ephemeral());
    }
    if inv.flag("dry_run")? {
        return Ok(Reply::text(format!(
            "Dry run: {rows} raw kill rows older than {days} days would be archived{range}; aggregates are kept."
        ))
        .ephemeral());
    }
    if !inv.flag("confirmed")? {
        let mut confirm = Invocation {
            name: "retention".into(),
            subcommand: Some("archive".into()),
            ..Invocation::default()
        };
        confirm.options.insert("days".into(), days.to_string());
        if export {
            confirm.options.insert("export".into(), "true".into());
        }
        return Ok(Reply::embed(
            Embed::new("Archive raw kills?", colour::WARN).description(format!(
                "{rows} raw kill rows older than {days} days{range} will be deleted{}. Aggregates (stats, pairs, heatmaps) are kept.",
                if export { " after export" } else { "" }
            )),
        )
        .with_buttons(vec![
            Button {
                id: format!("ok:{}", confirm.to_line()),
                label: format!("Archive {rows} rows"),
                style: ButtonStyle::Danger,
                disabled: false,
            },
            Button {
                id: "no".into(),
                label: "Cancel".into(),
                style: ButtonStyle::Secondary,
                disabled: false,
            },
        ])
        .ephemeral());
    }
    let export_dir = match (export, &env.export_dir) {
        (false, _) => None,
        (true, Some(dir)) => Some(dir.as_path()),
        (true, None) => return user_error(
            "export needs ETPROX_EXPORT_DIR (a folder on the bot's machine); nothing was archived",
        ),
    };
    let archived = retention::archive(&env.pool, days, export_dir)
        .await
        .map_err(|failure| match failure {
            ArchiveFailure::CreateExport { dir, error } => anyhow::anyhow!(
                "creating an export file in {}: {error}; nothing was archived",
                dir.display()
            ),
            // The file stays: it holds rows that are all still in the database.
            ArchiveFailure::Archive {
                error,
                export_file: Some(f),
            } => anyhow::anyhow!("{error} (export file {})", f.display()),
            ArchiveFailure::Archive { error, .. } => anyhow::anyhow!("{error}"),
        })?;
    let (report, range) = (&archived.report, archived.range());
    let note = match (&archived.export_file, report.exported) {
        (Some(f), Some(n)) => format!(
            "\nExported {n} rows ({}) to {} first.",
            human_bytes(report.exported_bytes as i64),
            f.display()
        ),
        _ => String::new(),
    };
    tracing::info!(
        days,
        archived = report.archived,
        exported = report.exported,
        "archived raw kills on request"
    );
    Ok(Reply::embed(Embed::new("Archived", colour::GOOD).description(
        format!(
            "archived {} rows from kill_context{range}, session days before {}{note}\nAggregates are kept.",
            report.archived, report.cutoff
        ),
    )))
}
