//! Slash commands, one file each. A command computes a [`Reply`] from the database and knows
//! nothing of Discord: the Discord adapter (`crate::discord`) and the console (`etprox ask`)
//! render the same value.
//!
//! Both front ends reach a command through an [`Invocation`] (`/duo player:Slomix period:7d`),
//! and buttons carry the invocation they repeat (a page, a confirmation) in their id, so a
//! click works after a restart and is checked like a fresh command.

pub mod cache;
pub mod duo;
pub mod engagements;
pub mod heatmap;
pub mod import;
pub mod leaderboard;
pub mod link;
pub mod maps;
pub mod player;
pub mod reply;
pub mod retention;
pub mod round;
pub mod solo;
pub mod text;
pub mod unlink;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::db;
use crate::ingest::Importer;
pub use reply::{Attachment, Button, ButtonStyle, Embed, Field, Reply};

/// What commands may use.
#[derive(Clone)]
pub struct Env {
    pub pool: PgPool,
    /// For `/import rescan`; absent in front ends that do not import.
    pub importer: Option<Importer>,
    pub round_dirs: Vec<PathBuf>,
    /// Folder with `maps.csv` (map calibration and images).
    pub assets_dir: PathBuf,
    /// Where `/retention archive export:true` writes CSV files.
    pub export_dir: Option<PathBuf>,
    /// Totals and pairs per period, valid until the next import.
    pub cache: std::sync::Arc<cache::Cache>,
}

/// Who asks. The front end decides `is_admin` (Manage Server or the admin role on Discord;
/// always on the console, whose user already holds the database).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub discord_user_id: Option<i64>,
    pub display_name: String,
    pub is_admin: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Something the caller can fix (unknown player, bad option); shown as is.
    #[error("{0}")]
    User(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CommandError {
    /// The database is away (down or restarting), not wrong about this command.
    pub fn database_unavailable(&self) -> bool {
        match self {
            CommandError::User(_) => false,
            CommandError::Database(e) => db::is_unavailable(e),
            CommandError::Other(e) => db::is_transient(e),
        }
    }
}

/// What a command answers while PostgreSQL is down or restarting.
pub const DATABASE_UNAVAILABLE: &str =
    "The stats database is unavailable right now (restarting?). Try again in a minute.";

pub type CommandResult = Result<Reply, CommandError>;

fn user_error<T>(message: impl Into<String>) -> Result<T, CommandError> {
    Err(CommandError::User(message.into()))
}

/// Time window of a stats command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum Period {
    #[name = "session"]
    Session,
    #[name = "7d"]
    Week,
    #[name = "30d"]
    Month,
    #[name = "all"]
    All,
}

impl Period {
    pub fn parse(text: &str) -> Result<Period, CommandError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "session" | "latest" | "today" => Ok(Period::Session),
            "7d" | "week" => Ok(Period::Week),
            "30d" | "month" => Ok(Period::Month),
            "all" | "alltime" => Ok(Period::All),
            other => user_error(format!(
                "unknown period {other:?}: use session, 7d, 30d or all"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Session => "session",
            Period::Week => "7d",
            Period::Month => "30d",
            Period::All => "all",
        }
    }

    /// The session days it covers. `session` is the latest day with a round; 7d and 30d count
    /// back from today.
    pub async fn range(self, pool: &PgPool) -> Result<DateRange, CommandError> {
        let today = chrono::Utc::now().date_naive();
        Ok(match self {
            Period::Session => match db::stats::latest_session(pool).await? {
                Some(day) => DateRange {
                    from: day,
                    to: day,
                    label: format!("session {day}"),
                },
                None => DateRange::all("session (no rounds yet)"),
            },
            Period::Week => DateRange::since(today - chrono::Days::new(6), "last 7 days"),
            Period::Month => DateRange::since(today - chrono::Days::new(29), "last 30 days"),
            Period::All => DateRange::all("all time"),
        })
    }
}

/// Bounds PostgreSQL dates can hold, for open ranges.
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

#[derive(Debug, Clone, PartialEq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub label: String,
}

impl DateRange {
    fn all(label: &str) -> DateRange {
        DateRange {
            from: FIRST_DAY,
            to: LAST_DAY,
            label: label.into(),
        }
    }
    fn since(from: NaiveDate, label: &str) -> DateRange {
        DateRange {
            from,
            to: LAST_DAY,
            label: label.into(),
        }
    }
}

/// A parsed command line: `/retention archive days:30 dry_run:true`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Invocation {
    pub name: String,
    pub subcommand: Option<String>,
    pub options: BTreeMap<String, String>,
}

/// Commands that take a subcommand word after the name.
const WITH_SUBCOMMANDS: [&str; 2] = ["retention", "import"];

impl Invocation {
    /// Parses `/name [sub] key:value key:"value with spaces"`.
    pub fn parse(line: &str) -> Result<Invocation, CommandError> {
        let words = split_words(line.trim())?;
        let mut words = words.into_iter();
        let Some(first) = words.next() else {
            return user_error("empty command: try /solo or /duo player:NAME");
        };
        let name = first.trim_start_matches('/').to_ascii_lowercase();
        let mut invocation = Invocation {
            name,
            ..Invocation::default()
        };
        for word in words {
            match word.split_once(':') {
                Some((key, value)) if !key.is_empty() => {
                    invocation
                        .options
                        .insert(key.to_ascii_lowercase(), value.to_owned());
                }
                _ if invocation.subcommand.is_none()
                    && invocation.options.is_empty()
                    && WITH_SUBCOMMANDS.contains(&invocation.name.as_str()) =>
                {
                    invocation.subcommand = Some(word.to_ascii_lowercase());
                }
                _ => {
                    return user_error(format!(
                        "cannot read {word:?}: options are written name:value (quote values with spaces)"
                    ))
                }
            }
        }
        Ok(invocation)
    }

    /// The line that parses back into this invocation (used in button ids).
    pub fn to_line(&self) -> String {
        let mut line = format!("/{}", self.name);
        if let Some(sub) = &self.subcommand {
            line.push(' ');
            line.push_str(sub);
        }
        for (key, value) in &self.options {
            if value.is_empty() || value.contains([' ', '"']) {
                line.push_str(&format!(" {key}:\"{}\"", value.replace('"', "'")));
            } else {
                line.push_str(&format!(" {key}:{value}"));
            }
        }
        line
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.options
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    fn period(&self, default: Period) -> Result<Period, CommandError> {
        self.get("period").map_or(Ok(default), Period::parse)
    }

    fn page(&self) -> usize {
        self.get("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(0)
    }

    fn flag(&self, key: &str) -> Result<bool, CommandError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(false),
            Some("true" | "yes" | "1" | "on") => Ok(true),
            Some("false" | "no" | "0" | "off") => Ok(false),
            Some(other) => user_error(format!("{key}: {other:?} is not true or false")),
        }
    }

    fn with(&self, key: &str, value: impl ToString) -> Invocation {
        let mut next = self.clone();
        next.options.insert(key.into(), value.to_string());
        next
    }
}

/// Splits on spaces, keeping `"quoted text"` (after `key:` or alone) together.
fn split_words(line: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return user_error("a quote is not closed");
    }
    if any {
        words.push(current);
    }
    Ok(words)
}

/// Runs an invocation. Errors the caller can fix become an ephemeral reply; others are
/// logged and answered with a short apology.
pub async fn dispatch(env: &Env, caller: &Caller, invocation: &Invocation) -> Reply {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let span =
        tracing::info_span!("command", name = %invocation.name, user = caller.discord_user_id);
    let result = run(env, caller, invocation).instrument(span).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(reply) => {
            tracing::debug!(command = %invocation.to_line(), elapsed_ms, "answered");
            reply
        }
        Err(CommandError::User(message)) => Reply::error(message),
        Err(e) if e.database_unavailable() => {
            tracing::warn!(command = %invocation.to_line(), error = %e, "database unavailable");
            Reply::error(DATABASE_UNAVAILABLE)
        }
        Err(e) => {
            tracing::error!(command = %invocation.to_line(), error = %e, "command failed");
            Reply::error("Something went wrong on our side; the error is logged. Try again later.")
        }
    }
}

async fn run(env: &Env, caller: &Caller, inv: &Invocation) -> CommandResult {
    match inv.name.as_str() {
        "solo" => solo::run(env, caller, inv).await,
        "duo" => duo::run(env, caller, inv).await,
        "engagements" => engagements::run(env, inv).await,
        "heatmap" => heatmap::run(env, inv).await,
        "player" => player::run(env, caller, inv).await,
        "leaderboard" => leaderboard::run(env, inv).await,
        "round" => round::run(env, inv).await,
        "maps" => maps::run(env).await,
        "link" => link::run(env, caller, inv).await,
        "unlink" => unlink::run(env, caller, inv).await,
        "retention" => admin(caller, inv, retention::run(env, inv)).await,
        "import" => admin(caller, inv, import::run(env, inv)).await,
        other => user_error(format!(
            "unknown command /{other}: try /solo, /duo, /heatmap, /engagements, /player, /leaderboard, /round, /maps, /link, /unlink, /retention, /import"
        )),
    }
}

/// Admin commands are refused (and the refusal logged) unless the front end said the caller
/// is an admin.
async fn admin(
    caller: &Caller,
    inv: &Invocation,
    command: impl std::future::Future<Output = CommandResult>,
) -> CommandResult {
    if !caller.is_admin {
        tracing::warn!(
            user_id = caller.discord_user_id,
            user = %caller.display_name,
            command = %inv.to_line(),
            "refused admin command to a member without Manage Server or the admin role"
        );
        return Ok(Reply::error(
            "This command is for server admins (Manage Server permission or the admin role).",
        ));
    }
    command.await
}

/// Button ids: `pg:<invocation>` shows another page, `ok:<invocation>` confirms, `no` cancels.
pub async fn press(env: &Env, caller: &Caller, button_id: &str) -> Reply {
    if button_id == "no" {
        return Reply::text("Cancelled; nothing was changed.");
    }
    let (kind, line) = button_id.split_once(':').unwrap_or((button_id, ""));
    let mut invocation = match Invocation::parse(line) {
        Ok(inv) => inv,
        Err(_) => return Reply::error("This button is no longer valid."),
    };
    match kind {
        "pg" => dispatch(env, caller, &invocation).await,
        "ok" => {
            invocation.options.insert("confirmed".into(), "true".into());
            dispatch(env, caller, &invocation).await
        }
        _ => Reply::error("This button is no longer valid."),
    }
}

pub const PAGE_SIZE: usize = 10;

/// Previous/next buttons for a list of `total` entries shown `PAGE_SIZE` at a time.
fn page_buttons(inv: &Invocation, page: usize, total: usize) -> Vec<Button> {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    if pages <= 1 {
        return Vec::new();
    }
    vec![
        Button {
            id: format!("pg:{}", inv.with("page", page.saturating_sub(1)).to_line()),
            label: "◀ Previous".into(),
            style: ButtonStyle::Secondary,
            disabled: page == 0,
        },
        Button {
            id: format!("pg:{}", inv.with("page", page + 1).to_line()),
            label: "Next ▶".into(),
            style: ButtonStyle::Secondary,
            disabled: page + 1 >= pages,
        },
    ]
}

/// The page of `items` to show, clamped to the last page.
fn page_of<T>(items: &[T], page: usize) -> (usize, &[T]) {
    let pages = items.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages - 1);
    let start = page * PAGE_SIZE;
    (
        page,
        &items[start.min(items.len())..(start + PAGE_SIZE).min(items.len())],
    )
}

fn page_footer(page: usize, total: usize, range: &DateRange) -> String {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    format!(
        "{} · page {} of {pages}",
        range.label,
        page.min(pages - 1) + 1
    )
}

/// The player an option names (GUID/key, current name or alias, case-insensitive,
/// colour codes ignored), or the caller's linked player when the option is absent.
async fn player_option(
    env: &Env,
    caller: &Caller,
    value: Option<&str>,
) -> Result<Option<db::players::Player>, CommandError> {
    match value {
        Some(text) => resolve_player(env, text).await.map(Some),
        None => match caller.discord_user_id {
            Some(user) => Ok(db::links::linked_player(&env.pool, user).await?),
            None => Ok(None),
        },
    }
}

/// Option a page button carries when the invoker named no player and had none linked, so the
/// list stays the same list whoever presses the button (not the presser's linked player).
const NO_DEFAULT: &str = "nolink";

/// Like [`player_option`] for option `key`, honouring [`NO_DEFAULT`].
async fn chosen_player(
    env: &Env,
    caller: &Caller,
    inv: &Invocation,
    key: &str,
) -> Result<Option<db::players::Player>, CommandError> {
    if inv.flag(NO_DEFAULT)? {
        return match inv.get(key) {
            Some(text) => resolve_player(env, text).await.map(Some),
            None => Ok(None),
        };
    }
    player_option(env, caller, inv.get(key)).await
}

/// The invocation a page button repeats: the player shown now is written into it, or
/// [`NO_DEFAULT`] when none is, so a click by someone else pages through the same reply.
fn pinned(inv: &Invocation, player: Option<&db::players::Player>) -> Invocation {
    match player {
        Some(p) => {
            let mut next = inv.with("player", &p.guid);
            next.options.remove("partner");
            next
        }
        None => inv.with(NO_DEFAULT, true),
    }
}

async fn resolve_player(env: &Env, text: &str) -> Result<db::players::Player, CommandError> {
    let wanted = text::strip_colours(text.trim());
    if wanted.is_empty() {
        return user_error("empty player name");
    }
    let found = db::players::resolve(&env.pool, &wanted).await?;
    match found.len() {
        0 => user_error(format!(
            "no player matches {}; names and aliases are searched, colour codes ignored",
            text::name(&wanted)
        )),
        1 => Ok(found.into_iter().next().expect("one element")),
        n => {
            let names: Vec<String> = found.iter().take(8).map(|p| text::name(&p.name)).collect();
            user_error(format!(
                "{n} players match {}: {}{}. Be more precise or pick one from the list.",
                text::name(&wanted),
                names.join(", "),
                if n > 8 { ", …" } else { "" }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_parse_and_print_back() {
        let inv = Invocation::parse(r#"/duo player:Slomix partner:"big boss" period:7d"#).unwrap();
        assert_eq!(inv.name, "duo");
        assert_eq!(inv.get("partner"), Some("big boss"));
        assert_eq!(inv.get("period"), Some("7d"));
        assert_eq!(Invocation::parse(&inv.to_line()).unwrap(), inv);
        let inv = Invocation::parse("/retention archive days:30 dry_run:true").unwrap();
        assert_eq!(inv.subcommand.as_deref(), Some("archive"));
        assert!(inv.flag("dry_run").unwrap());
        assert!(Invocation::parse("/solo stray").is_err());
        assert!(Invocation::parse("/solo player:\"open").is_err());
        assert!(Invocation::parse("").is_err());
    }

    #[test]
    fn periods_parse() {
        assert_eq!(Period::parse("7D").unwrap(), Period::Week);
        assert_eq!(Period::parse("all").unwrap(), Period::All);
        assert!(Period::parse("year").is_err());
    }

    #[test]
    fn pages_clamp_and_buttons_point_to_neighbours() {
        let items: Vec<u32> = (0..25).collect();
        let (page, shown) = page_of(&items, 7);
        assert_eq!(page, 2);
        assert_eq!(shown, &[20, 21, 22, 23, 24]);
        let inv = Invocation::parse("/solo period:all").unwrap();
        let buttons = page_buttons(&inv, 0, 25);
        assert!(buttons[0].disabled);
        assert_eq!(buttons[1].id, "pg:/solo page:1 period:all");
        assert!(page_buttons(&inv, 0, 5).is_empty());
    }
}
