//! `sheetsync dev` stops on Ctrl-C (SIGINT) or SIGTERM while its first sync
//! is still writing the tab: the real binary, a real database, the
//! emulator in the process. The time each stop took is printed (run with
//! `--no-capture`); the deadline only keeps a hung stop from hanging the
//! test.
#![cfg(feature = "dev")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sheetsync_testkit::TestDb;

/// Rows in the table: the first sync of this many rows takes many batches,
/// so it is still running when the first rows are in the tab.
const ROWS: usize = 50_000;
/// Five times the 2 s a stop may take (it takes milliseconds): reached
/// when the stop waits for the first sync or a batch, or hangs.
const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// For the first rows to reach the tab (a debug build, a busy machine).
const START_DEADLINE: Duration = Duration::from_secs(120);

async fn big_table(db: &TestDb) {
    let client = db.client().await;
    let columns: String = (1..=19).map(|c| format!(", c{c:02} text")).collect();
    let values: String = (1..=19)
        .map(|c| format!(", lpad((g * {c})::text, 10, 'x')"))
        .collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE big (id bigint PRIMARY KEY{columns});
             INSERT INTO big SELECT g{values} FROM generate_series(1, {ROWS}) g;"
        ))
        .await
        .unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_dev(db: &TestDb, port: u16) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sheetsync"));
    for var in ["SHEETSYNC_CONFIG", "SHEETSYNC_WEBHOOK_SECRET", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.env("DATABASE_URL", db.url())
        .args(["dev", "--table", "big", "--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The emulator's cell (zero-based row, column A) as its control API
/// answers it, `None` while nothing answers.
fn key_cell(port: u16, row: usize) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET /_emulator/spreadsheets/sheetsync-dev/tabs/big/cells/{row}/0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_str(body).ok()
}

fn holds_value(cell: &serde_json::Value) -> bool {
    !cell["value"].is_null()
}

/// Polls until the first data row is in the tab (the first sync is writing).
fn wait_for_first_rows(child: &mut Child, port: u16) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("sheetsync dev exited before syncing: {status}");
        }
        if key_cell(port, 1).is_some_and(|c| holds_value(&c)) {
            return;
        }
        assert!(
            started.elapsed() < START_DEADLINE,
            "no row reached the tab within {START_DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls for the exit; answers the status and how long it took.
fn wait_for_exit(child: &mut Child) -> (ExitStatus, Duration) {
    let sent = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, sent.elapsed());
        }
        if sent.elapsed() > STOP_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sheetsync dev did not stop within {STOP_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

async fn stops_mid_first_sync(signal_name: &str) {
    let db = TestDb::create().await;
    big_table(&db).await;
    let port = free_port();
    let mut child = start_dev(&db, port);
    wait_for_first_rows(&mut child, port);
    let last = key_cell(port, ROWS).expect("the emulator answers");
    assert!(
        !holds_value(&last),
        "the first sync finished before the signal: make the table larger"
    );

    signal(&child, signal_name);
    let (status, took) = wait_for_exit(&mut child);

    eprintln!("sheetsync dev stopped {took:?} after SIG{signal_name}, mid first sync");
    assert_eq!(status.code(), Some(0), "exit status after SIG{signal_name}");
}

#[tokio::test]
async fn ctrl_c_stops_dev_mid_first_sync() {
    stops_mid_first_sync("INT").await;
}

#[tokio::test]
async fn sigterm_stops_dev_mid_first_sync() {
    stops_mid_first_sync("TERM").await;
}
