//! The relay's Lambda handler: keeps one database connection across
//! invocations (reconnecting when it closed) and drains until the outbox
//! is idle or the invocation's time runs out.

use std::time::Duration;

use lambda_runtime::LambdaEvent;
use serde_json::Value as Json;
use sheetsync_config::DbConfig;
use sheetsync_metrics::{Metrics, names};
use sheetsync_outbox::drain::drain_until_idle;
use sheetsync_outbox::invoke::{Summary, scope_of};
use sheetsync_outbox::{BindingOutcome, DrainOptions, DrainReport, SqsSink};
use sheetsync_store::Pool;
use tracing::{error, info};

/// The queue the relay sends to.
pub const QUEUE_URL_ENV: &str = "SHEETSYNC_QUEUE_URL";

/// Time kept back from the invocation's deadline: one send may take
/// [`sheetsync_outbox::sqs::OPERATION_TIMEOUT`], and the deletes and the
/// answer need a moment.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(12);

/// How long a binding whose writers are mid-transaction is retried (an
/// invoke from a trigger arrives before its transaction commits).
pub const BUSY_RETRY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("{0}")]
    Config(#[from] sheetsync_config::ConfigError),
    #[error("{0}")]
    Store(#[from] sheetsync_store::StoreError),
    #[error("{0}")]
    Outbox(#[from] sheetsync_outbox::OutboxError),
    #[error("{QUEUE_URL_ENV} is not set: the relay needs its SQS queue URL")]
    NoQueue,
    #[error("database password: {0}")]
    Secret(#[from] sheetsync_aws::AwsError),
    #[error("{count} binding(s) failed: {first}")]
    Bindings { count: usize, first: String },
}

pub struct Relay<S = SqsSink> {
    /// One connection, kept across invocations.
    db: Pool,
    sink: S,
    opts: DrainOptions,
}

impl Relay<SqsSink> {
    /// Database settings as the CLI reads them (`DATABASE_URL` or
    /// `DB_HOST`…, the password possibly from `DB_PASSWORD_SECRET_ARN`), the
    /// queue from `SHEETSYNC_QUEUE_URL`.
    pub async fn from_env() -> Result<Relay<SqsSink>, RelayError> {
        let mut db = DbConfig::from_env()?;
        // One configuration (with the SQS timeouts) for the password's
        // secret and the queue.
        let aws = sheetsync_outbox::sqs::load_config().await;
        let arn = std::env::var(sheetsync_aws::DB_PASSWORD_SECRET_ARN_ENV).ok();
        sheetsync_aws::resolve_db_password(&mut db, arn.as_deref(), Some(&aws)).await?;
        let queue_url = std::env::var(QUEUE_URL_ENV).map_err(|_| RelayError::NoQueue)?;
        Ok(Relay::new(db, SqsSink::from_config(&aws, queue_url)))
    }
}

impl<S: sheetsync_outbox::QueueSink> Relay<S> {
    pub fn new(db: DbConfig, sink: S) -> Relay<S> {
        Relay {
            db: Pool::new(db, 1),
            sink,
            opts: DrainOptions::default(),
        }
    }

    /// One invocation: drains what the payload names until idle or the
    /// deadline. A binding that failed fails the invocation (after the
    /// others were drained), so it shows in the function's error metrics.
    pub async fn handle(&self, event: LambdaEvent<Json>) -> Result<Json, RelayError> {
        let scope = scope_of(&event.payload);
        let deadline = sheetsync_aws::invocation_deadline(event.context.deadline, DEADLINE_MARGIN);
        let mut report = DrainReport::default();
        let mut retried = false;
        loop {
            let mut lease = self.db.lease().await?;
            let round = drain_until_idle(
                &mut lease.conn().client,
                &self.sink,
                &scope,
                &self.opts,
                deadline,
                BUSY_RETRY,
            )
            .await;
            // A connection kept from an earlier invocation may have been
            // closed by the server meanwhile: then one fresh attempt.
            let retry = lease.conn().client.is_closed() && lease.reused && !retried;
            match round {
                Ok(r) => report.merge(r),
                Err(e) if !retry => return Err(e.into()),
                Err(_) => {}
            }
            // Draining again is safe: a resend carries the same
            // deduplication ids.
            if !retry {
                break;
            }
            retried = true;
            report
                .bindings
                .retain(|b| !matches!(b.outcome, BindingOutcome::Failed(_)));
        }
        let summary = Summary::of(&report);
        info!(
            request_id = %event.context.request_id,
            rows = summary.rows_sent,
            messages = summary.messages,
            "relay invocation done"
        );
        for mut m in metrics(&summary) {
            m.emit();
        }
        let failed: Vec<_> = summary.failed().collect();
        if let Some(first) = failed.first() {
            let text = first.error.clone().unwrap_or_default();
            error!(request_id = %event.context.request_id, binding = %first.binding, error = %text, "relay binding failed");
            return Err(RelayError::Bindings {
                count: failed.len(),
                first: text,
            });
        }
        Ok(serde_json::to_value(&summary).unwrap_or(Json::Null))
    }
}

impl From<RelayError> for lambda_runtime::Diagnostic {
    fn from(e: RelayError) -> Self {
        let kind = match &e {
            RelayError::Config(_) => "Config",
            RelayError::Store(_) => "Database",
            RelayError::Outbox(_) => "Outbox",
            RelayError::NoQueue => "Config",
            RelayError::Secret(_) => "Secret",
            RelayError::Bindings { .. } => "BindingFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: kind.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// The invocation's CloudWatch metrics (EMF lines), one per binding drained:
/// outbox rows moved and messages SQS accepted, dimensions `[function]` and
/// `[function, binding]`.
pub fn metrics(summary: &Summary) -> Vec<Metrics> {
    summary
        .bindings
        .iter()
        .map(|b| {
            let mut m = Metrics::new("outbox-relay");
            m.set_binding(&b.binding)
                .count(names::BATCH_SIZE, b.rows_sent)
                .count(names::MESSAGES_SENT, b.messages)
                .property("outcome", b.outcome.clone());
            m
        })
        .collect()
}
