//! One drain: per binding, horizon → claim → pack → send → delete.
//!
//! Bindings take turns: a turn is at most one claim (`claim_rows`), and a
//! binding with more rows left is drained again after every other binding
//! of the drain had its turn, so one binding's backlog (a backfill, a bulk
//! `UPDATE`) never holds back the others' changes until it is all sent.
//!
//! Rows are deleted only for messages the queue accepted, in the same
//! transaction that claimed them; if the relay dies before that commits,
//! the rows stay and the next drain sends the same messages again (same
//! deduplication ids). After a failed send the binding stops: a later
//! message must never overtake an earlier one of the same binding.

use std::time::{Duration, Instant};

use tokio_postgres::Client;
use tracing::{error, info, warn};

use crate::OutboxError;
use crate::claim::{self, OutboxRow};
use crate::horizon::{Horizon, horizon};
use crate::pack::{self, PackLimits, PackedMessage};
use crate::sink::{EntryOutcome, MAX_ENTRIES_PER_REQUEST, OutgoingMessage, QueueSink};
use crate::target::Target;

/// Which bindings a drain looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every binding with outbox rows.
    All,
    Bindings(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct DrainOptions {
    /// Rows claimed per transaction.
    pub claim_rows: i64,
    pub limits: PackLimits,
    /// How long the horizon may make writers wait (see [`crate::horizon`]).
    pub horizon_wait: Duration,
    /// [`drain_until_idle`]: after a round that sent rows, drain again at
    /// once for rows committed meanwhile. A lingering relay turns it off:
    /// those rows' notifications bring them after the linger.
    pub again_while_sending: bool,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions {
            claim_rows: 1000,
            limits: PackLimits::default(),
            horizon_wait: Duration::from_millis(20),
            again_while_sending: true,
        }
    }
}

#[derive(Debug)]
pub enum BindingOutcome {
    /// Everything up to the horizon was sent (or there was nothing).
    Drained,
    /// Another relay is draining this binding.
    OtherRelay,
    /// Writers held the binding's lock; its rows wait for the next drain.
    WritersBusy,
    /// The deadline came first; the rest waits for the next drain.
    Deadline,
    /// Stopped by an error; unsent rows stay in the outbox.
    Failed(OutboxError),
}

#[derive(Debug)]
pub struct BindingReport {
    pub binding: String,
    pub rows_sent: u64,
    pub messages: u64,
    pub requests: u64,
    pub outcome: BindingOutcome,
}

#[derive(Debug, Default)]
pub struct DrainReport {
    pub bindings: Vec<BindingReport>,
}

impl DrainReport {
    pub fn rows_sent(&self) -> u64 {
        self.bindings.iter().map(|b| b.rows_sent).sum()
    }

    pub fn messages(&self) -> u64 {
        self.bindings.iter().map(|b| b.messages).sum()
    }

    pub fn failures(&self) -> impl Iterator<Item = (&str, &OutboxError)> {
        self.bindings.iter().filter_map(|b| match &b.outcome {
            BindingOutcome::Failed(e) => Some((b.binding.as_str(), e)),
            _ => None,
        })
    }

    /// Bindings whose writers were busy (their changes are still to come).
    pub fn busy(&self) -> Vec<String> {
        self.bindings
            .iter()
            .filter(|b| matches!(b.outcome, BindingOutcome::WritersBusy))
            .map(|b| b.binding.clone())
            .collect()
    }
}

/// Drains the bindings of `scope` once each, up to each one's horizon.
/// Errors of one binding are in its report; `Err` only when the bindings
/// cannot be listed.
pub async fn drain<S: QueueSink>(
    client: &mut Client,
    sink: &S,
    scope: &Scope,
    opts: &DrainOptions,
    deadline: Instant,
) -> Result<DrainReport, OutboxError> {
    check_schemas(client, scope).await;
    let names = match scope {
        Scope::All => pending_bindings(client).await?,
        Scope::Bindings(names) => names.clone(),
    };
    let mut report = DrainReport {
        bindings: names
            .into_iter()
            .map(|binding| BindingReport {
                binding,
                rows_sent: 0,
                messages: 0,
                requests: 0,
                outcome: BindingOutcome::Drained,
            })
            .collect(),
    };
    let mut turn: Vec<usize> = (0..report.bindings.len()).collect();
    while !turn.is_empty() {
        let mut again = Vec::new();
        for i in turn {
            let b = &mut report.bindings[i];
            b.outcome = match drain_binding(client, sink, b, opts, deadline).await {
                Ok(Turn::Over(outcome)) => outcome,
                Ok(Turn::More) => {
                    again.push(i);
                    continue;
                }
                Err(e) => BindingOutcome::Failed(e),
            };
            if let BindingOutcome::Failed(e) = &b.outcome {
                warn!(binding = %b.binding, error = %e, "outbox drain stopped");
            }
        }
        turn = again;
    }
    Ok(report)
}

/// How a binding's turn ended.
enum Turn {
    Over(BindingOutcome),
    /// A full claim was sent and more rows may wait: another turn, after
    /// the other bindings'.
    More,
}

/// Drains until a round sends nothing, retrying bindings whose writers
/// were busy (a trigger-invoked relay runs before its writer commits) for
/// at most `busy_for`, and stopping at `deadline`.
pub async fn drain_until_idle<S: QueueSink>(
    client: &mut Client,
    sink: &S,
    scope: &Scope,
    opts: &DrainOptions,
    deadline: Instant,
    busy_for: Duration,
) -> Result<DrainReport, OutboxError> {
    let busy_until = Instant::now() + busy_for;
    let mut total = DrainReport::default();
    let mut round_scope = scope.clone();
    let mut pause = Duration::from_millis(10);
    loop {
        let report = drain(client, sink, &round_scope, opts, deadline).await?;
        let sent = report.rows_sent();
        let busy = report.busy();
        let failed = report.failures().next().is_some();
        total.bindings.extend(report.bindings);
        let now = Instant::now();
        if failed || now >= deadline {
            return Ok(total);
        }
        if sent > 0 && opts.again_while_sending {
            round_scope = scope.clone();
            continue;
        }
        if busy.is_empty() || now >= busy_until {
            return Ok(total);
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(now))).await;
        pause = (pause * 2).min(Duration::from_millis(500));
        round_scope = Scope::Bindings(busy);
    }
}

/// Queues the schema changes of the scope's tables that no statement has
/// noticed yet (an `ALTER TABLE` with no write after it): see
/// shared/store/migrations/0005_schema_changes.sql. A failure is logged and the
/// drain goes on; the next statement on the table or the next drain tries
/// again.
async fn check_schemas(client: &Client, scope: &Scope) {
    let names: Option<Vec<String>> = match scope {
        Scope::All => None,
        Scope::Bindings(names) => Some(names.clone()),
    };
    let checked = client
        .query(
            "SELECT name, sheetsync.check_schema(name) FROM sheetsync.bindings
              WHERE $1::text[] IS NULL OR name = ANY($1)",
            &[&names],
        )
        .await;
    match checked {
        Ok(rows) => {
            for row in rows {
                let changed: i32 = row.get(1);
                if changed > 0 {
                    let binding: String = row.get(0);
                    info!(binding = %binding, columns = changed, "table columns changed; queued for the sheet");
                }
            }
        }
        Err(e) => warn!(error = %e, "could not compare the bound tables' columns with the catalog"),
    }
}

async fn pending_bindings(client: &Client) -> Result<Vec<String>, OutboxError> {
    let rows = client
        .query(
            "SELECT b.name FROM sheetsync.bindings b
              WHERE EXISTS (SELECT 1 FROM sheetsync.outbox o WHERE o.binding = b.name)
              ORDER BY b.name",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

async fn drain_binding<S: QueueSink>(
    client: &mut Client,
    sink: &S,
    report: &mut BindingReport,
    opts: &DrainOptions,
    deadline: Instant,
) -> Result<Turn, OutboxError> {
    use BindingOutcome::{Deadline, Drained, OtherRelay, WritersBusy};
    let binding = report.binding.clone();
    let upto = match horizon(client, &binding, opts.horizon_wait).await? {
        Horizon::At(seq) => seq,
        Horizon::Empty => return Ok(Turn::Over(Drained)),
        Horizon::Busy => return Ok(Turn::Over(WritersBusy)),
    };
    let target = Target::load(client, &binding).await?;
    if Instant::now() >= deadline {
        return Ok(Turn::Over(Deadline));
    }
    let tx = client.transaction().await?;
    if !claim::try_drain_lock(&tx, &binding).await? {
        return Ok(Turn::Over(OtherRelay));
    }
    // Rows at or below an earlier turn's claim were deleted with it.
    let rows = claim::claim(&tx, &binding, 0, upto, opts.claim_rows).await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(Turn::Over(Drained));
    }
    let messages_before = report.messages;
    let (sent, stop) = send_rows(sink, &target, &rows, opts, deadline, report).await;
    let deleted = claim::delete(&tx, &binding, &sent).await?;
    tx.commit().await?;
    if let (Some(first), Some(last)) = (sent.first(), sent.last()) {
        info!(
            binding = %binding,
            first_seq = first,
            last_seq = last,
            rows = deleted,
            messages = report.messages - messages_before,
            horizon = upto,
            "outbox rows sent"
        );
    }
    if let Some(outcome) = stop {
        return Ok(Turn::Over(outcome));
    }
    if (rows.len() as i64) < opts.claim_rows {
        return Ok(Turn::Over(Drained));
    }
    Ok(Turn::More)
}

/// Packs and sends claimed rows; returns the sequences the queue accepted,
/// and why sending stopped early, if it did.
async fn send_rows<S: QueueSink>(
    sink: &S,
    target: &Target,
    rows: &[OutboxRow],
    opts: &DrainOptions,
    deadline: Instant,
    report: &mut BindingReport,
) -> (Vec<i64>, Option<BindingOutcome>) {
    let packed = pack::pack(target, rows, opts.limits);
    let group_id = pack::group_id(&target.spreadsheet_id);
    let mut accepted = Vec::new();
    for range in pack::requests(
        &packed.messages,
        MAX_ENTRIES_PER_REQUEST,
        opts.limits.max_message_bytes,
    ) {
        if Instant::now() >= deadline {
            return (accepted, Some(BindingOutcome::Deadline));
        }
        let messages = &packed.messages[range];
        let entries: Vec<OutgoingMessage> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| OutgoingMessage {
                entry_id: format!("m{i}"),
                group_id: group_id.clone(),
                dedup_id: pack::dedup_id(&target.binding, m),
                body: m.body.clone(),
            })
            .collect();
        let first_seq = messages.first().map_or(0, PackedMessage::first_seq);
        let last_seq = messages.last().map_or(0, PackedMessage::last_seq);
        report.requests += 1;
        let outcomes = match sink.send_batch(&entries).await {
            Ok(o) => o,
            Err(source) => {
                let e = OutboxError::Send {
                    binding: target.binding.clone(),
                    first_seq,
                    last_seq,
                    source,
                };
                return (accepted, Some(BindingOutcome::Failed(e)));
            }
        };
        let mut refused = None;
        for (m, outcome) in messages.iter().zip(outcomes) {
            match outcome {
                EntryOutcome::Accepted => {
                    accepted.extend_from_slice(&m.seqs);
                    report.messages += 1;
                    report.rows_sent += m.seqs.len() as u64;
                }
                EntryOutcome::Failed { code, message } => {
                    refused.get_or_insert(OutboxError::Refused {
                        binding: target.binding.clone(),
                        first_seq: m.first_seq(),
                        last_seq: m.last_seq(),
                        code,
                        message,
                    });
                }
            }
        }
        if let Some(e) = refused {
            let refused_first = match &e {
                OutboxError::Refused { first_seq, .. } => *first_seq,
                _ => 0,
            };
            if let Some(after) = accepted.iter().find(|s| **s > refused_first) {
                // SQS accepted a later message of the group after refusing an
                // earlier one: the writer's watermark will pass the refused
                // changes. Only a backfill repairs the sheet now.
                error!(
                    binding = %target.binding,
                    refused_seq = refused_first,
                    accepted_seq = after,
                    "queue accepted changes after refusing an earlier one; run `sheetsync backfill` for this binding"
                );
            }
            return (accepted, Some(BindingOutcome::Failed(e)));
        }
    }
    (accepted, packed.stopped.map(BindingOutcome::Failed))
}
