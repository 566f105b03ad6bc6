//! The snapshot plan: a whole tab (or part of it, or its key list) judged
//! against the table image and the watermark `W` (DESIGN.md "Snapshots and
//! the watermark").
//!
//! | key is …                | plan                                                   |
//! |-------------------------|--------------------------------------------------------|
//! | in snapshot and table   | last DB change > `W`: skip (the change is on its way to the sheet). Else each differing cell is an edit the webhook missed: apply it; under `latest` only if `edited_at` is after the cell's last DB change, else the DB value goes to the sheet |
//! | in snapshot, not table  | tombstone > `W`: skip (the delete is on its way). Else insert |
//! | empty in snapshot       | a row the sheet inserted whose key the sheet does not show yet ([`TableRow::sheet_inserted_at`], not reported, not elsewhere in the snapshot) and whose cells the sheet wrote are equal: that row (answered with its key, nothing written). Else insert (the database assigns the key) |
//! | in table, not snapshot  | the sheet held the row (`sheet_held`, its last whole-row change ≤ `W`, or last DB change ≤ `W`): delete. A row the sheet inserted and has not reported: typed at or after the read, nothing; else, from a snapshot, delete (the tab shows it neither keyed nor keyless); from a `keys` request, which cannot see keyless rows, nothing, and the plan is [`Plan::deferred`] (a snapshot decides). Else send it to the sheet again |
//!
//! A partial snapshot only upserts; a `keys` request only deletes. The
//! second row of a key seen twice is skipped.
//!
//! An *unsettled* request (the script saw a writer batch not yet verified
//! in the tab, see docs/contract.md) writes nothing for keyed rows and
//! deletes and re-sends nothing: keyed rows are skipped as
//! [`SkipReason::Unsettled`], keyless rows are inserted (or matched) as
//! usual, and the plan is [`Plan::deferred`]. Policies `sheet` and `db`
//! apply every differing cell of a row the sheet had fully received: the
//! database did not change those cells behind the sheet's back, so they are
//! edits, not conflicts.
//!
//! The plan refers to snapshot rows and columns by index, so planning copies
//! no values.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::convert::sheet_matches_in;
use crate::fasthash::BuildKeyHasher;
use crate::model::{Column, ConflictPolicy, Key, Value};
use crate::zone::SheetZone;

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
    /// Per column (binding order), the outbox sequence at which the
    /// table's value of the cell goes to the sheet; `None` where the sheet
    /// wrote the value itself. Shorter than `values` (or empty) where none.
    pub cell_seq: Vec<Option<i64>>,
    /// The row was inserted from a keyless sheet row typed at this time:
    /// the sheet held it from then on, though it may not show the key yet.
    pub sheet_inserted_at: Option<DateTime<Utc>>,
}

impl TableRow {
    /// A change queued for the sheet that the sheet had not received at
    /// `watermark`: a change of the row, or a re-send of it (which moves only
    /// `cell_seq`).
    pub fn in_flight(&self, watermark: i64) -> bool {
        self.last_db_seq.is_some_and(|seq| seq > watermark)
            || self.cell_seq.iter().flatten().any(|&seq| seq > watermark)
    }

    /// Inserted from the sheet and not reported by it since: the tab may
    /// show the row without its key.
    pub fn awaits_key(&self) -> bool {
        !self.sheet_held && self.sheet_inserted_at.is_some()
    }

    /// Some cell still holds what the sheet typed (nothing changed it since
    /// the insert): what tells the row apart among keyless rows.
    fn typed_cells_left(&self) -> bool {
        self.sheet_inserted_at.is_some() && self.cell_changed_at.contains(&self.sheet_inserted_at)
    }
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
        /// A keyless row of the tab could not be converted: it may be a row
        /// the sheet inserted, so none of those is deleted.
        rejected_keyless: bool,
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
    /// The request is `unsettled` (docs/contract.md): the tab's keyed rows
    /// and key list cannot be trusted for destructive decisions.
    pub unsettled: bool,
    /// The spreadsheet's time zone (the request's `tz`; UTC when absent):
    /// date-times are compared as the wall clocks the sheet holds.
    pub zone: SheetZone,
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
    /// Keyless snapshot rows that are a row the sheet inserted, its key not
    /// written back yet: (snapshot row, that row's key), in sheet order.
    /// Nothing is written; the answer carries the key.
    pub matched: Vec<(usize, Key)>,
    /// Something was left undecided: the script should send a snapshot
    /// later.
    pub deferred: bool,
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
    /// A `keys` request lacks a row the sheet inserted whose key it has not
    /// reported: the row may be in the tab without its key; a snapshot
    /// decides.
    AwaitingKey,
    /// The request is unsettled: nothing is decided for keyed rows.
    Unsettled,
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
            SkipReason::AwaitingKey => {
                "the sheet may show this row without its key yet; the next snapshot decides"
            }
            SkipReason::Unsettled => {
                "the tab was changing while it was read; the next snapshot decides"
            }
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
            rejected_keyless,
        } => {
            let mut present = KeySet::with_capacity_and_hasher(
                rows.len() + rejected_keys.len(),
                BuildKeyHasher::default(),
            );
            present.extend(rejected_keys);
            upserts(input, rows, &mut present, &mut plan);
            keyless(input, rows, &mut present, &mut plan);
            if input.unsettled {
                plan.deferred = true;
            } else if !partial {
                let keyless_seen = !rejected_keyless;
                missing(input, &present, false, keyless_seen, &mut plan);
            }
        }
        SheetInput::Keys(keys) => {
            if input.unsettled {
                plan.deferred = true;
            } else {
                let present: KeySet = keys.iter().collect();
                missing(input, &present, true, false, &mut plan);
            }
        }
    }
    plan
}

/// Keyless snapshot rows: a row the sheet inserted whose key the tab does
/// not show yet (the script writes it back after the insert's answer) is
/// that row, not a new one; every other keyless row is inserted.
///
/// A keyless row is that row when every cell the table still holds as the
/// sheet typed it (its last change is the insert: `cell_changed_at` is
/// `sheet_inserted_at`) is equal (at the sheet's precision), and there is at
/// least one such cell. Cells changed since (a default, a later SQL change)
/// may show anything, since the writer cannot reach a row without its key;
/// but they are never the whole match, or any keyless row would take any
/// key. Each table row matches at most one keyless row, the earliest typed
/// first.
/// Columns the sheet shows that a snapshot may write into an existing row:
/// neither generated nor part of the key.
fn writable_columns(input: &DiffInput<'_>) -> Vec<usize> {
    (0..input.columns.len())
        .filter(|&c| {
            let column = &input.columns[c];
            input.sheet_columns.get(c).copied().unwrap_or(false)
                && !column.generated
                && !column.is_key()
        })
        .collect()
}

fn keyless<'a>(
    input: &DiffInput<'a>,
    rows: &'a [SnapshotRow],
    present: &mut KeySet<'a>,
    plan: &mut Plan,
) {
    let mut awaiting: Vec<(&Key, &TableRow)> = input
        .table
        .iter()
        .filter(|(key, row)| row.awaits_key() && !present.contains(key))
        .collect();
    awaiting.sort_by(|a, b| (a.1.sheet_inserted_at, a.0).cmp(&(b.1.sheet_inserted_at, b.0)));
    let comparable = writable_columns(input);
    let mut taken = vec![false; awaiting.len()];
    let mut inserts = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        if row.key.is_some() {
            continue;
        }
        let found = awaiting.iter().enumerate().position(|(i, (_, table_row))| {
            let typed = |c: usize| {
                table_row.cell_changed_at.get(c).copied().flatten() == table_row.sheet_inserted_at
            };
            !taken[i]
                && comparable.iter().any(|&c| typed(c))
                && comparable.iter().all(|&c| {
                    !typed(c)
                        || match (row.values.get(c), table_row.values.get(c)) {
                            (Some(sheet), Some(db)) => sheet_matches_in(sheet, db, input.zone),
                            _ => true,
                        }
                })
        });
        match found {
            Some(i) => {
                taken[i] = true;
                let key = awaiting[i].0;
                present.insert(key);
                plan.matched.push((index, key.clone()));
            }
            None => inserts.push(index),
        }
    }
    if !inserts.is_empty() {
        plan.inserts.extend(inserts);
        plan.inserts.sort_unstable();
    }
}

fn upserts<'a>(
    input: &DiffInput<'_>,
    rows: &'a [SnapshotRow],
    present: &mut KeySet<'a>,
    plan: &mut Plan,
) {
    // Columns a snapshot may write into an existing row.
    let writable = writable_columns(input);
    for (index, row) in rows.iter().enumerate() {
        // Keyless rows: see `keyless`, after every key is known.
        let Some(key) = &row.key else {
            continue;
        };
        if input.unsettled {
            // Counted as present, so a keyless row cannot be matched to it.
            present.insert(key);
            plan.skipped.push(Skipped {
                row: Some(index),
                key: key.clone(),
                reason: SkipReason::Unsettled,
            });
            continue;
        }
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
        if table_row.in_flight(input.watermark) {
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
        if sheet_matches_in(sheet, db, input.zone) {
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

/// Table rows the sheet did not send. `keyless_seen`: every keyless row of
/// the tab was judged (a full snapshot whose rows all converted), so a row
/// the sheet inserted and that none of them is, is gone.
fn missing(
    input: &DiffInput<'_>,
    present: &KeySet<'_>,
    keys_only: bool,
    keyless_seen: bool,
    plan: &mut Plan,
) {
    let mut resend = Vec::new();
    let mut deletes = Vec::new();
    let mut not_yet = Vec::new();
    let mut awaiting = Vec::new();
    // The key's `cell_seq` is the row's insert (a re-send leaves it).
    let key_column = input.columns.iter().position(|c| c.key_position == Some(0));
    for (key, row) in input.table {
        if present.contains(key) {
            continue;
        }
        if row.sheet_held {
            deletes.push(key.clone());
            continue;
        }
        if let Some(typed_at) = row.sheet_inserted_at {
            if typed_at >= input.edited_at {
                // Typed when or after the tab was read: the read cannot
                // show its key (nor, if later, the row).
            } else if !keyless_seen {
                awaiting.push(key.clone());
            } else if !row.typed_cells_left() && !plan.inserts.is_empty() {
                // Every cell it was typed with changed since: any keyless
                // row of the tab may be it, so it is not judged gone.
                plan.deferred = true;
            } else {
                // In the tab when it was read, and neither keyed nor keyless
                // there: the person deleted it.
                deletes.push(key.clone());
            }
            continue;
        }
        // The sheet received the row (its last whole-row change is covered)
        // and a settled read lacks it: a person deleted it, whatever update
        // of it is still on its way (the delete wins; a delete is queued
        // after that update).
        //
        // Its insert still on its way, it is not re-sent: the insert puts it
        // in the tab, and a re-send landing after a person deleted it there
        // would put it back for good. Rows with no recorded insert (older
        // than the binding) are re-sent.
        let whole_row_seq = key_column.and_then(|k| row.cell_seq.get(k).copied().flatten());
        let received = whole_row_seq.is_some_and(|seq| seq <= input.watermark);
        if received || row.last_db_seq.is_some_and(|seq| seq <= input.watermark) {
            deletes.push(key.clone());
        } else if keys_only || whole_row_seq.is_some() {
            not_yet.push(key.clone());
        } else {
            resend.push(key.clone());
        }
    }
    deletes.sort_unstable();
    resend.sort_unstable();
    not_yet.sort_unstable();
    awaiting.sort_unstable();
    plan.deletes = deletes;
    plan.to_sheet.extend(resend.into_iter().map(ToSheet::Row));
    plan.deferred |= !awaiting.is_empty();
    let skipped = not_yet
        .into_iter()
        .map(|key| (key, SkipReason::NotYetOnSheet))
        .chain(
            awaiting
                .into_iter()
                .map(|key| (key, SkipReason::AwaitingKey)),
        );
    plan.skipped.extend(skipped.map(|(key, reason)| Skipped {
        row: None,
        key,
        reason,
    }));
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
