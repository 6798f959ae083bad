//! `etprox check`: the first-start doctor. One function per check, each returning a
//! [`CheckLine`] (✔, or ✘ with what to do), so a new kind of source adds one function and one
//! call in [`run`]. Discord is asked over REST only (through ETPROX_DISCORD_PROXY_URL when set),
//! so the check needs no gateway session and does not disturb a running bot.

use std::path::Path;
use std::time::{Duration, SystemTime};

use poise::serenity_prelude as serenity;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::{BotConfig, Config};
use crate::discord::{invite_url, needed_permissions};

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckLine {
    pub ok: bool,
    /// What was checked, e.g. "database".
    pub what: String,
    /// What was found.
    pub detail: String,
    /// For a ✘: what to do about it.
    pub fix: Option<String>,
}

impl CheckLine {
    pub fn ok(what: impl Into<String>, detail: impl Into<String>) -> CheckLine {
        CheckLine {
            ok: true,
            what: what.into(),
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fail(
        what: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> CheckLine {
        CheckLine {
            ok: false,
            what: what.into(),
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

impl std::fmt::Display for CheckLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.ok { '✔' } else { '✘' };
        write!(f, "{mark} {}: {}", self.what, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n    fix: {fix}")?;
        }
        Ok(())
    }
}

/// Runs every check with the configuration `get` reads (the environment and `.env` in
/// `etprox check`), printing each line as soon as it is known through `report`.
pub async fn run(
    get: impl Fn(&str) -> Option<String>,
    mut report: impl FnMut(&CheckLine),
) -> Vec<CheckLine> {
    let mut lines = Vec::new();
    let mut emit = |line: CheckLine, lines: &mut Vec<CheckLine>| {
        report(&line);
        lines.push(line);
    };
    let (line, config, bot) = configuration(&get);
    emit(line, &mut lines);

    let mut pool = None;
    if let Some(config) = &config {
        let (line, p) = database(config).await;
        emit(line, &mut lines);
        pool = p;
        if config.round_dirs.is_empty() && config.remote.sources.is_empty() {
            emit(
                CheckLine::fail(
                    "round files",
                    "no round folder or remote source configured, so nothing is imported",
                    "set ETPROX_ROUND_DIRS to the folder(s) the game server's tracker writes to, \
                     or ETPROX_ROUND_SOURCES to sftp:// or ftp:// URLs of them",
                ),
                &mut lines,
            );
        }
        for dir in &config.round_dirs {
            emit(round_folder(dir), &mut lines);
        }
        for source in &config.remote.sources {
            emit(remote_source(source).await, &mut lines);
        }
    }

    if let Some(bot) = &bot {
        let http = crate::discord::http_client(bot);
        let (line, me) = token(&http).await;
        emit(line, &mut lines);
        if let Some(me) = me {
            // The bot user's id is the application's id for every bot made since 2018; it
            // is what the invite URL needs.
            let app_id = me.id.get();
            for guild in &bot.guild_ids {
                emit(in_guild(&http, *guild, app_id).await, &mut lines);
            }
            emit(summary_channel(&http, bot, me.id).await, &mut lines);
        }
        let assets = config
            .as_ref()
            .map(|c| c.assets.clone())
            .unwrap_or_default();
        emit(maps(assets.dir(), pool.as_ref()).await, &mut lines);
    }
    if let Some(pool) = pool {
        pool.close().await;
    }
    lines
}

/// Both halves of the configuration: what every command reads and what the bot adds.
pub fn configuration(
    get: &impl Fn(&str) -> Option<String>,
) -> (CheckLine, Option<Config>, Option<BotConfig>) {
    let config = Config::from_lookup(get);
    let bot = BotConfig::from_lookup(get);
    let line = match (&config, &bot) {
        (Ok(c), Ok(b)) => CheckLine::ok(
            "configuration",
            format!(
                "parsed (database {}, {} round folder(s), {} guild(s))",
                c.database_url,
                c.round_dirs.len(),
                b.guild_ids.len()
            ),
        ),
        (Err(e), _) | (_, Err(e)) => CheckLine::fail(
            "configuration",
            e.to_string(),
            format!(
                "set {} in /etc/etprox/etprox.env, .env or the environment",
                e.variable
            ),
        ),
    };
    (line, config.ok(), bot.ok())
}

/// Connects (without creating anything) and compares the applied migrations with this
/// version's.
pub async fn database(config: &Config) -> (CheckLine, Option<PgPool>) {
    let what = "database";
    let options = match config.database_url.parse::<PgConnectOptions>() {
        Ok(o) => o.application_name("etprox check"),
        Err(e) => {
            return (
                CheckLine::fail(
                    what,
                    format!(
                        "DATABASE_URL \"{}\" cannot be read: {e}",
                        config.database_url
                    ),
                    "write it as postgres://USER:PASSWORD@HOST:5432/DATABASE",
                ),
                None,
            )
        }
    };
    let pool = match PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
    {
        Ok(p) => p,
        Err(e) => return (
            CheckLine::fail(
                what,
                format!("cannot connect to {}: {e}", config.database_url),
                "start PostgreSQL, or correct DATABASE_URL (user, password, host, port, database)",
            ),
            None,
        ),
    };
    let applied = crate::db::admin::applied_migrations(&pool).await;
    let applied = match applied {
        Ok(v) => v,
        // No migrations table: a database nobody has set up yet.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
        Err(e) => {
            return (
                CheckLine::fail(
                    what,
                    format!("connected, but cannot read the migrations: {e}"),
                    "give the DATABASE_URL user read access to the etprox tables",
                ),
                Some(pool),
            )
        }
    };
    let missing: Vec<String> = crate::db::MIGRATOR
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    let line = if missing.is_empty() {
        CheckLine::ok(
            what,
            format!(
                "reachable at {}, {} migrations applied",
                config.database_url,
                applied.len()
            ),
        )
    } else {
        CheckLine::fail(
            what,
            format!(
                "reachable at {}, but not migrated: missing {}",
                config.database_url,
                missing.join(", ")
            ),
            "run `etprox db migrate` (etprox bot and etprox watch also migrate when they start)",
        )
    };
    (line, Some(pool))
}

/// A local round folder: readable, how many round files, how old the newest is.
pub fn round_folder(dir: &Path) -> CheckLine {
    let what = format!("round folder {}", dir.display());
    let files = match crate::ingest::round_files_in(dir) {
        Ok(f) => f,
        Err(e) => {
            return CheckLine::fail(
                what,
                format!("cannot be read: {e}"),
                "create it, or give etprox's user read access (and correct ETPROX_ROUND_DIRS)",
            )
        }
    };
    let newest = files
        .iter()
        .filter_map(|f| f.metadata().and_then(|m| m.modified()).ok())
        .max();
    let detail = match newest {
        None => "readable, no round files yet".to_owned(),
        Some(t) => format!(
            "{} round files, newest {} old",
            files.len(),
            human_age(SystemTime::now().duration_since(t).unwrap_or_default())
        ),
    };
    CheckLine::ok(what, detail)
}

/// A remote source (SFTP, FTP): log in, list once, how many round files, how old the newest is.
pub async fn remote_source(source: &crate::remote::RoundSource) -> CheckLine {
    let what = format!("remote source {source}");
    match crate::remote::probe(source).await {
        Ok(summary) => {
            let detail = match &summary.newest {
                None => "reachable, no round files yet".to_owned(),
                Some((_, age)) => format!(
                    "{} round files, newest {} old",
                    summary.round_files,
                    human_age(*age)
                ),
            };
            CheckLine::ok(what, detail)
        }
        // The error names the cause and, for host keys, the line to add (see remote/).
        Err(e) => CheckLine::fail(
            what,
            e.to_string(),
            "see docs/remote-sources.md: the host, user, key or password, and the known_hosts entry",
        ),
    }
}

fn human_age(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7_199 => format!("{} min", s / 60),
        7_200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// The token: Discord says whose it is.
pub async fn token(http: &serenity::Http) -> (CheckLine, Option<serenity::CurrentUser>) {
    match http.get_current_user().await {
        Ok(me) => (
            CheckLine::ok(
                "Discord token",
                format!("valid: the bot is {} (id {})", me.name, me.id.get()),
            ),
            Some(me),
        ),
        Err(e) => (
            CheckLine::fail(
                "Discord token",
                format!("refused by Discord: {e}"),
                "open your application at https://discord.com/developers/applications, Bot, Reset Token, and put the new token in DISCORD_TOKEN",
            ),
            None,
        ),
    }
}

/// The bot is a member of a configured guild.
pub async fn in_guild(http: &serenity::Http, guild: u64, app_id: u64) -> CheckLine {
    let what = format!("guild {guild}");
    match http.get_guild(serenity::GuildId::new(guild)).await {
        Ok(g) => CheckLine::ok(what, format!("the bot is in {}", g.name)),
        Err(e) => CheckLine::fail(
            what,
            format!("the bot is not in this server (or it does not exist): {e}"),
            format!(
                "invite it with {} (or correct ETPROX_GUILD_ID: right-click the server icon, Copy Server ID)",
                invite_url(app_id)
            ),
        ),
    }
}

/// The bot's permissions in the summary channel, from the guild's roles, the bot's roles and
/// the channel's overwrites (what Discord itself would compute).
pub async fn summary_channel(
    http: &serenity::Http,
    bot: &BotConfig,
    me: serenity::UserId,
) -> CheckLine {
    let Some(channel) = bot.summary_channel_id else {
        return CheckLine::ok(
            "summary channel",
            "none set (ETPROX_SUMMARY_CHANNEL_ID): rounds are not posted",
        );
    };
    let what = format!("summary channel {channel}");
    let channel = match http.get_channel(serenity::ChannelId::new(channel)).await {
        Ok(serenity::Channel::Guild(c)) => c,
        Ok(_) => {
            return CheckLine::fail(
                what,
                "is not a server text channel",
                "set ETPROX_SUMMARY_CHANNEL_ID to a text channel of your server (right-click it, Copy Channel ID)",
            )
        }
        Err(e) => {
            return CheckLine::fail(
                what,
                format!("the bot cannot see it: {e}"),
                "check ETPROX_SUMMARY_CHANNEL_ID (right-click the channel, Copy Channel ID) and give the bot's role View Channel there",
            )
        }
    };
    let what = format!("summary channel #{}", channel.name);
    if !bot.guild_ids.contains(&channel.guild_id.get()) {
        return CheckLine::fail(
            what,
            format!(
                "belongs to server {}, which is not in ETPROX_GUILD_ID",
                channel.guild_id.get()
            ),
            "pick a channel of your community's server",
        );
    }
    let guild = http.get_guild(channel.guild_id).await;
    let member = http.get_member(channel.guild_id, me).await;
    let (guild, member) = match (guild, member) {
        (Ok(g), Ok(m)) => (g, m),
        (Err(e), _) | (_, Err(e)) => {
            return CheckLine::fail(
                what,
                format!("cannot read the server's roles or the bot's membership: {e}"),
                "invite the bot to that server",
            )
        }
    };
    let have = guild.user_permissions_in(&channel, &member);
    let missing = needed_permissions() - have;
    if missing.is_empty() {
        CheckLine::ok(
            what,
            "the bot may view it, send messages, embed links and attach files",
        )
    } else {
        CheckLine::fail(
            what,
            format!(
                "the bot lacks {}",
                missing.get_permission_names().join(", ")
            ),
            format!(
                "in the channel's settings, Permissions, allow the bot's role {}",
                missing.get_permission_names().join(", ")
            ),
        )
    }
}

/// Which maps have an image and a calibration for heatmaps; maps played without them are
/// named (their heatmaps are refused). Only an asset folder with no usable map at all is ✘.
pub async fn maps(assets_dir: &Path, pool: Option<&PgPool>) -> CheckLine {
    let what = format!("map assets in {}", assets_dir.display());
    let assets = crate::commands::maps::read_assets(assets_dir);
    let mut ready: Vec<&str> = assets
        .iter()
        .filter(|(_, (calibrated, image))| *calibrated && *image)
        .map(|(name, _)| name.as_str())
        .collect();
    ready.sort_unstable();
    if ready.is_empty() {
        return CheckLine::fail(
            what,
            "no map has both an image and a calibration: heatmaps cannot be drawn",
            "set ETPROX_ASSETS_DIR to the folder holding maps.csv and maps/*.png, or add maps with `etprox maps import`",
        );
    }
    let mut detail = format!(
        "{} maps with image and calibration: {}",
        ready.len(),
        ready.join(", ")
    );
    if let Some(pool) = pool {
        if let Ok(played) = crate::db::players::known_maps(pool).await {
            let lacking: Vec<String> = played
                .into_iter()
                .map(|m| m.map_name)
                .filter(|m| !ready.contains(&m.to_ascii_lowercase().as_str()))
                .collect();
            if !lacking.is_empty() {
                detail.push_str(&format!(
                    "; played but without (no heatmap): {}",
                    lacking.join(", ")
                ));
            }
        }
    }
    CheckLine::ok(what, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_the_mark_and_the_fix() {
        assert_eq!(
            CheckLine::ok("database", "fine").to_string(),
            "✔ database: fine"
        );
        assert_eq!(
            CheckLine::fail("token", "refused", "reset it").to_string(),
            "✘ token: refused\n    fix: reset it"
        );
    }

    #[test]
    fn a_missing_folder_is_a_failure_with_a_fix() {
        let dir = tempfile::tempdir().unwrap();
        let line = round_folder(&dir.path().join("missing"));
        assert!(!line.ok);
        assert!(line.fix.unwrap().contains("ETPROX_ROUND_DIRS"));
        std::fs::write(dir.path().join("a-round.txt"), "x").unwrap();
        let line = round_folder(dir.path());
        assert!(line.ok, "{line}");
        assert!(line.detail.starts_with("1 round files, newest"), "{line}");
    }
}
