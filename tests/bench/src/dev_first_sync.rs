//! `sheetsync dev`'s first sync of a 100,000 × 20 table, as a new user
//! runs it: the release binary (`DATABASE_URL=… sheetsync dev --table big`)
//! on a fresh database, timed from its start until the emulator's tab
//! holds the last row (polled through `/_emulator`); the emulator's
//! counters give the Sheets requests and the largest request body,
//! `/proc/PID/status` the process's peak RSS (VmHWM). Then a full resync,
//! as a user asks for one: `sheetsync backfill --binding B` against the
//! same database, every row sent again into the tab that holds them,
//! timed until the tab's watermark covers the backfill's last outbox row
//! and every cell equals the table. Then SIGINT, and the time until the
//! process is gone.

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
    resync: Resync,
    stop: Duration,
}

/// The full resync: `sheetsync backfill` of the binding once the first
/// sync is in the tab.
struct Resync {
    /// Start → tab equal to the table again.
    converged: Duration,
    /// Start → the backfill command exited (every row queued).
    queued: Duration,
    rows: u64,
    reads: u64,
    writes: u64,
    uploaded: u64,
    downloaded: u64,
    /// The answers' JSON before gzip: what the writer parsed.
    parsed: u64,
    largest_request: u64,
    /// The dev process's VmHWM over the resync alone (reset before it).
    peak_rss_mb: f64,
    /// Whether the reset worked (else the peak is the whole run's).
    peak_reset: bool,
    /// Cells where the tab differed from the table before the resync.
    first_sync_wrong: usize,
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
             | cells where the tab differs from the table once the first sync is applied (every cell) | {} | 0: {} |\n\
             | full resync (`sheetsync backfill --binding B`, {} rows) into the tab that holds them: start → every cell equal again | {:.1} s | < {} s: {} |\n\
             | of which the backfill command (every row queued) | {:.1} s | |\n\
             | resync: Sheets API requests, reads / writes | {} / {} | |\n\
             | resync: bytes uploaded / downloaded (every request and answer body; the answers' JSON) | {:.1} MB / {:.1} MB ({:.1} MB) | |\n\
             | resync: largest request body | {:.2} MB | ≤ 2 MB: {} |\n\
             | resync: peak RSS of the whole process, emulator included ({}) | {:.0} MB | < 1 GB: {} |\n\
             | SIGINT → process gone, right after the resync | {:.0} ms | < 2 s: {} |\n",
            self.sync.as_secs_f64(),
            GOAL_SYNC.as_secs(),
            met(self.sync < GOAL_SYNC),
            self.requests,
            self.largest_request as f64 / 1e6,
            met(self.largest_request <= GOAL_REQUEST_BYTES),
            self.downloaded as f64 / 1e6,
            self.peak_rss_mb,
            met(self.peak_rss_mb < GOAL_RSS_MB),
            self.resync.first_sync_wrong,
            met(self.resync.first_sync_wrong == 0),
            self.resync.rows,
            self.resync.converged.as_secs_f64(),
            GOAL_SYNC.as_secs(),
            met(self.resync.converged < GOAL_SYNC),
            self.resync.queued.as_secs_f64(),
            self.resync.reads,
            self.resync.writes,
            self.resync.uploaded as f64 / 1e6,
            self.resync.downloaded as f64 / 1e6,
            self.resync.parsed as f64 / 1e6,
            self.resync.largest_request as f64 / 1e6,
            met(self.resync.largest_request <= GOAL_REQUEST_BYTES),
            if self.resync.peak_reset {
                "VmHWM reset before it"
            } else {
                "VmHWM of the whole run: the reset was refused"
            },
            self.resync.peak_rss_mb,
            met(self.resync.peak_rss_mb < GOAL_RSS_MB),
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
    call_json(port, "GET", path).await
}

/// A request without a body to the dev server; the JSON body of a 200.
async fn call_json(port: u16, method: &str, path: &str) -> Option<Json> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
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
    let (requests, largest_request, downloaded) = (
        count("apiRequests"),
        count("largestRequest"),
        count("responseBytes"),
    );

    let resync = resync(&db, &binary, port, pid).await?;

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
        requests,
        largest_request,
        downloaded,
        peak_rss_mb,
        resync,
        stop: signalled.elapsed(),
    })
}

/// The outbox sequence the tab's watermark has reached (`None` before the
/// writer stamped one).
async fn watermark(port: u16) -> Option<i64> {
    let path =
        format!("/_emulator/spreadsheets/sheetsync-dev/tabs/{TAB}/metadata/sheetsync.watermark");
    get_json(port, &path).await?["value"].as_str()?.parse().ok()
}

/// Polls until the tab's watermark reaches `seq`.
async fn watermark_reaches(port: u16, seq: i64, deadline: Instant) -> Result<(), String> {
    while watermark(port).await.is_none_or(|w| w < seq) {
        if Instant::now() > deadline {
            return Err(format!(
                "the tab's watermark did not reach {seq} (it is at {:?})",
                watermark(port).await
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A cell as both sides should hold it: numbers as f64, empty as null.
fn norm(v: &Json) -> Json {
    match v {
        Json::Number(n) => serde_json::json!(n.as_f64()),
        Json::String(s) if s.is_empty() => Json::Null,
        other => other.clone(),
    }
}

/// Cells where the tab (after its header) differs from the table, rows
/// taken in key order; `None` when the emulator does not answer.
async fn differing_cells(port: u16, table: &[Vec<Json>]) -> Option<usize> {
    let path = format!("/_emulator/spreadsheets/sheetsync-dev/tabs/{TAB}/rows");
    let answer = get_json(port, &path).await?;
    let mut got: Vec<Vec<Json>> = answer["rows"]
        .as_array()?
        .iter()
        .skip(1)
        .map(|r| {
            let mut r: Vec<Json> = r
                .as_array()
                .map(|a| a.iter().take(COLUMNS).map(norm).collect())
                .unwrap_or_default();
            r.resize(COLUMNS, Json::Null);
            r
        })
        .collect();
    got.sort_by(|a, b| {
        let key = |r: &Vec<Json>| r.first().and_then(Json::as_f64).unwrap_or(f64::MAX);
        key(a).total_cmp(&key(b))
    });
    let mut wrong = table.len().abs_diff(got.len()) * COLUMNS;
    for (w, g) in table.iter().zip(&got) {
        wrong += w.iter().zip(g).filter(|(a, b)| a != b).count();
    }
    Some(wrong)
}

/// The full resync, as a user asks for one once the first sync is in:
/// `sheetsync backfill --binding B` against the dev stack's database.
async fn resync(
    db: &TestDb,
    binary: &std::path::Path,
    port: u16,
    pid: u32,
) -> Result<Resync, String> {
    let sql = db.client().await;
    let sql_err = |e: tokio_postgres::Error| e.to_string();
    // The first sync is whole once the tab's watermark covers every outbox
    // row made so far (its key set comes after its last row): only then
    // does what follows count the resync's requests alone.
    let made: i64 = sql
        .query_one("SELECT last_value FROM sheetsync.outbox_seq_seq", &[])
        .await
        .map_err(sql_err)?
        .get(0);
    watermark_reaches(port, made, Instant::now() + SYNC_DEADLINE).await?;
    let binding: String = sql
        .query_one("SELECT name FROM sheetsync.bindings", &[])
        .await
        .map_err(sql_err)?
        .get(0);
    let columns: String = (1..COLUMNS).map(|c| format!(", c{c:02}")).collect();
    let table: Vec<Vec<Json>> = sql
        .query(
            &format!("SELECT jsonb_build_array(id{columns}) FROM {TAB} ORDER BY id"),
            &[],
        )
        .await
        .map_err(sql_err)?
        .iter()
        .map(|r| {
            let row: Json = r.get(0);
            row.as_array()
                .map(|a| a.iter().map(norm).collect())
                .unwrap_or_default()
        })
        .collect();
    let first_sync_wrong = differing_cells(port, &table)
        .await
        .ok_or("the emulator's tab did not answer")?;
    call_json(port, "DELETE", "/_emulator/requests")
        .await
        .ok_or("the emulator's log did not reset")?;
    // Writing 5 to clear_refs resets the process's VmHWM to its current
    // RSS, so the peak below is the resync's and not the first sync's.
    let peak_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();

    let started = Instant::now();
    let out = tokio::process::Command::new(binary)
        .env("DATABASE_URL", db.url())
        .env_remove("RUST_LOG")
        .args(["backfill", "--binding", &binding])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let queued = started.elapsed();
    let said = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "sheetsync backfill: {}: {said}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // `queued 100000 rows and 2 key set parts of binding … (outbox 1..=2)`
    let number_after = |what: &str| -> Option<u64> {
        said.split_once(what)?
            .1
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let last_seq = number_after("..=").ok_or(format!("sheetsync backfill said: {said}"))?;
    let rows = number_after("queued ").unwrap_or_default();

    let deadline = started + SYNC_DEADLINE;
    watermark_reaches(port, last_seq as i64, deadline).await?;
    // Read now: the full-tab comparison below makes the process serialise
    // the whole tab, which is the bench's cost, not the resync's.
    let peak_rss_mb = peak_rss_mb(pid);
    let converged = loop {
        let at = started.elapsed();
        match differing_cells(port, &table).await {
            Some(0) => break at,
            _ if Instant::now() > deadline => {
                return Err("the tab did not equal the table after the resync".into());
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };

    let log = call_json(port, "GET", "/_emulator/requests")
        .await
        .ok_or("the emulator's log did not answer")?;
    let api: Vec<&Json> = log["requests"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/v4/")))
                .collect()
        })
        .unwrap_or_default();
    let sum = |field: &str| api.iter().map(|r| r[field].as_u64().unwrap_or(0)).sum();
    let reads = api.iter().filter(|r| r["method"] == "GET").count() as u64;
    Ok(Resync {
        converged,
        queued,
        rows,
        reads,
        writes: api.len() as u64 - reads,
        uploaded: sum("requestBytes"),
        downloaded: sum("responseBytes"),
        parsed: sum("jsonBytes"),
        largest_request: log["counters"]["largestRequest"].as_u64().unwrap_or(0),
        peak_rss_mb,
        peak_reset,
        first_sync_wrong,
    })
}
