//! `/retention stats` and `/retention archive [days] [dry_run] [export]` (admin): what the raw
//! tables hold, and deleting raw kills past a number of days after a confirmation.

use super::reply::colour;
use super::text;
use super::{user_error, Button, ButtonStyle, CommandResult, Embed, Env, Invocation, Reply};
use crate::db;

pub const DEFAULT_DAYS: i32 = 30;

pub async fn run(env: &Env, inv: &Invocation) -> CommandResult {
    match inv.subcommand.as_deref() {
        Some("stats") => stats(env).await,
        Some("archive") => archive(env, inv).await,
        _ => user_error("use /retention stats or /retention archive [days] [dry_run]"),
    }
}

async fn stats(env: &Env) -> CommandResult {
    let tables = db::retention::data_stats(&env.pool).await?;
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
    let (rows, oldest, newest) = db::retention::archive_preview(&env.pool, days).await?;
    let range = match (oldest, newest) {
        (Some(a), Some(b)) => format!(" (session days {a} to {b})"),
        _ => String::new(),
    };
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
    let mut file = None;
    if export {
        let Some(dir) = &env.export_dir else {
            return user_error("export needs ETPROX_EXPORT_DIR (a folder on the bot's machine); nothing was archived");
        };
        file = Some(
            db::retention::ExportFile::create_new(dir, chrono::Utc::now()).map_err(|e| {
                anyhow::anyhow!(
                    "creating an export file in {}: {e}; nothing was archived",
                    dir.display()
                )
            })?,
        );
    }
    let report = db::retention::archive_older_than(
        &env.pool,
        days,
        file.as_mut()
            .map(|f| f as &mut dyn db::retention::ExportSink),
    )
    .await
    .map_err(|e| match &file {
        // The file stays: it holds rows that are all still in the database.
        Some(f) => anyhow::anyhow!("{e} (export file {})", f.path().display()),
        None => anyhow::anyhow!("{e}"),
    })?;
    let range = match (report.oldest, report.newest) {
        (Some(a), Some(b)) => format!(" (session days {a} to {b})"),
        _ => String::new(),
    };
    let note = match (&file, report.exported) {
        (Some(f), Some(n)) => format!(
            "\nExported {n} rows ({}) to {} first.",
            human_bytes(report.exported_bytes as i64),
            f.path().display()
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

pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_read_well() {
        assert_eq!(super::human_bytes(512), "512 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
