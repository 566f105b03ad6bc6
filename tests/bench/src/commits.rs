//! 1,000 single-row commits, each its own transaction, on a 10,000 × 8
//! tab: how long after the last commit the tab equals the table. The real
//! capture trigger, the relay in LISTEN mode, a queue served as SQS FIFO
//! serves a Lambda (`bindings::fifo`: one batch of at most 10 messages in
//! flight per group, the group being the spreadsheet, failed messages
//! back after the visibility timeout) and the production writer, against
//! the emulator enforcing Google's per-minute quotas. The settings default
//! to the template's (writer paced at 28 a minute, no linger, 360 s
//! visibility).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value as Json, json};
use sheetsync_config::TableRef;
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_sheets::{Budget, Endpoints, Pace, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::{Emulator, GoogleQuotas};
use sheetsync_store::{AttachSpec, attach, migrate};
use sheetsync_testkit::TestDb;
use sheetsync_writer::Writer;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_postgres::Client;

use crate::bindings::fifo::{Fifo, Record, Relay, Workers};
use crate::bindings::load::Rng;

pub const COMMITS: usize = 1_000;
const ROWS: i64 = 10_000;
const TABLE: &str = "bench_commits";
const SPREADSHEET: &str = "bench-commits";
const TAB: &str = "Items";
const COLUMNS: &str = "id, name, qty, note, city, code, score, tag";
const WIDTH: usize = 8;
const GOAL: Duration = Duration::from_secs(1);
/// Long enough for a run that waits out a quota minute and a visibility
/// timeout (template.yaml: 360 s) or two.
const DEADLINE: Duration = Duration::from_secs(900);
/// How often the change feed is looked at while nothing changes.
const POLL: Duration = Duration::from_millis(5);

/// The run's settings; `cargo run --release -p sheetsync-bench -- commits
/// --pace 28 --burst 1 --linger 0 --min-batch 0 --visibility 360`.
#[derive(Debug, Clone)]
pub struct Options {
    /// The writer's reads and writes per minute (`WriterPacePerMinute`; 0 = unpaced).
    pub pace: u32,
    /// Of those, how many may go at once after a quiet spell (`WriterPaceBurst`).
    pub burst: u32,
    /// The relay's linger, ms (`sheetsync relay --linger`).
    pub linger_ms: u64,
    /// The writer's least batch duration, ms (`WriterMinBatchMs`).
    pub min_batch_ms: u64,
    /// Seconds a failed message stays invisible (the queue's `VisibilityTimeout`).
    pub visibility_s: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pace: 28,
            burst: 1,
            linger_ms: 0,
            min_batch_ms: 0,
            visibility_s: 360,
        }
    }
}

impl Options {
    /// `--name value` pairs after `commits`; unknown names are refused.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(name) = it.next() {
            let value = it.next().ok_or(format!("{name} needs a value"))?;
            let bad = |e: &dyn std::fmt::Display| format!("{name} {value}: {e}");
            match name.as_str() {
                "--pace" => o.pace = value.parse().map_err(|e| bad(&e))?,
                "--burst" => o.burst = value.parse().map_err(|e| bad(&e))?,
                "--linger" => o.linger_ms = value.parse().map_err(|e| bad(&e))?,
                "--min-batch" => o.min_batch_ms = value.parse().map_err(|e| bad(&e))?,
                "--visibility" => o.visibility_s = value.parse().map_err(|e| bad(&e))?,
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(o)
    }

    pub fn command(&self) -> String {
        format!(
            "cargo run --release -p sheetsync-bench -- commits --pace {} --burst {} --linger {} --min-batch {} --visibility {}",
            self.pace, self.burst, self.linger_ms, self.min_batch_ms, self.visibility_s
        )
    }
}

pub struct Commits {
    commits: Duration,
    converged: Duration,
    reads: u64,
    writes: u64,
    refused: u64,
    messages: u64,
    batches: u64,
    redelivered: u64,
    largest_read: u64,
    largest_read_json: u64,
    load_before: String,
    load_after: String,
    visibility_s: u64,
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

impl Commits {
    pub fn section(&self) -> String {
        let mut s = format!(
            "| measurement | value | goal |\n|---|---:|---|\n\
             | {COMMITS} single-row `UPDATE`s, each its own transaction, one connection: first → last commit | {:.2} s | |\n\
             | last commit → tab equals the table (every cell of {ROWS} × {WIDTH}) | {:.3} s | < {} s: {} |\n\
             | Sheets API requests: reads / writes | {} / {} | |\n\
             | of which refused over quota (429) | {} | |\n\
             | messages the relay sent / writer batches (≤ 10 messages each) / messages redelivered | {} / {} / {} | |\n\
             | the writer's largest read: answer on the wire (its JSON) | {} ({}) | |\n\
             | load average (1, 5, 15 min) before, after | {}; {} | |\n",
            self.commits.as_secs_f64(),
            self.converged.as_secs_f64(),
            GOAL.as_secs(),
            met(self.converged < GOAL),
            self.reads,
            self.writes,
            self.refused,
            self.messages,
            self.batches,
            self.redelivered,
            kb(self.largest_read),
            kb(self.largest_read_json),
            self.load_before,
            self.load_after,
        );
        if self.refused > 0 {
            s.push_str(&format!(
                "\nGoogle's per-minute quota bounds this run: {} requests were refused with 429. \
                 The writer waits out a `Retry-After` that ends within its invocation; one that \
                 does not fails the batch, whose messages (and the rest of the spreadsheet's) \
                 come back after the queue's {} s visibility timeout.\n",
                self.refused, self.visibility_s
            ));
        }
        s
    }
}

fn err(what: &'static str) -> impl Fn(&dyn std::fmt::Display) -> String {
    move |e| format!("{what}: {e}")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// A cell as both sides should hold it: numbers as f64, empty as null.
fn norm(v: &Json) -> Json {
    match v {
        Json::Number(n) => json!(n.as_f64()),
        Json::String(s) if s.is_empty() => Json::Null,
        other => other.clone(),
    }
}

/// The table's rows in key order, as the tab should hold them (normalised).
async fn table_rows(sql: &Client) -> Result<Vec<Vec<Json>>, String> {
    let rows = sql
        .query(
            &format!("SELECT jsonb_build_array({COLUMNS}) FROM {TABLE} ORDER BY id"),
            &[],
        )
        .await
        .map_err(|e| err("read table")(&e))?;
    Ok(rows
        .iter()
        .map(|r| {
            let row: Json = r.get(0);
            row.as_array()
                .map(|a| a.iter().map(norm).collect())
                .unwrap_or_default()
        })
        .collect())
}

/// Whether the tab (after its header) holds exactly `want`, every cell.
/// Rows are taken in key order: nothing moves them in this run, but the
/// comparison must not depend on it.
fn tab_equals(emu: &Emulator, want: &[Vec<Json>]) -> bool {
    let mut got: Vec<Vec<Json>> = emu
        .rows(SPREADSHEET, TAB)
        .into_iter()
        .skip(1)
        .map(|r| {
            let mut r: Vec<Json> = r.iter().take(WIDTH).map(norm).collect();
            r.resize(WIDTH, Json::Null);
            r
        })
        .collect();
    if got.len() != want.len() {
        return false;
    }
    got.sort_by(|a, b| {
        let key = |r: &Vec<Json>| r.first().and_then(Json::as_f64).unwrap_or(f64::MAX);
        key(a).total_cmp(&key(b))
    });
    want.iter().zip(&got).all(|(w, g)| w == g)
}

/// Waits until the tab equals `want`; answers when the snapshot that
/// matched was taken. Compares only after the tab changed (the change
/// feed, looked at every few ms), so a writer waiting out a 429 does not
/// have the comparison compete with it for the CPU.
async fn converged(
    emu: &Emulator,
    want: &[Vec<Json>],
    changes: &mut tokio::sync::broadcast::Receiver<sheetsync_sheets_emulator::Change>,
    deadline: Instant,
) -> Result<Instant, String> {
    let mut changed = true;
    loop {
        if changed {
            let at = Instant::now();
            if tab_equals(emu, want) {
                return Ok(at);
            }
            changed = false;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the tab did not equal the table within {DEADLINE:?}"
            ));
        }
        // Drain what arrived during the comparison, then wait a little.
        loop {
            match changes.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => changed = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return Err("the emulator stopped".into()),
            }
        }
        if !changed {
            match tokio::time::timeout(POLL, changes.recv()).await {
                Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => changed = true,
                Ok(Err(RecvError::Closed)) => return Err("the emulator stopped".into()),
                Err(_) => {}
            }
        }
    }
}

pub async fn measure(o: &Options) -> Result<Commits, String> {
    let db = TestDb::create().await;
    let sql = db.client().await;
    migrate(&sql).await.map_err(|e| err("migrate")(&e))?;
    // The table is filled before it is attached, so the seed queues nothing.
    sql.batch_execute(&format!(
        "CREATE TABLE {TABLE} (id bigint PRIMARY KEY, name text, qty integer, note text,
                               city text, code text, score integer, tag text);
         INSERT INTO {TABLE}
         SELECT g, 'row ' || g, g % 100, 'note ' || g,
                (ARRAY['Berlin', 'Paris', 'Rome'])[1 + g % 3],
                'x' || substr(md5(g::text), 1, 8), (g * 7) % 1000, 't' || (g % 10)
         FROM generate_series(1, {ROWS}) g;"
    ))
    .await
    .map_err(|e| err("create table")(&e))?;
    attach(
        &sql,
        &AttachSpec {
            name: Some(TABLE.into()),
            table: TableRef::parse(TABLE).map_err(|e| err("table")(&e))?,
            spreadsheet_id: SPREADSHEET.into(),
            sheet: TAB.into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .map_err(|e| err("attach")(&e))?;

    let emu = Emulator::start().await;
    let mut seed = vec![COLUMNS.split(", ").map(|h| json!(h)).collect::<Vec<_>>()];
    seed.extend(table_rows(&sql).await?);
    emu.set_rows(SPREADSHEET, TAB, seed);
    emu.faults().set_google_quotas(Some(GoogleQuotas::GOOGLE));

    // The production writer, set up as the sheet-writer function sets it
    // up from WriterPacePerMinute and WriterMinBatchMs.
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    let key = parse_key(&emu.service_account_key()).map_err(|e| err("key")(&e))?;
    let pace = (o.pace > 0).then_some(o.pace);
    let writer = Writer::new(
        SheetsClient::new(key, &endpoints)
            .await
            .map_err(|e| err("sheets client")(&e))?
            .with_pace(
                Pace::new(Budget {
                    reads_per_minute: pace,
                    writes_per_minute: pace,
                })
                .with_burst(o.burst),
            ),
    )
    .with_min_batch_interval(Duration::from_millis(o.min_batch_ms));
    let record = Arc::new(Mutex::new(Record::default()));
    let workers = Arc::new(Workers {
        fifo: Arc::new(Fifo::with_visibility(Duration::from_secs(o.visibility_s))),
        writers: vec![Arc::new(writer)],
        writer_of: HashMap::from([(SPREADSHEET.to_string(), 0)]),
        binding_index: HashMap::from([(TABLE.to_string(), 0)]),
        // No lags are read here; the warm-up is the commit made below.
        warm_from_ms: 0,
        record: record.clone(),
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    let relay = Relay::spawn(
        db.config(),
        Duration::from_millis(o.linger_ms),
        workers.fifo.clone(),
        stop_rx.clone(),
    );
    // One group (one spreadsheet), so one batch in flight at a time
    // whatever WriterMaxConcurrency is: one worker serves it.
    let worker = tokio::spawn(workers.clone().run(stop_rx.clone()));

    let mut changes = emu.changes();
    let mut rng = Rng::new(0x5eed_c0de);
    let update = sql
        .prepare(&format!(
            "UPDATE {TABLE} SET qty = $1, note = $2 WHERE id = $3"
        ))
        .await
        .map_err(|e| err("prepare")(&e))?;

    // Warm-up: the writer's first batch on a tab names its journal and
    // learns where rows are (docs/scale.md, "Warm-up"); a deployed writer
    // has done that long before a burst.
    sql.execute(&update, &[&-1i32, &"warm-up", &1i64])
        .await
        .map_err(|e| err("warm-up update")(&e))?;
    let want = table_rows(&sql).await?;
    converged(&emu, &want, &mut changes, Instant::now() + DEADLINE).await?;
    // A tab idle for a minute has its quota minute to itself: start the
    // windows and the counters afresh.
    emu.faults().set_google_quotas(Some(GoogleQuotas::GOOGLE));
    emu.reset_log();
    let messages_before = workers.fifo.arrivals();
    let (batches_before, redelivered_before) = {
        let r = record.lock().unwrap_or_else(|p| p.into_inner());
        (r.batches, r.redelivered)
    };

    let load_before = load_average();
    let first = Instant::now();
    for i in 0..COMMITS {
        let id = 1 + rng.below(ROWS as u64) as i64;
        let qty = i as i32 + 1;
        let note = format!("commit {qty}");
        sql.execute(&update, &[&qty, &note, &id])
            .await
            .map_err(|e| err("update")(&e))?;
    }
    let last = Instant::now();
    let want = table_rows(&sql).await?;
    let at = converged(&emu, &want, &mut changes, last + DEADLINE).await?;
    let load_after = load_average();

    let _ = stop_tx.send(true);
    relay.stopped().await;
    let _ = worker.await;

    let log = emu.requests();
    let api = || log.iter().filter(|r| r.path.starts_with("/v4/"));
    let reads = api().filter(|r| r.method == "GET").count() as u64;
    let largest = api()
        .filter(|r| r.method == "GET")
        .max_by_key(|r| r.response_bytes);
    let record = record.lock().unwrap_or_else(|p| p.into_inner());
    Ok(Commits {
        commits: last - first,
        converged: at.saturating_duration_since(last),
        reads,
        writes: api().count() as u64 - reads,
        refused: emu.counters().rate_limited,
        messages: workers.fifo.arrivals() - messages_before,
        batches: record.batches - batches_before,
        redelivered: record.redelivered - redelivered_before,
        largest_read: largest.map_or(0, |r| r.response_bytes),
        largest_read_json: largest.map_or(0, |r| r.json_bytes),
        load_before,
        load_after,
        visibility_s: o.visibility_s,
    })
}
