//! `etprox demo` end to end, and the private PostgreSQL cluster it falls back to.

use std::process::Command;

fn demo(args: &[&str]) -> (i32, String) {
    let out_dir = std::env::temp_dir().join(format!("etprox-demo-out-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_etprox"))
        .arg("demo")
        .args(args)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn the_demo_plays_imports_and_reruns_without_doubling() {
    // Uses DATABASE_URL's server (the tests' PostgreSQL), database etprox_demo only.
    let (code, out) = demo(&["--fresh", "--keep"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("round imported:").count(), 13, "{out}");
    assert!(out.contains("imported: 13 rounds"), "{out}");
    assert!(out.contains("eu-1: goldrush round 1"), "{out}");
    assert!(out.contains("old-v2: goldrush round 1"), "{out}");

    let (code, again) = demo(&["--keep"]);
    assert_eq!(code, 0, "{again}");
    assert!(
        again.contains("13 of the evening's 13 rounds were already in the demo database"),
        "{again}"
    );
    assert!(again.contains("imported: 13 rounds"), "{again}");
    assert_eq!(again.matches("round imported:").count(), 0, "{again}");

    let (code, last) = demo(&[]);
    assert_eq!(code, 0, "{last}");
    assert!(last.contains("removed the demo database"), "{last}");
}

#[test]
fn a_private_cluster_starts_and_stops() {
    use etprox::demo::database::{find_postgres_binaries, PrivateCluster};
    if find_postgres_binaries().is_none() {
        panic!("this machine has PostgreSQL installed; the binaries must be found");
    }
    let dir = std::env::temp_dir().join(format!("etprox-pgtest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cluster = PrivateCluster::start(&dir.join("pgdata")).unwrap();
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
    drop(cluster);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the cluster must be stopped when dropped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
