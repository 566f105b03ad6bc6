//! The sheet-writer Lambda: an SQS event in, the batch item failures out.
//! The work is `sheetsync_writer::Writer`; this crate only adapts types and
//! reads its configuration from the environment.

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use sheetsync_metrics::{Metrics, names};
use sheetsync_sheets::{Budget, Endpoints, KeySource, Pace, SheetsClient, SheetsError};
use sheetsync_writer::{Message, Outcome, Writer};
use tokio::time::Instant;

/// Optional override of the Sheets API root URL (local runs and tests).
pub const ENV_ROOT_URL: &str = "SHEETS_API_ROOT_URL";
/// Optional override of the key's OAuth token URI.
pub const ENV_TOKEN_URI: &str = "GOOGLE_TOKEN_URI";

/// Optional: each service account's reads and writes per minute in this
/// container (unset: unpaced). docs/scale.md works out the value.
pub const ENV_PACE: &str = "SHEETSYNC_WRITER_PACE_PER_MINUTE";
/// Optional: how many of those may go at once after a quiet spell (the
/// rest spread so that any minute still holds the budget); default 1.
pub const ENV_PACE_BURST: &str = "SHEETSYNC_WRITER_PACE_BURST";
/// Optional: the least time a batch that made requests takes, in ms, so
/// that a spreadsheet's batches stay that far apart across containers.
pub const ENV_MIN_BATCH_MS: &str = "SHEETSYNC_WRITER_MIN_BATCH_MS";

/// Why the writer could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Sheets(#[from] SheetsError),
    #[error("{name}={value}: {reason}")]
    Setting {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// Time kept back from the Lambda deadline to answer with the failures.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// Builds the writer from the environment: the key or keys (JSON, file or
/// Secrets Manager ARN; a JSON array for several service accounts) are
/// loaded once, here, per container.
pub async fn writer_from_env() -> Result<Writer, ConfigError> {
    writer_from_lookup(|name| std::env::var(name).ok()).await
}

/// As [`writer_from_env`], reading variables through `get`.
pub async fn writer_from_lookup(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Writer, ConfigError> {
    let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
    let number = |name: &'static str| -> Result<Option<u32>, ConfigError> {
        set(name)
            .map(|value| {
                value
                    .trim()
                    .parse::<u32>()
                    .map_err(|e| ConfigError::Setting {
                        name,
                        reason: format!("not a whole number: {e}"),
                        value,
                    })
            })
            .transpose()
    };
    let pace = number(ENV_PACE)?.filter(|&n| n > 0);
    let burst = number(ENV_PACE_BURST)?.unwrap_or(1);
    let min_batch = Duration::from_millis(u64::from(number(ENV_MIN_BATCH_MS)?.unwrap_or(0)));
    let keys = KeySource::from_lookup(&get)?.load_all().await?;
    let endpoints = Endpoints {
        root_url: set(ENV_ROOT_URL),
        token_uri: set(ENV_TOKEN_URI),
    };
    let mut writer: Option<Writer> = None;
    for key in keys {
        // Each account its own budget: Google counts per service account.
        let client = SheetsClient::new(key, &endpoints).await?.with_pace(
            Pace::new(Budget {
                reads_per_minute: pace,
                writes_per_minute: pace,
            })
            .with_burst(burst),
        );
        writer = Some(match writer {
            None => Writer::new(client),
            Some(w) => w.with_account(client),
        });
    }
    let writer = writer.ok_or_else(|| SheetsError::Key("no key".into()))?;
    Ok(writer.with_min_batch_interval(min_batch))
}

/// The SQS records as writer messages (a record without a body is an empty,
/// undecodable message: reported, so it reaches the DLQ).
pub fn messages(event: &SqsEvent) -> Vec<Message> {
    event
        .records
        .iter()
        .map(|r| Message {
            message_id: r.message_id.clone().unwrap_or_default(),
            group_id: r.attributes.get("MessageGroupId").cloned(),
            body: r.body.clone().unwrap_or_default(),
        })
        .collect()
}

pub fn response(outcome: &Outcome) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = outcome
        .failed
        .iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id.clone();
            failure
        })
        .collect();
    response
}

/// The batch's CloudWatch metrics (EMF), dimension `[function]`.
pub fn metrics(outcome: &Outcome) -> Metrics {
    let s = &outcome.stats;
    let mut m = Metrics::new("sheet-writer");
    m.count(names::BATCH_SIZE, s.messages as u64)
        .count(names::ROWS_APPLIED, s.rows_applied() as u64)
        .count(names::SHEETS_REQUESTS, s.sheets_requests as u64)
        .count(names::SHEETS_THROTTLED, s.rate_limited as u64)
        .count(names::BATCH_ITEM_FAILURES, s.failed_messages as u64);
    if let Some(lag) = s.max_lag_ms {
        m.millis(names::COMMIT_TO_SHEET_LAG_MS, lag as f64);
    }
    m
}

/// Handles one invocation; `deadline` is when retries must stop.
pub async fn handle(writer: &Writer, event: SqsEvent, deadline: Instant) -> SqsBatchResponse {
    let outcome = writer.apply(&messages(&event), deadline).await;
    let s = &outcome.stats;
    tracing::info!(
        messages = s.messages,
        changes = s.changes,
        tabs = s.tabs,
        sheets_requests = s.sheets_requests,
        rate_limited = s.rate_limited,
        rows_applied = s.rows_applied(),
        stale = s.stale,
        failed_messages = s.failed_messages,
        lag_ms = s.max_lag_ms,
        "sqs batch done"
    );
    metrics(&outcome).emit();
    response(&outcome)
}
