//! What a request will do, decided before anything is written: per row a
//! write (maybe of no cells), a skip or a rejection; per table row missing
//! from a snapshot a delete or a re-send.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sheetsync_reconcile::{Key, Value};

use crate::contract::RowStatus;
use crate::incoming::Rejection;
use crate::table::TableRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Insert,
    Update,
}

/// One sheet row's effect on one table row.
#[derive(Debug, Clone)]
pub struct Write {
    pub index: usize,
    pub sheet_row: Option<u32>,
    pub kind: WriteKind,
    /// The sheet's key (`None`: a new row whose key the database assigns).
    pub key: Option<Key>,
    /// Cells to write: for an insert every non-empty cell (with the key),
    /// for an update the changed cells the sheet wins. An update of no cells
    /// runs no SQL.
    pub cells: Vec<(usize, Value)>,
    /// Every cell the sheet sent for this row that the sheet holds, to find
    /// where the stored row differs from it (defaults, normalised values).
    pub sent: Vec<(usize, Value)>,
    /// The row before the write (updates).
    pub before: Option<TableRow>,
    /// The row had a database change the sheet had not received: the
    /// written values are queued for the sheet too.
    pub repair_written: bool,
    /// Cells where the database won a conflict: their values are queued.
    pub db_won: Vec<usize>,
    pub conflicts: Vec<Conflict>,
    /// Why nothing was written, when that needs saying.
    pub note: Option<String>,
    /// `row_state` already says the sheet holds this row.
    pub already_held: bool,
    /// The request shows the tab held this key when the script read it, so
    /// the row becomes `sheet_held` (a later `keys` request or snapshot
    /// without it deletes it). Not so for a whole-row edit of a row typed
    /// without a key whose key no request reported yet: the script sends a
    /// keyless row's edits whole and gives them the key from the insert's
    /// answer once it comes (`patchLaterKeys_`), so such an edit may have
    /// been read before the key reached the tab, like a `keys` request
    /// queued beside it that lacks the key (docs/contract.md, rows the
    /// sheet inserted).
    pub reports_key: bool,
}

impl Write {
    pub fn status(&self) -> RowStatus {
        if !self.conflicts.is_empty() {
            RowStatus::Conflict
        } else if self.kind == WriteKind::Insert {
            RowStatus::Inserted
        } else if self.cells.is_empty() {
            RowStatus::Unchanged
        } else {
            RowStatus::Updated
        }
    }
}

/// A cell both sides changed; the loser's value is kept here.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub column: usize,
    /// The cell as the sheet sent it.
    pub sheet_value: Json,
    /// The database's value as `to_jsonb` renders it (JSON text), `None`
    /// when the row was deleted.
    pub db_value: Option<String>,
    pub winner: Winner,
    pub db_changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    Sheet,
    Db,
}

impl Winner {
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::Sheet => "sheet",
            Winner::Db => "db",
        }
    }
}

/// A sheet row that writes nothing but is answered.
#[derive(Debug, Clone)]
pub struct Skip {
    pub index: usize,
    pub sheet_row: Option<u32>,
    pub key: Key,
    pub key_object: serde_json::Map<String, Json>,
    pub status: RowStatus,
    pub detail: Option<String>,
    /// The row's table image when it exists (it is marked as held).
    pub held: Option<String>,
    pub conflicts: Vec<Conflict>,
    /// `row_state` key of a deleted row (for conflict records).
    pub key_json: Option<String>,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    pub skips: Vec<Skip>,
    pub rejects: Vec<Rejection>,
    /// Table rows the sheet no longer has and had held: deleted.
    pub deletes: Vec<TableRow>,
    /// Keys of `deletes` with a change still on its way to the sheet (a
    /// re-send, say, that would put the row back): their delete is queued
    /// for the sheet too, after that change.
    pub queued_deletes: Vec<Key>,
    /// Table rows the sheet no longer has but never received: sent again.
    pub resends: Vec<TableRow>,
    /// Keys (`row_state` form) of table rows the sheet reported that no
    /// write covers.
    pub held: Vec<String>,
    /// Something was left undecided (rows answered `deferred`, or deletes
    /// a `keys` request cannot decide): the answer says `deferred`.
    pub deferred: bool,
}
