//! The queue read as the Lambda event source mapping reads it, for the
//! consumers that are not a Lambda (the local stack, the end-to-end tests):
//! receive a batch, hand it to the writer as [`Message`]s, then delete what
//! was applied.

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use sheetsync_queue::Message;

use crate::sink::SinkError;
use crate::sqs::{SqsSink, describe};

/// One received message and what settling it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message: Message,
    pub receipt_handle: String,
    /// SQS's `ApproximateReceiveCount`: 1 on the first delivery.
    pub receive_count: u32,
}

/// How one receive asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// At most 10 (SQS's limit, and the writer Lambda's batch size).
    pub max_messages: i32,
    /// Long polling: how long an empty queue may hold the call.
    pub wait_secs: i32,
    /// The batch's own visibility timeout; `None` keeps the queue's.
    pub visibility_secs: Option<i32>,
}

impl Default for ReceiveOptions {
    fn default() -> ReceiveOptions {
        ReceiveOptions {
            max_messages: 10,
            wait_secs: 2,
            visibility_secs: None,
        }
    }
}

impl SqsSink {
    /// One receive: the messages in the queue's order (a FIFO group's in
    /// sequence), with the group id the writer checks.
    pub async fn receive(&self, options: ReceiveOptions) -> Result<Vec<Received>, SinkError> {
        let output = self
            .client()
            .receive_message()
            .queue_url(self.queue_url())
            .max_number_of_messages(options.max_messages)
            .wait_time_seconds(options.wait_secs)
            .set_visibility_timeout(options.visibility_secs)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| SinkError(format!("ReceiveMessage: {}", describe(&e))))?;
        Ok(output.messages().iter().filter_map(received).collect())
    }

    /// Deletes `applied` and makes `retry` visible again after
    /// `retry_after_secs` (a FIFO group stays closed while one of its
    /// messages is in flight, so a failed message left alone holds its
    /// group for the whole visibility timeout).
    pub async fn settle(
        &self,
        applied: &[&Received],
        retry: &[&Received],
        retry_after_secs: i32,
    ) -> Result<(), SinkError> {
        if !applied.is_empty() {
            let entries = applied
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(&r.receipt_handle)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SinkError(format!("building a delete entry: {e}")))?;
            let output = self
                .client()
                .delete_message_batch()
                .queue_url(self.queue_url())
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| SinkError(format!("DeleteMessageBatch: {}", describe(&e))))?;
            if let Some(failed) = output.failed().first() {
                return Err(SinkError(format!(
                    "{} of {} deletes failed, first {}: {}",
                    output.failed().len(),
                    applied.len(),
                    failed.code(),
                    failed.message().unwrap_or_default()
                )));
            }
        }
        for r in retry {
            self.client()
                .change_message_visibility()
                .queue_url(self.queue_url())
                .receipt_handle(&r.receipt_handle)
                .visibility_timeout(retry_after_secs)
                .send()
                .await
                .map_err(|e| SinkError(format!("ChangeMessageVisibility: {}", describe(&e))))?;
        }
        Ok(())
    }
}

/// A message without a receipt handle cannot be settled and is left to its
/// visibility timeout; one without a body is an empty, undecodable message
/// the writer reports, so it reaches the dead-letter queue.
fn received(m: &aws_sdk_sqs::types::Message) -> Option<Received> {
    let attribute = |name: &MessageSystemAttributeName| m.attributes().and_then(|a| a.get(name));
    Some(Received {
        message: Message {
            message_id: m.message_id()?.to_owned(),
            group_id: attribute(&MessageSystemAttributeName::MessageGroupId).cloned(),
            body: m.body().unwrap_or_default().to_owned(),
        },
        receipt_handle: m.receipt_handle()?.to_owned(),
        receive_count: attribute(&MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
    })
}
