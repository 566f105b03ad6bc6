//! The relay's errors. Each names the binding (and the sequences) it is
//! about, never row contents.

use crate::sink::SinkError;

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),

    #[error("the database connection was lost")]
    ConnectionLost,

    /// The binding could not be read (gone, or its table changed).
    #[error("{0}")]
    Store(#[from] sheetsync_store::StoreError),

    #[error("binding '{binding}': outbox row {seq} is malformed: {reason}")]
    Malformed {
        binding: String,
        seq: i64,
        reason: String,
    },

    /// Kept in the outbox: the binding stops here so no later change
    /// overtakes it. The operator shrinks the row (and backfills) or deletes
    /// the outbox row; see docs/operations.md, "A row too large for one message".
    #[error(
        "binding '{binding}': outbox row {seq} ({op}) is {bytes} bytes as a queue message, over the {limit}-byte limit; it stays in the outbox and holds back the binding's later changes"
    )]
    RowTooLarge {
        binding: String,
        seq: i64,
        op: String,
        bytes: usize,
        limit: usize,
    },

    #[error("binding '{binding}': sending outbox rows {first_seq}..={last_seq} failed: {source}")]
    Send {
        binding: String,
        first_seq: i64,
        last_seq: i64,
        source: SinkError,
    },

    #[error(
        "binding '{binding}': the queue refused the message with outbox rows {first_seq}..={last_seq}: {code}: {message}"
    )]
    Refused {
        binding: String,
        first_seq: i64,
        last_seq: i64,
        code: String,
        message: String,
    },

    /// The drain of the binding's spreadsheet stopped at another binding's
    /// error (they share a transaction); its rows stay in the outbox.
    #[error("binding '{binding}': not drained, its spreadsheet's drain failed: {reason}")]
    Sibling {
        binding: String,
        reason: String,
        transient: bool,
    },

    /// A chunk's keys are bounded so that its keyset is one part, whose
    /// sequence is drawn with its rows; this says the bound did not hold.
    #[error("binding '{binding}': a backfill chunk's keys took {parts} keyset parts, not one")]
    ChunkKeyset { binding: String, parts: usize },

    #[error("binding '{binding}': key {key} cannot be ordered: {reason}")]
    Key {
        binding: String,
        key: String,
        reason: String,
    },
}

impl OutboxError {
    /// Errors that a later attempt may not hit (the database or the queue
    /// was unreachable), as opposed to ones that need an operator.
    pub fn is_transient(&self) -> bool {
        match self {
            OutboxError::Db(_) | OutboxError::Send { .. } => true,
            OutboxError::Sibling { transient, .. } => *transient,
            _ => false,
        }
    }
}
