//! FTP and FTPS (explicit TLS) through `suppaftp`: passive mode, binary transfers, resumed
//! downloads with REST. Listings use MLSD (exact times) where the server has it, else LIST.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use suppaftp::list::ListParser;
use suppaftp::types::FileType;
use suppaftp::{FtpError, ImplFtpStream, RustlsConnector, Status, TlsStream};

use super::sftp::tcp_connect;
use super::{Auth, Protocol, RemoteClient, RemoteError, RemoteFile, RoundSource};
use crate::ingest::is_round_file_name;

enum Connection {
    Plain(suppaftp::FtpStream),
    Tls(suppaftp::RustlsFtpStream),
}

pub(crate) struct FtpClient {
    connection: Connection,
    dir: String,
    shown: String,
    /// Whether MLSD works here (None until tried).
    mlsd: Option<bool>,
}

fn with_timeouts(stream: TcpStream, timeout: Duration) -> std::io::Result<TcpStream> {
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// Makes a connection ready: data connections with timeouts, passive mode that ignores a
/// private address in the server's reply (servers behind NAT), login, binary type.
fn prepare<T: TlsStream>(
    stream: ImplFtpStream<T>,
    source: &RoundSource,
    password: &str,
    timeout: Duration,
) -> Result<ImplFtpStream<T>, RemoteError> {
    let shown = source.to_string();
    let mut stream = stream.passive_stream_builder(move |address| {
        TcpStream::connect_timeout(&address, timeout)
            .and_then(|s| with_timeouts(s, timeout))
            .map_err(FtpError::ConnectionError)
    });
    stream.set_passive_nat_workaround(true);
    stream
        .login(source.user.as_str(), password)
        .map_err(|e| match &e {
            FtpError::UnexpectedResponse(r) if r.status == Status::NotLoggedIn => {
                RemoteError::Login {
                    source_url: shown.clone(),
                    message: format!("{e} (check the user name and ETPROX_FTP_PASSWORD)"),
                }
            }
            _ => RemoteError::Login {
                source_url: shown.clone(),
                message: e.to_string(),
            },
        })?;
    stream
        .transfer_type(FileType::Binary)
        .map_err(|e| RemoteError::Protocol {
            source_url: shown,
            message: format!("the server refused binary transfers: {e}"),
        })?;
    Ok(stream)
}

/// Accepts what the web roots accept, plus a server showing exactly one of the certificates
/// of ETPROX_FTPS_CA_FILE: game hosts often use a self-signed certificate, which marks itself
/// as a CA and so is not accepted as its own root by WebPKI.
#[derive(Debug)]
struct PinnedOrWebPki {
    pinned: Vec<rustls::pki_types::CertificateDer<'static>>,
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Web roots, plus the certificates in ETPROX_FTPS_CA_FILE as roots and as pinned server
/// certificates.
fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut pinned = Vec::new();
    if let Some(path) = ca_file {
        let bad =
            |e: &dyn std::fmt::Display| format!("ETPROX_FTPS_CA_FILE {}: {e}", path.display());
        for certificate in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            let certificate = certificate.map_err(|e| bad(&e))?;
            // A self-signed server certificate is not always a valid root; it is pinned anyway.
            let _ = roots.add(certificate.clone());
            pinned.push(certificate);
        }
        if pinned.is_empty() {
            return Err(bad(&"holds no PEM certificate"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| e.to_string())?;
    let verifier = PinnedOrWebPki {
        pinned,
        webpki,
        provider: provider.clone(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

impl FtpClient {
    pub(crate) fn connect(source: &RoundSource, timeout: Duration) -> Result<Self, RemoteError> {
        let shown = source.to_string();
        let Auth::Password { password, ca_file } = &source.auth else {
            return Err(RemoteError::Protocol {
                source_url: shown,
                message: "an FTP source needs a password (ETPROX_FTP_PASSWORD)".into(),
            });
        };
        let connect_err = |message: String| RemoteError::Connect {
            source_url: shown.clone(),
            message,
        };
        let tcp = tcp_connect(&source.host, source.port, timeout)
            .and_then(|s| with_timeouts(s, timeout).map_err(|e| e.to_string()))
            .map_err(connect_err)?;
        let connection = match source.protocol {
            Protocol::Ftps => {
                let config =
                    tls_config(ca_file.as_deref()).map_err(|message| RemoteError::Protocol {
                        source_url: shown.clone(),
                        message,
                    })?;
                let stream = suppaftp::RustlsFtpStream::connect_with_stream(tcp)
                    .map_err(|e| connect_err(e.to_string()))?
                    .into_secure(RustlsConnector::from(Arc::new(config)), &source.host)
                    .map_err(|e| RemoteError::Protocol {
                        source_url: shown.clone(),
                        message: format!("TLS failed: {e} (does the server offer explicit FTPS? for a self-signed certificate, set ETPROX_FTPS_CA_FILE to a copy of it)"),
                    })?;
                Connection::Tls(prepare(stream, source, password.expose(), timeout)?)
            }
            _ => {
                let stream = suppaftp::FtpStream::connect_with_stream(tcp)
                    .map_err(|e| connect_err(e.to_string()))?;
                Connection::Plain(prepare(stream, source, password.expose(), timeout)?)
            }
        };
        Ok(FtpClient {
            connection,
            dir: source.path.clone(),
            shown,
            mlsd: None,
        })
    }

    fn protocol_err(&self, message: String) -> RemoteError {
        RemoteError::Protocol {
            source_url: self.shown.clone(),
            message,
        }
    }

    fn remote_path(&self, name: &str) -> String {
        match self.dir.as_str() {
            "." | "" => name.to_owned(),
            dir => format!("{}/{name}", dir.trim_end_matches('/')),
        }
    }

    fn listing(&mut self, machine: bool) -> Result<Vec<String>, FtpError> {
        let dir = Some(self.dir.as_str());
        match (&mut self.connection, machine) {
            (Connection::Plain(s), true) => s.mlsd(dir),
            (Connection::Plain(s), false) => s.list(dir),
            (Connection::Tls(s), true) => s.mlsd(dir),
            (Connection::Tls(s), false) => s.list(dir),
        }
    }
}

fn unix_seconds(time: SystemTime) -> Option<i64> {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

fn copy_stream(
    reader: &mut dyn Read,
    out: &mut dyn Write,
    on_read_error: impl Fn(std::io::Error) -> RemoteError,
    on_write_error: impl Fn(std::io::Error) -> RemoteError,
) -> Result<u64, RemoteError> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(&on_read_error)?;
        if n == 0 {
            return Ok(total);
        }
        out.write_all(&buffer[..n]).map_err(&on_write_error)?;
        total += n as u64;
    }
}

impl RemoteClient for FtpClient {
    fn list(&mut self) -> Result<Vec<RemoteFile>, RemoteError> {
        let lines = match self.mlsd {
            Some(true) | None => match self.listing(true) {
                Ok(lines) => {
                    self.mlsd = Some(true);
                    Some(lines)
                }
                // Not implemented (vsftpd and others): LIST from now on.
                Err(FtpError::UnexpectedResponse(r))
                    if self.mlsd.is_none() && matches!(r.status.code(), 500 | 501 | 502 | 504) =>
                {
                    self.mlsd = Some(false);
                    None
                }
                Err(e) => {
                    return Err(
                        self.protocol_err(format!("cannot list the folder {}: {e}", self.dir))
                    )
                }
            },
            Some(false) => None,
        };
        let (lines, machine) = match lines {
            Some(lines) => (lines, true),
            None => (
                self.listing(false).map_err(|e| {
                    self.protocol_err(format!("cannot list the folder {}: {e}", self.dir))
                })?,
                false,
            ),
        };
        Ok(lines
            .iter()
            .filter_map(|line| {
                let file = if machine {
                    ListParser::parse_mlsd(line).ok()?
                } else {
                    ListParser::parse_posix(line)
                        .or_else(|_| ListParser::parse_dos(line))
                        .ok()?
                };
                let name = file.name().rsplit('/').next()?.to_owned();
                (file.is_file() && is_round_file_name(std::path::Path::new(&name))).then(|| {
                    RemoteFile {
                        name,
                        size: file.size() as u64,
                        mtime: unix_seconds(file.modified()),
                    }
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
        let path = self.remote_path(name);
        let shown = self.shown.clone();
        let read_err = |e: std::io::Error| RemoteError::Protocol {
            source_url: shown.clone(),
            message: format!("reading {path} broke off: {e}"),
        };
        let write_err = |error: std::io::Error| RemoteError::Spool {
            source_url: shown.clone(),
            path: std::path::PathBuf::from(name),
            error,
        };
        let open_err = |e: FtpError| RemoteError::Protocol {
            source_url: shown.clone(),
            message: format!("cannot download {path}: {e}"),
        };
        let offset =
            usize::try_from(offset).map_err(|_| self.protocol_err("file too large".into()))?;
        match &mut self.connection {
            Connection::Plain(s) => {
                s.resume_transfer(offset).map_err(open_err)?;
                let mut stream = s.retr_as_stream(&path).map_err(open_err)?;
                let copied = copy_stream(&mut stream, out, read_err, write_err);
                let finished = stream.finish().map_err(open_err);
                let n = copied?;
                finished?;
                Ok(n)
            }
            Connection::Tls(s) => {
                s.resume_transfer(offset).map_err(open_err)?;
                let mut stream = s.retr_as_stream(&path).map_err(open_err)?;
                let copied = copy_stream(&mut stream, out, read_err, write_err);
                let finished = stream.finish().map_err(open_err);
                let n = copied?;
                finished?;
                Ok(n)
            }
        }
    }
}
