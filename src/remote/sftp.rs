//! SFTP through libssh2 (the `ssh2` crate): key login, and the server's key checked against a
//! known_hosts file before anything else is sent. Nothing is ever trusted on first use.

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use ssh2::{CheckResult, HashType, HostKeyType, KnownHostFileKind, MethodType, Session};

use super::{Auth, RemoteClient, RemoteError, RemoteFile, RoundSource};
use crate::ingest::is_round_file_name;

/// The order OpenSSH's client prefers, so a known_hosts written by `ssh` holds the key the
/// server shows us.
const HOST_KEY_ORDER: &str = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa";

pub(crate) struct SftpClient {
    // Declared before the session so it is closed first.
    sftp: ssh2::Sftp,
    _session: Session,
    dir: PathBuf,
    shown: String,
}

impl SftpClient {
    pub(crate) fn connect(source: &RoundSource, timeout: Duration) -> Result<Self, RemoteError> {
        let shown = source.to_string();
        let Auth::SshKey {
            private_key,
            passphrase,
            known_hosts,
        } = &source.auth
        else {
            return Err(RemoteError::Protocol {
                source_url: shown,
                message: "an SFTP source needs a key (ETPROX_SSH_KEY)".into(),
            });
        };
        let connect_err = |message: String| RemoteError::Connect {
            source_url: shown.clone(),
            message,
        };
        let tcp = tcp_connect(&source.host, source.port, timeout).map_err(connect_err)?;
        let mut session = Session::new().map_err(|e| connect_err(e.to_string()))?;
        session.set_timeout(timeout.as_millis().min(u32::MAX as u128) as u32);
        // Unknown names are skipped by libssh2; an error only means "keep the default order".
        let _ = session.method_pref(MethodType::HostKey, HOST_KEY_ORDER);
        session.set_tcp_stream(tcp);
        session
            .handshake()
            .map_err(|e| connect_err(format!("SSH handshake failed: {e}")))?;
        check_host_key(&session, source, known_hosts)?;

        let login_err = |message: String| RemoteError::Login {
            source_url: shown.clone(),
            message,
        };
        let key_text = private_key.to_string_lossy();
        let result = if key_text.contains("PRIVATE KEY") {
            session.userauth_pubkey_memory(
                &source.user,
                None,
                &key_text,
                passphrase.as_ref().map(|p| p.expose()),
            )
        } else {
            session.userauth_pubkey_file(
                &source.user,
                None,
                private_key,
                passphrase.as_ref().map(|p| p.expose()),
            )
        };
        if let Err(e) = result {
            return Err(login_err(format!(
                "{} (is the public key of ETPROX_SSH_KEY in ~{}/.ssh/authorized_keys on the server, and the key's passphrase in ETPROX_SSH_KEY_PASSPHRASE if it has one?)",
                e.message(),
                source.user
            )));
        }
        if !session.authenticated() {
            return Err(login_err("the server did not accept the key".into()));
        }
        let sftp = session.sftp().map_err(|e| RemoteError::Protocol {
            source_url: shown.clone(),
            message: format!("the server offers no SFTP: {e}"),
        })?;
        Ok(SftpClient {
            sftp,
            _session: session,
            dir: PathBuf::from(&source.path),
            shown,
        })
    }

    fn protocol_err(&self, message: String) -> RemoteError {
        RemoteError::Protocol {
            source_url: self.shown.clone(),
            message,
        }
    }
}

/// Connects to the first address of `host` that answers.
pub(super) fn tcp_connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("{host} has no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    Err(last)
}

fn key_type_names(kind: HostKeyType) -> (&'static str, &'static str) {
    match kind {
        HostKeyType::Rsa => ("ssh-rsa", "rsa"),
        HostKeyType::Dss => ("ssh-dss", "dsa"),
        HostKeyType::Ecdsa256 => ("ecdsa-sha2-nistp256", "ecdsa"),
        HostKeyType::Ecdsa384 => ("ecdsa-sha2-nistp384", "ecdsa"),
        HostKeyType::Ecdsa521 => ("ecdsa-sha2-nistp521", "ecdsa"),
        HostKeyType::Ed25519 => ("ssh-ed25519", "ed25519"),
        HostKeyType::Unknown => ("(unknown type)", "*"),
    }
}

/// Refuses the server unless its key is in the known_hosts file.
fn check_host_key(
    session: &Session,
    source: &RoundSource,
    known_hosts: &Path,
) -> Result<(), RemoteError> {
    let shown = source.to_string();
    let (key, kind) = session.host_key().ok_or_else(|| RemoteError::Protocol {
        source_url: shown.clone(),
        message: "the server sent no host key".into(),
    })?;
    let (key_type, short_type) = key_type_names(kind);
    let fingerprint = format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD
            .encode(session.host_key_hash(HashType::Sha256).unwrap_or_default())
    );
    let text = match std::fs::read_to_string(known_hosts) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(RemoteError::Protocol {
                source_url: shown,
                message: format!(
                    "cannot read the known_hosts file {} (ETPROX_SSH_KNOWN_HOSTS): {e}",
                    known_hosts.display()
                ),
            })
        }
    };
    let key_base64 = base64::engine::general_purpose::STANDARD.encode(key);
    let mut known = session.known_hosts().map_err(|e| RemoteError::Protocol {
        source_url: shown.clone(),
        message: format!("cannot check the host key: {e}"),
    })?;
    let mut revoked = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("@revoked") {
            revoked |= line.split_whitespace().any(|field| field == key_base64);
            continue;
        }
        // Lines libssh2 cannot read (certificate authorities, new key types) are skipped: they
        // can only make a key unknown, never trusted.
        let _ = known.read_str(line, KnownHostFileKind::OpenSSH);
    }
    let known_host_name = if source.port == 22 {
        source.host.clone()
    } else {
        format!("[{}]:{}", source.host, source.port)
    };
    let seen = || {
        Box::new(super::HostKeySeen {
            source_url: shown.clone(),
            host: source.host.clone(),
            port: source.port,
            known_host_name: known_host_name.clone(),
            key_type: key_type.into(),
            short_type: short_type.into(),
            fingerprint: fingerprint.clone(),
            known_hosts: known_hosts.display().to_string(),
        })
    };
    if revoked {
        return Err(RemoteError::HostKeyChanged(seen()));
    }
    match known.check_port(&source.host, source.port, key) {
        CheckResult::Match => Ok(()),
        CheckResult::Mismatch => Err(RemoteError::HostKeyChanged(seen())),
        CheckResult::NotFound => Err(RemoteError::HostKeyUnknown(seen())),
        CheckResult::Failure => Err(RemoteError::Protocol {
            source_url: shown.clone(),
            message: format!(
                "cannot check the host key against {}",
                known_hosts.display()
            ),
        }),
    }
}

impl RemoteClient for SftpClient {
    fn list(&mut self) -> Result<Vec<RemoteFile>, RemoteError> {
        let entries = self.sftp.readdir(&self.dir).map_err(|e| {
            self.protocol_err(format!(
                "cannot list the folder {}: {} (does it exist, and may this user read it?)",
                self.dir.display(),
                e.message()
            ))
        })?;
        Ok(entries
            .into_iter()
            .filter(|(path, stat)| stat.is_file() && is_round_file_name(path))
            .filter_map(|(path, stat)| {
                Some(RemoteFile {
                    name: path.file_name()?.to_str()?.to_owned(),
                    size: stat.size.unwrap_or(0),
                    mtime: stat.mtime.map(|m| m as i64),
                })
            })
            .collect())
    }

    fn fetch_from(
        &mut self,
        name: &str,
        offset: u64,
        out: &mut dyn Write,
    ) -> Result<u64, RemoteError> {
        let path = self.dir.join(name);
        let mut file = self.sftp.open(&path).map_err(|e| {
            self.protocol_err(format!("cannot open {}: {}", path.display(), e.message()))
        })?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset)).map_err(|e| {
                self.protocol_err(format!("cannot seek in {}: {e}", path.display()))
            })?;
        }
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buffer).map_err(|e| {
                self.protocol_err(format!("reading {} broke off: {e}", path.display()))
            })?;
            if n == 0 {
                return Ok(total);
            }
            out.write_all(&buffer[..n])
                .map_err(|error| RemoteError::Spool {
                    source_url: self.shown.clone(),
                    path: PathBuf::from(name),
                    error,
                })?;
            total += n as u64;
        }
    }
}
