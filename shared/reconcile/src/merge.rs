//! Three-way merge of one row of an `edit` event into the table, cell by
//! cell, under the binding's conflict policy.
//!
//! The caller passes the cells to apply: those named by the row's `old` or
//! `edited` (docs/contract.md), else every cell of the row. For each cell with
//! sheet value `s`, base `b` (the event's `old`, when it had one) and
//! database value `d`:
//!
//! 1. `s` is what the sheet shows for `d` ([`sheet_matches`]): nothing to do.
//! 2. `b` is given and `s == b`: the user did not change this cell; the
//!    database value stands and is queued for the sheet.
//! 3. Did the database change the cell behind the sheet's back? With a
//!    base: `d` differs from `b` (the user edited a value that was no longer
//!    the table's). Without one (paste, whole row): the sheet was not
//!    showing `d` when the script read the tab, i.e. the cell's own change
//!    sequence ([`CellInput::db_seq`], the last queued change carrying the
//!    cell) is above the event's watermark. Call this *both
//!    changed*.
//! 4. The winner. `latest`: time decides, per cell: the sheet wins only if
//!    `edited_at` is after the database's last change of the cell (no
//!    recorded change: the sheet wins). Time decides even when the values
//!    say only the sheet changed, because a cell that went A → B → A in the
//!    database after the user's edit looks unchanged. `sheet`: the sheet.
//!    `db`: the database if both changed, else the sheet (a policy settles
//!    conflicts; an edit of a cell only the sheet changed is not one).
//! 5. The loser is recorded. The sheet wins: `s` is written, and if both
//!    changed, `d` comes back as a [`Conflict`] (winner sheet). The
//!    database wins: `d` stays and is queued for the sheet, and `s` always
//!    comes back as a conflict (winner db): a value the user typed is never
//!    dropped silently.
//!
//! Repairs (DESIGN.md): when sheet values are written into a row that has a
//! database change the sheet has not received
//! ([`MergeContext::row_in_flight`]), they are queued for the sheet too, so
//! the older change arriving later cannot overwrite them.
//!
//! Freshness is per cell: with several database changes of one row in
//! flight, each cell is judged by its own last change, so a paste never
//! overwrites a database value the sheet never showed without a conflict
//! record, and a database change that overwrote, on the sheet, a value the
//! person typed (the edit still on its way) never drops it silently either:
//! that cell's sequence is above the edit's watermark, so the two are
//! settled as a conflict.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::convert::sheet_matches_in;
use crate::model::{ConflictPolicy, Value};
use crate::zone::SheetZone;

/// What the whole row's merge needs besides its cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MergeContext {
    pub policy: ConflictPolicy,
    /// When the user made the edit (the event's `edited_at`).
    pub edited_at: DateTime<Utc>,
    /// The event's watermark (0 when absent): the highest outbox sequence
    /// the sheet had received when the script read it.
    pub watermark: i64,
    /// The row has a change queued for the sheet that the sheet had not
    /// received (`row_state.last_db_seq > watermark`): written values are
    /// queued too (repairs).
    pub row_in_flight: bool,
    /// The request was `unsettled`: the tab may have shown another row's
    /// values in this row, so a cell written without a base replaces a
    /// database value the person may not have seen (recorded when it differs).
    pub unsettled: bool,
    /// The spreadsheet's time zone (the request's `tz`; UTC when absent):
    /// date-times are compared as the wall clocks the sheet holds.
    pub zone: SheetZone,
}

/// One cell to merge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellInput<'a> {
    pub column: &'a str,
    /// The sheet's new value.
    pub sheet: &'a Value,
    /// The event's `old` value for this column, when it had one.
    pub base: Option<&'a Value>,
    /// The table's current value.
    pub db: &'a Value,
    /// The database's last change of this cell (`row_state.cell_changed_at`).
    pub db_changed_at: Option<DateTime<Utc>>,
    /// The outbox sequence of the last change queued for the sheet that
    /// carries this cell (`row_state.cell_seq`): until the watermark passes
    /// it, the sheet may show something else than `db`. `None` when no such
    /// change is recorded.
    pub db_seq: Option<i64>,
}

impl CellInput<'_> {
    /// The sheet had not been shown the table's value when the script read
    /// the tab at `watermark`.
    pub fn db_unseen(&self, watermark: i64) -> bool {
        self.db_seq.is_some_and(|seq| seq > watermark)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Sheet,
    Db,
}

impl Side {
    /// As `sheetsync.conflicts.winner` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Sheet => "sheet",
            Side::Db => "db",
        }
    }
}

/// A cell both sides changed, or a sheet value that lost: the losing value
/// is in here, never dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub column: String,
    pub sheet_value: Value,
    pub db_value: Value,
    pub winner: Side,
    pub db_changed_at: Option<DateTime<Utc>>,
}

/// The outcome of one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowMerge {
    /// Sheet values to write into the table, in input order.
    pub writes: Vec<(String, Value)>,
    /// Values to queue for the sheet: database values that won, and the
    /// written sheet values when a database change is in flight (repairs).
    pub to_sheet: Vec<(String, Value)>,
    pub conflicts: Vec<Conflict>,
}

/// The row status the webhook answers with (docs/contract.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeStatus {
    Unchanged,
    Updated,
    Conflict,
}

impl RowMerge {
    pub fn status(&self) -> MergeStatus {
        if !self.conflicts.is_empty() {
            MergeStatus::Conflict
        } else if !self.writes.is_empty() {
            MergeStatus::Updated
        } else {
            MergeStatus::Unchanged
        }
    }

    /// The columns of the conflicts, for the response's `detail`.
    pub fn conflict_columns(&self) -> Vec<&str> {
        self.conflicts.iter().map(|c| c.column.as_str()).collect()
    }
}

/// Merges the cells of one edited row (see the module documentation).
pub fn merge_row(context: &MergeContext, cells: &[CellInput<'_>]) -> RowMerge {
    let mut out = RowMerge::default();
    for cell in cells {
        merge_cell(context, cell, &mut out);
    }
    if context.row_in_flight {
        out.to_sheet.extend(out.writes.iter().cloned());
    }
    out
}

fn merge_cell(context: &MergeContext, cell: &CellInput<'_>, out: &mut RowMerge) {
    if sheet_matches_in(cell.sheet, cell.db, context.zone) {
        return;
    }
    if cell.base == Some(cell.sheet) {
        out.to_sheet.push((cell.column.to_owned(), cell.db.clone()));
        return;
    }
    let both_changed = match cell.base {
        Some(base) => !sheet_matches_in(base, cell.db, context.zone),
        None => context.unsettled || cell.db_unseen(context.watermark),
    };
    let sheet_is_later = cell
        .db_changed_at
        .is_none_or(|changed| context.edited_at > changed);
    let winner = match context.policy {
        ConflictPolicy::Latest if sheet_is_later => Side::Sheet,
        ConflictPolicy::Latest => Side::Db,
        ConflictPolicy::Sheet => Side::Sheet,
        ConflictPolicy::Db if both_changed => Side::Db,
        ConflictPolicy::Db => Side::Sheet,
    };
    let conflict = || Conflict {
        column: cell.column.to_owned(),
        sheet_value: cell.sheet.clone(),
        db_value: cell.db.clone(),
        winner,
        db_changed_at: cell.db_changed_at,
    };
    match winner {
        Side::Sheet => {
            out.writes
                .push((cell.column.to_owned(), cell.sheet.clone()));
            if both_changed {
                out.conflicts.push(conflict());
            }
        }
        Side::Db => {
            out.to_sheet.push((cell.column.to_owned(), cell.db.clone()));
            out.conflicts.push(conflict());
        }
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
