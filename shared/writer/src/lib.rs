//! The sheet writer's batch logic, independent of the Lambda runtime: an
//! SQS batch of change messages → at most one read and one batchUpdate per
//! tab, with FIFO-style failure reporting.
//!
//! Failure reporting: when a message fails (cannot be decoded, or its tab
//! could not be written), it and every later message of its message group
//! are reported as batch item failures, so SQS redelivers them in order.
//! Earlier messages of the group stay applied. A message that can never
//! apply goes to the DLQ through the queue's redrive policy.

mod retry;
mod stats;
mod units;

use std::time::{SystemTime, UNIX_EPOCH};

use sheetsync_queue::{ChangeBatch, Op};
use sheetsync_sheets::chunks;
use sheetsync_sheets::journal::{Journal, journal_title};
use sheetsync_sheets::{PlanStats, SheetsClient, SheetsError, TabError, journaled_plan};
use tokio::time::Instant;

pub use retry::RetryPolicy;
pub use stats::BatchStats;
use units::{Step, Target, split};

pub use sheetsync_queue::Message;

/// What became of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Message ids to report as batch item failures, in batch order.
    pub failed: Vec<String>,
    pub stats: BatchStats,
}

pub struct Writer {
    client: SheetsClient,
    retry: RetryPolicy,
}

impl Writer {
    pub fn new(client: SheetsClient) -> Writer {
        Writer {
            client,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Writer {
        self.retry = retry;
        self
    }

    pub fn client(&self) -> &SheetsClient {
        &self.client
    }

    /// Applies `messages` (in queue order); retries stop before `deadline`.
    ///
    /// Message groups (bindings) are independent: their tabs are applied
    /// concurrently, each group's units in order.
    pub async fn apply(&self, messages: &[Message], deadline: Instant) -> Outcome {
        let mut stats = BatchStats {
            messages: messages.len(),
            ..BatchStats::default()
        };
        let mut failed: Vec<usize> = Vec::new();
        let steps = split(messages);
        // A poison message naming no group holds back every later message.
        let hold_after = steps
            .iter()
            .filter_map(|s| match s {
                Step::Poison {
                    group: None,
                    position,
                    ..
                } => Some(*position),
                _ => None,
            })
            .min();
        let mut chains: Vec<(String, Vec<Step>)> = Vec::new();
        for step in steps {
            match step.group() {
                Some(group) => match chains.iter_mut().find(|(g, _)| g == group) {
                    Some((_, chain)) => chain.push(step),
                    None => chains.push((group.to_string(), vec![step])),
                },
                None => failed.push(poison(step)),
            }
        }
        let results = futures_util::future::join_all(
            chains
                .into_iter()
                .map(|(group, steps)| self.apply_chain(group, steps, hold_after, deadline)),
        )
        .await;
        for (chain_failed, chain_stats) in results {
            failed.extend(chain_failed);
            stats.merge(chain_stats);
        }
        failed.sort_unstable();
        failed.dedup();
        let failed: Vec<String> = failed
            .into_iter()
            .map(|p| messages[p].message_id.clone())
            .collect();
        stats.failed_messages = failed.len();
        Outcome { failed, stats }
    }

    /// One group's steps in order; after the first failure every later
    /// message of the group is reported without being tried.
    async fn apply_chain(
        &self,
        group: String,
        steps: Vec<Step>,
        hold_after: Option<usize>,
        deadline: Instant,
    ) -> (Vec<usize>, BatchStats) {
        let mut failed = Vec::new();
        let mut stats = BatchStats::default();
        let mut stopped = false;
        for step in steps {
            let held = hold_after.is_some_and(|p| step.first_position() > p);
            let Step::Unit {
                target, messages, ..
            } = step
            else {
                failed.push(poison(step));
                stopped = true;
                continue;
            };
            stats.changes += messages.iter().map(|m| m.2.changes.len()).sum::<usize>();
            if stopped || held {
                failed.extend(messages.iter().map(|m| m.0));
                continue;
            }
            let result = self
                .apply_unit(&group, &target, &messages, deadline, &mut stats)
                .await;
            if let Err(error) = result {
                let ids: Vec<&str> = messages.iter().map(|m| m.1.as_str()).collect();
                tracing::error!(
                    binding = %group,
                    spreadsheet_id = %target.spreadsheet_id,
                    sheet = %target.sheet,
                    message_ids = ?ids,
                    transient = error.is_transient(),
                    error = %error,
                    "changes not applied; reporting the messages and every later one of the group"
                );
                failed.extend(messages.iter().map(|m| m.0));
                stopped = true;
            }
        }
        (failed, stats)
    }

    /// One tab's consecutive messages, in parts of at most one write each.
    async fn apply_unit(
        &self,
        group: &str,
        target: &Target,
        messages: &[(usize, String, ChangeBatch)],
        deadline: Instant,
        stats: &mut BatchStats,
    ) -> Result<(), SheetsError> {
        if Instant::now() >= deadline {
            return Err(SheetsError::Transport(
                "no time left in this invocation; the queue redelivers".into(),
            ));
        }
        stats.tabs += 1;
        let batches: Vec<&ChangeBatch> = messages.iter().map(|m| &m.2).collect();
        // Each write stays under Google's 2 MB guidance: a batch whose
        // planned body is larger is applied as consecutive parts, each read
        // and written on its own (a part still too large is split again).
        let bytes = match self
            .apply_part(group, target, &batches, deadline, stats)
            .await?
        {
            None => return Ok(()),
            Some(bytes) => bytes,
        };
        let mut parts = chunks::split_to_fit(&batches, bytes);
        tracing::info!(
            binding = %group,
            sheet = %target.sheet,
            parts = parts.len(),
            "batch larger than one write; applied in parts"
        );
        stats.split_batches += 1;
        parts.reverse();
        while let Some(part) = parts.pop() {
            if let Some(bytes) = self
                .apply_part(group, target, &[&part], deadline, stats)
                .await?
            {
                parts.extend(chunks::split_to_fit(&[&part], bytes).into_iter().rev());
            }
        }
        Ok(())
    }

    /// One read and one write, retried as a pair on 429/5xx: a retry reads
    /// again, since rows may have moved while we waited. `Some(bytes)` when
    /// the planned body was over the payload guidance and nothing was written.
    async fn apply_part(
        &self,
        group: &str,
        target: &Target,
        batches: &[&ChangeBatch],
        deadline: Instant,
        stats: &mut BatchStats,
    ) -> Result<Option<usize>, SheetsError> {
        let messages = batches.len();
        let mut attempt = 0;
        loop {
            // A request still running at the deadline is abandoned: the
            // invocation must answer before Lambda stops it. If its write
            // landed, the redelivery finds the watermark and skips it.
            let attempt_result =
                tokio::time::timeout_at(deadline, self.read_plan_write(target, batches, stats))
                    .await
                    .unwrap_or_else(|_| {
                        Err(SheetsError::Transport(
                            "the invocation's deadline passed during the request".into(),
                        ))
                    });
            match attempt_result {
                Ok(Written::TooLarge { bytes }) => return Ok(Some(bytes)),
                Ok(Written::Applied(plan)) => {
                    stats.add_plan(&plan);
                    if plan.watermark.is_some() {
                        stats.add_lag(lag_ms(batches));
                    }
                    tracing::info!(
                        binding = %group,
                        spreadsheet_id = %target.spreadsheet_id,
                        sheet = %target.sheet,
                        messages,
                        changes = plan.changes,
                        stale = plan.stale,
                        rows_updated = plan.rows_updated,
                        rows_appended = plan.rows_appended,
                        rows_deleted = plan.rows_deleted,
                        skipped_updates = plan.skipped_updates,
                        misplaced = plan.misplaced,
                        rows_restored = plan.rows_restored,
                        formulas_kept = plan.formulas_kept,
                        watermark = plan.watermark,
                        attempts = attempt + 1,
                        "batch applied to the sheet"
                    );
                    return Ok(None);
                }
                Err(error) if error.is_transient() => {
                    if matches!(error, SheetsError::RateLimited { .. }) {
                        stats.rate_limited += 1;
                    }
                    let Some(pause) =
                        self.retry
                            .pause(attempt, error.retry_after(), Instant::now(), deadline)
                    else {
                        return Err(error);
                    };
                    tracing::warn!(
                        binding = %group,
                        sheet = %target.sheet,
                        attempt,
                        pause_ms = pause.as_millis() as u64,
                        error = %error,
                        "Sheets API busy; backing off"
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Reads, plans and writes until the batch's journal shows every row
    /// landed where it was meant: a person may move rows between the read
    /// and the write, and the next round repairs what that misplaced. A
    /// round that landed but left damage for later (each undoes at most
    /// `RESTORES_PER_ROUND` rows) is followed by another; only rounds that
    /// missed count against `MAX_REPAIRS`.
    async fn read_plan_write(
        &self,
        target: &Target,
        batches: &[&ChangeBatch],
        stats: &mut BatchStats,
    ) -> Result<Written, SheetsError> {
        let mut repairs = PlanStats::default();
        let mut missed_rounds = 0;
        while missed_rounds <= MAX_REPAIRS {
            let requests = &mut stats.sheets_requests;
            let read = self
                .client
                .read_for_batch(
                    &target.spreadsheet_id,
                    &target.sheet,
                    &target.key_columns,
                    batches,
                    requests,
                )
                .await;
            // A key column renamed in these batches: the header still shows
            // its old name until this batch renames the cell.
            let before = match &read {
                Err(SheetsError::Tab(TabError::MissingKeyColumn { .. })) => {
                    key_names_before_renames(&target.key_columns, batches)
                }
                _ => None,
            };
            let tab = match before {
                Some(before) => {
                    self.client
                        .read_for_batch(
                            &target.spreadsheet_id,
                            &target.sheet,
                            &before,
                            batches,
                            requests,
                        )
                        .await?
                }
                None => read?,
            };
            let repair = match &tab.journal {
                Some(journal) if !journal.misplaced().is_empty() => {
                    stats.sheets_requests += 1;
                    self.client
                        .read_journal(&target.spreadsheet_id, &target.sheet)
                        .await?
                }
                _ => None,
            };
            let mut plan = journaled_plan(&tab, batches, generation(), repair);
            repairs.misplaced += plan.stats.misplaced;
            repairs.rows_restored += plan.stats.rows_restored;
            plan.stats.misplaced = repairs.misplaced;
            plan.stats.rows_restored = repairs.rows_restored;
            let Some(body) = &plan.body else {
                self.client.remember_positions(
                    &target.spreadsheet_id,
                    &target.sheet,
                    plan.positions_after,
                );
                return Ok(Written::Applied(plan.stats));
            };
            // A repair round is bounded (RESTORES_PER_ROUND) and not split.
            let changes: usize = batches.iter().map(|b| b.changes.len()).sum();
            if plan.stats.misplaced == 0 && changes > 1 {
                let bytes = body.encoded_len();
                if bytes > chunks::PAYLOAD_GUIDANCE {
                    return Ok(Written::TooLarge { bytes });
                }
            }
            stats.sheets_requests += 1;
            let answer = self
                .client
                .batch_update(&target.spreadsheet_id, body)
                .await?;
            let title = journal_title(&target.sheet);
            let journal = answer
                .updated_spreadsheet
                .and_then(|s| s.sheets.into_iter().find(|s| s.properties.title == title))
                .map(|s| Journal::from_sheet(&s));
            let misplaced = journal.as_ref().map(|j| j.misplaced().len());
            if misplaced == Some(0) {
                self.client.remember_positions(
                    &target.spreadsheet_id,
                    &target.sheet,
                    plan.positions_after,
                );
                return Ok(Written::Applied(plan.stats));
            }
            if journal.as_ref().is_some_and(|j| j.missed_writes() == 0) {
                tracing::info!(
                    spreadsheet_id = %target.spreadsheet_id,
                    sheet = %target.sheet,
                    misplaced = ?misplaced,
                    "repair round landed; damage left for the next round"
                );
                continue;
            }
            missed_rounds += 1;
            // Which rows were hit instead: grid row, op, the key meant and
            // the key found (keys only, never other cells); a few, since a
            // round under many sorts misses hundreds.
            let rows: Vec<String> = journal
                .iter()
                .flat_map(|j| {
                    j.misplaced().into_iter().map(|e| {
                        let found: Vec<&serde_json::Value> = j
                            .key_index
                            .iter()
                            .map(|&i| {
                                e.before
                                    .get(i)
                                    .map_or(&serde_json::Value::Null, |c| &c.value)
                            })
                            .collect();
                        format!(
                            "{} row {} key {:?} found {:?}",
                            e.op.name(),
                            e.row,
                            e.expected,
                            found
                        )
                    })
                })
                .take(LOGGED_MISPLACED_ROWS)
                .collect();
            tracing::warn!(
                spreadsheet_id = %target.spreadsheet_id,
                sheet = %target.sheet,
                misplaced = ?misplaced,
                first = ?rows,
                "rows moved while the batch was written; repairing"
            );
        }
        Err(SheetsError::Transport(format!(
            "rows kept moving during {} attempts to place the batch; the queue redelivers it and the journal keeps the tab unsettled until it lands",
            MAX_REPAIRS + 1
        )))
    }
}

/// What a round of read → plan → write did.
enum Written {
    Applied(PlanStats),
    /// The planned body was `bytes`, over the payload guidance: not sent.
    TooLarge {
        bytes: usize,
    },
}

/// Rounds of read → write a unit gets to land every row.
const MAX_REPAIRS: usize = 4;
/// How many misplaced rows a repair warning names.
const LOGGED_MISPLACED_ROWS: usize = 10;

/// A batch's name in the journal: unique per batch of a tab.
fn generation() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

/// Logs a message that can never apply; returns its position.
fn poison(step: Step) -> usize {
    match step {
        Step::Poison {
            group,
            position,
            message_id,
            error,
        } => {
            tracing::error!(
                message_id = %message_id,
                group = group.as_deref().unwrap_or(""),
                error = %error,
                "message can never apply; reported failed so the redrive policy moves it to the DLQ"
            );
            position
        }
        Step::Unit { messages, .. } => messages.first().map_or(0, |m| m.0),
    }
}

/// Commit → sheet lag of the newest change, from its `committed_at`.
fn lag_ms(batches: &[&ChangeBatch]) -> Option<i64> {
    let newest = batches.iter().rev().find_map(|b| b.changes.last())?;
    let committed = chrono::DateTime::parse_from_rfc3339(&newest.committed_at).ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    Some(now.as_millis() as i64 - committed.timestamp_millis())
}

/// The key columns under the names they had before the renames in
/// `batches`, when any was renamed there.
fn key_names_before_renames(keys: &[String], batches: &[&ChangeBatch]) -> Option<Vec<String>> {
    let mut schemas: Vec<_> = batches
        .iter()
        .flat_map(|b| b.changes.iter())
        .filter_map(|c| match &c.op {
            Op::Schema(schema) => Some((c.seq, schema)),
            _ => None,
        })
        .collect();
    schemas.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    let mut names = keys.to_vec();
    for (_, schema) in schemas {
        for name in &mut names {
            if let Some(r) = schema.renamed.iter().find(|r| r.to == *name) {
                name.clone_from(&r.from);
            }
        }
    }
    (names != keys).then_some(names)
}
