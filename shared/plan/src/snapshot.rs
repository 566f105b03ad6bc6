//! `snapshot` and `keys` requests: `sheetsync_reconcile::diff` judges the tab against
//! the table and the watermark (DESIGN.md "Snapshots and the watermark");
//! this module turns its plan into writes, skips and rejections.

use std::collections::{BTreeMap, HashSet};

use sheetsync_reconcile::Binding;
use sheetsync_reconcile::diff::{
    self, DiffInput, SheetInput, SkipReason, SnapshotRow, TableImage, ToSheet, Tombstones,
};
use sheetsync_reconcile::{Key, Value};

use crate::contract::RowStatus;
use crate::edit::{EventTime, deferred, insert, key_object};
use crate::incoming::{Incoming, Rejection};
use crate::plan::{Conflict, Plan, Skip, Winner, Write, WriteKind};
use crate::table::{RowState, TableRow};

/// The table as `sheetsync_reconcile::diff` sees it, built from the locked rows and
/// their sync state.
pub struct Image<'a> {
    pub rows: &'a std::collections::HashMap<Key, TableRow>,
    pub image: TableImage,
    pub tombstones: Tombstones,
    /// Keys not in the table with their last queued change (deleted rows).
    pub gone: std::collections::HashMap<Key, i64>,
}

impl<'a> Image<'a> {
    pub fn new(
        binding: &Binding,
        rows: &'a std::collections::HashMap<Key, TableRow>,
        states: &std::collections::HashMap<Key, RowState>,
    ) -> Image<'a> {
        let image = rows
            .iter()
            .map(|(key, row)| {
                let state = states.get(key);
                let cell_changed_at = binding
                    .columns
                    .iter()
                    .map(|c| state.and_then(|s| s.cell_changed_at.get(&c.name).copied()))
                    .collect();
                let cell_seq = binding
                    .columns
                    .iter()
                    .map(|c| state.and_then(|s| s.cell_seq(&c.name)))
                    .collect();
                let table_row = diff::TableRow {
                    values: row.values.clone(),
                    last_db_seq: state.and_then(|s| s.last_db_seq),
                    sheet_held: state.is_some_and(|s| s.sheet_held),
                    cell_changed_at,
                    cell_seq,
                    sheet_inserted_at: state.and_then(|s| s.sheet_inserted_at),
                };
                (key.clone(), table_row)
            })
            .collect();
        let tombstones = states
            .iter()
            .filter(|(key, _)| !rows.contains_key(*key))
            .filter_map(|(key, s)| Some((key.clone(), s.tombstone_seq?)))
            .collect();
        let gone = states
            .iter()
            .filter(|(key, _)| !rows.contains_key(*key))
            .filter_map(|(key, s)| Some((key.clone(), s.last_db_seq?)))
            .collect();
        Image {
            rows,
            image,
            tombstones,
            gone,
        }
    }
}

/// What kind of snapshot request this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotKind {
    /// One part of a tab too large for one request: upserts only.
    pub partial: bool,
    /// docs/contract.md: keyed rows are deferred, nothing is deleted.
    pub unsettled: bool,
}

pub fn plan_snapshot(
    binding: &Binding,
    rows: &[Result<Incoming, Rejection>],
    table: &Image<'_>,
    sheet_columns: &[bool],
    at: EventTime,
    kind: SnapshotKind,
) -> Plan {
    let mut plan = Plan::default();
    let mut rejected_keys = Vec::new();
    let mut rejected_keyless = false;
    let mut incoming = Vec::new();
    let mut snapshot = Vec::new();
    for row in rows {
        let converted = row
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|row| snapshot_row(binding, row).map(|s| (row, s)));
        match converted {
            Ok((row, s)) => {
                incoming.push(row);
                snapshot.push(s);
            }
            Err(rejection) => {
                // A row with a bad cell is still in the tab: never deleted.
                // Nor is a row the sheet inserted, when a keyless row is
                // unreadable: it may be that one.
                match &rejection.key {
                    Some(key) => rejected_keys.push(key.clone()),
                    None => rejected_keyless = true,
                }
                plan.rejects.push(rejection);
            }
        }
    }
    let diffed = diff::diff(&DiffInput {
        columns: &binding.columns,
        sheet_columns,
        policy: binding.policy,
        table: &table.image,
        tombstones: &table.tombstones,
        watermark: at.watermark,
        edited_at: at.edited_at,
        unsettled: kind.unsettled,
        zone: at.zone,
        sheet: SheetInput::Snapshot {
            rows: &snapshot,
            partial: kind.partial,
            rejected_keys: &rejected_keys,
            rejected_keyless,
        },
    });
    plan.deferred = diffed.deferred;

    // Per snapshot row: the write it becomes (possibly of no cells).
    let mut writes: BTreeMap<usize, Write> = BTreeMap::new();
    for &i in &diffed.inserts {
        if kind.unsettled && incoming[i].key.is_none() {
            // A keyless row of an unsettled tab may hold another row's
            // values (a writer batch missed its row there): it is not a
            // new row to insert until the tab settles. A row the sheet
            // inserted it matches was answered with its key above.
            let row = incoming[i];
            plan.skips.push(Skip {
                index: row.index,
                sheet_row: row.sheet_row,
                key: sheetsync_reconcile::Key(Vec::new()),
                key_object: serde_json::Map::new(),
                status: RowStatus::Deferred,
                detail: None,
                held: None,
                conflicts: Vec::new(),
                key_json: None,
            });
            plan.deferred = true;
            continue;
        }
        match insert(binding, incoming[i]) {
            Ok(mut write) => {
                // A deleted key coming back while changes of it are still
                // on their way to the sheet: its values are queued after
                // them.
                write.repair_written = write
                    .key
                    .as_ref()
                    .and_then(|k| table.gone.get(k))
                    .is_some_and(|&seq| seq > at.watermark);
                writes.insert(i, write);
            }
            Err(rejection) => plan.rejects.push(rejection),
        }
    }
    for update in &diffed.updates {
        let write = existing(&mut writes, &incoming, table, update.row);
        for &c in &update.columns {
            let value = snapshot[update.row].values[c].clone();
            write.cells.push((c, value.clone()));
            write.sent.push((c, value));
        }
    }
    for to_sheet in &diffed.to_sheet {
        match to_sheet {
            ToSheet::Row(key) => plan.resends.extend(table.rows.get(key).cloned()),
            ToSheet::Cells { row, columns, .. } => {
                let state = snapshot[*row].key.as_ref().and_then(|k| table.image.get(k));
                let write = existing(&mut writes, &incoming, table, *row);
                for &c in columns {
                    // The database changed the cell after the tab was read:
                    // its value stays and goes to the sheet.
                    write.conflicts.push(Conflict {
                        column: c,
                        sheet_value: incoming[*row].raw(c).cloned().unwrap_or_default(),
                        db_value: write.before.as_ref().map(|b| b.raw_text(c).to_string()),
                        winner: Winner::Db,
                        db_changed_at: state
                            .and_then(|s| s.cell_changed_at.get(c).copied().flatten()),
                    });
                    write.db_won.push(c);
                }
            }
        }
    }
    for skipped in &diffed.skipped {
        let Some(i) = skipped.row else { continue };
        let row = incoming[i];
        match skipped.reason {
            SkipReason::DbChangeInFlight => {
                let write = existing(&mut writes, &incoming, table, i);
                write.note = Some(skipped.reason.as_str().to_string());
            }
            SkipReason::DeleteInFlight => plan.skips.push(Skip {
                index: row.index,
                sheet_row: row.sheet_row,
                key: skipped.key.clone(),
                key_object: key_object(binding, row),
                status: RowStatus::Unchanged,
                detail: Some(skipped.reason.as_str().to_string()),
                held: None,
                conflicts: Vec::new(),
                key_json: None,
            }),
            SkipReason::Unsettled => plan.skips.push(deferred(binding, row, &skipped.key)),
            SkipReason::DuplicateKey | SkipReason::NotYetOnSheet | SkipReason::AwaitingKey => {
                plan.rejects.push(Rejection {
                    index: row.index,
                    sheet_row: row.sheet_row,
                    key: Some(skipped.key.clone()),
                    column: binding.key_columns.first().cloned(),
                    value: None,
                    reason: format!(
                        "{}: {}",
                        binding.key_columns.first().map_or("key", String::as_str),
                        skipped.reason.as_str()
                    ),
                })
            }
        }
    }
    // Keyless rows that are a row the sheet inserted, its key not written
    // back yet: answered with that key (the script writes it into the row
    // if its key cell is still empty); nothing written, nothing marked.
    for (i, key) in &diffed.matched {
        let row = incoming[*i];
        let Some(table_row) = table.rows.get(key) else {
            continue;
        };
        plan.skips.push(Skip {
            index: row.index,
            sheet_row: row.sheet_row,
            key: key.clone(),
            key_object: table_row.key_object(binding),
            status: RowStatus::Unchanged,
            detail: None,
            held: None,
            conflicts: Vec::new(),
            key_json: None,
        });
    }
    // Rows in both that need nothing are answered `unchanged` (and marked
    // as held by the sheet).
    for (i, s) in snapshot.iter().enumerate() {
        if let Some(key) = &s.key
            && table.rows.contains_key(key)
            && !diffed.skipped.iter().any(|k| k.row == Some(i))
        {
            existing(&mut writes, &incoming, table, i);
        }
    }
    plan.writes = writes.into_values().collect();
    take_deletes(&mut plan, table, &diffed.deletes, at.watermark);
    plan
}

/// The table rows the diff deletes, and which of them must also be deleted
/// from the sheet (see [`queued_deletes`]).
fn take_deletes(plan: &mut Plan, table: &Image<'_>, deletes: &[Key], watermark: i64) {
    plan.deletes = deletes
        .iter()
        .filter_map(|k| table.rows.get(k).cloned())
        .collect();
    plan.queued_deletes = queued_deletes(table, &plan.deletes, watermark);
}

/// Deleted rows with a change queued for the sheet past the request's
/// watermark (a change of the row, or a re-send of it, which moves only
/// `cell_seq`): that change would put the row back in the sheet after the
/// person deleted it, and nothing else would remove it (the sheet's own
/// delete queues nothing).
fn queued_deletes(table: &Image<'_>, deletes: &[TableRow], watermark: i64) -> Vec<Key> {
    deletes
        .iter()
        .filter(|row| {
            table
                .image
                .get(&row.key)
                .is_some_and(|r| r.in_flight(watermark))
        })
        .map(|row| row.key.clone())
        .collect()
}

/// `keys` requests: only the safe deletes; none when `unsettled`.
pub fn plan_keys(
    table: &Image<'_>,
    binding: &Binding,
    keys: &HashSet<Key>,
    at: EventTime,
    unsettled: bool,
) -> Plan {
    let mut plan = Plan::default();
    if unsettled {
        // Nothing from an untrusted key list, not even "held".
        plan.deferred = true;
        return plan;
    }
    let keys: Vec<Key> = keys.iter().cloned().collect();
    let diffed = diff::diff(&DiffInput {
        columns: &binding.columns,
        sheet_columns: &[],
        policy: binding.policy,
        table: &table.image,
        tombstones: &table.tombstones,
        watermark: at.watermark,
        edited_at: at.edited_at,
        unsettled,
        zone: at.zone,
        sheet: SheetInput::Keys(&keys),
    });
    plan.deferred = diffed.deferred;
    for key in &keys {
        if let (Some(row), Some(state)) = (table.rows.get(key), table.image.get(key))
            && !state.sheet_held
        {
            plan.held.push(row.key_json.clone());
        }
    }
    take_deletes(&mut plan, table, &diffed.deletes, at.watermark);
    plan
}

/// The write of snapshot row `i` on its existing table row.
fn existing<'w>(
    writes: &'w mut BTreeMap<usize, Write>,
    incoming: &[&Incoming],
    table: &Image<'_>,
    i: usize,
) -> &'w mut Write {
    writes.entry(i).or_insert_with(|| {
        let row = incoming[i];
        Write {
            index: row.index,
            sheet_row: row.sheet_row,
            kind: WriteKind::Update,
            key: row.key.clone(),
            cells: Vec::new(),
            sent: Vec::new(),
            before: row.key.as_ref().and_then(|k| table.rows.get(k)).cloned(),
            repair_written: false,
            db_won: Vec::new(),
            conflicts: Vec::new(),
            note: None,
            already_held: row
                .key
                .as_ref()
                .and_then(|k| table.image.get(k))
                .is_some_and(|s| s.sheet_held),
            // A snapshot is read once the script's queue drained: every
            // key it shows is in the tab.
            reports_key: row.key.is_some(),
        }
    })
}

/// Every cell of the row converted (a generated column's cell is only
/// shown, never written: an unreadable one does not matter).
fn snapshot_row(binding: &Binding, row: &Incoming) -> Result<SnapshotRow, Rejection> {
    let mut values = Vec::with_capacity(binding.columns.len());
    for (c, column) in binding.columns.iter().enumerate() {
        values.push(match row.value(c) {
            None => Value::Null,
            Some(Ok(value)) => value.clone(),
            Some(Err(_)) if column.generated => Value::Null,
            Some(Err(rejection)) => return Err(rejection),
        });
    }
    Ok(SnapshotRow {
        key: row.key.clone(),
        values,
    })
}
