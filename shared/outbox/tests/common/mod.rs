//! Shared setup for the relay's integration tests: a fresh database with
//! the sheetsync schema and bound tables, a moto FIFO queue, and readers
//! for what arrived.
#![allow(dead_code)]

pub mod sheet;

use std::time::{Duration, Instant};

use sheetsync_config::TableRef;
use sheetsync_outbox::{DrainOptions, DrainReport, QueueSink, Scope, SqsSink, drain};
use sheetsync_queue::{ChangeBatch, Op, RowChange};
use sheetsync_reconcile::model::ConflictPolicy;
use sheetsync_store::{AttachSpec, attach, migrate};
use sheetsync_testkit::TestDb;
use sheetsync_testkit::moto::{Moto, Received};
use tokio_postgres::Client;

pub struct Fixture {
    pub db: TestDb,
    pub client: Client,
    pub moto: &'static Moto,
    pub queue_url: String,
}

impl Fixture {
    /// A database with tables `orders` and `items` bound to tabs, and an
    /// empty FIFO queue.
    pub async fn new() -> Fixture {
        let db = TestDb::create().await;
        let client = db.client().await;
        migrate(&client).await.unwrap();
        client
            .batch_execute(
                "CREATE TABLE orders (id int PRIMARY KEY, note text, qty int);
                 CREATE TABLE items (sku text PRIMARY KEY, name text);",
            )
            .await
            .unwrap();
        bind(&client, "orders", "Orders").await;
        bind(&client, "items", "Items").await;
        let moto = Moto::shared().await;
        let queue_url = moto.create_fifo_queue("relay").await;
        Fixture {
            db,
            client,
            moto,
            queue_url,
        }
    }

    pub fn sink(&self) -> SqsSink {
        SqsSink::new(self.moto.sqs_client(), &self.queue_url)
    }

    pub async fn outbox_seqs(&self, binding: &str) -> Vec<i64> {
        self.client
            .query(
                "SELECT seq FROM sheetsync.outbox WHERE binding = $1 ORDER BY seq",
                &[&binding],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Every message that arrives within a few seconds, once `count` did.
    pub async fn receive(&self, count: usize) -> Vec<Received> {
        self.moto
            .receive_n(&self.queue_url, count, Duration::from_secs(20))
            .await
    }
}

pub async fn bind(client: &Client, table: &str, sheet: &str) {
    bind_to(client, table, "S1", sheet).await;
}

pub async fn bind_to(client: &Client, table: &str, spreadsheet_id: &str, sheet: &str) {
    attach(
        client,
        &AttachSpec {
            name: Some(table.into()),
            table: TableRef {
                schema: None,
                name: table.into(),
            },
            spreadsheet_id: spreadsheet_id.into(),
            sheet: sheet.into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .unwrap();
}

pub fn far() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

pub async fn drain_all<S: QueueSink>(
    client: &mut Client,
    sink: &S,
    opts: &DrainOptions,
) -> DrainReport {
    drain(client, sink, &Scope::All, opts, far()).await.unwrap()
}

/// Every batch the messages carry (a bundle carries several), in order.
pub fn batches(received: &[Received]) -> Vec<ChangeBatch> {
    received
        .iter()
        .flat_map(|r| sheetsync_queue::decode_batches(&r.body).unwrap())
        .collect()
}

/// The changes of one binding, in arrival order.
pub fn changes_of(received: &[Received], binding: &str) -> Vec<RowChange> {
    batches(received)
        .into_iter()
        .filter(|b| b.binding == binding)
        .flat_map(|b| b.changes)
        .collect()
}

/// `(seq, op, key)` of each change, for exact comparisons.
pub fn summary(changes: &[RowChange]) -> Vec<(i64, &'static str, String)> {
    changes
        .iter()
        .map(|c| {
            let (op, key) = match &c.op {
                Op::Insert { key, .. } => ("insert", key),
                Op::Update { key, .. } => ("update", key),
                Op::Delete { key } => ("delete", key),
                Op::Keyset { .. } => return (c.seq, "keyset", String::new()),
                Op::Schema(_) => return (c.seq, "schema", String::new()),
            };
            (c.seq, op, serde_json::to_string(key).unwrap())
        })
        .collect()
}
