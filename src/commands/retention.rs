//! `/retention stats` and `/retention archive [days] [dry_run] [export]` (admin): what the raw
//! tables hold, and deleting raw kills past a number of days after a confirmation.

use super::reply::colour;
use super::slash::{Ctx, Error, Front};
use super::text;
use super::{
    user_error, Button, ButtonStyle, Caller, Command, CommandError, CommandResult, Embed, Env,
    Invocation, Reply,
};
pub use crate::retention::human_bytes;
use crate::retention::{self, ArchiveFailure};

pub const DEFAULT_DAYS: i32 = 30;

/// The options of `/retention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Stats,
    Archive(Archive),
}

/// The options of `/retention archive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Archive {
    /// Raw kills older than this many session days go.
    pub days: i32,
    pub dry_run: bool,
    /// Write the rows to CSV in ETPROX_EXPORT_DIR first.
    pub export: bool,
    /// Set by the confirmation button: delete without asking again.
    pub confirmed: bool,
}

impl Command for Retention {
    const NAME: &'static str = "retention";
    const DESCRIPTION: &'static str = "Stored raw data and archiving (admins).";
    const ADMIN: bool = true;
    const PRIVATE: bool = true;
    const SUBCOMMANDS: &'static [&'static str] = &["stats", "archive"];

    fn from_invocation(inv: &Invocation) -> Result<Retention, CommandError> {
        match inv.subcommand.as_deref() {
            Some("stats") => Ok(Retention::Stats),
            Some("archive") => Ok(Retention::Archive(Archive {
                days: inv.number(
                    "days",
                    1..=36_500,
                    DEFAULT_DAYS,
                    "a number of days from 1 to 36500",
                )?,
                dry_run: inv.flag("dry_run")?,
                export: inv.flag("export")?,
                confirmed: inv.flag("confirmed")?,
            })),
            _ => user_error("use /retention stats or /retention archive [days] [dry_run]"),
        }
    }

    fn to_invocation(&self) -> Invocation {
        let Retention::Archive(a) = self else {
            return Invocation {
                subcommand: Some("stats".into()),
                ..Invocation::new(Self::NAME)
            };
        };
        let inv = Invocation {
            subcommand: Some("archive".into()),
            ..Invocation::new(Self::NAME)
        };
        inv.set("days", Some(a.days))
            .set("dry_run", a.dry_run.then_some(true))
            .set("export", a.export.then_some(true))
            .set("confirmed", a.confirmed.then_some(true))
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        match self {
            Retention::Stats => stats(env).await,
            Retention::Archive(options) => archive(env, options).await,
        }
    }
}

#[poise::command(
    slash_command,
    subcommands("slash_stats", "slash_archive"),
    subcommand_required
)]
pub async fn slash<D: Front>(_ctx: Ctx<'_, D>) -> Result<(), Error> {
    Ok(())
}

/// Rows, sizes, oldest and newest day per table.
#[poise::command(slash_command, rename = "stats")]
pub async fn slash_stats<D: Front>(ctx: Ctx<'_, D>) -> Result<(), Error> {
    D::answer(ctx, Ok(Retention::Stats)).await
}

/// Delete raw kills older than some days (asks for confirmation); aggregates are kept.
#[poise::command(slash_command, rename = "archive")]
pub async fn slash_archive<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Older than this many days (default 30)"]
    #[min = 1]
    days: Option<u32>,
    #[description = "Only show what would go"] dry_run: Option<bool>,
    #[description = "Export the rows to CSV first (ETPROX_EXPORT_DIR)"] export: Option<bool>,
) -> Result<(), Error> {
    let archive = Archive {
        days: days.map_or(DEFAULT_DAYS, |d| d.min(36_500) as i32),
        dry_run: dry_run.unwrap_or(false),
        export: export.unwrap_or(false),
        confirmed: false,
    };
    D::answer(ctx, Ok(Retention::Archive(archive))).await
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

async fn archive(env: &Env, options: Archive) -> CommandResult {
    let Archive {
        days,
        dry_run,
        export,
        confirmed,
    } = options;
    let plan = retention::plan(&env.pool, days).await?;
    let (rows, range) = (plan.rows, plan.range());
    if rows == 0 {
        return Ok(Reply::text(format!(
            "Nothing to archive: no raw kills older than {days} days."
        ))
        .ephemeral());
    }
    if dry_run {
        return Ok(Reply::text(format!(
            "Dry run: {rows} raw kill rows older than {days} days would be archived{range}; aggregates are kept."
        ))
        .ephemeral());
    }
    if !confirmed {
        return Ok(confirmation(days, export, rows, &range));
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
        .map_err(failure)?;
    Ok(archived_reply(&archived, days))
}

/// The prompt whose button runs the archive for real.
fn confirmation(days: i32, export: bool, rows: i64, range: &str) -> Reply {
    let confirm = Retention::Archive(Archive {
        days,
        dry_run: false,
        export,
        confirmed: false,
    })
    .to_invocation();
    Reply::embed(
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
    .ephemeral()
}

/// An archive that did not happen, as the error logged (the player sees the usual apology).
fn failure(failure: ArchiveFailure) -> CommandError {
    let error = match failure {
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
    };
    error.into()
}

fn archived_reply(archived: &retention::Archived, days: i32) -> Reply {
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
    Reply::embed(Embed::new("Archived", colour::GOOD).description(format!(
        "archived {} rows from kill_context{range}, session days before {}: {}{note}\nAggregates are kept.",
        report.archived,
        report.cutoff,
        retention::how_rows_go(&report.whole_months)
    )))
}
