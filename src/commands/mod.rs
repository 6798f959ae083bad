//! Slash commands, one file each. A command computes a [`Reply`] from the database and knows
//! nothing of Discord: the Discord adapter (`crate::discord`) and the console (`etprox ask`)
//! render the same value.
//!
//! Each command is a type with its options ([`registry::Command`]), registered by one line of
//! the `commands!` list below. The console reaches it through an [`Invocation`] (`/duo
//! player:Slomix period:7d`), Discord through the handler in the command's file; buttons carry
//! the invocation they repeat (a page, a confirmation) in their id, so a click works after a
//! restart and is checked like a fresh command.

pub mod cache;
pub mod fight;
pub mod invocation;
pub mod paging;
pub mod registry;
pub mod reply;
pub mod slash;
pub mod text;

// The commands, one line each: `module::Type` (the file `commands/module.rs` holds the type,
// its `Command` impl and its Discord handler). The order is the order of help and Discord.
registry::commands! {
    solo::Solo,
    duo::Duo,
    heatmap::Heatmap,
    engagements::Engagements,
    player::Player,
    weapons::Weapons,
    leaderboard::Leaderboard,
    round::Round,
    session::Session,
    maps::Maps,
    link::Link,
    unlink::Unlink,
    versus::Versus,
    trend::Trend,
    help::Help,
    retention::Retention,
    import::Import,
}

use std::path::PathBuf;

use sqlx::PgPool;
use tracing::Instrument;

use crate::clock::Clock;
use crate::db;
use crate::ingest::Importer;
use crate::period::{DateRange, Period};
use crate::players::LookupError;
pub use invocation::Invocation;
pub use paging::PAGE_SIZE;
pub use registry::Command;
pub use reply::{Attachment, Button, ButtonStyle, Embed, Field, Reply};

/// What commands may use.
#[derive(Clone)]
pub struct Env {
    pub pool: PgPool,
    /// For `/import rescan`; absent in front ends that do not import.
    pub importer: Option<Importer>,
    pub round_dirs: Vec<PathBuf>,
    /// Map calibration (`maps.csv`) and images: the configured assets folder.
    pub assets: crate::assets::Assets,
    /// Where `/retention archive export:true` writes CSV files.
    pub export_dir: Option<PathBuf>,
    /// Totals and pairs per period, valid until the next import.
    pub cache: std::sync::Arc<cache::Cache>,
    /// Today's session day, from which 7d and 30d count back.
    pub clock: Clock,
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

/// The session days `period` covers now: `session` is the latest day with a round; 7d and
/// 30d count back from today's session day (the clock's, not the UTC date).
pub async fn range(env: &Env, period: Period) -> Result<DateRange, CommandError> {
    let latest = match period {
        Period::Session => db::stats::latest_session(&env.pool).await?,
        _ => None,
    };
    Ok(period.resolve(env.clock.today(), latest))
}

/// Runs a typed line (the console, a button). Errors the caller can fix become an ephemeral
/// reply; others are logged and answered with a short apology.
pub async fn dispatch(env: &Env, caller: &Caller, invocation: &Invocation) -> Reply {
    let started = std::time::Instant::now();
    let span =
        tracing::info_span!("command", name = %invocation.name, user = caller.discord_user_id);
    let result = registry::run(env, caller, invocation)
        .instrument(span)
        .await;
    finish(result, || invocation.to_line(), started)
}

/// Runs a command a front end built from typed arguments (a Discord handler); `command` is
/// the error when the handler could not read an option.
pub async fn run<C: Command>(
    env: &Env,
    caller: &Caller,
    command: Result<C, CommandError>,
) -> Reply {
    let started = std::time::Instant::now();
    let line = match &command {
        Ok(c) => c.to_invocation().to_line(),
        Err(_) => format!("/{}", C::NAME),
    };
    let span = tracing::info_span!("command", name = C::NAME, user = caller.discord_user_id);
    let result = match command {
        Ok(c) => registry::run_typed(env, caller, c).instrument(span).await,
        Err(e) => Err(e),
    };
    finish(result, || line, started)
}

fn finish(
    result: CommandResult,
    line: impl FnOnce() -> String,
    started: std::time::Instant,
) -> Reply {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(reply) => {
            tracing::debug!(command = %line(), elapsed_ms, "answered");
            reply
        }
        Err(CommandError::User(message)) => Reply::error(message),
        Err(e) if e.database_unavailable() => {
            tracing::warn!(command = %line(), error = %e, "database unavailable");
            Reply::error(DATABASE_UNAVAILABLE)
        }
        Err(e) => {
            tracing::error!(command = %line(), error = %e, "command failed");
            Reply::error("Something went wrong on our side; the error is logged. Try again later.")
        }
    }
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

/// The `member` option of a typed line: a Discord user id or mention (`member:<@42>`).
fn member_option(inv: &Invocation) -> Result<Option<i64>, CommandError> {
    inv.get("member").map(link::parse_user).transpose()
}

/// The player a command is about: the one a Discord member linked, else [`player_option`].
async fn player_or_member(
    env: &Env,
    caller: &Caller,
    value: Option<&str>,
    member: Option<i64>,
) -> Result<Option<db::players::Player>, CommandError> {
    match member {
        Some(user) => linked_member(env, user).await.map(Some),
        None => player_option(env, caller, value).await,
    }
}

/// The player a Discord member linked; a member without a link is the caller's to fix.
async fn linked_member(env: &Env, user: i64) -> Result<db::players::Player, CommandError> {
    match db::links::linked_player(&env.pool, user).await? {
        Some(player) => Ok(player),
        None => user_error(format!(
            "<@{user}> has not linked a player yet: they can use /link player:NAME \
             (or name the player instead)"
        )),
    }
}

/// The server an option names: its id, or its name (any case, colour codes ignored).
async fn resolve_server(env: &Env, text: &str) -> Result<String, CommandError> {
    let wanted = text::strip_colours(text.trim()).to_lowercase();
    let servers = db::servers::known_servers(&env.pool).await?;
    let found = servers.iter().find(|s| {
        s.server_id.to_lowercase() == wanted
            || s.name
                .as_deref()
                .is_some_and(|n| text::strip_colours(n).to_lowercase() == wanted)
    });
    match found {
        Some(s) => Ok(s.server_id.clone()),
        None if servers.is_empty() => user_error("no rounds imported yet, so no servers are known"),
        None => {
            let known: Vec<String> = servers.iter().map(slash::server_label).collect();
            user_error(format!(
                "no server {text:?}: known servers are {}",
                known.join(", ")
            ))
        }
    }
}

/// A mention typed where a player is asked for (`opponent:<@42>`): the member's user id.
fn mentioned_member(text: &str) -> Option<i64> {
    let id = text.trim().strip_prefix("<@")?.strip_suffix('>')?;
    id.trim_start_matches('!').parse().ok()
}

/// Like [`player_or_member`]; with `nolink` (set by page buttons, see [`paging::pinned`]) an
/// absent option means no player, not the presser's linked one.
async fn chosen_player(
    env: &Env,
    caller: &Caller,
    value: Option<&str>,
    member: Option<i64>,
    nolink: bool,
) -> Result<Option<db::players::Player>, CommandError> {
    if let Some(user) = member {
        return linked_member(env, user).await.map(Some);
    }
    if nolink {
        return match value {
            Some(text) => resolve_player(env, text).await.map(Some),
            None => Ok(None),
        };
    }
    player_option(env, caller, value).await
}

/// [`crate::players::resolve_one`], its failures worded for the person who typed the name.
async fn resolve_player(env: &Env, text: &str) -> Result<db::players::Player, CommandError> {
    if let Some(user) = mentioned_member(text) {
        return linked_member(env, user).await;
    }
    crate::players::resolve_one(&env.pool, text)
        .await
        .map_err(|e| match e {
            LookupError::Empty => CommandError::User("empty player name".into()),
            LookupError::NotFound { wanted } => CommandError::User(format!(
                "no player matches {}; names and aliases are searched, colour codes ignored",
                text::name(&wanted)
            )),
            LookupError::Ambiguous { wanted, candidates } => {
                let n = candidates.len();
                let names: Vec<String> = candidates
                    .iter()
                    .take(8)
                    .map(|p| text::name(&p.name))
                    .collect();
                CommandError::User(format!(
                    "{n} players match {}: {}{}. Be more precise or pick one from the list.",
                    text::name(&wanted),
                    names.join(", "),
                    if n > 8 { ", …" } else { "" }
                ))
            }
            LookupError::Database(e) => CommandError::Database(e),
        })
}
