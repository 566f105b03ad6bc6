//! The sheet writer's batch logic, independent of the Lambda runtime: an
//! SQS batch of change messages → one read and one batchUpdate per message
//! group (a spreadsheet: every tab of it in the batch together), with
//! FIFO-style failure reporting.
//!
//! Failure reporting: when a tab's messages fail (its tab could not be
//! written), they and every later message of that tab are reported as
//! batch item failures, so SQS redelivers them in order; the group's other
//! tabs go on. A message that cannot be decoded names no tab: it holds back
//! every later message of its group. Earlier messages stay applied. A
//! message that can never apply goes to the DLQ through the queue's
//! redrive policy.

mod retry;
mod stats;
mod units;

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sheetsync_queue::{ChangeBatch, Op};
use sheetsync_sheets::chunks;
use sheetsync_sheets::journal::{Journal, journal_title};
use sheetsync_sheets::{
    BatchUpdate, Plan, PlanStats, SheetsClient, SheetsError, TabBatches, TabError, journaled_plan,
};
use tokio::time::Instant;

pub use retry::RetryPolicy;
pub use stats::BatchStats;
use units::{Queued, Step, TabWork, Target, split};

pub use sheetsync_queue::Message;

/// What became of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Message ids to report as batch item failures, in batch order.
    pub failed: Vec<String>,
    pub stats: BatchStats,
}

pub struct Writer {
    /// One client per service account; never empty.
    accounts: Vec<SheetsClient>,
    retry: RetryPolicy,
    min_batch: Duration,
}

impl Writer {
    pub fn new(client: SheetsClient) -> Writer {
        Writer {
            accounts: vec![client],
            retry: RetryPolicy::default(),
            min_batch: Duration::ZERO,
        }
    }

    /// Another service account: each spreadsheet is written by one account,
    /// [`account_for`] its id, so that the accounts share the project's
    /// per-minute quota (docs/scale.md). Every account must be able to
    /// edit every spreadsheet.
    pub fn with_account(mut self, client: SheetsClient) -> Writer {
        self.accounts.push(client);
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Writer {
        self.retry = retry;
        self
    }

    /// A batch that made requests returns no sooner than `interval` after
    /// it started. SQS FIFO hands a group's next batch out only once this
    /// one is answered, so its spreadsheet's requests stay that far apart
    /// whichever container takes the next batch (docs/scale.md, Pacing).
    pub fn with_min_batch_interval(mut self, interval: Duration) -> Writer {
        self.min_batch = interval;
        self
    }

    fn client_for(&self, spreadsheet_id: &str) -> &SheetsClient {
        &self.accounts[account_for(spreadsheet_id, self.accounts.len())]
    }

    /// Applies `messages` (in queue order); retries stop before `deadline`.
    ///
    /// Message groups (spreadsheets) are independent: they are applied
    /// concurrently, each group's units in order.
    pub async fn apply(&self, messages: &[Message], deadline: Instant) -> Outcome {
        let started = Instant::now();
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
        if stats.sheets_requests > 0 && !self.min_batch.is_zero() {
            tokio::time::sleep_until((started + self.min_batch).min(deadline)).await;
        }
        Outcome { failed, stats }
    }

    /// One group's steps in order. After a tab fails, every later message
    /// of that tab is reported without being tried; after a poison message
    /// (its tab unknown), every later message of the group.
    async fn apply_chain(
        &self,
        group: String,
        steps: Vec<Step>,
        hold_after: Option<usize>,
        deadline: Instant,
    ) -> (Vec<usize>, BatchStats) {
        let mut failed = Vec::new();
        let mut stats = BatchStats::default();
        let mut stopped_tabs: HashSet<String> = HashSet::new();
        let mut stopped = false;
        for step in steps {
            let held = stopped || hold_after.is_some_and(|p| step.first_position() > p);
            let Step::Unit { tabs, .. } = step else {
                failed.push(poison(step));
                stopped = true;
                continue;
            };
            let (go, wait): (Vec<TabWork>, Vec<TabWork>) = tabs
                .into_iter()
                .partition(|t| !held && !stopped_tabs.contains(&t.target.sheet));
            for tab in go.iter().chain(&wait) {
                stats.changes += tab
                    .messages
                    .iter()
                    .map(|m| m.2.changes.len())
                    .sum::<usize>();
            }
            failed.extend(wait.iter().flat_map(|t| t.messages.iter().map(|m| m.0)));
            if go.is_empty() {
                continue;
            }
            for (tabs, error) in self.apply_unit(&group, &go, deadline, &mut stats).await {
                let sheets: Vec<&str> = tabs.iter().map(|&i| go[i].target.sheet.as_str()).collect();
                let ids: Vec<&str> = tabs
                    .iter()
                    .flat_map(|&i| go[i].messages.iter().map(|m| m.1.as_str()))
                    .collect();
                tracing::error!(
                    group = %group,
                    spreadsheet_id = %go[0].target.spreadsheet_id,
                    sheets = ?sheets,
                    message_ids = ?ids,
                    transient = error.is_transient(),
                    error = %error,
                    "changes not applied; reporting the messages and every later one of their tabs"
                );
                for i in tabs {
                    failed.extend(go[i].messages.iter().map(|m| m.0));
                    stopped_tabs.insert(go[i].target.sheet.clone());
                }
            }
        }
        (failed, stats)
    }

    /// A unit's tabs: together in one read and one write where they can be,
    /// else each on its own. Returns the tabs that failed (by index in
    /// `tabs`), grouped by the error that stopped them.
    async fn apply_unit(
        &self,
        group: &str,
        tabs: &[TabWork],
        deadline: Instant,
        stats: &mut BatchStats,
    ) -> Vec<(Vec<usize>, SheetsError)> {
        stats.tabs += tabs.len();
        let mut alone: Vec<usize> = (0..tabs.len()).collect();
        if tabs.len() > 1 {
            match self.apply_together(tabs, deadline, stats).await {
                Ok(left) => alone = left,
                Err(error) if error.is_transient() => return vec![(alone, error)],
                // One tab's request refused (a tab deleted, say) refuses the
                // whole batchUpdate: each tab on its own then finds which.
                Err(error) => tracing::warn!(
                    group,
                    error = %error,
                    "the tabs' shared write was refused; writing each on its own"
                ),
            }
        }
        let mut failed = Vec::new();
        for i in alone {
            let tab = &tabs[i];
            if let Err(error) = self
                .apply_tab(&tab.target, &tab.messages, deadline, stats)
                .await
            {
                failed.push((vec![i], error));
            }
        }
        failed
    }

    /// Every tab of a unit with one key read and one write, retried as a
    /// pair on 429/5xx. Returns the tabs left to apply on their own: those
    /// whose read needs more than keys and rows, whose plan is over the
    /// payload guidance alone, or whose rows moved during the write.
    async fn apply_together(
        &self,
        tabs: &[TabWork],
        deadline: Instant,
        stats: &mut BatchStats,
    ) -> Result<Vec<usize>, SheetsError> {
        let mut attempt = 0;
        loop {
            if Instant::now() >= deadline {
                return Err(no_time_left());
            }
            let round = tokio::time::timeout_at(
                deadline,
                self.read_plan_write_together(tabs, &mut stats.sheets_requests),
            )
            .await
            .unwrap_or_else(|_| Err(deadline_passed()));
            match round {
                Ok(Together { applied, alone }) => {
                    for (i, plan) in applied {
                        let batches: Vec<&ChangeBatch> =
                            tabs[i].messages.iter().map(|m| &m.2).collect();
                        record_applied(&tabs[i].target, &batches, &plan, attempt, stats);
                    }
                    return Ok(alone);
                }
                Err(error) if error.is_transient() => {
                    self.back_off(
                        error,
                        attempt,
                        deadline,
                        stats,
                        &tabs[0].target.spreadsheet_id,
                        None,
                    )
                    .await?;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn read_plan_write_together(
        &self,
        tabs: &[TabWork],
        requests: &mut usize,
    ) -> Result<Together, SheetsError> {
        let spreadsheet_id = &tabs[0].target.spreadsheet_id;
        let client = self.client_for(spreadsheet_id);
        let batches: Vec<Vec<&ChangeBatch>> = tabs
            .iter()
            .map(|t| t.messages.iter().map(|m| &m.2).collect())
            .collect();
        let shares: Vec<TabBatches> = tabs
            .iter()
            .zip(&batches)
            .map(|(t, batches)| TabBatches {
                sheet: &t.target.sheet,
                key_columns: &t.target.key_columns,
                batches,
            })
            .collect();
        let images = client
            .read_for_tabs(spreadsheet_id, &shares, requests)
            .await?;
        let mut together = Together::default();
        let mut planned: Vec<(usize, Plan)> = Vec::new();
        let generation = generation();
        for (i, image) in images.into_iter().enumerate() {
            let target = &tabs[i].target;
            // A failed read, or a tab whose journal shows misplaced rows
            // (a repair reads the journal's cells as entered), goes alone.
            let tab = match image {
                Ok(tab)
                    if tab
                        .journal
                        .as_ref()
                        .is_none_or(|j| j.misplaced().is_empty()) =>
                {
                    tab
                }
                _ => {
                    together.alone.push(i);
                    continue;
                }
            };
            let plan = journaled_plan(&tab, &batches[i], generation.clone(), None);
            match &plan.body {
                None => {
                    client.remember_positions(spreadsheet_id, &target.sheet, plan.positions_after);
                    together.applied.push((i, plan.stats));
                }
                Some(body) if body.encoded_len() > chunks::PAYLOAD_GUIDANCE => {
                    together.alone.push(i);
                }
                Some(_) => planned.push((i, plan)),
            }
        }
        for write in pack_writes(planned) {
            let mut body = BatchUpdate::new(Vec::new());
            for (_, plan) in &write {
                if let Some(part) = &plan.body {
                    body.requests.extend(part.requests.iter().cloned());
                    body.response_ranges
                        .extend(part.response_ranges.iter().cloned());
                    body.include_spreadsheet_in_response |= part.include_spreadsheet_in_response;
                    body.response_include_grid_data |= part.response_include_grid_data;
                }
            }
            *requests += 1;
            let answer = client.batch_update(spreadsheet_id, &body).await?;
            drop(body);
            let journals = answer
                .updated_spreadsheet
                .map(|s| s.sheets)
                .unwrap_or_default();
            for (i, plan) in write {
                let sheet = &tabs[i].target.sheet;
                let title = journal_title(sheet);
                let landed = journals
                    .iter()
                    .find(|s| s.properties.title == title)
                    .map(Journal::from_sheet)
                    .is_some_and(|j| j.misplaced().is_empty());
                if landed {
                    client.remember_positions(spreadsheet_id, sheet, plan.positions_after);
                    together.applied.push((i, plan.stats));
                } else {
                    // Rows moved during the write: the tab's own rounds repair it.
                    together.alone.push(i);
                }
            }
        }
        together.alone.sort_unstable();
        Ok(together)
    }

    /// One tab's consecutive messages, in parts of at most one write each.
    async fn apply_tab(
        &self,
        target: &Target,
        messages: &[Queued],
        deadline: Instant,
        stats: &mut BatchStats,
    ) -> Result<(), SheetsError> {
        if Instant::now() >= deadline {
            return Err(no_time_left());
        }
        let batches: Vec<&ChangeBatch> = messages.iter().map(|m| &m.2).collect();
        // Each write stays under Google's 2 MB guidance: a batch whose
        // planned body is larger is applied as consecutive parts, each read
        // and written on its own (a part still too large is split again).
        let bytes = match self.apply_part(target, &batches, deadline, stats).await? {
            None => return Ok(()),
            Some(bytes) => bytes,
        };
        let mut parts = chunks::split_to_fit(&batches, bytes);
        tracing::info!(
            binding = %target.binding,
            sheet = %target.sheet,
            parts = parts.len(),
            "batch larger than one write; applied in parts"
        );
        stats.split_batches += 1;
        parts.reverse();
        while let Some(part) = parts.pop() {
            if let Some(bytes) = self.apply_part(target, &[&part], deadline, stats).await? {
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
        target: &Target,
        batches: &[&ChangeBatch],
        deadline: Instant,
        stats: &mut BatchStats,
    ) -> Result<Option<usize>, SheetsError> {
        let mut attempt = 0;
        loop {
            let attempt_result =
                tokio::time::timeout_at(deadline, self.read_plan_write(target, batches, stats))
                    .await
                    .unwrap_or_else(|_| Err(deadline_passed()));
            match attempt_result {
                Ok(Written::TooLarge { bytes }) => return Ok(Some(bytes)),
                Ok(Written::Applied(plan)) => {
                    record_applied(target, batches, &plan, attempt, stats);
                    return Ok(None);
                }
                Err(error) if error.is_transient() => {
                    self.back_off(
                        error,
                        attempt,
                        deadline,
                        stats,
                        &target.spreadsheet_id,
                        Some(target),
                    )
                    .await?;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Waits out a transient error before the next attempt, or gives it
    /// back when no attempt fits before the deadline. `tab` names the
    /// binding and tab in the log (`None` for a unit's tabs together).
    async fn back_off(
        &self,
        error: SheetsError,
        attempt: u32,
        deadline: Instant,
        stats: &mut BatchStats,
        spreadsheet_id: &str,
        tab: Option<&Target>,
    ) -> Result<(), SheetsError> {
        if matches!(error, SheetsError::RateLimited { .. }) {
            stats.rate_limited += 1;
        }
        let Some(pause) = self
            .retry
            .pause(attempt, error.retry_after(), Instant::now(), deadline)
        else {
            return Err(error);
        };
        tracing::warn!(
            spreadsheet_id,
            binding = tab.map(|t| t.binding.as_str()),
            sheet = tab.map(|t| t.sheet.as_str()),
            attempt,
            pause_ms = pause.as_millis() as u64,
            error = %error,
            "Sheets API busy; backing off"
        );
        tokio::time::sleep(pause).await;
        Ok(())
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
        let client = self.client_for(&target.spreadsheet_id);
        let mut repairs = PlanStats::default();
        let mut missed_rounds = 0;
        while missed_rounds <= MAX_REPAIRS {
            let requests = &mut stats.sheets_requests;
            let read = client
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
                    client
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
                    client
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
                client.remember_positions(
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
            let answer = client.batch_update(&target.spreadsheet_id, body).await?;
            let title = journal_title(&target.sheet);
            let journal = answer
                .updated_spreadsheet
                .and_then(|s| s.sheets.into_iter().find(|s| s.properties.title == title))
                .map(|s| Journal::from_sheet(&s));
            let misplaced = journal.as_ref().map(|j| j.misplaced().len());
            if misplaced == Some(0) {
                client.remember_positions(
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

/// What a shared round of a unit's tabs did, by index in the unit.
#[derive(Default)]
struct Together {
    applied: Vec<(usize, PlanStats)>,
    alone: Vec<usize>,
}

/// Planned tabs as writes of at most the payload guidance each, in tab
/// order (each plan is under it on its own).
fn pack_writes(planned: Vec<(usize, Plan)>) -> Vec<Vec<(usize, Plan)>> {
    let mut writes: Vec<Vec<(usize, Plan)>> = Vec::new();
    let mut bytes = 0;
    for (i, plan) in planned {
        let size = plan.body.as_ref().map_or(0, BatchUpdate::encoded_len);
        match writes.last_mut() {
            Some(write) if bytes + size <= chunks::PAYLOAD_GUIDANCE => {
                bytes += size;
                write.push((i, plan));
            }
            _ => {
                bytes = size;
                writes.push(vec![(i, plan)]);
            }
        }
    }
    writes
}

/// Counts and logs a tab's batches as applied.
fn record_applied(
    target: &Target,
    batches: &[&ChangeBatch],
    plan: &PlanStats,
    attempt: u32,
    stats: &mut BatchStats,
) {
    stats.add_plan(plan);
    if plan.watermark.is_some() {
        stats.add_lag(lag_ms(batches));
    }
    tracing::info!(
        binding = %target.binding,
        spreadsheet_id = %target.spreadsheet_id,
        sheet = %target.sheet,
        messages = batches.len(),
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
}

fn no_time_left() -> SheetsError {
    SheetsError::Transport("no time left in this invocation; the queue redelivers".into())
}

// A request still running at the deadline is abandoned: the invocation
// must answer before Lambda stops it. If its write landed, the redelivery
// finds the watermark and skips it.
fn deadline_passed() -> SheetsError {
    SheetsError::Transport("the invocation's deadline passed during the request".into())
}

/// Which of `accounts` service accounts writes a spreadsheet: a stable
/// hash of its id (FNV-1a), the same in every container and release.
pub fn account_for(spreadsheet_id: &str, accounts: usize) -> usize {
    let hash = spreadsheet_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (hash % accounts.max(1) as u64) as usize
}

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
        Step::Unit { .. } => step.first_position(),
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
