//! Real servers for the remote-source tests, each on 127.0.0.1 on a free port in a temporary
//! folder, stopped (with every process they started) when dropped: OpenSSH's sshd with a
//! throwaway host key and user key, pyftpdlib for FTP and FTPS, and a TCP proxy that counts
//! bytes and can cut a connection halfway.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use etprox::remote::{Auth, Protocol, RoundSource, Secret};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every process below `pid` (children first found, then theirs), from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // The command name is in parentheses and may hold spaces: read after the last ')'.
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|v| v.parse().ok()) {
                parents.push((p, ppid));
            }
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Kills a process this test started and everything it started (by id).
fn stop_tree(child: &mut Child) {
    let below = descendants(child.id());
    let _ = child.kill();
    for pid in below {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.wait();
}

fn wait_for_port(port: u16, what: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited with {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not listen on {port}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

const SSHD: &str = "/usr/sbin/sshd";

/// None (with a loud message) only when the binary is not installed; .ci/run installs it.
pub fn sshd_available() -> bool {
    if Path::new(SSHD).exists() {
        return true;
    }
    eprintln!("\n\n!!!!! SKIPPED: {SSHD} is not installed (apt-get install -y openssh-server); .ci/run installs it !!!!!\n\n");
    false
}

pub struct Sshd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The folder served as the source's PATH.
    pub files: PathBuf,
    pub user: String,
    pub user_key: PathBuf,
    pub known_hosts: PathBuf,
    /// `ssh-ed25519 AAAA…` of the host key.
    pub host_key_line: String,
    child: Option<Child>,
}

impl Sshd {
    pub fn start() -> Sshd {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("stats");
        std::fs::create_dir_all(&files).unwrap();
        let host_key = dir.path().join("host_ed25519");
        let user_key = dir.path().join("user_ed25519");
        for key in [&host_key, &user_key] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "etprox-test", "-f"])
                .arg(key));
        }
        let user = run(Command::new("id").arg("-un")).trim().to_owned();
        std::fs::copy(
            user_key.with_extension("pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        let host_key_line = std::fs::read_to_string(host_key.with_extension("pub"))
            .unwrap()
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(
            &known_hosts,
            format!("[127.0.0.1]:{port} {host_key_line}\n"),
        )
        .unwrap();
        let config = dir.path().join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n",
                host_key.display(),
                dir.path().join("sshd.pid").display(),
                dir.path().join("authorized_keys").display(),
            ),
        )
        .unwrap();
        // sshd insists on its privilege-separation folder (normally made by its service).
        let _ = std::fs::create_dir_all("/run/sshd");
        let mut sshd = Sshd {
            port,
            dir,
            files,
            user,
            user_key,
            known_hosts,
            host_key_line,
            child: None,
        };
        sshd.resume();
        sshd
    }

    /// Starts the server (again) on the same port with the same keys.
    pub fn resume(&mut self) {
        let log = self.dir.path().join("sshd.log");
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(self.dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting sshd");
        wait_for_port(self.port, "sshd", &mut child, &log);
        self.child = Some(child);
    }

    /// Stops the server and every session it runs, as a crash or reboot would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_tree(&mut child);
        }
    }

    pub fn source(&self) -> RoundSource {
        self.source_on(self.port)
    }

    /// The source, reached through another port (a proxy in front of this server).
    pub fn source_on(&self, port: u16) -> RoundSource {
        if port != self.port {
            // The client checks the key under the port it connects to.
            let mut known = std::fs::read_to_string(&self.known_hosts).unwrap_or_default();
            known.push_str(&format!("[127.0.0.1]:{port} {}\n", self.host_key_line));
            std::fs::write(&self.known_hosts, known).unwrap();
        }
        RoundSource {
            protocol: Protocol::Sftp,
            user: self.user.clone(),
            host: "127.0.0.1".into(),
            port,
            path: self.files.display().to_string(),
            auth: Auth::SshKey {
                private_key: self.user_key.clone(),
                passphrase: None,
                known_hosts: self.known_hosts.clone(),
            },
        }
    }

    /// `SHA256:…` of the host key, as ssh-keygen shows it.
    pub fn host_key_fingerprint(&self) -> String {
        let out = run(Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.dir.path().join("host_ed25519.pub")));
        out.split_whitespace().nth(1).unwrap().to_owned()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

const FTP_SERVER: &str = r#"
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
port, root, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cert = sys.argv[5] if len(sys.argv) > 5 else None
authorizer = DummyAuthorizer()
# Read-only: change folder, list, download. The tests also prove nothing is written.
authorizer.add_user(user, password, root, perm="elr")
if cert:
    from pyftpdlib.handlers import TLS_FTPHandler
    handler = TLS_FTPHandler
    handler.certfile = cert
    handler.tls_control_required = True
    handler.tls_data_required = True
else:
    handler = FTPHandler
handler.authorizer = authorizer
server = FTPServer(("127.0.0.1", port), handler)
server.serve_forever()
"#;

pub fn pyftpdlib_available(tls: bool) -> bool {
    let module = if tls {
        "import pyftpdlib, OpenSSL"
    } else {
        "import pyftpdlib"
    };
    let ok = Command::new("python3")
        .args(["-c", module])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("\n\n!!!!! SKIPPED: python3 with pyftpdlib{} is not installed (pip install pyftpdlib pyopenssl); .ci/run installs it !!!!!\n\n", if tls { " and pyopenssl" } else { "" });
    }
    ok
}

pub struct FtpServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub files: PathBuf,
    pub user: String,
    pub password: String,
    /// FTPS: the server's self-signed certificate (PEM), to trust.
    pub cert: Option<PathBuf>,
    child: Option<Child>,
}

impl FtpServer {
    pub fn start(tls: bool) -> FtpServer {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("stats");
        std::fs::create_dir_all(&files).unwrap();
        std::fs::write(dir.path().join("server.py"), FTP_SERVER).unwrap();
        let cert = tls.then(|| {
            let pem = dir.path().join("server.pem");
            run(Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args([
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                ])
                .arg("-keyout")
                .arg(&pem)
                .arg("-out")
                .arg(dir.path().join("cert.pem"))
                .stderr(Stdio::null()));
            // pyftpdlib reads key and certificate from one file.
            let mut both = std::fs::read(&pem).unwrap();
            both.extend(std::fs::read(dir.path().join("cert.pem")).unwrap());
            std::fs::write(&pem, both).unwrap();
            pem
        });
        let mut server = FtpServer {
            port: free_port(),
            dir,
            files,
            user: "gamehost".into(),
            password: "p4ss:w@rd".into(),
            cert,
            child: None,
        };
        server.resume();
        server
    }

    pub fn resume(&mut self) {
        let log = self.dir.path().join("ftp.log");
        let mut command = Command::new("python3");
        command
            .arg(self.dir.path().join("server.py"))
            .arg(self.port.to_string())
            .arg(&self.files)
            .arg(&self.user)
            .arg(&self.password);
        if let Some(cert) = &self.cert {
            command.arg(cert);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting python3");
        wait_for_port(self.port, "pyftpdlib", &mut child, &log);
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_tree(&mut child);
        }
    }

    pub fn source(&self) -> RoundSource {
        RoundSource {
            protocol: if self.cert.is_some() {
                Protocol::Ftps
            } else {
                Protocol::Ftp
            },
            user: self.user.clone(),
            host: "127.0.0.1".into(),
            port: self.port,
            path: "/".into(),
            auth: Auth::Password {
                password: Secret::new(self.password.clone()),
                ca_file: self.cert.as_ref().map(|_| self.dir.path().join("cert.pem")),
            },
        }
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP proxy on 127.0.0.1 that counts the bytes it forwards and can cut the first
/// connection after a number of bytes from the server (a connection dropping mid-download).
pub struct Proxy {
    pub port: u16,
    /// Bytes server → client and client → server, over all connections.
    pub down: Arc<AtomicU64>,
    pub up: Arc<AtomicU64>,
    /// When non-zero: the connection that passes this many bytes from the server is cut
    /// (once; the setting is then cleared).
    pub cut_after: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicU64::new(0));
        let up = Arc::new(AtomicU64::new(0));
        let cut_after = Arc::new(AtomicU64::new(0));
        let (d, u, c) = (down.clone(), up.clone(), cut_after.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    continue;
                };
                tokio::spawn(forward(client, server, d.clone(), u.clone(), c.clone()));
            }
        });
        Proxy {
            port,
            down,
            up,
            cut_after,
            task,
        }
    }

    pub fn total(&self) -> u64 {
        self.down.load(Ordering::SeqCst) + self.up.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    client: tokio::net::TcpStream,
    server: tokio::net::TcpStream,
    down: Arc<AtomicU64>,
    up: Arc<AtomicU64>,
    cut_after: Arc<AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upward = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if server_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
            up.fetch_add(n as u64, Ordering::SeqCst);
        }
    };
    let downward = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut passed = 0u64;
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let limit = cut_after.load(Ordering::SeqCst);
            if limit > 0 && passed + n as u64 > limit {
                cut_after.store(0, Ordering::SeqCst);
                return; // both halves are dropped: the client sees the connection close
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
            passed += n as u64;
            down.fetch_add(n as u64, Ordering::SeqCst);
        }
    };
    tokio::select! {
        _ = upward => {},
        _ = downward => {},
    }
}

/// Log lines of this test binary (etprox at debug), to check what is reported how often.
pub fn captured_log() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Mutex<Vec<u8>> {
    static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUFFER.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(buf);
        if std::env::var_os("ETPROX_TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("etprox=debug"))
        .with_ansi(false)
        .with_writer(|| Capture)
        .try_init();
}
