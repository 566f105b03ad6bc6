//! The relay's benchmark: rows/s from the outbox to SQS (moto on loopback)
//! and to the in-process queue, backfill rows/s, and commit → message
//! latency of the LISTEN loop. Prints a markdown table.
//!
//!   cargo run --release -p sheetsync-outbox --example relay_bench [ROWS] [COMMITS]

use sheetsync_store::StoredBinding;
use std::time::{Duration, Instant};

use sheetsync_config::TableRef;
use sheetsync_outbox::backfill::CHUNK_ROWS;
use sheetsync_outbox::{
    DrainOptions, ListenOptions, MemoryQueue, QueueSink, Scope, SqsSink, backfill, drain, listen,
};
use sheetsync_reconcile::model::ConflictPolicy;
use sheetsync_store::{AttachSpec, Binding, attach, migrate};
use sheetsync_testkit::TestDb;
use sheetsync_testkit::moto::Moto;
use tokio::sync::oneshot;
use tokio_postgres::{Client, NoTls};

struct Row {
    what: String,
    value: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rows: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let commits: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let moto = Moto::shared().await;
    let mut table = Vec::new();

    // Outbox → SQS (moto).
    let (db, mut client) = database().await;
    fill(&client, rows).await;
    let queue = moto.create_fifo_queue("bench").await;
    let sqs = SqsSink::new(moto.sqs_client(), &queue);
    let (secs, messages) = drain_timed(&mut client, &sqs).await;
    table.push(Row {
        what: format!("drain {rows} rows → SQS (moto), {messages} messages"),
        value: format!("{:.0} rows/s ({secs:.2} s)", rows as f64 / secs),
    });

    // Outbox → in-process queue: the relay's own cost.
    fill(&client, rows).await;
    let (memory, mut rx) = MemoryQueue::new(1 << 16);
    let consumer = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let (secs, messages) = drain_timed(&mut client, &memory).await;
    table.push(Row {
        what: format!("drain {rows} rows → in-process queue, {messages} messages"),
        value: format!("{:.0} rows/s ({secs:.2} s)", rows as f64 / secs),
    });
    drop(memory);
    let _ = consumer.await;

    // Backfill of the table (rows already there) into the outbox.
    let binding = Binding::load(&client, "bench").await.unwrap();
    let table_rows: i64 = client
        .query_one("SELECT count(*) FROM bench", &[])
        .await
        .unwrap()
        .get(0);
    let started = Instant::now();
    let report = backfill(&mut client, &binding, CHUNK_ROWS).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    table.push(Row {
        what: format!(
            "backfill {table_rows} rows into the outbox ({} chunks, {} key set parts)",
            report.chunks, report.keyset_parts
        ),
        value: format!("{:.0} rows/s ({secs:.2} s)", table_rows as f64 / secs),
    });
    client
        .batch_execute("DELETE FROM sheetsync.outbox")
        .await
        .unwrap();

    // LISTEN mode: commit → message available.
    for (name, latencies) in [
        ("SQS (moto)", listen_sqs(&db, &client, moto, commits).await),
        (
            "in-process queue",
            listen_memory(&db, &client, commits).await,
        ),
    ] {
        let (p50, p99) = percentiles(latencies);
        table.push(Row {
            what: format!("LISTEN: commit → message in {name}, p50 / p99 of {commits}"),
            value: format!("{:.1} ms / {:.1} ms", ms(p50), ms(p99)),
        });
    }

    println!("| measurement | result |");
    println!("|---|---|");
    for r in table {
        println!("| {} | {} |", r.what, r.value);
    }
}

async fn database() -> (TestDb, Client) {
    let db = TestDb::create().await;
    let client = db.client().await;
    migrate(&client).await.unwrap();
    client
        .batch_execute(
            "CREATE TABLE bench (id bigint PRIMARY KEY, note text, qty int, at timestamptz)",
        )
        .await
        .unwrap();
    attach(
        &client,
        &AttachSpec {
            name: Some("bench".into()),
            table: TableRef {
                schema: None,
                name: "bench".into(),
            },
            spreadsheet_id: "S1".into(),
            sheet: "Bench".into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .unwrap();
    (db, client)
}

/// `rows` updates (about 100 bytes of row image each) in the outbox.
async fn fill(client: &Client, rows: i64) {
    client
        .execute(
            "INSERT INTO bench SELECT g, md5(g::text) || md5((g + 1)::text), 0, now()
               FROM generate_series(1, $1::bigint) g
             ON CONFLICT (id) DO UPDATE SET qty = bench.qty + 1, note = excluded.note || 'x'",
            &[&rows],
        )
        .await
        .unwrap();
}

async fn drain_timed<S: QueueSink>(client: &mut Client, sink: &S) -> (f64, u64) {
    let started = Instant::now();
    let mut messages = 0;
    loop {
        let report = drain(
            client,
            sink,
            &Scope::All,
            &DrainOptions::default(),
            Instant::now() + Duration::from_secs(600),
        )
        .await
        .unwrap();
        assert_eq!(report.failures().count(), 0, "{report:?}");
        messages += report.messages();
        if report.rows_sent() == 0 {
            break;
        }
    }
    (started.elapsed().as_secs_f64(), messages)
}

fn listen_options() -> ListenOptions {
    ListenOptions {
        safety_interval: Duration::from_secs(3600),
        ..ListenOptions::default()
    }
}

async fn listen_sqs(
    db: &TestDb,
    client: &Client,
    moto: &'static Moto,
    commits: usize,
) -> Vec<Duration> {
    let queue = moto.create_fifo_queue("bench-listen").await;
    let sink = SqsSink::new(moto.sqs_client(), &queue);
    let (stop, stopped) = oneshot::channel::<()>();
    let config = db.config();
    let relay = tokio::spawn(async move {
        listen(&config, NoTls, &sink, &listen_options(), async {
            let _ = stopped.await;
        })
        .await;
    });
    let consumer = moto.sqs_client();
    let mut latencies = Vec::with_capacity(commits);
    for i in 0..commits {
        let started = Instant::now();
        commit_one(client, i).await;
        loop {
            let out = consumer
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .wait_time_seconds(5)
                .send()
                .await
                .unwrap();
            if out.messages().is_empty() {
                continue;
            }
            latencies.push(started.elapsed());
            for m in out.messages() {
                if let Some(h) = m.receipt_handle() {
                    consumer
                        .delete_message()
                        .queue_url(&queue)
                        .receipt_handle(h)
                        .send()
                        .await
                        .unwrap();
                }
            }
            break;
        }
    }
    let _ = stop.send(());
    let _ = relay.await;
    latencies
}

async fn listen_memory(db: &TestDb, client: &Client, commits: usize) -> Vec<Duration> {
    let (queue, mut rx) = MemoryQueue::new(16);
    let (stop, stopped) = oneshot::channel::<()>();
    let config = db.config();
    let relay = tokio::spawn(async move {
        listen(&config, NoTls, &queue, &listen_options(), async {
            let _ = stopped.await;
        })
        .await;
    });
    let mut latencies = Vec::with_capacity(commits);
    for i in 0..commits {
        let started = Instant::now();
        commit_one(client, commits + i).await;
        rx.recv().await.unwrap();
        latencies.push(started.elapsed());
    }
    let _ = stop.send(());
    let _ = relay.await;
    latencies
}

/// One committed insert (the clock starts before it: the latency includes
/// the commit itself).
async fn commit_one(client: &Client, i: usize) {
    client
        .execute(
            "INSERT INTO bench VALUES ($1, 'latency', 0, now())",
            &[&(1_000_000_000 + i as i64)],
        )
        .await
        .unwrap();
}

fn percentiles(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort_unstable();
    let at = |p: f64| d[((d.len() as f64 * p).ceil() as usize).clamp(1, d.len()) - 1];
    (at(0.50), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
