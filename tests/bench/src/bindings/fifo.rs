//! The queue as SQS FIFO with the Lambda event source serves it: one
//! queue per message group (the spreadsheet), a group with a batch in flight
//! is not handed out again until that batch is answered, a batch is up to
//! 10 messages of one group (SQS returns as many of one group as it can),
//! the group whose oldest message waited longest goes first, and a batch
//! item failure puts the message and every later one of its group back at
//! the front — at once, or, with [`Fifo::with_visibility`], once the
//! queue's visibility timeout has passed, as SQS does (the group's later
//! messages wait behind them). `writers` workers stand for
//! WriterMaxConcurrency.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sheetsync_queue::decode_batches;
use sheetsync_writer::{Message, Writer};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// Lambda's largest batch from a FIFO queue.
const BATCH: usize = 10;
/// The writer's Lambda timeout (template.yaml) less the 3 s it keeps.
const INVOCATION: Duration = Duration::from_secs(57);

#[derive(Default)]
struct State {
    groups: HashMap<String, VecDeque<(u64, Message)>>,
    in_flight: HashSet<String>,
    arrivals: u64,
    /// When each message reached the queue (ms since the epoch), by id.
    arrived_ms: HashMap<String, i64>,
    /// Groups whose failed messages are invisible until then.
    hidden_until: HashMap<String, Instant>,
}

#[derive(Default)]
pub struct Fifo {
    state: Mutex<State>,
    ready: Notify,
    /// How long failed messages stay invisible (zero: redelivered at once).
    visibility: Duration,
}

impl Fifo {
    /// A queue whose failed messages come back after `visibility`
    /// (template.yaml's `VisibilityTimeout`), not at once.
    pub fn with_visibility(visibility: Duration) -> Fifo {
        Fifo {
            visibility,
            ..Fifo::default()
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, message: Message) {
        let mut s = self.state();
        s.arrivals += 1;
        let arrival = s.arrivals;
        s.arrived_ms.insert(
            message.message_id.clone(),
            chrono::Utc::now().timestamp_millis(),
        );
        let group = message.group_id.clone().unwrap_or_default();
        s.groups
            .entry(group)
            .or_default()
            .push_back((arrival, message));
        drop(s);
        self.ready.notify_waiters();
    }

    fn take(&self) -> Option<(String, Vec<(u64, Message)>)> {
        let mut s = self.state();
        let now = Instant::now();
        s.hidden_until.retain(|_, until| *until > now);
        let group = s
            .groups
            .iter()
            .filter(|(g, q)| {
                !q.is_empty() && !s.in_flight.contains(*g) && !s.hidden_until.contains_key(*g)
            })
            .min_by_key(|(_, q)| q.front().map_or(u64::MAX, |m| m.0))
            .map(|(g, _)| g.clone())?;
        let queue = s.groups.get_mut(&group)?;
        let n = queue.len().min(BATCH);
        let batch: Vec<(u64, Message)> = queue.drain(..n).collect();
        s.in_flight.insert(group.clone());
        Some((group, batch))
    }

    /// Answers a batch: `failed` (in batch order) go back to the front.
    fn answer(&self, group: &str, failed: Vec<(u64, Message)>) {
        let mut s = self.state();
        if !failed.is_empty() && !self.visibility.is_zero() {
            s.hidden_until
                .insert(group.to_string(), Instant::now() + self.visibility);
        }
        let queue = s.groups.entry(group.to_string()).or_default();
        for m in failed.into_iter().rev() {
            queue.push_front(m);
        }
        s.in_flight.remove(group);
        drop(s);
        self.ready.notify_waiters();
    }

    /// When the next hidden group becomes visible again.
    fn next_visible(&self) -> Option<Instant> {
        self.state().hidden_until.values().min().copied()
    }

    /// When a message reached the queue, forgotten once asked.
    fn arrived_ms(&self, message_id: &str) -> Option<i64> {
        self.state().arrived_ms.remove(message_id)
    }

    /// Messages the queue has received.
    pub fn arrivals(&self) -> u64 {
        self.state().arrivals
    }

    /// Messages waiting for a writer (not counting a batch in flight).
    pub fn queued(&self) -> usize {
        self.state().groups.values().map(VecDeque::len).sum()
    }

    /// Batches a writer holds.
    pub fn in_flight(&self) -> usize {
        self.state().in_flight.len()
    }

    /// Nothing queued and nothing in flight.
    pub fn idle(&self) -> bool {
        let s = self.state();
        s.in_flight.is_empty() && s.groups.values().all(VecDeque::is_empty)
    }
}

/// The relay in LISTEN mode, its messages pushed into a [`Fifo`].
pub struct Relay {
    relay: tokio::task::JoinHandle<()>,
    pump: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Starts the relay on `config` with `linger`; it stops when `stop`
    /// changes.
    pub fn spawn(
        config: tokio_postgres::Config,
        linger: Duration,
        fifo: Arc<Fifo>,
        mut stop: watch::Receiver<bool>,
    ) -> Relay {
        let (queue, mut received) = sheetsync_outbox::MemoryQueue::new(100_000);
        let options = sheetsync_outbox::ListenOptions {
            linger,
            ..sheetsync_outbox::ListenOptions::default()
        };
        let relay = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.changed().await;
            };
            sheetsync_outbox::listen(&config, tokio_postgres::NoTls, &queue, &options, shutdown)
                .await;
        });
        let pump = tokio::spawn(async move {
            while let Some(m) = received.recv().await {
                fifo.push(m);
            }
        });
        Relay { relay, pump }
    }

    /// Waits for the relay to stop (after `stop` changed).
    pub async fn stopped(self) {
        let _ = self.relay.await;
        self.pump.abort();
    }
}

/// What the writers saw, per binding (by its index in the fleet).
#[derive(Debug, Default)]
pub struct Record {
    /// Commit → cell of every applied change, in ms, per binding.
    pub lags: Vec<Vec<i64>>,
    /// The same for the changes committed once warm (all bindings).
    pub warm_lags: Vec<i64>,
    /// Of that, commit → queue (the relay, linger included) and queue →
    /// cell (waiting for the group's turn, then the writer's requests), per
    /// applied message, from its newest change.
    pub to_queue: Vec<i64>,
    pub in_queue: Vec<i64>,
    /// Messages applied after a later message of their binding had been.
    pub out_of_order: u64,
    /// Messages reported failed (redelivered).
    pub redelivered: u64,
    /// 429s the writers were answered (from their batch stats).
    pub rate_limited: u64,
    pub units: u64,
    /// Batches the writers applied (one `Writer::apply` each).
    pub batches: u64,
    last_seq: HashMap<String, i64>,
}

/// The writers, one per service account, and the fleet's indexes.
pub struct Workers {
    pub fifo: Arc<Fifo>,
    pub writers: Vec<Arc<Writer>>,
    /// Message group (spreadsheet) → the writer of its service account.
    pub writer_of: HashMap<String, usize>,
    /// Binding name → its index in the fleet.
    pub binding_index: HashMap<String, usize>,
    /// Changes committed from then on (ms since the epoch) count as warm:
    /// every writer has read every tab by then.
    pub warm_from_ms: i64,
    pub record: Arc<Mutex<Record>>,
}

impl Workers {
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let taken = loop {
                let notified = self.fifo.ready.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(t) = self.fifo.take() {
                    break t;
                }
                let visible = self.fifo.next_visible();
                tokio::select! {
                    () = &mut notified => {}
                    () = tokio::time::sleep_until(visible.unwrap_or_else(Instant::now)), if visible.is_some() => {}
                    _ = stop.changed() => return,
                }
            };
            let (group, batch) = taken;
            let Some(&writer) = self.writer_of.get(&group) else {
                self.fifo.answer(&group, Vec::new());
                continue;
            };
            let messages: Vec<Message> = batch.iter().map(|m| m.1.clone()).collect();
            let outcome = self.writers[writer]
                .apply(&messages, Instant::now() + INVOCATION)
                .await;
            let now = chrono::Utc::now().timestamp_millis();
            let failed: HashSet<&str> = outcome.failed.iter().map(String::as_str).collect();
            let mut again = Vec::new();
            {
                let mut record = self.record.lock().unwrap_or_else(|p| p.into_inner());
                record.rate_limited += outcome.stats.rate_limited as u64;
                record.units += outcome.stats.tabs as u64;
                record.batches += 1;
                for (arrival, message) in batch {
                    if failed.contains(message.message_id.as_str()) {
                        record.redelivered += 1;
                        again.push((arrival, message));
                        continue;
                    }
                    let Ok(batches) = decode_batches(&message.body) else {
                        continue;
                    };
                    for changes in batches {
                        let Some(&binding) = self.binding_index.get(&changes.binding) else {
                            continue;
                        };
                        let newest = changes.changes.last().and_then(|c| {
                            chrono::DateTime::parse_from_rfc3339(&c.committed_at).ok()
                        });
                        if let (Some(at), Some(queued)) =
                            (newest, self.fifo.arrived_ms(&message.message_id))
                        {
                            record.to_queue.push(queued - at.timestamp_millis());
                            record.in_queue.push(now - queued);
                        }
                        let first = changes.changes.first().map_or(0, |c| c.seq);
                        let last = changes.changes.last().map_or(0, |c| c.seq);
                        let before = record.last_seq.insert(changes.binding.clone(), last);
                        if before.is_some_and(|b| b >= first) {
                            record.out_of_order += 1;
                        }
                        if record.lags.len() <= binding {
                            record.lags.resize(binding + 1, Vec::new());
                        }
                        for c in &changes.changes {
                            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&c.committed_at) {
                                let lag = now - at.timestamp_millis();
                                record.lags[binding].push(lag);
                                if at.timestamp_millis() >= self.warm_from_ms {
                                    record.warm_lags.push(lag);
                                }
                            }
                        }
                    }
                }
            }
            self.fifo.answer(&group, again);
        }
    }
}
