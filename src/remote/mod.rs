//! Round files from game servers on other hosts: `ETPROX_ROUND_SOURCES` lists SFTP, FTP and
//! FTPS folders. One poller per source lists the folder every `ETPROX_REMOTE_POLL_SECS`,
//! downloads new or changed round files into its own folder under `ETPROX_SPOOL_DIR` (to a
//! `.part` name, renamed when complete) and hands each completed file to the importer, which
//! keeps imports exactly-once as it does for local folders. What was fetched is recorded in the
//! database, so a restart transfers only what is new. Remote files are only ever read.

mod ftp;
mod poller;
mod sftp;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::config::ConfigError;
use crate::ingest::Importer;

pub use poller::{run_source, PollerOptions};

/// A password or passphrase: never printed, also not by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Sftp,
    Ftp,
    /// FTP with explicit TLS (AUTH TLS on the control connection, protected data connections).
    Ftps,
}

impl Protocol {
    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::Sftp => "sftp",
            Protocol::Ftp => "ftp",
            Protocol::Ftps => "ftps",
        }
    }
    fn default_port(self) -> u16 {
        match self {
            Protocol::Sftp => 22,
            Protocol::Ftp | Protocol::Ftps => 21,
        }
    }
}

/// How a source logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// SFTP: key authentication; the server's host key must be in `known_hosts`.
    SshKey {
        /// A private key file (OpenSSH or PEM format), or the key itself.
        private_key: PathBuf,
        passphrase: Option<Secret>,
        known_hosts: PathBuf,
    },
    /// FTP and FTPS.
    Password {
        password: Secret,
        /// FTPS: extra certificates to trust besides the usual web roots (self-signed servers).
        ca_file: Option<PathBuf>,
    },
}

/// One entry of `ETPROX_ROUND_SOURCES`, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct RoundSource {
    pub protocol: Protocol,
    pub user: String,
    pub host: String,
    pub port: u16,
    /// The folder on the server (absolute, or relative to the login folder when it starts
    /// with `~/`).
    pub path: String,
    pub auth: Auth,
}

impl RoundSource {
    /// A stable name for the database and the spool folder: the URL without the password,
    /// reduced to safe characters, plus a short hash so that two URLs never share a folder.
    pub fn id(&self) -> String {
        let shown = self.to_string();
        let readable: String = shown
            .split_once("://")
            .map_or(shown.as_str(), |(_, rest)| rest)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let readable = readable.trim_matches('_');
        let readable: String = readable.chars().take(80).collect();
        let hash = hex::encode(&Sha256::digest(shown.as_bytes())[..4]);
        format!("{}-{readable}-{hash}", self.protocol.scheme())
    }

    /// This source's folder in the spool.
    pub fn spool_dir(&self, spool_root: &Path) -> PathBuf {
        spool_root.join(self.id())
    }
}

/// Shown as its URL, with the password (if any) replaced by `***`.
impl std::fmt::Display for RoundSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}@{}:{}{}",
            self.protocol.scheme(),
            self.user,
            self.host,
            self.port,
            if self.path.starts_with('/') {
                self.path.clone()
            } else {
                format!("/{}", self.path)
            }
        )
    }
}

impl std::fmt::Debug for RoundSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoundSource")
            .field("url", &self.to_string())
            .field("auth", &self.auth)
            .finish()
    }
}

/// Remote sources and how they are polled (part of [`crate::config::Config`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteConfig {
    pub sources: Vec<RoundSource>,
    /// ETPROX_REMOTE_POLL_SECS, default 10.
    pub poll: Duration,
    /// ETPROX_SPOOL_DIR: where downloaded files are kept (one folder per source).
    pub spool_dir: PathBuf,
}

impl RemoteConfig {
    /// Reads ETPROX_ROUND_SOURCES and the settings it needs; each error names its variable.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<RemoteConfig, ConfigError> {
        let err = |variable: &'static str, message: String| ConfigError { variable, message };
        let poll = match get("ETPROX_REMOTE_POLL_SECS") {
            Some(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.05 && *s <= 3600.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    err(
                        "ETPROX_REMOTE_POLL_SECS",
                        format!("{text:?} is not a number of seconds from 0.05 to 3600"),
                    )
                })?,
            None => Duration::from_secs(10),
        };
        let home = get("HOME").map(PathBuf::from);
        let spool_dir = match (get("ETPROX_SPOOL_DIR"), &home) {
            (Some(dir), _) => PathBuf::from(dir.trim()),
            (None, Some(home)) => home.join(".local/state/etprox/spool"),
            (None, None) => PathBuf::new(),
        };
        let mut sources = Vec::new();
        let Some(list) = get("ETPROX_ROUND_SOURCES") else {
            return Ok(RemoteConfig {
                sources,
                poll,
                spool_dir,
            });
        };
        if spool_dir.as_os_str().is_empty() {
            return Err(err(
                "ETPROX_SPOOL_DIR",
                "is not set and HOME is unknown: give a folder for downloaded round files".into(),
            ));
        }
        for url in list.split_whitespace() {
            let source = parse_source(url, get)?;
            if sources.iter().any(|s: &RoundSource| s.id() == source.id()) {
                return Err(err(
                    "ETPROX_ROUND_SOURCES",
                    format!("{source} is listed twice"),
                ));
            }
            sources.push(source);
        }
        Ok(RemoteConfig {
            sources,
            poll,
            spool_dir,
        })
    }
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

const SOURCES_VAR: &str = "ETPROX_ROUND_SOURCES";

fn config_error(variable: &'static str, message: String) -> ConfigError {
    ConfigError { variable, message }
}

/// Parses one URL of ETPROX_ROUND_SOURCES. The message never repeats a password.
pub fn parse_source(
    url: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<RoundSource, ConfigError> {
    let parsed = parse_url(url)?;
    let protocol = protocol_of(&parsed)?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| config_error(SOURCES_VAR, format!("{} has no host", parsed.scheme())))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let user = decode(parsed.username());
    let port = parsed.port().unwrap_or(protocol.default_port());
    let path = folder_of(&parsed);
    let shown = format!("{}://{user}@{host}:{port}", protocol.scheme());
    if user.is_empty() {
        return Err(config_error(
            SOURCES_VAR,
            format!(
                "{shown}: give the user name, as {}://USER@{host}/…",
                protocol.scheme()
            ),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(config_error(
            SOURCES_VAR,
            format!("{shown}: a URL with ? or # is not supported"),
        ));
    }
    let auth = match protocol {
        Protocol::Sftp => ssh_key_auth(&parsed, &shown, get)?,
        Protocol::Ftp | Protocol::Ftps => {
            let hint = format!("{}://{user}:PASSWORD@{host}/…", protocol.scheme());
            password_auth(&parsed, &user, &shown, &hint, get)?
        }
    };
    Ok(RoundSource {
        protocol,
        user,
        host,
        port,
        path,
        auth,
    })
}

fn parse_url(url: &str) -> Result<url::Url, ConfigError> {
    url::Url::parse(url).map_err(|e| {
        // Show the URL only up to the host, so that a password in it is not printed.
        let shown = url.split_once('@').map_or(url, |(_, host)| host);
        config_error(
            SOURCES_VAR,
            format!("…@{shown} is not a URL ({e}); expected sftp://USER@HOST[:PORT]/PATH, ftp://USER[:PASSWORD]@HOST[:PORT]/PATH or ftps://…"),
        )
    })
}

fn protocol_of(parsed: &url::Url) -> Result<Protocol, ConfigError> {
    match parsed.scheme() {
        "sftp" => Ok(Protocol::Sftp),
        "ftp" => Ok(Protocol::Ftp),
        "ftps" => Ok(Protocol::Ftps),
        other => Err(config_error(
            SOURCES_VAR,
            format!("{other}:// is not supported; use sftp://, ftp:// or ftps://"),
        )),
    }
}

/// The folder on the server: `/~/x` and `/~` are relative to the login folder.
fn folder_of(parsed: &url::Url) -> String {
    let path = decode(parsed.path());
    if let Some(home_relative) = path.strip_prefix("/~/") {
        home_relative.to_owned()
    } else if path == "/~" || path.is_empty() {
        ".".into()
    } else {
        path
    }
}

/// SFTP logs in with ETPROX_SSH_KEY and checks the host key against known_hosts.
fn ssh_key_auth(
    parsed: &url::Url,
    shown: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Auth, ConfigError> {
    if parsed.password().is_some() {
        return Err(config_error(
            SOURCES_VAR,
            format!("{shown}: SFTP logs in with a key, not a password: remove the password from the URL and set ETPROX_SSH_KEY"),
        ));
    }
    let key = get("ETPROX_SSH_KEY").ok_or_else(|| {
        config_error(
            "ETPROX_SSH_KEY",
            format!("{shown} needs a private key: set ETPROX_SSH_KEY to its file (e.g. made with ssh-keygen -t ed25519 -f etprox_key; put etprox_key.pub in the server's ~/.ssh/authorized_keys)"),
        )
    })?;
    let known_hosts = known_hosts_file(get)?;
    let private_key = PathBuf::from(key.trim());
    if !key.contains("PRIVATE KEY") && !private_key.is_file() {
        return Err(config_error(
            "ETPROX_SSH_KEY",
            format!("{} is not a readable file", private_key.display()),
        ));
    }
    Ok(Auth::SshKey {
        private_key,
        passphrase: get("ETPROX_SSH_KEY_PASSPHRASE").map(Secret::new),
        known_hosts,
    })
}

/// ETPROX_SSH_KNOWN_HOSTS, else ~/.ssh/known_hosts.
fn known_hosts_file(get: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, ConfigError> {
    match get("ETPROX_SSH_KNOWN_HOSTS") {
        Some(path) => Ok(PathBuf::from(path.trim())),
        None => get("HOME")
            .map(|home| PathBuf::from(home).join(".ssh/known_hosts"))
            .ok_or_else(|| {
                config_error(
                    "ETPROX_SSH_KNOWN_HOSTS",
                    "is not set and HOME is unknown: give the known_hosts file that holds the server's key".into(),
                )
            }),
    }
}

/// FTP and FTPS: the password from the URL, else ETPROX_FTP_PASSWORD, else the anonymous
/// convention for the users `anonymous` and `ftp`. `hint` shows how to put it in the URL.
fn password_auth(
    parsed: &url::Url,
    user: &str,
    shown: &str,
    hint: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Auth, ConfigError> {
    let password = match parsed.password() {
        Some(p) => Secret::new(decode(p)),
        None => match get("ETPROX_FTP_PASSWORD") {
            Some(p) => Secret::new(p),
            None if user == "anonymous" || user == "ftp" => Secret::new("etprox@"),
            None => {
                return Err(config_error(
                    "ETPROX_FTP_PASSWORD",
                    format!("{shown} needs a password: set ETPROX_FTP_PASSWORD or write it in the URL as {hint}"),
                ))
            }
        },
    };
    Ok(Auth::Password {
        password,
        ca_file: get("ETPROX_FTPS_CA_FILE").map(|p| PathBuf::from(p.trim())),
    })
}

/// Why a source could not be read. Each message names the source and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "{source_url}: cannot connect: {message} (is the server up, and the host and port right?)"
    )]
    Connect { source_url: String, message: String },
    #[error("{}: the server's host key is not in {}: {} {}. Never accept a key without checking it: compare it with the server's (ssh-keygen -lf /etc/ssh/ssh_host_{}_key.pub on the server, or your provider's panel), then add it with: ssh-keyscan -p {} {} >> {}",
        .0.source_url, .0.known_hosts, .0.key_type, .0.fingerprint, .0.short_type, .0.port, .0.host, .0.known_hosts)]
    HostKeyUnknown(Box<HostKeySeen>),
    #[error("{}: the server's host key CHANGED: it is now {} {}, not the one in {}. This can be an attack, or the server was reinstalled. If the new key is right, remove the old one with ssh-keygen -R '{}' -f {} and add the new one with: ssh-keyscan -p {} {} >> {}",
        .0.source_url, .0.key_type, .0.fingerprint, .0.known_hosts, .0.known_host_name, .0.known_hosts, .0.port, .0.host, .0.known_hosts)]
    HostKeyChanged(Box<HostKeySeen>),
    #[error("{source_url}: login refused: {message}")]
    Login { source_url: String, message: String },
    #[error("{source_url}: {message}")]
    Protocol { source_url: String, message: String },
    #[error("{source_url}: writing to the spool folder {path}: {error}")]
    Spool {
        source_url: String,
        path: PathBuf,
        error: std::io::Error,
    },
}

/// The key an SFTP server showed, for the messages that refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeySeen {
    pub source_url: String,
    pub host: String,
    pub port: u16,
    /// How known_hosts names the host: `host`, or `[host]:port` off port 22.
    pub known_host_name: String,
    /// e.g. `ssh-ed25519`.
    pub key_type: String,
    /// As in the server's key file name: `ed25519`, `ecdsa`, `rsa`.
    pub short_type: String,
    /// `SHA256:…`, as ssh-keygen -l shows it.
    pub fingerprint: String,
    pub known_hosts: String,
}

/// A round file as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: String,
    pub size: u64,
    /// Seconds since 1970, if the listing gives it.
    pub mtime: Option<i64>,
}

/// A connection to one source. The protocol crates are blocking, so callers run these
/// methods on a blocking thread.
pub(crate) trait RemoteClient: Send + Sync + 'static {
    /// Round files in the source's folder (regular files with a round-file name).
    fn list(&mut self) -> Result<Vec<RemoteFile>, RemoteError>;
    /// Appends the bytes of `name` from `offset` to its current end to `out`; returns how many.
    fn fetch_from(
        &mut self,
        name: &str,
        offset: u64,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, RemoteError>;
}

/// Opens a connection and logs in (blocking).
pub(crate) fn connect(
    source: &RoundSource,
    timeout: Duration,
) -> Result<Box<dyn RemoteClient>, RemoteError> {
    match source.protocol {
        Protocol::Sftp => Ok(Box::new(sftp::SftpClient::connect(source, timeout)?)),
        Protocol::Ftp | Protocol::Ftps => Ok(Box::new(ftp::FtpClient::connect(source, timeout)?)),
    }
}

/// How long one network operation may block before the connection counts as broken.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(20);

/// What `etprox check` shows for a source.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSummary {
    pub round_files: usize,
    /// Name and age of the newest round file (by the server's modification time).
    pub newest: Option<(String, Duration)>,
}

/// Connects, logs in and lists the folder once.
pub async fn probe(source: &RoundSource) -> Result<ProbeSummary, RemoteError> {
    let source = source.clone();
    let shown = source.to_string();
    let listed = tokio::task::spawn_blocking(move || {
        let mut client = connect(&source, NETWORK_TIMEOUT)?;
        client.list()
    })
    .await
    .map_err(|e| RemoteError::Protocol {
        source_url: shown,
        message: format!("the probe stopped: {e}"),
    })??;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let newest = listed
        .iter()
        .filter_map(|f| f.mtime.map(|m| (m, f)))
        .max_by_key(|(m, _)| *m)
        .map(|(m, f)| {
            (
                f.name.clone(),
                Duration::from_secs(now.saturating_sub(m).max(0) as u64),
            )
        });
    Ok(ProbeSummary {
        round_files: listed.len(),
        newest,
    })
}

/// Starts one poller task per source (none when the list is empty). Each runs until the
/// program ends and never stops on a source's failures; the handles are for tests.
pub fn spawn_all(importer: &Importer, config: &RemoteConfig) -> Vec<tokio::task::JoinHandle<()>> {
    let options = PollerOptions::new(config.poll, config.spool_dir.clone());
    config
        .sources
        .iter()
        .map(|source| {
            tokio::spawn(run_source(
                importer.clone(),
                source.clone(),
                options.clone(),
            ))
        })
        .collect()
}

/// One line per remote source for `/import status`, or None when there are none.
pub async fn status_lines(pool: &PgPool) -> sqlx::Result<Option<String>> {
    let states = crate::db::remote_fetches::states(pool).await?;
    if states.is_empty() {
        return Ok(None);
    }
    let now = chrono::Utc::now();
    let ago = |t: chrono::DateTime<chrono::Utc>| {
        let s = (now - t).num_seconds().max(0);
        match s {
            0..=119 => format!("{s} s ago"),
            120..=7199 => format!("{} min ago", s / 60),
            _ => format!("{} h ago", s / 3600),
        }
    };
    let lines: Vec<String> = states
        .iter()
        .map(|s| {
            let polled = s.last_poll_at.map_or_else(
                || "never polled".to_owned(),
                |t| format!("polled {}", ago(t)),
            );
            if s.up {
                format!(
                    "✔ {}: up, {} files fetched ({}), {polled}",
                    s.display,
                    s.files_fetched,
                    crate::commands::retention::human_bytes(s.bytes_fetched)
                )
            } else {
                format!(
                    "✘ {}: down since {} ({}), retrying; {polled}",
                    s.display,
                    ago(s.since),
                    s.last_error.as_deref().unwrap_or("no reason given")
                )
            }
        })
        .collect();
    Ok(Some(lines.join("\n")))
}

#[cfg(test)]
mod tests;
