//! Commit → cell latency through the local stack's pieces: the capture
//! trigger, the relay in LISTEN mode, the in-process queue and the writer
//! applying to the Sheets emulator. Measured from the moment an
//! autocommitted `UPDATE` returns to the moment the emulator holds the new
//! value (its change feed wakes the wait).

use std::time::Duration;

use serde_json::{Value as Json, json};
use sheetsync_config::TableRef;
use sheetsync_outbox::{ListenOptions, MemoryQueue, listen};
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_sheets::{Endpoints, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::Emulator;
use sheetsync_store::{AttachSpec, attach, migrate};
use sheetsync_testkit::TestDb;
use sheetsync_writer::Writer;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

pub const COMMITS: usize = 300;
const ROWS: i64 = 100;
const SPREADSHEET: &str = "bench-latency";
const TAB: &str = "Items";
const WAIT: Duration = Duration::from_secs(30);

pub struct Latency {
    samples: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

impl Latency {
    pub fn rows(&self) -> String {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let (p50, p99) = (percentile(&sorted, 0.5), percentile(&sorted, 0.99));
        let max = sorted.last().copied().unwrap_or_default();
        let ok = |d: Duration, goal: Duration| if d < goal { "met" } else { "MISSED" };
        format!(
            "| commit → cell latency p50 ({} commits, LISTEN relay + in-process queue + writer) | {} | < 300 ms: {} |\n\
             | commit → cell latency p99 | {} | < 1 s: {} |\n\
             | commit → cell latency max | {} | |\n",
            self.samples.len(),
            ms(p50),
            ok(p50, Duration::from_millis(300)),
            ms(p99),
            ok(p99, Duration::from_secs(1)),
            ms(max),
        )
    }
}

fn err(what: &str) -> impl Fn(&dyn std::fmt::Display) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The emulator's value of `qty` in the row keyed `id`.
fn qty_on_sheet(emu: &Emulator, id: i64) -> Option<Json> {
    emu.rows(SPREADSHEET, TAB)
        .into_iter()
        .find(|r| r.first().and_then(Json::as_f64) == Some(id as f64))
        .and_then(|r| r.get(2).cloned())
}

pub async fn measure(commits: usize) -> Result<Latency, String> {
    let db = TestDb::create().await;
    let client = db.client().await;
    migrate(&client).await.map_err(|e| err("migrate")(&e))?;
    client
        .batch_execute("CREATE TABLE bench_items (id bigint PRIMARY KEY, name text, qty integer)")
        .await
        .map_err(|e| err("create table")(&e))?;
    let table = TableRef::parse("bench_items").map_err(|e| err("table")(&e))?;
    attach(
        &client,
        &AttachSpec {
            name: Some("bench_items".into()),
            table,
            spreadsheet_id: SPREADSHEET.into(),
            sheet: TAB.into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .map_err(|e| err("attach")(&e))?;

    let emu = Emulator::start().await;
    emu.set_rows(
        SPREADSHEET,
        TAB,
        vec![vec![json!("id"), json!("name"), json!("qty")]],
    );
    let key = parse_key(&emu.service_account_key()).map_err(|e| err("key")(&e))?;
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    let writer = Writer::new(
        SheetsClient::new(key, &endpoints)
            .await
            .map_err(|e| err("sheets client")(&e))?,
    );

    let (queue, mut rx) = MemoryQueue::new(1000);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = db.config();
    let relay = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        listen(
            &config,
            tokio_postgres::NoTls,
            &queue,
            &ListenOptions::default(),
            shutdown,
        )
        .await;
    });
    let consumer = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < 10 {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            writer.apply(&batch, Instant::now() + WAIT).await;
        }
    });

    client
        .batch_execute(&format!(
            "INSERT INTO bench_items SELECT i, 'row ' || i, 0 FROM generate_series(1, {ROWS}) i"
        ))
        .await
        .map_err(|e| err("seed rows")(&e))?;
    let deadline = Instant::now() + WAIT;
    while emu.rows(SPREADSHEET, TAB).len() < ROWS as usize + 1 {
        if Instant::now() > deadline {
            return Err("the seed rows never reached the sheet".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let mut changes = emu.changes();
    let mut samples = Vec::with_capacity(commits);
    for i in 0..commits {
        let id = (i as i64 % ROWS) + 1;
        let qty = i as i32 + 1;
        client
            .execute(
                "UPDATE bench_items SET qty = $1 WHERE id = $2",
                &[&qty, &id],
            )
            .await
            .map_err(|e| err("update")(&e))?;
        let committed = Instant::now();
        let deadline = committed + WAIT;
        while qty_on_sheet(&emu, id) != Some(json!(qty)) {
            match tokio::time::timeout_at(deadline, changes.recv()).await {
                Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
                Ok(Err(RecvError::Closed)) => return Err("the emulator stopped".into()),
                Err(_) => return Err(format!("commit {i} never reached the sheet")),
            }
        }
        samples.push(committed.elapsed());
    }
    let _ = stop.send(());
    let _ = relay.await;
    consumer.abort();
    Ok(Latency { samples })
}
