//! One typed configuration, read from the environment and `.env`, validated at start.
//! Every error names the variable so an admin knows what to fix.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;

/// Used when DATABASE_URL is not set: the local PostgreSQL, database `etprox` (created if missing).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/etprox";

#[derive(Debug, Clone)]
pub struct Config {
    /// DATABASE_URL; prints with its password hidden (see [`DatabaseUrl`]).
    pub database_url: DatabaseUrl,
    /// Folders the watcher watches (ETPROX_ROUND_DIRS, separated by ':' or ',').
    pub round_dirs: Vec<PathBuf>,
    pub session: SessionClock,
    /// Server id given to v2 files, which carry none (ETPROX_SERVER_ID).
    pub default_server_id: String,
    /// How long a v2 file's size must stay unchanged before it is imported.
    pub settle: Duration,
    /// Full rescan interval of the watched folders (fallback for missed events).
    pub rescan: Duration,
    /// Remote round-file sources (ETPROX_ROUND_SOURCES) and their polling.
    pub remote: crate::remote::RemoteConfig,
    /// Map images and calibration (ETPROX_ASSETS_DIR; default: see [`crate::assets::resolve`]),
    /// for the bot, `etprox heatmap`, `etprox maps`, `etprox ask` and `etprox check` alike.
    pub assets: crate::assets::Assets,
}

/// How instants map to session days.
#[derive(Debug, Clone, Copy)]
pub struct SessionClock {
    pub timezone: Tz,
    /// A session day starts at this local time (ETPROX_SESSION_DAY_START, default 06:00), so an
    /// evening that crosses midnight is one session.
    pub day_start: NaiveTime,
}

impl Default for SessionClock {
    fn default() -> Self {
        SessionClock {
            timezone: Tz::UTC,
            day_start: NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default(),
        }
    }
}

/// A PostgreSQL URL that may hold a password. `Display` and `Debug` hide the password, so the
/// URL can go into errors and logs; [`DatabaseUrl::expose`] gives the real text for connecting.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    /// The URL with its password, for the database driver only: never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for DatabaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Redacted(&self.0).fmt(f)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", Redacted(&self.0))
    }
}

/// Shows a connection URL with the password (in the user part or a `password=` parameter)
/// replaced by `***`.
pub struct Redacted<'a>(pub &'a str);

impl std::fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.0;
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let authority_end = base[authority_start..]
            .find('/')
            .map_or(base.len(), |i| authority_start + i);
        let authority = &base[authority_start..authority_end];
        // The last '@' ends the user part: a password may hold '@' only percent-encoded, but
        // take the last one so a sloppy URL does not leak its tail.
        match authority.rfind('@') {
            Some(at) => {
                let user_info = &authority[..at];
                match user_info.split_once(':') {
                    Some((user, _password)) => write!(
                        f,
                        "{}{user}:***{}",
                        &base[..authority_start],
                        &base[authority_start + at..]
                    )?,
                    None => f.write_str(base)?,
                }
            }
            None => f.write_str(base)?,
        }
        if let Some(query) = query {
            f.write_str("?")?;
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    f.write_str("&")?;
                }
                match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        write!(f, "{key}=***")?
                    }
                    _ => f.write_str(pair)?,
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Loads `.env` (if present) and reads the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(var)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let err = |variable: &'static str, message: String| ConfigError { variable, message };
        let database_url = DatabaseUrl::new(
            get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        );
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(err(
                "DATABASE_URL",
                format!("must be a postgres:// URL, got \"{database_url}\""),
            ));
        }
        let round_dirs = get("ETPROX_ROUND_DIRS")
            .map(|v| {
                v.split([':', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        let timezone = match get("ETPROX_TIMEZONE") {
            Some(name) => name.trim().parse::<Tz>().map_err(|_| {
                err(
                    "ETPROX_TIMEZONE",
                    format!("{name:?} is not an IANA time zone name (e.g. Europe/Berlin, UTC)"),
                )
            })?,
            None => Tz::UTC,
        };
        let day_start = match get("ETPROX_SESSION_DAY_START") {
            Some(text) => NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
                err(
                    "ETPROX_SESSION_DAY_START",
                    format!("{text:?} is not a time of day as HH:MM (e.g. 06:00)"),
                )
            })?,
            None => SessionClock::default().day_start,
        };
        let seconds = |name: &'static str, default: f64| -> Result<Duration, ConfigError> {
            match get(name) {
                Some(text) => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| err(name, format!("{text:?} is not a number of seconds"))),
                None => Ok(Duration::from_secs_f64(default)),
            }
        };
        Ok(Config {
            database_url,
            round_dirs,
            session: SessionClock {
                timezone,
                day_start,
            },
            default_server_id: get("ETPROX_SERVER_ID").unwrap_or_else(|| "default".to_owned()),
            settle: seconds("ETPROX_SETTLE_SECS", 0.5)?,
            rescan: seconds("ETPROX_RESCAN_SECS", 10.0)?,
            remote: crate::remote::RemoteConfig::from_lookup(&get)?,
            assets: crate::assets::Assets::from_setting(
                get(crate::assets::ASSETS_DIR_VAR).as_deref(),
            ),
        })
    }
}

/// What `etprox bot` needs besides [`Config`].
#[derive(Clone)]
pub struct BotConfig {
    pub discord_token: String,
    /// Where round summaries go (ETPROX_SUMMARY_CHANNEL_ID); unset: no summaries.
    pub summary_channel_id: Option<u64>,
    /// Channels of particular servers' summaries and recaps (ETPROX_SUMMARY_CHANNELS,
    /// `server_id=channel_id` pairs separated by commas); other servers use
    /// `summary_channel_id`.
    pub server_channels: std::collections::BTreeMap<String, u64>,
    /// A server's session recap is posted once it has had no new round for this long
    /// (ETPROX_RECAP_AFTER_MINS, default 30; decimals allowed).
    pub recap_after: Duration,
    /// Members with this role may use admin commands (ETPROX_ADMIN_ROLE_ID), besides Manage Server.
    pub admin_role_id: Option<u64>,
    /// The community's Discord server(s) (ETPROX_GUILD_ID, required; several separated by
    /// commas). Commands are registered there only, and interactions from anywhere else are
    /// refused: whoever invites the bot elsewhere gains nothing.
    pub guild_ids: Vec<u64>,
    /// Raw kills older than this are archived daily (ETPROX_RETENTION_DAYS, default 30, 0 = off).
    pub retention_days: u32,
    /// UTC hour of the daily retention run (ETPROX_RETENTION_HOUR, default 4).
    pub retention_hour: u32,
    /// Send every REST call through this HTTP proxy (ETPROX_DISCORD_PROXY_URL), e.g. nirn-proxy.
    pub proxy_url: Option<String>,
    /// Only rounds that ended at most this long ago get a summary post, so backfills do not
    /// flood the channel (ETPROX_SUMMARY_MAX_AGE_MINS, default 30).
    pub summary_max_age: Duration,
    /// Where `/retention archive export:true` and the daily retention run write CSV files of
    /// the raw kills they archive (ETPROX_EXPORT_DIR).
    pub export_dir: Option<PathBuf>,
}

impl std::fmt::Debug for BotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConfig")
            .field("discord_token", &"(hidden)")
            .field("summary_channel_id", &self.summary_channel_id)
            .field("server_channels", &self.server_channels)
            .field("recap_after", &self.recap_after)
            .field("admin_role_id", &self.admin_role_id)
            .field("guild_ids", &self.guild_ids)
            .field("retention_days", &self.retention_days)
            .field("proxy_url", &self.proxy_url)
            .finish_non_exhaustive()
    }
}

pub const GUILD_HELP: &str = "ETPROX_GUILD_ID is not set: the bot serves one community and needs the id of its Discord server (several separated by commas). In Discord turn on Settings > Advanced > Developer Mode, right-click the server icon and choose Copy Server ID.";

pub const TOKEN_HELP: &str = "DISCORD_TOKEN is not set. Create an application at https://discord.com/developers/applications, open Bot, press Reset Token and copy it into DISCORD_TOKEN (in .env or the environment); then invite the bot with the OAuth2 URL generator (scopes bot and applications.commands).";

impl BotConfig {
    pub fn from_env() -> Result<BotConfig, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(var)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<BotConfig, ConfigError> {
        let get: &dyn Fn(&str) -> Option<String> = &get;
        // Read in this order, so that of several wrong settings the same one is reported.
        let discord_token = discord_token(get)?;
        let proxy_url = proxy_url(get)?;
        let guild_ids = guild_ids(get)?;
        Ok(BotConfig {
            discord_token,
            guild_ids,
            summary_channel_id: discord_id(get, "ETPROX_SUMMARY_CHANNEL_ID")?,
            server_channels: server_channels(get)?,
            recap_after: minutes(get, "ETPROX_RECAP_AFTER_MINS", 30.0)?,
            admin_role_id: discord_id(get, "ETPROX_ADMIN_ROLE_ID")?,
            retention_days: whole_number(get, "ETPROX_RETENTION_DAYS", 30, 36_500)?,
            retention_hour: whole_number(get, "ETPROX_RETENTION_HOUR", 4, 23)?,
            proxy_url,
            summary_max_age: Duration::from_secs(
                u64::from(whole_number(
                    get,
                    "ETPROX_SUMMARY_MAX_AGE_MINS",
                    30,
                    100_000,
                )?) * 60,
            ),
            export_dir: get("ETPROX_EXPORT_DIR").map(PathBuf::from),
        })
    }
}

fn config_error(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// DISCORD_TOKEN: required, and shaped like a bot token.
fn discord_token(get: &dyn Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let Some(token) = get("DISCORD_TOKEN").map(|t| t.trim().to_owned()) else {
        return Err(config_error("DISCORD_TOKEN", TOKEN_HELP));
    };
    if token.contains(char::is_whitespace) || token.len() < 20 {
        return Err(config_error(
            "DISCORD_TOKEN",
            "does not look like a bot token (copy it again from the Bot page of your application)",
        ));
    }
    Ok(token)
}

/// An optional Discord id (channel, role): a positive number.
fn discord_id(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<u64>, ConfigError> {
    match get(name) {
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|v| *v > 0)
            .map(Some)
            .ok_or_else(|| config_error(name, format!("{text:?} is not a Discord id (turn on Developer Mode, right-click, Copy ID)"))),
        None => Ok(None),
    }
}

impl BotConfig {
    /// The channel of `server`'s round summaries and recaps: its own (ETPROX_SUMMARY_CHANNELS),
    /// else the default (ETPROX_SUMMARY_CHANNEL_ID); `None`: nothing is posted for it.
    pub fn summary_channel(&self, server: &str) -> Option<u64> {
        self.server_channels
            .get(server)
            .copied()
            .or(self.summary_channel_id)
    }

    /// Whether anything is posted at all (some channel is configured).
    pub fn posts_summaries(&self) -> bool {
        self.summary_channel_id.is_some() || !self.server_channels.is_empty()
    }
}

/// ETPROX_SUMMARY_CHANNELS: `server_id=channel_id` pairs separated by commas.
fn server_channels(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<std::collections::BTreeMap<String, u64>, ConfigError> {
    const NAME: &str = "ETPROX_SUMMARY_CHANNELS";
    let mut out = std::collections::BTreeMap::new();
    let Some(text) = get(NAME) else {
        return Ok(out);
    };
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((server, channel)) = pair.split_once('=') else {
            return Err(config_error(
                NAME,
                format!("{pair:?} is not server_id=channel_id (e.g. eu-1=123456789012345678)"),
            ));
        };
        let server = server.trim();
        if server.is_empty() {
            return Err(config_error(
                NAME,
                format!("{pair:?} names no server before '='"),
            ));
        }
        let channel = channel.trim().parse::<u64>().ok().filter(|c| *c > 0).ok_or_else(|| {
            config_error(
                NAME,
                format!("{pair:?}: {:?} is not a Discord channel id (turn on Developer Mode, right-click the channel, Copy Channel ID)", channel.trim()),
            )
        })?;
        if out.insert(server.to_owned(), channel).is_some() {
            return Err(config_error(
                NAME,
                format!("server {server:?} is given twice"),
            ));
        }
    }
    Ok(out)
}

/// An optional number of minutes above 0 (decimals allowed), at most a week.
fn minutes(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: f64,
) -> Result<Duration, ConfigError> {
    let value = match get(name) {
        Some(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|m| m.is_finite() && *m > 0.0 && *m <= 10_080.0)
            .ok_or_else(|| {
                config_error(
                    name,
                    format!("{text:?} is not a number of minutes above 0 (at most 10080, a week)"),
                )
            })?,
        None => default,
    };
    Ok(Duration::from_secs_f64(value * 60.0))
}

/// An optional whole number from 0 to `max`.
fn whole_number(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    match get(name) {
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|v| *v <= max)
            .ok_or_else(|| {
                config_error(
                    name,
                    format!("{text:?} is not a whole number from 0 to {max}"),
                )
            }),
        None => Ok(default),
    }
}

/// ETPROX_DISCORD_PROXY_URL: an http(s) URL, kept without its trailing slash.
fn proxy_url(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    match get("ETPROX_DISCORD_PROXY_URL") {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(Some(url.trim().trim_end_matches('/').to_owned()))
        }
        Some(url) => Err(config_error(
            "ETPROX_DISCORD_PROXY_URL",
            format!("{url:?} is not an http:// or https:// URL"),
        )),
        None => Ok(None),
    }
}

/// ETPROX_GUILD_ID: one or more server ids separated by commas, duplicates dropped.
fn guild_ids(get: &dyn Fn(&str) -> Option<String>) -> Result<Vec<u64>, ConfigError> {
    let Some(text) = get("ETPROX_GUILD_ID") else {
        return Err(config_error("ETPROX_GUILD_ID", GUILD_HELP));
    };
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<u64>() {
            Ok(id) if id > 0 => {
                if !ids.contains(&id) {
                    ids.push(id)
                }
            }
            _ => return Err(config_error(
                "ETPROX_GUILD_ID",
                format!("{part:?} is not a Discord server id (turn on Developer Mode, right-click the server icon, Copy Server ID)"),
            )),
        }
    }
    if ids.is_empty() {
        return Err(config_error("ETPROX_GUILD_ID", GUILD_HELP));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_usable() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(
            c.session.day_start,
            NaiveTime::from_hms_opt(6, 0, 0).unwrap()
        );
        assert!(c.round_dirs.is_empty());
    }

    #[test]
    fn one_assets_setting_for_every_front_end() {
        // Read with the rest of the configuration, so `--env-file` sets it for the CLI too.
        let c = config(&[("ETPROX_ASSETS_DIR", "/srv/et/assets")]).unwrap();
        assert_eq!(c.assets, crate::assets::Assets::in_dir("/srv/et/assets"));
        assert_eq!(
            c.assets.table_path(),
            PathBuf::from("/srv/et/assets/maps.csv")
        );
        let unset = config(&[]).unwrap();
        assert_eq!(unset.assets, crate::assets::Assets::from_setting(None));
    }

    #[test]
    fn errors_name_the_variable() {
        let e = config(&[("ETPROX_TIMEZONE", "Mars/Olympus")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_TIMEZONE");
        let e = config(&[("ETPROX_SESSION_DAY_START", "25:99")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_SESSION_DAY_START");
        let e = config(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
    }

    fn bot(pairs: &[(&str, &str)]) -> Result<BotConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BotConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn bot_config_needs_a_token_and_says_where_to_get_one() {
        let e = bot(&[]).unwrap_err();
        assert_eq!(e.variable, "DISCORD_TOKEN");
        assert!(e.message.contains("discord.com/developers"));
        let token = ("DISCORD_TOKEN", "abcdefghijklmnopqrstuvwxyz.0123");
        let e = bot(&[token]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_GUILD_ID");
        assert!(e.message.contains("Copy Server ID"), "{}", e.message);
        let guild = ("ETPROX_GUILD_ID", "42");
        let c = bot(&[token, guild]).unwrap();
        assert_eq!(c.retention_days, 30);
        assert_eq!(c.guild_ids, [42]);
        let c = bot(&[token, ("ETPROX_GUILD_ID", " 42, 7,42 ")]).unwrap();
        assert_eq!(c.guild_ids, [42, 7]);
        let e = bot(&[token, ("ETPROX_GUILD_ID", "abc")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_GUILD_ID");
        let e = bot(&[token, ("ETPROX_GUILD_ID", "42,x")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_GUILD_ID");
        let e = bot(&[token, guild, ("ETPROX_DISCORD_PROXY_URL", "127.0.0.1:1")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_DISCORD_PROXY_URL");
        let e = bot(&[token, guild, ("ETPROX_RETENTION_DAYS", "-1")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_RETENTION_DAYS");
        let c = bot(&[
            token,
            guild,
            ("ETPROX_RETENTION_DAYS", "0"),
            ("ETPROX_SUMMARY_CHANNEL_ID", "42"),
        ])
        .unwrap();
        assert_eq!(c.retention_days, 0);
        assert_eq!(c.summary_channel_id, Some(42));
    }

    #[test]
    fn bot_settings_are_each_read_and_the_first_wrong_one_is_named() {
        let token = ("DISCORD_TOKEN", " abcdefghijklmnopqrstuvwxyz.0123 ");
        let guild = ("ETPROX_GUILD_ID", "42");
        let c = bot(&[
            token,
            guild,
            ("ETPROX_ADMIN_ROLE_ID", " 7 "),
            ("ETPROX_RETENTION_HOUR", "23"),
            ("ETPROX_SUMMARY_MAX_AGE_MINS", "2"),
            ("ETPROX_DISCORD_PROXY_URL", "http://proxy:8080/ "),
            ("ETPROX_EXPORT_DIR", "/srv/export"),
        ])
        .unwrap();
        assert_eq!(c.discord_token, "abcdefghijklmnopqrstuvwxyz.0123");
        assert_eq!(c.admin_role_id, Some(7));
        assert_eq!(c.summary_channel_id, None);
        assert_eq!(c.retention_hour, 23);
        assert_eq!(c.summary_max_age, Duration::from_secs(120));
        assert_eq!(c.proxy_url.as_deref(), Some("http://proxy:8080"));
        assert_eq!(c.export_dir, Some(PathBuf::from("/srv/export")));
        let e = bot(&[("DISCORD_TOKEN", "short")]).unwrap_err();
        assert_eq!(e.variable, "DISCORD_TOKEN");
        assert!(e.message.contains("does not look like a bot token"));
        // Several wrong: the order of reading decides which one is reported.
        let mut wrong = vec![
            ("ETPROX_SUMMARY_MAX_AGE_MINS", "100001"),
            ("ETPROX_RETENTION_HOUR", "24"),
            ("ETPROX_RETENTION_DAYS", "x"),
            ("ETPROX_ADMIN_ROLE_ID", "0"),
            ("ETPROX_SUMMARY_CHANNEL_ID", "-3"),
            ("ETPROX_GUILD_ID", ","),
            ("ETPROX_DISCORD_PROXY_URL", "ftp://x"),
        ];
        while let Some(&(first, _)) = wrong.last() {
            // A wrong guild id in `wrong` comes later and replaces the good one.
            let mut pairs = vec![token, guild];
            pairs.extend(wrong.iter().copied());
            let e = bot(&pairs).unwrap_err();
            assert_eq!(e.variable, first, "{}", e.message);
            wrong.pop();
        }
        let e = bot(&[token, ("ETPROX_RETENTION_HOUR", "24")]).unwrap_err();
        assert_eq!(e.variable, "ETPROX_GUILD_ID");
    }

    #[test]
    fn each_server_may_have_its_own_summary_channel() {
        let token = ("DISCORD_TOKEN", "abcdefghijklmnopqrstuvwxyz.0123");
        let guild = ("ETPROX_GUILD_ID", "42");
        let c = bot(&[
            token,
            guild,
            ("ETPROX_SUMMARY_CHANNEL_ID", "9"),
            ("ETPROX_SUMMARY_CHANNELS", " eu-1=11, us-2 = 12 ,"),
        ])
        .unwrap();
        assert_eq!(c.summary_channel("eu-1"), Some(11));
        assert_eq!(c.summary_channel("us-2"), Some(12));
        assert_eq!(c.summary_channel("other"), Some(9));
        assert!(c.posts_summaries());
        let only_pairs = bot(&[token, guild, ("ETPROX_SUMMARY_CHANNELS", "eu-1=11")]).unwrap();
        assert_eq!(only_pairs.summary_channel("other"), None);
        assert!(only_pairs.posts_summaries());
        assert!(!bot(&[token, guild]).unwrap().posts_summaries());
        for wrong in ["eu-1", "=5", "eu-1=abc", "eu-1=0", "eu-1=1,eu-1=2"] {
            let e = bot(&[token, guild, ("ETPROX_SUMMARY_CHANNELS", wrong)]).unwrap_err();
            assert_eq!(e.variable, "ETPROX_SUMMARY_CHANNELS", "{wrong}");
        }
        let e = bot(&[token, guild, ("ETPROX_SUMMARY_CHANNELS", "eu-1=abc")]).unwrap_err();
        assert!(e.message.contains("Copy Channel ID"), "{}", e.message);
    }

    #[test]
    fn the_recap_waits_for_a_quiet_server() {
        let token = ("DISCORD_TOKEN", "abcdefghijklmnopqrstuvwxyz.0123");
        let guild = ("ETPROX_GUILD_ID", "42");
        let c = bot(&[token, guild]).unwrap();
        assert_eq!(c.recap_after, Duration::from_secs(30 * 60));
        let c = bot(&[token, guild, ("ETPROX_RECAP_AFTER_MINS", "0.05")]).unwrap();
        assert_eq!(c.recap_after.as_millis(), 3000);
        for wrong in ["0", "-5", "x", "20000", "NaN"] {
            let e = bot(&[token, guild, ("ETPROX_RECAP_AFTER_MINS", wrong)]).unwrap_err();
            assert_eq!(e.variable, "ETPROX_RECAP_AFTER_MINS", "{wrong}");
        }
    }

    #[test]
    fn the_database_password_is_never_shown() {
        let secret = "s3cr3t-pw";
        let url = format!("postgres://etprox:{secret}@db.example:5432/etprox?sslmode=require");
        let c = config(&[("DATABASE_URL", &url)]).unwrap();
        assert_eq!(c.database_url.expose(), url);
        for shown in [
            format!("{c:?}"),
            format!("{}", c.database_url),
            format!("{:?}", c.database_url),
        ] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(
                shown.contains("etprox:***@db.example:5432/etprox"),
                "{shown}"
            );
        }
        let e = config(&[("DATABASE_URL", "mysql://root:s3cr3t-pw@x/y")]).unwrap_err();
        assert!(!e.to_string().contains(secret), "{e}");
        assert_eq!(
            Redacted("postgres://u@h/d?password=s3cr3t-pw&sslmode=disable").to_string(),
            "postgres://u@h/d?password=***&sslmode=disable"
        );
        assert_eq!(Redacted("postgres://u@h/d").to_string(), "postgres://u@h/d");
        assert_eq!(
            Redacted("postgres://u:p@ss@h/d").to_string(),
            "postgres://u:***@h/d"
        );
    }

    #[test]
    fn several_round_dirs() {
        let c = config(&[("ETPROX_ROUND_DIRS", "/a:/b, /c")]).unwrap();
        assert_eq!(c.round_dirs.len(), 3);
    }
}
