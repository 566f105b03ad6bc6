//! 100 bindings in one deployment under steady load from both sides, with
//! the emulator enforcing Google's per-minute quotas (60 reads and 60
//! writes per service account, 300 of each per project): the real capture
//! trigger, the relay in LISTEN mode, a queue served as SQS FIFO serves a
//! Lambda ([`fifo`]), the production writer, and the webhook taking the
//! sheet's edits. At the end every tab is compared with its table.
//! The arithmetic behind the settings: docs/scale.md.

pub mod fifo;
mod fleet;
pub mod load;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sheetsync_config::DbConfig;
use sheetsync_sheets::{Budget, Endpoints, Pace, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::{Emulator, GoogleQuotas, TEST_PROJECT_ACCOUNTS};
use sheetsync_store::migrate;
use sheetsync_testkit::TestDb;
use sheetsync_webhook::{Db, Secret, Webhook, WebhookConfig};
use sheetsync_writer::Writer;
use tokio::sync::watch;
use tokio::time::Instant;

const MASTER: &str = "bench-bindings-master-secret";
/// The first minute of the load: every writer's first reads of its tabs
/// (refused journal reads, row reads of tabs first seen) fall in it.
const WARM_UP: Duration = Duration::from_secs(60);

/// The run's settings; `cargo run --release -p sheetsync-bench -- bindings
/// --seconds 300 --writers 10 --accounts 10 --pace 28 --linger 500
/// --min-batch 2143`.
#[derive(Debug, Clone)]
pub struct Options {
    pub seconds: u64,
    /// Database commits per second, spread over every binding.
    pub rate: f64,
    /// Sheet edits per second through the webhook.
    pub sheet_rate: f64,
    /// Writer workers (WriterMaxConcurrency).
    pub writers: usize,
    /// Service accounts: spreadsheet `s` is written by account `s % accounts`.
    pub accounts: usize,
    /// Each account's reads and writes per minute (the writers pace
    /// themselves to it; 0 = unpaced). The project's 300 are shared.
    pub pace: u32,
    /// How long the pipeline may take to catch up after the load stops.
    pub settle_seconds: u64,
    /// The relay's linger per spreadsheet, in ms (`ListenOptions::linger`).
    pub linger_ms: u64,
    /// The writer's least batch duration, in ms
    /// (`Writer::with_min_batch_interval`, `SHEETSYNC_WRITER_MIN_BATCH_MS`).
    pub min_batch_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seconds: 300,
            rate: 50.0,
            sheet_rate: 5.0,
            // Design D of docs/scale.md: a service account and a writer
            // per spreadsheet, each spreadsheet's batches one turn apart.
            writers: 10,
            accounts: 10,
            pace: 28,
            settle_seconds: 30,
            linger_ms: 500,
            min_batch_ms: 2143,
        }
    }
}

impl Options {
    /// `--name value` pairs after `bindings`; unknown names are refused.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(name) = it.next() {
            let value = it.next().ok_or(format!("{name} needs a value"))?;
            let bad = |e: &dyn std::fmt::Display| format!("{name} {value}: {e}");
            match name.as_str() {
                "--seconds" => o.seconds = value.parse().map_err(|e| bad(&e))?,
                "--rate" => o.rate = value.parse().map_err(|e| bad(&e))?,
                "--sheet-rate" => o.sheet_rate = value.parse().map_err(|e| bad(&e))?,
                "--writers" => o.writers = value.parse().map_err(|e| bad(&e))?,
                "--accounts" => o.accounts = value.parse().map_err(|e| bad(&e))?,
                "--pace" => o.pace = value.parse().map_err(|e| bad(&e))?,
                "--settle" => o.settle_seconds = value.parse().map_err(|e| bad(&e))?,
                "--linger" => o.linger_ms = value.parse().map_err(|e| bad(&e))?,
                "--min-batch" => o.min_batch_ms = value.parse().map_err(|e| bad(&e))?,
                other => return Err(format!("unknown option {other}")),
            }
        }
        o.writers = o.writers.max(1);
        o.accounts = o.accounts.max(1);
        Ok(o)
    }

    /// Each account's budget: its own 60, or its share of the project's
    /// 300 — unless a minimum batch interval keeps each spreadsheet under
    /// its share, when the account's own limit is only a guard.
    fn per_account(&self) -> Option<u32> {
        let project = 300 * self.pace / 60;
        let share = if self.min_batch_ms > 0 {
            self.pace
        } else {
            project / self.accounts as u32
        };
        (self.pace > 0).then(|| self.pace.min(share))
    }
}

fn err(what: &'static str) -> impl Fn(&dyn std::fmt::Display) -> String {
    move |e| format!("{what}: {e}")
}

/// Requests the emulator answered per minute of the load.
#[derive(Debug, Default, Clone, Copy)]
struct Minute {
    reads: u64,
    writes: u64,
    refused: u64,
}

pub async fn measure(o: &Options) -> Result<String, String> {
    let started = Instant::now();
    let db = TestDb::create().await;
    let sql = db.client().await;
    migrate(&sql).await.map_err(|e| err("migrate")(&e))?;
    let emu = Emulator::start().await;
    let fleet = fleet::layout();
    fleet::create(&sql, &emu, &fleet).await?;
    let seeded_rows: i64 = fleet.iter().map(|b| b.rows).sum();
    eprintln!(
        "bench: bindings: {} tables and tabs, {seeded_rows} rows, ready in {:.1} s",
        fleet.len(),
        started.elapsed().as_secs_f64()
    );
    emu.faults().set_google_quotas(Some(GoogleQuotas::GOOGLE));
    emu.reset_log();

    // One writer (one Sheets client, one pacer) per service account.
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    let budget = o.per_account();
    let mut writers = Vec::new();
    for account in 0..o.accounts {
        let mut key: serde_json::Value =
            serde_json::from_str(&emu.service_account_key()).map_err(|e| err("key")(&e))?;
        if account > 0 {
            key["client_email"] = format!("bench-writer-{account}{TEST_PROJECT_ACCOUNTS}").into();
        }
        let key = parse_key(&key.to_string()).map_err(|e| err("key")(&e))?;
        let client = SheetsClient::new(key, &endpoints)
            .await
            .map_err(|e| err("sheets client")(&e))?
            .with_pace(Pace::new(Budget {
                reads_per_minute: budget,
                writes_per_minute: budget,
            }));
        writers.push(Arc::new(
            Writer::new(client).with_min_batch_interval(Duration::from_millis(o.min_batch_ms)),
        ));
    }
    let writer_of: HashMap<String, usize> = fleet
        .iter()
        .map(|b| (b.spreadsheet_id.clone(), b.spreadsheet % o.accounts))
        .collect();
    let binding_index: HashMap<String, usize> = fleet
        .iter()
        .enumerate()
        .map(|(i, b)| (b.name.clone(), i))
        .collect();
    let record = Arc::new(Mutex::new(fifo::Record::default()));
    let workers = Arc::new(fifo::Workers {
        fifo: Arc::new(fifo::Fifo::default()),
        writers,
        writer_of,
        binding_index,
        warm_from_ms: chrono::Utc::now().timestamp_millis() + WARM_UP.as_millis() as i64,
        record: record.clone(),
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    let relay = fifo::Relay::spawn(
        db.config(),
        Duration::from_millis(o.linger_ms),
        workers.fifo.clone(),
        stop_rx.clone(),
    );
    let mut tasks = Vec::new();
    for _ in 0..o.writers {
        tasks.push(tokio::spawn(workers.clone().run(stop_rx.clone())));
    }

    // Requests per minute of the load, from the emulator's counters.
    let minutes = Arc::new(Mutex::new(Vec::<Minute>::new()));
    let meter = {
        let emu_counters = emu.clone();
        let minutes = minutes.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            tick.tick().await;
            let mut last = Minute::default();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                let now = totals(&emu_counters);
                let minute = Minute {
                    reads: now.reads - last.reads,
                    writes: now.writes - last.writes,
                    refused: now.refused - last.refused,
                };
                last = now;
                minutes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(minute);
            }
        })
    };

    let until = Instant::now() + Duration::from_secs(o.seconds);
    let webhook = Webhook::new(
        WebhookConfig::new(Secret::new(MASTER)),
        Db::new(
            DbConfig::from_url(db.url()).map_err(|e| err("db url")(&e))?,
            4,
        ),
    );
    let master = Secret::new(MASTER);
    let db_load = load::database(db.client().await, fleet.clone(), o.rate, until);
    let sheet_load = load::sheet(&webhook, &emu, &master, &fleet, o.sheet_rate, until);
    let (committed, sheet) = tokio::join!(db_load, sheet_load);
    let committed = committed?;
    let load_ended = Instant::now();
    eprintln!(
        "bench: bindings: load done ({committed} commits, {} sheet edits); settling",
        sheet.edits
    );

    // Caught up: the outbox is empty and the queue idle, twice in a row
    // (a message may be between the relay and the queue at one look).
    let settle_by = load_ended + Duration::from_secs(o.settle_seconds);
    let mut quiet = 0;
    while quiet < 2 && Instant::now() < settle_by {
        let outbox: i64 = sql
            .query_one("SELECT count(*) FROM sheetsync.outbox", &[])
            .await
            .map_err(|e| err("outbox")(&e))?
            .get(0);
        quiet = if outbox == 0 && workers.fifo.idle() {
            quiet + 1
        } else {
            0
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let settled = (quiet >= 2).then(|| load_ended.elapsed());
    let queued_left = workers.fifo.queued();
    let in_flight_left = workers.fifo.in_flight();
    let _ = stop_tx.send(true);
    // A batch still in flight is given a few seconds, then stopped as
    // Lambda stops an invocation at its timeout (its messages count as
    // still on their way).
    let give_up = Instant::now() + Duration::from_secs(5);
    for mut t in tasks {
        if tokio::time::timeout_at(give_up, &mut t).await.is_err() {
            t.abort();
        }
    }
    relay.stopped().await;
    meter.abort();

    let mut cells_differing = 0;
    let mut tabs_wrong = 0;
    for b in &fleet {
        let wrong = fleet::differences(&sql, &emu, b).await?;
        cells_differing += wrong;
        tabs_wrong += usize::from(wrong > 0);
    }
    let outbox_left: i64 = sql
        .query_one("SELECT count(*) FROM sheetsync.outbox", &[])
        .await
        .map_err(|e| err("outbox")(&e))?
        .get(0);
    let record = record.lock().unwrap_or_else(|p| p.into_inner());
    let minutes = minutes.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let counters = emu.counters();
    let reads = ReadKinds::of(&emu);
    Ok(report(&Report {
        o,
        fleet: &fleet,
        committed,
        sheet,
        settled,
        cells_differing,
        tabs_wrong,
        outbox_left,
        queued_left,
        in_flight_left,
        record: &record,
        minutes: &minutes,
        refused_total: counters.rate_limited,
        requests_total: counters.api_requests,
        budget,
        reads,
    }))
}

/// The writer's reads by what they asked for (from the emulator's log).
#[derive(Debug, Default, Clone, Copy)]
struct ReadKinds {
    keys: u64,
    rows: u64,
    titles: u64,
    journals: u64,
    refused: u64,
}

impl ReadKinds {
    fn of(emu: &Emulator) -> ReadKinds {
        let mut kinds = ReadKinds::default();
        for r in emu.requests() {
            if r.method != "GET" || !r.path.starts_with("/v4/") {
                continue;
            }
            let kind = if r.status != 200 {
                &mut kinds.refused
            } else if r.query.contains("fields=properties%28timeZone") {
                &mut kinds.keys
            } else if r
                .query
                .contains("fields=sheets%28properties%28title%29%2Cdata")
            {
                &mut kinds.rows
            } else if r.query.contains("fields=sheets%28properties%28title%29%29") {
                &mut kinds.titles
            } else {
                &mut kinds.journals
            };
            *kind += 1;
        }
        kinds
    }
}

fn totals(emu: &Emulator) -> Minute {
    let c = emu.counters();
    let writes = c
        .by_operation
        .iter()
        .filter(|(op, _)| {
            op.ends_with("batchUpdate")
                || op.contains("values.update")
                || op.contains("values.append")
        })
        .map(|(_, n)| n)
        .sum::<u64>();
    Minute {
        reads: c.api_requests - writes,
        writes,
        refused: c.rate_limited,
    }
}

struct Report<'a> {
    o: &'a Options,
    fleet: &'a [fleet::Bound],
    committed: u64,
    sheet: load::SheetLoad,
    settled: Option<Duration>,
    cells_differing: usize,
    tabs_wrong: usize,
    outbox_left: i64,
    queued_left: usize,
    in_flight_left: usize,
    record: &'a fifo::Record,
    minutes: &'a [Minute],
    refused_total: u64,
    requests_total: u64,
    budget: Option<u32>,
    reads: ReadKinds,
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn secs(ms: i64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

fn report(r: &Report) -> String {
    let o = r.o;
    let mut all: Vec<i64> = r.record.lags.iter().flatten().copied().collect();
    all.sort_unstable();
    let mut worst: Option<(usize, i64, i64)> = None;
    let mut starved = 0;
    for (i, lags) in r.record.lags.iter().enumerate() {
        let mut l = lags.clone();
        l.sort_unstable();
        let p99 = percentile(&l, 0.99);
        let max = l.last().copied().unwrap_or(0);
        if worst.is_none_or(|w| p99 > w.1) {
            worst = Some((i, p99, max));
        }
        if l.is_empty() {
            starved += 1;
        }
    }
    starved += r.fleet.len().saturating_sub(r.record.lags.len());
    let p99 = percentile(&all, 0.99);
    let met = |ok: bool| if ok { "met" } else { "MISSED" };
    let max_of = |f: fn(&Minute) -> u64| r.minutes.iter().map(f).max().unwrap_or(0);
    let mean_of = |f: fn(&Minute) -> u64| {
        if r.minutes.is_empty() {
            0.0
        } else {
            r.minutes.iter().map(f).sum::<u64>() as f64 / r.minutes.len() as f64
        }
    };
    let budget = r.budget.map_or("unpaced".to_string(), |b| {
        format!("{b} reads + {b} writes per minute each")
    });
    let mut s = format!(
        "`cargo run --release -p sheetsync-bench -- bindings --seconds {} --rate {} --sheet-rate {} --writers {} --accounts {} --pace {} --linger {} --min-batch {}`: \
         {} bindings (10 spreadsheets × 10 tabs, {}–{} rows), {} database commits/s and {} sheet edits/s for {} s; \
         emulator at `GoogleQuotas::GOOGLE`; {} writer worker(s) over a queue served as SQS FIFO serves Lambda (one batch in flight per spreadsheet, ≤ 10 messages); \
         {} service account(s), paced at {}.\n\n",
        o.seconds,
        o.rate,
        o.sheet_rate,
        o.writers,
        o.accounts,
        o.pace,
        o.linger_ms,
        o.min_batch_ms,
        r.fleet.len(),
        r.fleet.iter().map(|b| b.rows).min().unwrap_or(0),
        r.fleet.iter().map(|b| b.rows).max().unwrap_or(0),
        o.rate,
        o.sheet_rate,
        o.seconds,
        o.writers,
        o.accounts,
        budget,
    );
    s.push_str("| measurement | value | goal |\n|---|---:|---|\n");
    s.push_str(&format!(
        "| database commits / sheet edits (refused) | {} / {} ({}) | |\n",
        r.committed, r.sheet.edits, r.sheet.refused
    ));
    s.push_str(&format!(
        "| cells where a tab differs from its table at the end (tabs) | {} ({}) | 0: {} |\n",
        r.cells_differing,
        r.tabs_wrong,
        met(r.cells_differing == 0)
    ));
    s.push_str(&format!(
        "| caught up after the load stopped | {} | |\n",
        r.settled.map_or(
            format!(
                "not within {} s ({} outbox rows, {} queued messages and {} batches in flight left; differences above are changes still on their way)",
                o.settle_seconds, r.outbox_left, r.queued_left, r.in_flight_left
            ),
            |d| format!("{:.1} s", d.as_secs_f64())
        )
    ));
    s.push_str(&format!(
        "| commit → cell p50 / p99 / max, {} changes | {} / {} / {} | p99 < 5 s: {} |\n",
        all.len(),
        secs(percentile(&all, 0.5)),
        secs(p99),
        secs(all.last().copied().unwrap_or(0)),
        met(p99 < 5000 && !all.is_empty())
    ));
    let mut warm = r.record.warm_lags.clone();
    warm.sort_unstable();
    s.push_str(&format!(
        "| of which committed after the first {} s, {} changes: p50 / p99 / max | {} / {} / {} | p99 < 5 s: {} |\n",
        WARM_UP.as_secs(),
        warm.len(),
        secs(percentile(&warm, 0.5)),
        secs(percentile(&warm, 0.99)),
        secs(warm.last().copied().unwrap_or(0)),
        met(percentile(&warm, 0.99) < 5000 && !warm.is_empty())
    ));
    let mut to_queue = r.record.to_queue.clone();
    to_queue.sort_unstable();
    let mut in_queue = r.record.in_queue.clone();
    in_queue.sort_unstable();
    s.push_str(&format!(
        "| of which commit → queue (relay and linger) p50 / p99 | {} / {} | |\n",
        secs(percentile(&to_queue, 0.5)),
        secs(percentile(&to_queue, 0.99)),
    ));
    s.push_str(&format!(
        "| of which queue → cell (the group's turn, then its requests) p50 / p99 | {} / {} | |\n",
        secs(percentile(&in_queue, 0.5)),
        secs(percentile(&in_queue, 0.99)),
    ));
    if let Some((i, p, max)) = worst {
        s.push_str(&format!(
            "| worst binding's p99 (max) | {} ({}): {} | |\n",
            secs(p),
            secs(max),
            r.fleet.get(i).map_or("?", |b| b.name.as_str())
        ));
    }
    s.push_str(&format!(
        "| bindings with no change applied (starved) | {starved} | 0 |\n"
    ));
    s.push_str(&format!(
        "| messages applied out of order / redelivered | {} / {} | 0 / |\n",
        r.record.out_of_order, r.record.redelivered
    ));
    s.push_str(&format!(
        "| read requests per minute, max (mean over {} min) | {} ({:.0}) | ≤ {} |\n",
        r.minutes.len(),
        max_of(|m| m.reads),
        mean_of(|m| m.reads),
        60 * o.accounts.min(5)
    ));
    s.push_str(&format!(
        "| reads by kind: key reads / row reads / titles / journal reads / refused | {} / {} / {} / {} / {} | |\n",
        r.reads.keys, r.reads.rows, r.reads.titles, r.reads.journals, r.reads.refused
    ));
    s.push_str(&format!(
        "| write requests per minute, max (mean) | {} ({:.0}) | ≤ {} |\n",
        max_of(|m| m.writes),
        mean_of(|m| m.writes),
        60 * o.accounts.min(5)
    ));
    s.push_str(&format!(
        "| requests refused over quota (429) / all API requests | {} / {} | 0: {} |\n",
        r.refused_total,
        r.requests_total,
        met(r.refused_total == 0)
    ));
    s.push_str(&format!(
        "| tabs written (a spreadsheet's tabs in one batch share a read and a write) | {} | |\n",
        r.record.units
    ));
    s
}
