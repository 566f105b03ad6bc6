//! The initdb fallback, forced with SHEETSYNC_TEST_PG=initdb. It runs in a
//! subprocess of this test binary so that the cluster's whole life (start,
//! use, removal at process exit) can be observed from outside.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sheetsync_testkit::{PgSource, TestDb};

const CHILD: &str = "initdb_cluster_child";

#[test]
fn initdb_cluster_serves_tests_and_is_removed_when_the_process_exits() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([CHILD, "--exact", "--include-ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env("SHEETSYNC_TEST_PG", "initdb")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |k: &str| {
        stdout
            .lines()
            // libtest prints "test name ... " on the same line as the first.
            .find_map(|l| l.find(k).map(|at| &l[at + k.len()..]))
            .unwrap_or_else(|| panic!("child printed no {k}:\n{stdout}"))
            .to_string()
    };
    let dir = PathBuf::from(field("CLUSTER_DIR="));
    let pid = field("POSTMASTER_PID=");

    // The keeper notices the exit, stops postgres and removes the dir.
    let deadline = Instant::now() + Duration::from_secs(30);
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    while dir.exists() || alive(&proc_dir) {
        assert!(
            Instant::now() < deadline,
            "cluster {} (postmaster {pid}) still there after the process exited",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn alive(proc_dir: &Path) -> bool {
    // A zombie is already stopped.
    std::fs::read_to_string(proc_dir.join("stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[tokio::test]
#[ignore = "run as a subprocess by initdb_cluster_serves_tests_and_is_removed_when_the_process_exits"]
async fn initdb_cluster_child() {
    assert_eq!(std::env::var("SHEETSYNC_TEST_PG").unwrap(), "initdb");
    let a = TestDb::create().await;
    let PgSource::Initdb { dir } = a.source().clone() else {
        panic!("forced initdb but got {:?}", a.source());
    };
    let b = TestDb::create().await;
    assert_eq!(b.source(), a.source(), "one cluster per process");

    let ca = a.client().await;
    let data_dir: String = ca
        .query_one("SHOW data_directory", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(PathBuf::from(&data_dir), dir.join("data"));
    let port: String = ca.query_one("SHOW port", &[]).await.unwrap().get(0);
    assert_ne!(port, "5432");

    let pid_file = std::fs::read_to_string(dir.join("data/postmaster.pid")).unwrap();
    let pid = pid_file.lines().next().unwrap().trim().to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_ne!(uid, "0", "postgres must not run as root");

    let cb = b.client().await;
    let b_name = b.name().to_string();
    drop(b);
    drop(cb);
    let left: i64 = ca
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&b_name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);

    println!("CLUSTER_DIR={}", dir.display());
    println!("POSTMASTER_PID={pid}");
}
