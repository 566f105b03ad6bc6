//! The snapshot plan: a whole tab (or part of it, or its key list) judged
//! against the table image and the watermark `W` (DESIGN.md "Snapshots and
//! the watermark").
//!
//! | key is …                | plan                                                   |
//! |-------------------------|--------------------------------------------------------|
//! | in snapshot and table   | last DB change > `W`: skip (the change is on its way to the sheet). Else each differing cell is an edit the webhook missed: apply it; under `latest` only if `edited_at` is after the cell's last DB change, else the DB value goes to the sheet |
//! | in snapshot, not table  | tombstone > `W`: skip (the delete is on its way). Else insert |
//! | empty in snapshot       | insert (the database assigns the key)                  |
//! | in table, not snapshot  | the sheet held the row (`sheet_held`, or last DB change ≤ `W`): delete. Else send it to the sheet again |
//!
//! A partial snapshot only upserts; a `keys` request only deletes. The
//! second row of a key seen twice is skipped. Policies `sheet` and `db`
//! apply every differing cell of a row the sheet had fully received: the
//! database did not change those cells behind the sheet's back, so they are
//! edits, not conflicts.
//!
//! The plan refers to snapshot rows and columns by index, so planning copies
//! no values.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::convert::sheet_matches;
use crate::fasthash::BuildKeyHasher;
use crate::model::{Column, ConflictPolicy, Key, Value};

/// What the table holds of one row, and its sync state (`row_state`).
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// In the binding's column order.
    pub values: Vec<Value>,
    /// Outbox sequence of the row's last change that did not come from the
    /// sheet; `None` when there was none.
    pub last_db_seq: Option<i64>,
    /// The sheet has reported this key.
    pub sheet_held: bool,
    /// Per column (binding order), the database's last change of the cell;
    /// shorter than `values` (or empty) where none is recorded.
    pub cell_changed_at: Vec<Option<DateTime<Utc>>>,
}

/// The table image, keyed by primary key. Build it with `collect()` or
/// `TableImage::default()`.
pub type TableImage = HashMap<Key, TableRow, BuildKeyHasher>;

/// Deleted keys and the outbox sequence of their delete.
pub type Tombstones = HashMap<Key, i64, BuildKeyHasher>;

type KeySet<'a> = HashSet<&'a Key, BuildKeyHasher>;

/// One data row of the tab.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    /// `None` when the key cell is empty (a new row).
    pub key: Option<Key>,
    /// In the binding's column order; columns the sheet lacks (see
    /// [`DiffInput::sheet_columns`]) are ignored.
    pub values: Vec<Value>,
}

/// What the script sent.
#[derive(Debug, Clone, Copy)]
pub enum SheetInput<'a> {
    Snapshot {
        rows: &'a [SnapshotRow],
        /// One part of a tab too large for one request: upserts only.
        partial: bool,
        /// Keys of rows in the tab that could not be converted: present
        /// (never deleted), but nothing is written from them.
        rejected_keys: &'a [Key],
    },
    /// Every key in the tab: safe deletes only.
    Keys(&'a [Key]),
}

pub struct DiffInput<'a> {
    pub columns: &'a [Column],
    /// Per column: the sheet's header has it.
    pub sheet_columns: &'a [bool],
    pub policy: ConflictPolicy,
    pub table: &'a TableImage,
    pub tombstones: &'a Tombstones,
    /// The snapshot's watermark (0 when absent).
    pub watermark: i64,
    /// When the script read the tab.
    pub edited_at: DateTime<Utc>,
    pub sheet: SheetInput<'a>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Snapshot rows to insert (indices into the rows), in sheet order.
    pub inserts: Vec<usize>,
    /// Cells to write into existing rows, in sheet order.
    pub updates: Vec<RowUpdate>,
    /// Table rows the sheet held and no longer has, in key order.
    pub deletes: Vec<Key>,
    /// What the sheet should be sent, in key order for whole rows.
    pub to_sheet: Vec<ToSheet>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowUpdate {
    pub row: usize,
    pub key: Key,
    /// Column indices whose snapshot value is written.
    pub columns: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToSheet {
    /// A table row the sheet has not received yet: send it whole.
    Row(Key),
    /// Under `latest`, the database changed these cells after the snapshot
    /// was read: its values win and go to the sheet; the snapshot's values
    /// lost (record them as conflicts, winner db).
    Cells {
        row: usize,
        key: Key,
        columns: Vec<usize>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The snapshot row, when the skip concerns one.
    pub row: Option<usize>,
    pub key: Key,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The row has a database change newer than the watermark.
    DbChangeInFlight,
    /// The key was deleted after the watermark.
    DeleteInFlight,
    /// An earlier row of the snapshot has this key.
    DuplicateKey,
    /// A `keys` request lacks a row the sheet has not received yet.
    NotYetOnSheet,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::DbChangeInFlight => {
                "a database change to this row is on its way to the sheet"
            }
            SkipReason::DeleteInFlight => {
                "this row was deleted in the database; the delete is on its way to the sheet"
            }
            SkipReason::DuplicateKey => "another row of the sheet has this key",
            SkipReason::NotYetOnSheet => "the sheet has not received this row yet",
        }
    }
}

impl Plan {
    /// Nothing to write on either side (skips aside).
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty()
            && self.updates.is_empty()
            && self.deletes.is_empty()
            && self.to_sheet.is_empty()
    }
}

/// Plans a snapshot or `keys` request (see the module documentation).
pub fn diff(input: &DiffInput<'_>) -> Plan {
    let mut plan = Plan::default();
    match input.sheet {
        SheetInput::Snapshot {
            rows,
            partial,
            rejected_keys,
        } => {
            let mut present = KeySet::with_capacity_and_hasher(
                rows.len() + rejected_keys.len(),
                BuildKeyHasher::default(),
            );
            present.extend(rejected_keys);
            upserts(input, rows, &mut present, &mut plan);
            if !partial {
                missing(input, &present, false, &mut plan);
            }
        }
        SheetInput::Keys(keys) => {
            let present: KeySet = keys.iter().collect();
            missing(input, &present, true, &mut plan);
        }
    }
    plan
}

fn upserts<'a>(
    input: &DiffInput<'_>,
    rows: &'a [SnapshotRow],
    present: &mut KeySet<'a>,
    plan: &mut Plan,
) {
    // Columns a snapshot may write into an existing row.
    let writable: Vec<usize> = (0..input.columns.len())
        .filter(|&c| {
            let column = &input.columns[c];
            input.sheet_columns.get(c).copied().unwrap_or(false)
                && !column.generated
                && !column.is_key()
        })
        .collect();
    for (index, row) in rows.iter().enumerate() {
        let Some(key) = &row.key else {
            plan.inserts.push(index);
            continue;
        };
        if !present.insert(key) {
            plan.skipped.push(Skipped {
                row: Some(index),
                key: key.clone(),
                reason: SkipReason::DuplicateKey,
            });
            continue;
        }
        let Some(table_row) = input.table.get(key) else {
            match input.tombstones.get(key) {
                Some(&seq) if seq > input.watermark => plan.skipped.push(Skipped {
                    row: Some(index),
                    key: key.clone(),
                    reason: SkipReason::DeleteInFlight,
                }),
                _ => plan.inserts.push(index),
            }
            continue;
        };
        if table_row
            .last_db_seq
            .is_some_and(|seq| seq > input.watermark)
        {
            plan.skipped.push(Skipped {
                row: Some(index),
                key: key.clone(),
                reason: SkipReason::DbChangeInFlight,
            });
            continue;
        }
        compare_cells(input, &writable, index, key, row, table_row, plan);
    }
}

fn compare_cells(
    input: &DiffInput<'_>,
    writable: &[usize],
    index: usize,
    key: &Key,
    row: &SnapshotRow,
    table_row: &TableRow,
    plan: &mut Plan,
) {
    let mut apply = Vec::new();
    let mut db_wins = Vec::new();
    for &c in writable {
        let (Some(sheet), Some(db)) = (row.values.get(c), table_row.values.get(c)) else {
            continue;
        };
        if sheet_matches(sheet, db) {
            continue;
        }
        let changed_at = table_row.cell_changed_at.get(c).copied().flatten();
        let sheet_wins = match input.policy {
            ConflictPolicy::Latest => changed_at.is_none_or(|t| input.edited_at > t),
            ConflictPolicy::Sheet | ConflictPolicy::Db => true,
        };
        if sheet_wins {
            apply.push(c);
        } else {
            db_wins.push(c);
        }
    }
    if !apply.is_empty() {
        plan.updates.push(RowUpdate {
            row: index,
            key: key.clone(),
            columns: apply,
        });
    }
    if !db_wins.is_empty() {
        plan.to_sheet.push(ToSheet::Cells {
            row: index,
            key: key.clone(),
            columns: db_wins,
        });
    }
}

fn missing(input: &DiffInput<'_>, present: &KeySet<'_>, keys_only: bool, plan: &mut Plan) {
    let mut resend = Vec::new();
    let mut deletes = Vec::new();
    let mut not_yet = Vec::new();
    for (key, row) in input.table {
        if present.contains(key) {
            continue;
        }
        let held = row.sheet_held || row.last_db_seq.is_some_and(|seq| seq <= input.watermark);
        if held {
            deletes.push(key.clone());
        } else if keys_only {
            not_yet.push(key.clone());
        } else {
            resend.push(key.clone());
        }
    }
    deletes.sort_unstable();
    resend.sort_unstable();
    not_yet.sort_unstable();
    plan.deletes = deletes;
    plan.to_sheet.extend(resend.into_iter().map(ToSheet::Row));
    plan.skipped.extend(not_yet.into_iter().map(|key| Skipped {
        row: None,
        key,
        reason: SkipReason::NotYetOnSheet,
    }));
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
