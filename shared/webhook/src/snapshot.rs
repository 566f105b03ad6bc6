//! `snapshot` and `keys` requests, judged against the watermark `W` (DESIGN.md
//! "Snapshots and the watermark"):
//!
//! | key is …                   | rule |
//! |----------------------------|------|
//! | in snapshot and table      | a database change newer than `W`: the table wins. Else the sheet's differing cells (edited after the cell's last change) are applied |
//! | in snapshot, not in table  | a tombstone newer than `W`: skip. Else insert |
//! | in table, not in snapshot  | the sheet held it (reported it, or last change ≤ `W`): delete. Else send it again |

use std::collections::{HashMap, HashSet};

use reconcile::Key;
use reconcile::convert::sheet_matches;
use sheetsync_store::Binding;

use crate::contract::RowStatus;
use crate::edit::{EventTime, duplicate, insert, key_object};
use crate::incoming::{Incoming, Rejection};
use crate::plan::{Plan, Skip, Write, WriteKind};
use crate::table::{RowState, TableRow, key_columns};

pub fn plan_snapshot(
    binding: &Binding,
    rows: Vec<Result<Incoming, Rejection>>,
    table: &HashMap<Key, TableRow>,
    states: &HashMap<Key, RowState>,
    at: EventTime,
    partial: bool,
) -> Plan {
    let mut plan = Plan::default();
    let mut present: HashSet<Key> = HashSet::new();
    let mut seen = HashMap::new();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(rejection) => {
                // A row with a bad cell is still in the sheet: never deleted.
                present.extend(rejection.key.clone());
                plan.rejects.push(rejection);
                continue;
            }
        };
        present.extend(row.key.clone());
        if let Some(rejection) = duplicate(binding, &row, &mut seen) {
            plan.rejects.push(rejection);
            continue;
        }
        let planned = match &row.key {
            None => insert(binding, &row),
            Some(key) => match (table.get(key), states.get(key)) {
                (Some(current), state) => refresh(binding, &row, current, state, at),
                (None, Some(state)) if state.unseen_delete(at.watermark) => {
                    plan.skips.push(Skip {
                        index: row.index,
                        sheet_row: row.sheet_row,
                        key: key.clone(),
                        key_object: key_object(binding, &row),
                        status: RowStatus::Unchanged,
                        detail: Some(
                            "the row was deleted in the database; the delete is on its way to the sheet"
                                .into(),
                        ),
                        held: None,
                        conflicts: Vec::new(),
                        key_json: None,
                    });
                    continue;
                }
                (None, _) => insert(binding, &row),
            },
        };
        match planned {
            Ok(write) => plan.writes.push(write),
            Err(rejection) => plan.rejects.push(rejection),
        }
    }
    if !partial {
        missing_rows(&mut plan, table, states, &present, at.watermark);
    }
    plan
}

/// `keys` requests: only the safe deletes (and the re-sends they imply).
pub fn plan_keys(
    table: &HashMap<Key, TableRow>,
    states: &HashMap<Key, RowState>,
    present: &HashSet<Key>,
    watermark: i64,
) -> Plan {
    let mut plan = Plan::default();
    for (key, row) in table {
        if present.contains(key) && !states.get(key).is_some_and(|s| s.sheet_held) {
            plan.held.push(row.key_json.clone());
        }
    }
    missing_rows(&mut plan, table, states, present, watermark);
    plan
}

fn missing_rows(
    plan: &mut Plan,
    table: &HashMap<Key, TableRow>,
    states: &HashMap<Key, RowState>,
    present: &HashSet<Key>,
    watermark: i64,
) {
    let mut missing: Vec<&TableRow> = table
        .iter()
        .filter(|(key, _)| !present.contains(*key))
        .map(|(_, row)| row)
        .collect();
    missing.sort_by(|a, b| a.key.cmp(&b.key));
    for row in missing {
        let held = states
            .get(&row.key)
            .is_some_and(|s| s.sheet_held || s.last_db_seq.is_some_and(|seq| seq <= watermark));
        if held {
            plan.deletes.push(row.clone());
        } else {
            plan.resends.push(row.clone());
        }
    }
}

/// A row in both: the sheet's differing cells are edits the webhook missed,
/// unless the table has a change the sheet has not seen.
fn refresh(
    binding: &Binding,
    row: &Incoming,
    current: &TableRow,
    state: Option<&RowState>,
    at: EventTime,
) -> Result<Write, Rejection> {
    let keys: HashSet<usize> = key_columns(binding).into_iter().collect();
    let mut write = Write {
        index: row.index,
        sheet_row: row.sheet_row,
        kind: WriteKind::Update,
        key: row.key.clone(),
        cells: Vec::new(),
        sent: Vec::new(),
        before: Some(current.clone()),
        repair_written: false,
        db_won: Vec::new(),
        conflicts: Vec::new(),
    };
    if state.is_some_and(|s| s.unseen_db_change(at.watermark)) {
        return Ok(write);
    }
    for (c, column) in binding.columns.iter().enumerate() {
        if keys.contains(&c) || column.generated {
            continue;
        }
        let Some(sheet) = row.value(c) else { continue };
        let sheet = sheet?;
        if sheet_matches(sheet, &current.values[c]) {
            continue;
        }
        // A cell changed after the tab was read (a sheet edit that arrived
        // first) keeps its newer value.
        let changed_at = state.and_then(|s| s.cell_changed_at.get(&column.name).copied());
        if changed_at.is_none_or(|t| at.edited_at > t) {
            write.cells.push((c, sheet.clone()));
            write.sent.push((c, sheet.clone()));
        }
    }
    Ok(write)
}
