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
use crate::bundle::{self, Bundle, Lane};
use crate::claim;
use crate::horizon::{Horizon, horizon};
use crate::pack::{self, PackLimits, PackedMessage};
use crate::sink::{EntryOutcome, MAX_ENTRIES_PER_REQUEST, OutgoingMessage, QueueSink, SinkError};
use crate::target::Target;

/// Which bindings a drain looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every binding with outbox rows.
    All,
    Bindings(Vec<String>),
}

impl Scope {
    /// The named bindings, as a query's `text[]` parameter (NULL for all).
    fn names(&self) -> Option<&[String]> {
        match self {
            Scope::All => None,
            Scope::Bindings(names) => Some(names),
        }
    }
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
    /// Empty when the binding could not be loaded.
    pub spreadsheet_id: String,
    pub rows_sent: u64,
    pub messages: u64,
    pub requests: u64,
    pub outcome: BindingOutcome,
}

#[derive(Debug, Default)]
pub struct DrainReport {
    pub bindings: Vec<BindingReport>,
    /// Queue messages sent: a bundle counts once here and once in the
    /// report of each binding it carries.
    pub messages: u64,
}

impl DrainReport {
    pub fn rows_sent(&self) -> u64 {
        self.bindings.iter().map(|b| b.rows_sent).sum()
    }

    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Adds a later drain's report to this one.
    pub fn merge(&mut self, later: DrainReport) {
        self.bindings.extend(later.bindings);
        self.messages += later.messages;
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

/// Drains the bindings of `scope` once each, up to each one's horizon,
/// together with the other bindings of their spreadsheets that have rows
/// (their changes share messages: [`crate::bundle`]). Errors of one
/// binding are in its report; `Err` only when the bindings cannot be
/// listed.
pub async fn drain<S: QueueSink>(
    client: &mut Client,
    sink: &S,
    scope: &Scope,
    opts: &DrainOptions,
    deadline: Instant,
) -> Result<DrainReport, OutboxError> {
    check_schemas(client, scope).await;
    let names = pending_bindings(client, scope).await?;
    let mut report = DrainReport {
        bindings: names
            .into_iter()
            .map(|binding| BindingReport {
                binding,
                spreadsheet_id: String::new(),
                rows_sent: 0,
                messages: 0,
                requests: 0,
                outcome: BindingOutcome::Drained,
            })
            .collect(),
        messages: 0,
    };
    let mut targets: Vec<Option<Target>> = Vec::with_capacity(report.bindings.len());
    for b in &mut report.bindings {
        match Target::load(client, &b.binding).await {
            Ok(t) => {
                b.spreadsheet_id = t.spreadsheet_id.clone();
                targets.push(Some(t));
            }
            Err(e) => {
                warn!(binding = %b.binding, error = %e, "outbox drain stopped");
                b.outcome = BindingOutcome::Failed(e);
                targets.push(None);
            }
        }
    }
    let mut turn: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].is_some())
        .collect();
    while !turn.is_empty() {
        let mut again = Vec::new();
        for lanes in spreadsheets(&turn, &targets) {
            for (i, turned) in
                drain_spreadsheet(client, sink, &lanes, opts, deadline, &mut report).await
            {
                let b = &mut report.bindings[i];
                b.outcome = match turned {
                    Turn::More => {
                        again.push(i);
                        continue;
                    }
                    Turn::Over(outcome) => outcome,
                };
                if let BindingOutcome::Failed(e) = &b.outcome {
                    warn!(binding = %b.binding, error = %e, "outbox drain stopped");
                }
            }
        }
        again.sort_unstable();
        turn = again;
    }
    Ok(report)
}

/// `turn`'s bindings (those whose target loaded) by spreadsheet, in the
/// order of each one's first binding.
fn spreadsheets<'a>(
    turn: &[usize],
    targets: &'a [Option<Target>],
) -> Vec<Vec<(usize, &'a Target)>> {
    let mut groups: Vec<Vec<(usize, &Target)>> = Vec::new();
    for &i in turn {
        let Some(t) = &targets[i] else { continue };
        match groups
            .iter_mut()
            .find(|g| g[0].1.spreadsheet_id == t.spreadsheet_id)
        {
            Some(g) => g.push((i, t)),
            None => groups.push(vec![(i, t)]),
        }
    }
    groups
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
        total.merge(report);
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
    let names = scope.names();
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

/// The scope's bindings, and every other binding of their spreadsheets
/// that has outbox rows (for `Scope::All`, every binding with rows).
async fn pending_bindings(client: &Client, scope: &Scope) -> Result<Vec<String>, OutboxError> {
    let names = scope.names();
    let rows = client
        .query(
            "SELECT b.name FROM sheetsync.bindings b
              WHERE ($1::text[] IS NOT NULL AND b.name = ANY($1))
                 OR (($1::text[] IS NULL OR b.spreadsheet_id IN
                        (SELECT s.spreadsheet_id FROM sheetsync.bindings s WHERE s.name = ANY($1)))
                     AND EXISTS (SELECT 1 FROM sheetsync.outbox o WHERE o.binding = b.name))
              ORDER BY b.name",
            &[&names],
        )
        .await?;
    let mut found: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    // A named binding that is not (or no longer) bound still gets its
    // report: loading it says why.
    for name in names.unwrap_or_default() {
        if !found.contains(name) {
            found.push(name.clone());
        }
    }
    Ok(found)
}

/// One binding's rows claimed in a spreadsheet's drain.
struct Claimed<'a> {
    index: usize,
    target: &'a Target,
    rows: usize,
    upto: i64,
    packed: Vec<PackedMessage>,
    /// Why packing stopped early, if it did.
    stopped: Option<OutboxError>,
    /// Sequences the queue accepted, and in how many messages.
    sent: Vec<i64>,
    messages: u64,
    /// Why sending stopped for this binding, if it did.
    outcome: Option<BindingOutcome>,
}

/// One turn of a spreadsheet's bindings: their horizons, then one
/// transaction that claims each one's rows, sends them bundled, and deletes
/// what the queue accepted. Answers each binding's turn.
async fn drain_spreadsheet<S: QueueSink>(
    client: &mut Client,
    sink: &S,
    lanes: &[(usize, &Target)],
    opts: &DrainOptions,
    deadline: Instant,
    report: &mut DrainReport,
) -> Vec<(usize, Turn)> {
    use BindingOutcome::{Deadline, Drained, OtherRelay, WritersBusy};
    let mut turns = Vec::new();
    let mut ready: Vec<(usize, &Target, i64)> = Vec::new();
    for &(i, target) in lanes {
        match horizon(client, &target.binding, opts.horizon_wait).await {
            Ok(Horizon::At(upto)) => ready.push((i, target, upto)),
            Ok(Horizon::Empty) => turns.push((i, Turn::Over(Drained))),
            Ok(Horizon::Busy) => turns.push((i, Turn::Over(WritersBusy))),
            Err(e) => turns.push((i, Turn::Over(BindingOutcome::Failed(e)))),
        }
    }
    if ready.is_empty() {
        return turns;
    }
    if Instant::now() >= deadline {
        turns.extend(ready.iter().map(|r| (r.0, Turn::Over(Deadline))));
        return turns;
    }
    let tx = match client.transaction().await {
        Ok(tx) => tx,
        Err(e) => {
            fail_all(&mut turns, &ready, OutboxError::Db(e));
            return turns;
        }
    };
    let mut claimed: Vec<Claimed> = Vec::new();
    for &(index, target, upto) in &ready {
        let binding = &target.binding;
        let rows = match claim::try_drain_lock(&tx, binding).await {
            Ok(false) => {
                turns.push((index, Turn::Over(OtherRelay)));
                continue;
            }
            // Rows at or below an earlier turn's claim were deleted with it.
            Ok(true) => claim::claim(&tx, binding, 0, upto, opts.claim_rows).await,
            Err(e) => Err(e),
        };
        match rows {
            Ok(rows) if rows.is_empty() => turns.push((index, Turn::Over(Drained))),
            Ok(rows) => {
                let packed = pack::pack(target, &rows, opts.limits);
                claimed.push(Claimed {
                    index,
                    target,
                    rows: rows.len(),
                    upto,
                    packed: packed.messages,
                    stopped: packed.stopped,
                    sent: Vec::new(),
                    messages: 0,
                    outcome: None,
                });
            }
            // The transaction is aborted: nothing of this turn is sent.
            Err(e) => {
                fail_all(&mut turns, &ready, e);
                return turns;
            }
        }
    }
    send_bundles(sink, &mut claimed, opts, deadline, report).await;
    for c in &claimed {
        if let Err(e) = claim::delete(&tx, &c.target.binding, &c.sent).await {
            fail_all(&mut turns, &ready, e);
            return turns;
        }
    }
    if let Err(e) = tx.commit().await {
        fail_all(&mut turns, &ready, OutboxError::Db(e));
        return turns;
    }
    for c in claimed {
        let b = &report.bindings[c.index];
        if let (Some(first), Some(last)) = (c.sent.first(), c.sent.last()) {
            info!(
                binding = %b.binding,
                first_seq = first,
                last_seq = last,
                rows = c.sent.len(),
                messages = c.messages,
                horizon = c.upto,
                "outbox rows sent"
            );
        }
        let turn = match (c.outcome, c.stopped) {
            (Some(outcome), _) => Turn::Over(outcome),
            (None, Some(stopped)) => Turn::Over(BindingOutcome::Failed(stopped)),
            (None, None) if (c.rows as i64) < opts.claim_rows => Turn::Over(Drained),
            (None, None) => Turn::More,
        };
        turns.push((c.index, turn));
    }
    turns
}

/// A failed statement aborts the transaction and so the turn of every
/// binding in it: the first is given the error, the others a note that
/// names it (an answer given before the failure is replaced).
fn fail_all(turns: &mut Vec<(usize, Turn)>, ready: &[(usize, &Target, i64)], e: OutboxError) {
    turns.retain(|(i, _)| !ready.iter().any(|r| r.0 == *i));
    let reason = e.to_string();
    let transient = e.is_transient();
    let mut errors = vec![e];
    errors.extend(ready[1..].iter().map(|r| OutboxError::Sibling {
        binding: r.1.binding.clone(),
        reason: reason.clone(),
        transient,
    }));
    turns.extend(
        ready
            .iter()
            .zip(errors)
            .map(|(r, e)| (r.0, Turn::Over(BindingOutcome::Failed(e)))),
    );
}

/// Sends the claimed bindings' messages as bundles, in requests of at most
/// ten. The first request that fails ends the turn for every binding with
/// messages left: a later message of a binding must never overtake an
/// earlier one that was not sent.
async fn send_bundles<S: QueueSink>(
    sink: &S,
    claimed: &mut [Claimed<'_>],
    opts: &DrainOptions,
    deadline: Instant,
    report: &mut DrainReport,
) {
    let lanes: Vec<Lane> = claimed
        .iter()
        .map(|c| Lane {
            binding: &c.target.binding,
            messages: &c.packed,
        })
        .collect();
    let bundles = bundle::bundle(&lanes, opts.limits);
    let sizes: Vec<usize> = bundles.iter().map(|b| b.body.len()).collect();
    let group_id = match claimed.first() {
        Some(c) => pack::group_id(&c.target.spreadsheet_id),
        None => return,
    };
    let mut stopped = false;
    for range in pack::requests(
        &sizes,
        MAX_ENTRIES_PER_REQUEST,
        opts.limits.max_message_bytes,
    ) {
        let sending = &bundles[range];
        if stopped || Instant::now() >= deadline {
            for b in sending {
                for &(lane, _) in &b.parts {
                    claimed[lane]
                        .outcome
                        .get_or_insert(BindingOutcome::Deadline);
                }
            }
            stopped = true;
            continue;
        }
        let entries: Vec<OutgoingMessage> = sending
            .iter()
            .enumerate()
            .map(|(i, b)| OutgoingMessage {
                entry_id: format!("m{i}"),
                group_id: group_id.clone(),
                dedup_id: b.dedup_id.clone(),
                body: b.body.clone(),
            })
            .collect();
        let mut in_request: Vec<usize> = sending
            .iter()
            .flat_map(|b| b.parts.iter().map(|p| p.0))
            .collect();
        in_request.sort_unstable();
        in_request.dedup();
        for &lane in &in_request {
            report.bindings[claimed[lane].index].requests += 1;
        }
        let outcomes = match sink.send_batch(&entries).await {
            Ok(o) => o,
            Err(source) => {
                for lane in in_request {
                    let c = &mut claimed[lane];
                    let (first_seq, last_seq) = seq_range(c, sending, lane);
                    c.outcome
                        .get_or_insert(BindingOutcome::Failed(OutboxError::Send {
                            binding: c.target.binding.clone(),
                            first_seq,
                            last_seq,
                            source: SinkError(source.0.clone()),
                        }));
                }
                stopped = true;
                continue;
            }
        };
        for (b, outcome) in sending.iter().zip(outcomes) {
            match outcome {
                EntryOutcome::Accepted => {
                    report.messages += 1;
                    for &(lane, m) in &b.parts {
                        let c = &mut claimed[lane];
                        let message = &c.packed[m];
                        if let Some(BindingOutcome::Failed(OutboxError::Refused {
                            first_seq,
                            ..
                        })) = &c.outcome
                        {
                            // SQS accepted a later message of the group after
                            // refusing an earlier one: the writer's watermark
                            // will pass the refused changes. Only a backfill
                            // repairs the sheet now.
                            error!(
                                binding = %c.target.binding,
                                refused_seq = first_seq,
                                accepted_seq = message.first_seq(),
                                "queue accepted changes after refusing an earlier one; run `sheetsync backfill` for this binding"
                            );
                        }
                        c.sent.extend_from_slice(&message.seqs);
                        c.messages += 1;
                        let r = &mut report.bindings[c.index];
                        r.messages += 1;
                        r.rows_sent += message.seqs.len() as u64;
                    }
                }
                EntryOutcome::Failed { code, message } => {
                    for &(lane, m) in &b.parts {
                        let c = &mut claimed[lane];
                        c.outcome
                            .get_or_insert(BindingOutcome::Failed(OutboxError::Refused {
                                binding: c.target.binding.clone(),
                                first_seq: c.packed[m].first_seq(),
                                last_seq: c.packed[m].last_seq(),
                                code: code.clone(),
                                message: message.clone(),
                            }));
                    }
                    stopped = true;
                }
            }
        }
    }
}

/// The first and last sequence of `lane`'s messages among `bundles`.
fn seq_range(c: &Claimed<'_>, bundles: &[Bundle], lane: usize) -> (i64, i64) {
    let mine: Vec<&PackedMessage> = bundles
        .iter()
        .flat_map(|b| b.parts.iter())
        .filter(|p| p.0 == lane)
        .map(|p| &c.packed[p.1])
        .collect();
    (
        mine.first().map_or(0, |m| m.first_seq()),
        mine.last().map_or(0, |m| m.last_seq()),
    )
}
