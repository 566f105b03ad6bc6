//! The production sink: `SendMessageBatch` to an SQS FIFO queue.
//!
//! The SDK's HTTP client is sheetsync-aws's (hyper with rustls on `ring`,
//! no aws-lc, no OpenSSL). The endpoint is the SDK's own choice, so `AWS_ENDPOINT_URL_SQS`
//! or `AWS_ENDPOINT_URL` point it at a local SQS (moto) without code.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::sink::{EntryOutcome, OutgoingMessage, QueueSink, SinkError};

/// How long one `SendMessageBatch` may take, retries included, so a drain
/// can keep to its deadline.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct SqsSink {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

/// Timeouts for the relay's SQS calls.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The environment's AWS configuration with the shared HTTP client and
/// [`timeouts`].
pub async fn load_config() -> SdkConfig {
    sheetsync_aws::config_loader()
        .timeout_config(timeouts())
        .load()
        .await
}

impl SqsSink {
    /// A sink whose credentials, region and endpoint come from the
    /// environment as the AWS SDK reads it (Lambda's role, profiles,
    /// `AWS_ENDPOINT_URL_SQS`).
    pub async fn from_env(queue_url: impl Into<String>) -> SqsSink {
        SqsSink::from_config(&load_config().await, queue_url)
    }

    /// A sink on a configuration the caller loaded (see [`load_config`]).
    pub fn from_config(config: &SdkConfig, queue_url: impl Into<String>) -> SqsSink {
        SqsSink::new(aws_sdk_sqs::Client::new(config), queue_url)
    }

    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> SqsSink {
        SqsSink {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }
}

impl QueueSink for SqsSink {
    async fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> Result<Vec<EntryOutcome>, SinkError> {
        let mut request = self.client.send_message_batch().queue_url(&self.queue_url);
        for e in entries {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(&e.entry_id)
                .message_body(&e.body)
                .message_group_id(&e.group_id)
                .message_deduplication_id(&e.dedup_id)
                .build()
                .map_err(|err| SinkError(format!("building entry {}: {err}", e.entry_id)))?;
            request = request.entries(entry);
        }
        let output = request.send().await.map_err(|err| {
            SinkError(format!(
                "SendMessageBatch to {}: {}",
                self.queue_url,
                describe(&err)
            ))
        })?;
        let accepted: std::collections::HashSet<&str> =
            output.successful().iter().map(|s| s.id()).collect();
        let failed: HashMap<&str, (&str, &str)> = output
            .failed()
            .iter()
            .map(|f| (f.id(), (f.code(), f.message().unwrap_or(""))))
            .collect();
        Ok(entries
            .iter()
            .map(|e| {
                if accepted.contains(e.entry_id.as_str()) {
                    EntryOutcome::Accepted
                } else if let Some((code, message)) = failed.get(e.entry_id.as_str()) {
                    EntryOutcome::Failed {
                        code: (*code).to_owned(),
                        message: (*message).to_owned(),
                    }
                } else {
                    EntryOutcome::Failed {
                        code: "Missing".into(),
                        message: "SQS answered nothing for this entry".into(),
                    }
                }
            })
            .collect())
    }
}

/// One line: the service's code and message, or the chain of causes of a
/// failure to reach it (never the raw response).
pub(crate) fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let SdkError::ServiceError(service) = err {
        let e = service.err();
        return format!(
            "{}: {}",
            e.code().unwrap_or("service error"),
            e.message().unwrap_or("no message")
        );
    }
    let mut parts = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
