//! Where the demo keeps its data: `DATABASE_URL` if set; else the local server on
//! 127.0.0.1:5432 if one answers; else a private PostgreSQL cluster started from the binaries on
//! this machine, stopped again when the demo ends. The demo only ever uses its own database.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

/// The database the demo uses (the cluster, if any, is stopped when this is dropped).
pub struct DemoDatabase {
    /// URL of the demo's own database.
    pub url: String,
    /// Where it came from, for the user.
    pub origin: String,
    cluster: Option<PrivateCluster>,
}

impl DemoDatabase {
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

/// Finds a database for the demo. `configured` is `DATABASE_URL` when the user set it.
pub fn resolve(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<DemoDatabase> {
    if let Some(url) = configured {
        return Ok(DemoDatabase {
            url: with_database(url, DEMO_DATABASE),
            origin: "DATABASE_URL".into(),
            cluster: None,
        });
    }
    let local: SocketAddr = ([127, 0, 0, 1], 5432).into();
    if TcpStream::connect_timeout(&local, Duration::from_millis(500)).is_ok() {
        return Ok(DemoDatabase {
            url: format!("postgres://postgres@127.0.0.1:5432/{DEMO_DATABASE}"),
            origin: "the local PostgreSQL on 127.0.0.1:5432".into(),
            cluster: None,
        });
    }
    let cluster = PrivateCluster::start(&data_dir.join("pgdata"))?;
    Ok(DemoDatabase {
        url: cluster.url(DEMO_DATABASE),
        origin: format!("a private PostgreSQL cluster in {}", cluster.data.display()),
        cluster: Some(cluster),
    })
}

/// A PostgreSQL cluster of the demo's own, started with `initdb` and `pg_ctl`.
pub struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// When we run as root, the server runs as this user (PostgreSQL refuses to run as root).
    run_as: Option<String>,
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

impl PrivateCluster {
    /// URL of a database in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn start(data: &Path) -> anyhow::Result<PrivateCluster> {
        let Some(bin) = find_postgres_binaries() else {
            bail!(
                "no PostgreSQL found: nothing answers on 127.0.0.1:5432, DATABASE_URL is not set and there \
                 is no initdb on PATH or in /usr/lib/postgresql/*/bin. Install it with: \
                 sudo apt-get install postgresql"
            );
        };
        let run_as = is_root().then(|| "postgres".to_owned());
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        let port = free_port()?;
        let cluster = PrivateCluster {
            bin,
            data: data.to_owned(),
            port,
            run_as,
        };
        if let Some(user) = &cluster.run_as {
            // The data folder must belong to the user the server runs as.
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(data)
                .status()
                .context("chown of the private cluster's data folder")?;
            if !status.success() {
                bail!("cannot give {} to user {user}", data.display());
            }
        }
        if !data.join("PG_VERSION").exists() {
            cluster.run(
                "initdb",
                &[
                    "-D",
                    &cluster.data_str(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ],
            )?;
        }
        cluster.resume()?;
        Ok(cluster)
    }

    /// Starts the server again after [`PrivateCluster::stop`], on the same port.
    pub fn resume(&self) -> anyhow::Result<()> {
        let socket_dir = std::env::temp_dir();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            socket_dir.display()
        );
        let log = self.data.join("server.log");
        self.run(
            "pg_ctl",
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
    }

    /// Stops the server (fast shutdown: open connections are cut, as in a restart).
    pub fn stop(&self) -> anyhow::Result<()> {
        self.run(
            "pg_ctl",
            &["-D", &self.data_str(), "-m", "fast", "-w", "stop"],
        )
    }

    fn is_running(&self) -> bool {
        self.data.join("postmaster.pid").exists()
    }

    fn data_str(&self) -> String {
        self.data.display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin.join(program);
        let output = match &self.run_as {
            Some(user) => Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(&exe)
                .args(args)
                .output(),
            None => Command::new(&exe).args(args).output(),
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
        if !self.is_running() {
            return;
        }
        if let Err(e) = self.stop() {
            eprintln!("could not stop the private PostgreSQL cluster: {e:#}");
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
