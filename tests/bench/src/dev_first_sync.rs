//! `sheetsync dev`'s first sync of a 100,000 × 20 table, as a new user
//! runs it: the release binary (`DATABASE_URL=… sheetsync dev --table big`)
//! on a fresh database, timed from its start until the emulator's tab
//! holds the last row (polled through `/_emulator`); the emulator's
//! counters give the Sheets requests and the largest request body,
//! `/proc/PID/status` the process's peak RSS (VmHWM); then SIGINT, and the
//! time until the process is gone.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use sheetsync_testkit::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const ROWS: usize = 100_000;
const COLUMNS: usize = 20;
const TAB: &str = "big";
/// The first sync may take this long before the run counts as failed.
const SYNC_DEADLINE: Duration = Duration::from_secs(300);
const STOP_DEADLINE: Duration = Duration::from_secs(30);
const GOAL_SYNC: Duration = Duration::from_secs(30);
const GOAL_REQUEST_BYTES: u64 = 2_000_000;
const GOAL_RSS_MB: f64 = 1024.0;
const GOAL_STOP: Duration = Duration::from_secs(2);

pub struct FirstSync {
    sync: Duration,
    requests: u64,
    largest_request: u64,
    downloaded: u64,
    peak_rss_mb: f64,
    stop: Duration,
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

impl FirstSync {
    pub fn section(&self) -> String {
        format!(
            "| measurement | value | goal |\n|---|---:|---|\n\
             | first sync of {ROWS} × {COLUMNS} into an empty tab: start → last row in the tab | {:.1} s | < {} s: {} |\n\
             | Sheets API requests (reads and writes) | {} | |\n\
             | largest request body | {:.2} MB | ≤ 2 MB: {} |\n\
             | bytes downloaded (every answer) | {:.1} MB | |\n\
             | peak RSS of the whole process, emulator included (VmHWM) | {:.0} MB | < 1 GB: {} |\n\
             | SIGINT → process gone, right after the sync | {:.0} ms | < 2 s: {} |\n",
            self.sync.as_secs_f64(),
            GOAL_SYNC.as_secs(),
            met(self.sync < GOAL_SYNC),
            self.requests,
            self.largest_request as f64 / 1e6,
            met(self.largest_request <= GOAL_REQUEST_BYTES),
            self.downloaded as f64 / 1e6,
            self.peak_rss_mb,
            met(self.peak_rss_mb < GOAL_RSS_MB),
            self.stop.as_secs_f64() * 1000.0,
            met(self.stop < GOAL_STOP),
        )
    }
}

/// Builds the release `sheetsync` beside this binary and answers its path.
fn sheetsync_binary() -> Result<std::path::PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--release", "-q", "-p", "sheetsync-cli"])
        .current_dir(crate::workspace_root())
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !built.success() {
        return Err(format!("cargo build -p sheetsync-cli: {built}"));
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = me.parent().ok_or("no directory for this binary")?;
    Ok(dir.join("sheetsync"))
}

async fn big_table(db: &TestDb) -> Result<(), String> {
    let client = db.client().await;
    let columns: String = (1..COLUMNS).map(|c| format!(", c{c:02} text")).collect();
    let values: String = (1..COLUMNS)
        .map(|c| format!(", substr(md5(g::text || '{c}'), 1, 10)"))
        .collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE {TAB} (id bigint PRIMARY KEY{columns});
             INSERT INTO {TAB} SELECT g{values} FROM generate_series(1, {ROWS}) g;"
        ))
        .await
        .map_err(|e| e.to_string())
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// GET on the dev server; the JSON body, `None` while nothing answers.
async fn get_json(port: u16, path: &str) -> Option<Json> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    let text = String::from_utf8(answer).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_str(body).ok()
}

async fn holds_row(port: u16, row: usize) -> bool {
    let path = format!("/_emulator/spreadsheets/sheetsync-dev/tabs/{TAB}/cells/{row}/0");
    get_json(port, &path)
        .await
        .is_some_and(|cell| !cell["value"].is_null())
}

fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Stops the child however the run ended (a failed run leaves nothing).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub async fn measure() -> Result<FirstSync, String> {
    let binary = sheetsync_binary()?;
    let db = TestDb::create().await;
    big_table(&db).await?;
    let port = free_port()?;
    let started = Instant::now();
    let mut dev = Running(
        Command::new(&binary)
            .env("DATABASE_URL", db.url())
            .env_remove("RUST_LOG")
            .args(["dev", "--table", TAB, "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?,
    );
    let pid = dev.0.id();
    while !holds_row(port, ROWS).await {
        if let Ok(Some(status)) = dev.0.try_wait() {
            return Err(format!(
                "sheetsync dev exited during the first sync: {status}"
            ));
        }
        if started.elapsed() > SYNC_DEADLINE {
            return Err(format!("the first sync took over {SYNC_DEADLINE:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sync = started.elapsed();
    let peak_rss_mb = peak_rss_mb(pid);
    let counters = get_json(port, "/_emulator/requests")
        .await
        .map(|log| log["counters"].clone())
        .ok_or("the emulator's counters did not answer")?;
    let count = |name: &str| counters[name].as_u64().unwrap_or_default();

    let signalled = Instant::now();
    let sent = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    if !sent.success() {
        return Err("kill -INT failed".into());
    }
    loop {
        if let Ok(Some(_)) = dev.0.try_wait() {
            break;
        }
        if signalled.elapsed() > STOP_DEADLINE {
            return Err(format!(
                "sheetsync dev did not stop within {STOP_DEADLINE:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(FirstSync {
        sync,
        requests: count("apiRequests"),
        largest_request: count("largestRequest"),
        downloaded: count("responseBytes"),
        peak_rss_mb,
        stop: signalled.elapsed(),
    })
}
