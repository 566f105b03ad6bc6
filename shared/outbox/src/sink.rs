//! Where the relay's messages go: an SQS FIFO queue in production
//! ([`crate::SqsSink`]), an in-process channel in the local stack
//! ([`crate::MemoryQueue`]).

use std::future::Future;

/// SQS's bound on one `SendMessageBatch` request.
pub const MAX_ENTRIES_PER_REQUEST: usize = 10;

/// One message of a send request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Unique within its request.
    pub entry_id: String,
    /// FIFO order holds within a group: the binding.
    pub group_id: String,
    /// Same sequence range, same id: a resend is dropped by the queue.
    pub dedup_id: String,
    pub body: String,
}

/// What the queue said about one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    Accepted,
    Failed { code: String, message: String },
}

/// The whole request failed: nothing was accepted.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// A FIFO queue the relay sends to.
pub trait QueueSink: Send + Sync {
    /// Sends up to [`MAX_ENTRIES_PER_REQUEST`] messages in one request and
    /// answers one outcome per entry, in entry order.
    fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> impl Future<Output = Result<Vec<EntryOutcome>, SinkError>> + Send;
}

impl<S: QueueSink> QueueSink for &S {
    fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> impl Future<Output = Result<Vec<EntryOutcome>, SinkError>> + Send {
        (**self).send_batch(entries)
    }
}
