//! The writer's side of the sheet, decided without I/O: the tab image one
//! read gives, the batch plan (row changes + tab image → one
//! `spreadsheets.batchUpdate` body), the journal that lets a batch verify
//! where its rows landed, and the repair of rows a person moved during it.
//! `sheetsync-sheets` reads the tab and sends the plan.
//!
//! * [`tab`]: the tab image; [`wire`]: the Sheets API v4 JSON this needs;
//!   [`cells`]: values ⇄ cells; [`keys`]: row keys on both sides.
//! * [`chunks`]: a batch split to keep each write under 2 MB.
//! * [`reads`]: what a batch reads of its tab (keys, then the rows it writes).
//! * [`plan`]: the batch plan; [`journal`]: the hidden journal tab;
//!   [`repair`]: misplaced writes undone.

pub mod cells;
pub mod chunks;
pub mod journal;
pub mod keys;
pub mod plan;
pub mod reads;
pub mod repair;
pub mod tab;
pub mod wire;

#[cfg(test)]
mod plan_props;
#[cfg(test)]
mod plan_tests;

pub use plan::{Plan, PlanStats, journaled_plan, plan};
pub use reads::KeyRead;
pub use tab::{TabImage, TabRow, Watermark};
pub use wire::{BatchUpdate, WATERMARK_KEY};

/// A tab answer the planner cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TabError {
    #[error("spreadsheet {spreadsheet_id} has no tab '{sheet}'")]
    TabNotFound {
        spreadsheet_id: String,
        sheet: String,
    },
    #[error("spreadsheet {spreadsheet_id} has a time zone sheetsync does not know: '{zone}'")]
    UnknownTimeZone {
        spreadsheet_id: String,
        zone: String,
    },
    /// The tab's header row lacks a key column, so no row can be located.
    #[error("tab '{sheet}' has no header column named '{column}'")]
    MissingKeyColumn { sheet: String, column: String },
    /// An answer did not hold the ranges asked for, in their order.
    #[error(
        "tab '{sheet}': the Sheets API answered a read with other ranges than asked ({reason})"
    )]
    UnexpectedRead { sheet: String, reason: String },
}
