//! Where the demo (and the integration tests) keep their data: `DATABASE_URL` if set; else the
//! local server on 127.0.0.1:5432 if one answers; else a private PostgreSQL cluster started from
//! the binaries on this machine, stopped again at the end. The demo only ever uses its own
//! database.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

/// A database to use (the private cluster, if any, is stopped when this is dropped).
pub struct Database {
    /// URL of the database.
    pub url: String,
    /// Where it came from, for the user.
    pub origin: String,
    cluster: Option<PrivateCluster>,
}

impl Database {
    pub fn is_private(&self) -> bool {
        self.cluster.is_some()
    }
}

pub const DEMO_DATABASE: &str = "etprox_demo";

/// Replaces the database name in a postgres URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{database}?{q}"),
        None => format!("{server}/{database}"),
    }
}

/// Finds a server and names `database` on it. `configured` is `DATABASE_URL` when it is set.
pub fn resolve(configured: Option<&str>, database: &str) -> anyhow::Result<Database> {
    if let Some(url) = configured {
        return Ok(Database {
            url: with_database(url, database),
            origin: "DATABASE_URL".into(),
            cluster: None,
        });
    }
    let local = local_server()?;
    if TcpStream::connect_timeout(&local, Duration::from_millis(500)).is_ok() {
        return Ok(Database {
            url: format!("postgres://postgres@{local}/{database}"),
            origin: format!("the local PostgreSQL on {local}"),
            cluster: None,
        });
    }
    let cluster = PrivateCluster::start()?;
    Ok(Database {
        url: cluster.url(database),
        origin: format!(
            "a private PostgreSQL cluster in {}",
            cluster.folder().display()
        ),
        cluster: Some(cluster),
    })
}

/// Where a local PostgreSQL is looked for when `DATABASE_URL` is unset: `ETPROX_LOCAL_PG`
/// (`HOST:PORT`), default 127.0.0.1:5432. Tests point it at a closed port to play "no server".
pub fn local_server() -> anyhow::Result<SocketAddr> {
    match std::env::var("ETPROX_LOCAL_PG") {
        Ok(text) if !text.trim().is_empty() => text.trim().parse().with_context(|| {
            format!("ETPROX_LOCAL_PG={text:?} is not an address like 127.0.0.1:5432")
        }),
        _ => Ok(([127, 0, 0, 1], 5432).into()),
    }
}

/// A PostgreSQL cluster of our own, started with `initdb` and `pg_ctl` in a temporary folder of
/// its own, and stopped (folder removed) when dropped. A watchdog process does the same if this
/// process dies without dropping it (SIGKILL, abort), so no server is ever left behind.
pub struct PrivateCluster {
    pg_ctl: PathBuf,
    /// The temporary folder: data folder, socket and log. Removed by the watchdog.
    root: PathBuf,
    data: PathBuf,
    port: u16,
    /// When we run as root, the server runs as this user (PostgreSQL refuses to run as root).
    run_as: Option<String>,
    watchdog: Watchdog,
}

/// `initdb` on PATH, else the newest under /usr/lib/postgresql/*/bin.
pub fn find_postgres_binaries() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// What the watchdog runs: it waits until its standard input ends, which happens when our end
/// of the pipe is closed, by us (after writing `stop`) or by the kernel when this process dies
/// however it dies. Then it stops the server if one runs and removes the cluster's folder.
/// After a death it checks for a few seconds more, since a `pg_ctl start` we had under way may
/// still bring a server up. Arguments: data folder, root folder, then the pg_ctl command.
const WATCHDOG_SCRIPT: &str = r#"
data=$1; root=$2; shift 2
IFS= read -r why || why=gone
stop_server() {
    if [ -f "$data/postmaster.pid" ]; then "$@" -D "$data" -m fast -w stop >/dev/null; fi
}
status=0
if [ "$why" = stop ]; then
    stop_server "$@" || status=$?
else
    for _ in 1 2 3 4 5; do stop_server "$@"; sleep 1; done
fi
rm -rf "$root"
exit $status
"#;

/// The watchdog child and our end of its standard input.
struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    fn start(data: &Path, root: &Path, pg_ctl: &[String]) -> anyhow::Result<Watchdog> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("etprox-pg-watchdog")
            .arg(data)
            .arg(root)
            .args(pg_ctl)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // A Ctrl-C in the terminal signals the whole foreground group: the watchdog must
            // outlive it to clean up.
            .process_group(0)
            .spawn()
            .context("starting the watchdog of the private PostgreSQL cluster (sh)")?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }

    /// Asks the watchdog to stop the server and remove the folder now, and waits until it has.
    fn stop_now(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(mut stdin) = self.stdin.take() {
            // A watchdog that is already gone has nothing to be told; wait() says how it ended.
            let _ = stdin.write_all(b"stop\n");
        }
        self.child.wait()
    }
}

impl PrivateCluster {
    /// URL of a database in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's own temporary folder (data, socket, log), removed when the cluster stops.
    pub fn folder(&self) -> &Path {
        &self.root
    }

    /// Creates a cluster in a new temporary folder (under TMPDIR) and starts it on a free port.
    pub fn start() -> anyhow::Result<PrivateCluster> {
        let Some(bin) = find_postgres_binaries() else {
            bail!(
                "no PostgreSQL found: DATABASE_URL is not set, nothing answers on the local \
                 server's address and there is no initdb on PATH or in /usr/lib/postgresql/*/bin. \
                 Install it with: sudo apt-get install postgresql"
            );
        };
        let run_as = is_root().then(|| "postgres".to_owned());
        let root = tempfile::Builder::new()
            .prefix("etprox-pg-")
            .tempdir()
            .context("creating a temporary folder for the private PostgreSQL cluster")?
            .keep();
        let data = root.join("data");
        let pg_ctl = bin.join("pg_ctl");
        let mut pg_ctl_command = Vec::new();
        if let Some(user) = &run_as {
            pg_ctl_command.extend(["runuser".to_owned(), "-u".into(), user.clone(), "--".into()]);
        }
        pg_ctl_command.push(pg_ctl.display().to_string());
        // From here on the watchdog removes the folder and stops anything started in it.
        let watchdog = match Watchdog::start(&data, &root, &pg_ctl_command) {
            Ok(watchdog) => watchdog,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&root);
                return Err(e);
            }
        };
        let mut cluster = PrivateCluster {
            pg_ctl,
            root,
            data,
            port: 0,
            run_as,
            watchdog,
        };
        if let Some(user) = &cluster.run_as {
            // The folder must belong to the user the server runs as.
            let status = Command::new("chown")
                .arg(user)
                .arg(&cluster.root)
                .status()
                .context("chown of the private cluster's folder")?;
            if !status.success() {
                bail!(
                    "cannot give {} to user {user} (does the user exist?)",
                    cluster.root.display()
                );
            }
        }
        cluster.run(
            &bin.join("initdb"),
            &[
                "-D",
                &cluster.data_str(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                // The cluster is thrown away at the end: durability buys nothing, and syncing
                // the new files costs seconds.
                "--no-sync",
            ],
        )?;
        // A free port may be taken between our probe and the server's bind: try a few.
        let mut last_error = None;
        for _ in 0..3 {
            cluster.port = free_port()?;
            match cluster.start_server() {
                Ok(()) => return Ok(cluster),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("the server did not start")))
    }

    fn start_server(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -k {}",
            self.port,
            self.root.display()
        );
        let log = self.root.join("server.log");
        self.run(
            &self.pg_ctl,
            &[
                "-D",
                &self.data_str(),
                "-o",
                &options,
                "-l",
                &log.display().to_string(),
                "-w",
                "start",
            ],
        )
        .map_err(|e| {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            e.context(format!("server log: {}", tail.join(" | ")))
        })
    }

    /// Stops the server (fast shutdown: open connections are cut, as in a restart); the
    /// folder stays, so [`PrivateCluster::resume`] starts it again on the same port.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.run(
            &self.pg_ctl,
            &["-D", &self.data_str(), "-m", "fast", "-w", "stop"],
        )
    }

    /// Starts the server again after [`PrivateCluster::stop`], on the same port.
    pub fn resume(&self) -> anyhow::Result<()> {
        self.start_server()
    }

    fn data_str(&self) -> String {
        self.data.display().to_string()
    }

    fn run(&self, exe: &Path, args: &[&str]) -> anyhow::Result<()> {
        let output = match &self.run_as {
            Some(user) => Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(exe)
                .args(args)
                .output(),
            None => Command::new(exe).args(args).output(),
        }
        .with_context(|| format!("running {}", exe.display()))?;
        if !output.status.success() {
            bail!(
                "{} failed: {}",
                exe.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        match self.watchdog.stop_now() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "stopping the private PostgreSQL cluster in {} failed ({status})",
                    self.root.display()
                );
            }
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "could not wait for the private PostgreSQL cluster in {} to stop: {e}",
                    self.root.display()
                );
            }
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:1/other", "etprox_demo"),
            "postgres://u@h:1/etprox_demo"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "etprox_demo"),
            "postgres://u@h:1/etprox_demo"
        );
        assert_eq!(
            with_database("postgres://u@h/x?sslmode=disable", "d"),
            "postgres://u@h/d?sslmode=disable"
        );
    }
}
