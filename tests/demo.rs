//! `etprox demo` end to end, and the private PostgreSQL cluster it falls back to.

mod common;

use std::process::Command;
#[cfg(feature = "demo")]
use std::process::Stdio;
#[cfg(feature = "demo")]
use std::time::{Duration, Instant};

/// Runs the demo with a TMPDIR of its own (its work folder lies there), on DATABASE_URL's server.
fn demo(tmp: &std::path::Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_etprox"))
        .arg("demo")
        .args(args)
        .arg("--out")
        .arg(tmp.join("out"))
        .env("TMPDIR", tmp)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[cfg(feature = "demo")]
#[test]
fn the_demo_plays_imports_and_reruns_without_doubling() {
    // Uses DATABASE_URL's server (the tests' PostgreSQL), database etprox_demo only.
    let tmp = tempfile::tempdir().unwrap();
    let (code, out) = demo(tmp.path(), &["--fresh", "--keep"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("round imported:").count(), 13, "{out}");
    assert!(out.contains("imported: 13 rounds"), "{out}");
    assert!(out.contains("eu-1: goldrush round 1"), "{out}");
    assert!(out.contains("old-v2: goldrush round 1"), "{out}");

    let (code, again) = demo(tmp.path(), &["--keep"]);
    assert_eq!(code, 0, "{again}");
    assert!(
        again.contains("13 of the evening's 13 rounds were already in the demo database"),
        "{again}"
    );
    assert!(again.contains("imported: 13 rounds"), "{again}");
    assert_eq!(again.matches("round imported:").count(), 0, "{again}");

    let (code, last) = demo(tmp.path(), &[]);
    assert_eq!(code, 0, "{last}");
    assert!(last.contains("removed the demo database"), "{last}");
}

/// A deployment build (`--no-default-features`) keeps the command and says where the demo is.
#[cfg(not(feature = "demo"))]
#[test]
fn without_the_feature_the_demo_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out) = demo(tmp.path(), &["--fresh"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("etprox demo is not in this build")
            && out.contains("`demo` feature")
            && out.contains("cargo run --release -- demo"),
        "{out}"
    );
    assert!(
        !tmp.path().join("etprox-demo").exists(),
        "nothing was played"
    );
}

#[test]
fn a_private_cluster_starts_and_stops() {
    use etprox::demo::database::{find_postgres_binaries, PrivateCluster};
    if find_postgres_binaries().is_none() {
        panic!("this machine has PostgreSQL installed; the binaries must be found");
    }
    let cluster = PrivateCluster::start().unwrap();
    let url = cluster.url("postgres");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer: i32 = runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT 41 + 1")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    });
    assert_eq!(answer, 42);
    let port = cluster.port();
    let folder = cluster.folder().to_owned();
    assert!(folder.join("data/PG_VERSION").is_file());
    drop(cluster);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the cluster must be stopped when dropped"
    );
    assert!(!folder.exists(), "its folder must be removed");
}

/// A demo run that finds no PostgreSQL: DATABASE_URL unset and the local-server probe pointed at
/// a closed port, so the demo must start (and stop) a private cluster. Everything it writes goes
/// under a temporary folder of its own (TMPDIR and working folder), which is how the tests find
/// any process it might leave behind.
#[cfg(feature = "demo")]
struct NoServerDemo {
    tmp: tempfile::TempDir,
}

#[cfg(feature = "demo")]
impl NoServerDemo {
    fn new() -> NoServerDemo {
        let tmp = tempfile::tempdir().unwrap();
        // Like /tmp, the folder must be open to the postgres user the cluster runs as under root.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        NoServerDemo { tmp }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_etprox"));
        command
            .arg("demo")
            .args(args)
            .env_remove("DATABASE_URL")
            .env("ETPROX_LOCAL_PG", "127.0.0.1:1")
            .env("TMPDIR", self.tmp.path())
            .current_dir(self.tmp.path());
        command
    }

    /// Processes whose working folder or command line lies in this run's folder: a PostgreSQL
    /// server (its processes work in their data folder) or a helper of the demo.
    fn processes_left(&self) -> Vec<(u32, String)> {
        let root = self.tmp.path().to_string_lossy().into_owned();
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == std::process::id() {
                continue;
            }
            let cwd = std::fs::read_link(entry.path().join("cwd"))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let cmdline = std::fs::read(entry.path().join("cmdline"))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default();
            if cwd.starts_with(&root) || cmdline.contains(&root) {
                found.push((pid, format!("{cmdline} (in {cwd})")));
            }
        }
        found
    }

    /// Waits up to `patience` for every process of the run to be gone; returns those still there.
    fn wait_until_nothing_left(&self, patience: Duration) -> Vec<(u32, String)> {
        let deadline = Instant::now() + patience;
        loop {
            let left = self.processes_left();
            if left.is_empty() || Instant::now() > deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[cfg(feature = "demo")]
impl Drop for NoServerDemo {
    /// A failed test must not leave a server behind either: end what is left, by process id.
    fn drop(&mut self) {
        for (pid, _) in self.processes_left() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

#[cfg(feature = "demo")]
fn text_of(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[cfg(feature = "demo")]
#[test]
fn with_no_server_running_the_demo_uses_a_private_cluster_and_leaves_nothing_behind() {
    let run = NoServerDemo::new();
    let output = run.command(&["--out", "out"]).output().unwrap();
    let out = text_of(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("a private PostgreSQL cluster"), "{out}");
    assert!(out.contains("imported: 13 rounds"), "{out}");
    assert!(
        run.tmp
            .path()
            .join("out")
            .read_dir()
            .unwrap()
            .next()
            .is_some(),
        "{out}"
    );
    let left = run.processes_left();
    assert!(left.is_empty(), "left behind: {left:?}\n{out}");
}

#[cfg(feature = "demo")]
#[test]
fn a_failing_demo_stops_its_private_cluster() {
    let run = NoServerDemo::new();
    // The output folder cannot be created (a file is in the way): the demo fails once its
    // cluster is up.
    std::fs::write(run.tmp.path().join("file"), "").unwrap();
    let output = run.command(&["--out", "file/out"]).output().unwrap();
    let out = text_of(&output);
    assert_ne!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("a private PostgreSQL cluster"), "{out}");
    assert!(out.contains("error: creating the output folder"), "{out}");
    let left = run.processes_left();
    assert!(left.is_empty(), "left behind: {left:?}\n{out}");
}

/// Starts a demo without a server and returns it once its private cluster is up.
#[cfg(feature = "demo")]
fn demo_with_cluster_up(
    run: &NoServerDemo,
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    use std::io::BufRead;
    let mut child = run
        .command(&["--out", "out"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (up_tx, up_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("database:") {
                let _ = up_tx.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    if up_rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the demo did not report its database: {}",
            reader.join().unwrap()
        );
    }
    (child, reader)
}

#[cfg(feature = "demo")]
#[test]
fn an_interrupted_demo_stops_its_private_cluster() {
    let run = NoServerDemo::new();
    let (mut child, reader) = demo_with_cluster_up(&run);
    assert!(
        !run.processes_left().is_empty(),
        "the private cluster must be running in the run's folder"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "an interrupted demo stops its cluster and exits with 130\n{out}"
    );
    let left = run.processes_left();
    assert!(left.is_empty(), "left behind after Ctrl-C: {left:?}\n{out}");
}

#[cfg(feature = "demo")]
#[test]
fn a_killed_demo_leaves_nothing_behind() {
    let run = NoServerDemo::new();
    let (mut child, reader) = demo_with_cluster_up(&run);
    child.kill().unwrap(); // SIGKILL: no destructor runs, only the watchdog can clean up
    child.wait().unwrap();
    let out = reader.join().unwrap();
    let left = run.wait_until_nothing_left(Duration::from_secs(30));
    assert!(
        left.is_empty(),
        "left behind 30 s after SIGKILL: {left:?}\n{out}"
    );
}
