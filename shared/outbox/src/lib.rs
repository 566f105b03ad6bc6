//! The outbox relay: moves committed changes from `sheetsync.outbox` into a
//! FIFO queue, in sequence order per binding, and backfills a whole table
//! into the outbox so a sheet converges to it.
//!
//! * [`horizon`]: the highest sequence below which every writer has finished.
//! * [`claim`]: outbox rows of one binding, locked for one drain.
//! * [`pack`]: rows into queue messages (deterministic, size-bounded).
//! * [`bundle`]: a spreadsheet's bindings' messages into shared messages.
//! * [`sink`]: where messages go ([`QueueSink`]); [`sqs`] and [`memory`]
//!   implement it; [`consume`] reads the SQS queue as the writer's event
//!   source mapping does, for consumers that are not a Lambda.
//! * [`drain`]: horizon → claim → pack → bundle → send → delete, per
//!   spreadsheet.
//! * [`backfill`]: the whole table into the outbox, with its full key set,
//!   in short transactions interleaved with the application's writes.
//! * [`invoke`]: what a Lambda invocation asks for and answers.
//! * [`listen`]: the long-running `LISTEN sheetsync_outbox` loop, with an
//!   optional linger per spreadsheet (`linger`) under load.

pub mod backfill;
pub mod bundle;
pub mod claim;
#[cfg(feature = "sqs")]
pub mod consume;
pub mod drain;
mod error;
pub mod horizon;
pub mod invoke;
mod linger;
pub mod listen;
pub mod memory;
pub mod pack;
pub mod sink;
#[cfg(feature = "sqs")]
pub mod sqs;
pub mod target;

pub use backfill::{Backfill, BackfillReport, Progress, backfill};
#[cfg(feature = "sqs")]
pub use consume::{ReceiveOptions, Received};
pub use drain::{BindingOutcome, BindingReport, DrainOptions, DrainReport, Scope, drain};
pub use error::OutboxError;
pub use listen::{ListenOptions, listen};
pub use memory::MemoryQueue;
pub use sink::{EntryOutcome, OutgoingMessage, QueueSink, SinkError};
#[cfg(feature = "sqs")]
pub use sqs::SqsSink;
pub use target::Target;
