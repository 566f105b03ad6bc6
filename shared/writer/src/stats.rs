//! Counts a batch returns so the handler can log them (and emit metrics).

use sheetsync_sheets::PlanStats;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// SQS messages in the batch.
    pub messages: usize,
    /// Row changes decoded.
    pub changes: usize,
    /// Tabs (read + write units) the batch touched.
    pub tabs: usize,
    /// Sheets API requests sent, retries included (token requests excluded).
    pub sheets_requests: usize,
    /// Requests answered 429.
    pub rate_limited: usize,
    /// Tabs whose changes were written in parts, each body under 2 MB.
    pub split_batches: usize,
    pub rows_updated: usize,
    pub rows_appended: usize,
    pub rows_deleted: usize,
    /// Changes skipped because the tab's watermark already covered them.
    pub stale: usize,
    pub failed_messages: usize,
    /// Writes that landed on another row (people moved rows meanwhile),
    /// found in the journal and repaired.
    pub misplaced: usize,
    /// Rows put back by those repairs.
    pub rows_restored: usize,
    /// Cells left alone because a person's formula there shows the table's value.
    pub formulas_kept: usize,
    /// Commit → sheet lag of the newest change applied, in milliseconds.
    pub max_lag_ms: Option<i64>,
}

impl BatchStats {
    pub fn rows_applied(&self) -> usize {
        self.rows_updated + self.rows_appended + self.rows_deleted
    }

    pub(crate) fn add_plan(&mut self, plan: &PlanStats) {
        self.rows_updated += plan.rows_updated;
        self.rows_appended += plan.rows_appended;
        self.rows_deleted += plan.rows_deleted;
        self.stale += plan.stale;
        self.misplaced += plan.misplaced;
        self.rows_restored += plan.rows_restored;
        self.formulas_kept += plan.formulas_kept;
    }

    pub(crate) fn merge(&mut self, other: BatchStats) {
        self.changes += other.changes;
        self.tabs += other.tabs;
        self.sheets_requests += other.sheets_requests;
        self.rate_limited += other.rate_limited;
        self.split_batches += other.split_batches;
        self.rows_updated += other.rows_updated;
        self.rows_appended += other.rows_appended;
        self.rows_deleted += other.rows_deleted;
        self.stale += other.stale;
        self.misplaced += other.misplaced;
        self.rows_restored += other.rows_restored;
        self.formulas_kept += other.formulas_kept;
        self.add_lag(other.max_lag_ms);
    }

    pub(crate) fn add_lag(&mut self, lag_ms: Option<i64>) {
        self.max_lag_ms = self.max_lag_ms.max(lag_ms);
    }
}
