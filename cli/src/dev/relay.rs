//! Outbox → queue: the relay's LISTEN loop into the in-process queue (or
//! an SQS FIFO queue), and the first sync of the table into the outbox.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sheetsync_config::{DbConfig, SslMode};
use sheetsync_outbox::{
    Backfill, BackfillReport, ListenOptions, MemoryQueue, Progress, QueueSink, SqsSink,
};
use sheetsync_store::Binding;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::DevError;
use super::stop::Stop;

/// Rows per first-sync transaction. Larger than a deployed backfill's
/// chunk (`backfill::CHUNK_ROWS`, sized so an application write waits
/// < 50 ms): here the first sync runs before the stack invites any edit,
/// and a transaction's fixed cost dominates small chunks — 100,000 rows
/// queued alone in 17.9 s in chunks of 100, 10.6 s in chunks of 1,000.
const FIRST_SYNC_CHUNK_ROWS: usize = 1_000;
/// Undelivered messages the in-process queue holds before the relay waits.
const MEMORY_QUEUE_CAPACITY: usize = 256;

pub enum Queue {
    Memory {
        sink: Arc<MemoryQueue>,
        receiver: Mutex<Option<mpsc::Receiver<sheetsync_writer::Message>>>,
    },
    Sqs(Arc<SqsSink>),
}

impl Queue {
    pub async fn open(sqs_url: Option<&str>) -> Result<Queue, DevError> {
        Ok(match sqs_url {
            Some(url) => Queue::Sqs(Arc::new(SqsSink::from_env(url).await)),
            None => {
                let (sink, receiver) = MemoryQueue::new(MEMORY_QUEUE_CAPACITY);
                Queue::Memory {
                    sink: Arc::new(sink),
                    receiver: Mutex::new(Some(receiver)),
                }
            }
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Queue::Memory { .. } => "in-process queue".to_string(),
            Queue::Sqs(sink) => format!("SQS {}", sink.queue_url()),
        }
    }
}

/// A background part of the stack; it ends when the stop fires.
pub struct Task(JoinHandle<()>);

impl Task {
    pub fn new(handle: JoinHandle<()>) -> Task {
        Task(handle)
    }

    pub async fn join(self) {
        if let Err(e) = self.0.await {
            tracing::error!(error = %e, "dev stack task ended abnormally");
        }
    }
}

/// The relay in LISTEN mode, draining into `queue` until the stop fires.
pub fn spawn(db: &DbConfig, queue: &Queue, stop: Stop) -> Result<Task, DevError> {
    let config = sheetsync_store::pg_config(db)?;
    let options = ListenOptions {
        // A dev run has one relay and a person waiting: catch missed
        // notifications sooner than a deployed relay would.
        safety_interval: Duration::from_secs(5),
        ..ListenOptions::default()
    };
    let tls = match db.sslmode {
        SslMode::Disable => None,
        mode => Some(sheetsync_store::tls_connector(
            mode,
            db.sslrootcert.as_deref(),
        )?),
    };
    let handle = match queue {
        Queue::Memory { sink, .. } => {
            tokio::spawn(run_listen(config, tls, sink.clone(), options, stop))
        }
        Queue::Sqs(sink) => tokio::spawn(run_listen(config, tls, sink.clone(), options, stop)),
    };
    Ok(Task::new(handle))
}

async fn run_listen<S: QueueSink>(
    config: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
    sink: Arc<S>,
    options: ListenOptions,
    stop: Stop,
) {
    let shutdown = stop.wait();
    let listen = async {
        match tls {
            None => sheetsync_outbox::listen(&config, NoTls, &*sink, &options, shutdown).await,
            Some(tls) => sheetsync_outbox::listen(&config, tls, &*sink, &options, shutdown).await,
        }
    };
    // The loop looks at the stop between drains only, and a drain of a
    // first sync's backlog runs for its whole budget: stop it where it is.
    // That is what a relay whose process ends does: rows it sent but did
    // not mark are sent again by the next relay, and the queue (and the
    // writer's watermark) drop the copies.
    tokio::select! {
        () = listen => {}
        () = stop.wait() => {}
    }
}

/// Queues the whole table for the sheet (the product's own backfill), so
/// the first sync goes through the relay and the writer like every later one.
/// One chunk per transaction, each committed; a stop ends it between two
/// chunks (`None`), and the next run's first sync queues the table again.
pub async fn first_sync(
    client: &mut Client,
    binding: &Binding,
    stop: &Stop,
) -> Result<Option<BackfillReport>, DevError> {
    let mut backfill = Backfill::new(client, binding, FIRST_SYNC_CHUNK_ROWS).await?;
    loop {
        if stop.fired() {
            tracing::info!(binding = %binding.name, queued_rows = backfill.report().queued_rows, "first sync stopped");
            return Ok(None);
        }
        if backfill.step(client).await? == Progress::Done {
            break;
        }
    }
    let report = backfill.report().clone();
    tracing::info!(binding = %binding.name, rows = report.queued_rows, chunks = report.chunks, "first sync queued");
    Ok(Some(report))
}
