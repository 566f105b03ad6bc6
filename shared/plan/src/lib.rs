//! What a sheet request does to the table, decided without I/O. The webhook
//! loads the binding and the rows a request touches, calls these, and
//! executes the [`plan::Plan`] in one transaction.
//!
//! * [`contract`]: the wire format between the Apps Script and the webhook
//!   (docs/contract.md).
//! * [`header`]: a request's header mapped to the table's columns;
//!   [`incoming`]: its rows read into typed values against that header.
//! * [`table`]: a table row and its sync state as the database holds them.
//! * [`edit`] and [`snapshot`] (with `keys`): the rules of DESIGN's sync
//!   table, each producing a [`plan::Plan`]; [`repair`]: rows a snapshot
//!   must send back to the sheet.

pub mod contract;
pub mod edit;
pub mod header;
pub mod incoming;
pub mod plan;
pub mod repair;
pub mod snapshot;
pub mod table;

/// A request the plan cannot be made for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The header lacks a key column of the table.
    #[error("the header lacks the table's key column '{0}'")]
    UnknownKeyColumn(String),
    /// A row the database rendered could not be read back (a bug or a
    /// column type the binding does not know).
    #[error("unreadable row of {binding}: {reason}")]
    UnreadableRow { binding: String, reason: String },
}
