//! Metric names shared by the functions, the alarms in template.yaml and any
//! dashboard: one spelling each.

/// Rows written: by the webhook into the table, by the writer onto the sheet.
pub const ROWS_APPLIED: &str = "RowsApplied";
/// Cells where both sides changed; the losing value went to sheetsync.conflicts.
pub const CONFLICTS: &str = "Conflicts";
/// Rows refused (a value that does not convert to its column's type).
pub const REJECTS: &str = "Rejects";
/// Items in one unit of work: rows of a webhook request, outbox rows of a
/// relay drain, messages of an SQS batch.
pub const BATCH_SIZE: &str = "BatchSize";
/// Sheets API requests sent (at most two per batch by design).
pub const SHEETS_REQUESTS: &str = "SheetsRequests";
/// Sheets API answers of 429 (quota): normal operation, but worth watching.
pub const SHEETS_THROTTLED: &str = "SheetsThrottled";
/// From the row change's commit to the sheet's batchUpdate success, per change
/// (unit Milliseconds). The template's lag alarm watches its maximum.
pub const COMMIT_TO_SHEET_LAG_MS: &str = "CommitToSheetLagMs";
/// SQS messages the relay had accepted.
pub const MESSAGES_SENT: &str = "MessagesSent";
/// Messages of a batch reported as failed (ReportBatchItemFailures).
pub const BATCH_ITEM_FAILURES: &str = "BatchItemFailures";
/// Webhook events already processed (a retry of the script) and skipped.
pub const DUPLICATE_EVENTS: &str = "DuplicateEvents";
