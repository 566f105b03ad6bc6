//! `edit` requests: each row merged into the table cell by cell, touching
//! only the cells the event says the user changed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sheetsync_reconcile::Binding;
use sheetsync_reconcile::merge::{CellInput, MergeContext, Side, merge_row};
use sheetsync_reconcile::{Key, SheetZone, Value};

use crate::contract::RowStatus;
use crate::incoming::{Incoming, Rejection};
use crate::plan::{Conflict, Plan, Skip, Winner, Write, WriteKind};
use crate::table::{RowState, TableRow};

/// The moment and sync position the event was made at, and the zone the
/// sheet's date-times are wall clocks in.
#[derive(Debug, Clone, Copy)]
pub struct EventTime {
    pub edited_at: DateTime<Utc>,
    pub watermark: i64,
    /// The request's `tz`: sheet and table date-times are compared as the
    /// wall clocks the sheet holds (docs/contract.md, "Time zones").
    pub zone: SheetZone,
}

/// Plans an `edit`. `unsettled` (docs/contract.md): a keyed row that names
/// no columns (`old`, `edited`) is a whole-row re-send of cells that may
/// not be the row's: it is deferred, nothing written.
pub fn plan_edit(
    binding: &Binding,
    rows: &[Result<Incoming, Rejection>],
    table: &HashMap<Key, TableRow>,
    states: &HashMap<Key, RowState>,
    at: EventTime,
    unsettled: bool,
) -> Plan {
    let mut plan = Plan::default();
    let mut seen: HashMap<Key, Option<u32>> = HashMap::new();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(rejection) => {
                plan.rejects.push(rejection.clone());
                continue;
            }
        };
        if unsettled
            && row.applied.is_none()
            && let Some(key) = &row.key
        {
            plan.skips.push(deferred(binding, row, key));
            plan.deferred = true;
            continue;
        }
        if let Some(rejection) = duplicate(binding, row, &mut seen) {
            plan.rejects.push(rejection);
            continue;
        }
        let planned = match &row.key {
            None => insert(binding, row),
            Some(key) => match table.get(key) {
                Some(current) => update(binding, row, current, states.get(key), at, unsettled),
                None => match states.get(key) {
                    Some(state) if state.unseen_delete(at.watermark) => {
                        plan.skips.push(deleted_in_db(binding, row, key, state));
                        continue;
                    }
                    // Changes of the key still on their way to the sheet
                    // (it was deleted and comes back): the inserted values
                    // are queued after them.
                    state => insert(binding, row).map(|mut write| {
                        write.repair_written =
                            state.is_some_and(|s| s.unseen_db_change(at.watermark));
                        write
                    }),
                },
            },
        };
        match planned {
            Ok(write) => plan.writes.push(write),
            Err(rejection) => plan.rejects.push(rejection),
        }
    }
    plan
}

/// A row of an unsettled request that is not decided now.
pub fn deferred(binding: &Binding, row: &Incoming, key: &Key) -> Skip {
    Skip {
        index: row.index,
        sheet_row: row.sheet_row,
        key: key.clone(),
        key_object: key_object(binding, row),
        status: RowStatus::Deferred,
        detail: None,
        held: None,
        conflicts: Vec::new(),
        key_json: None,
    }
}

/// A key the request already carried: only its first row applies.
pub fn duplicate(
    binding: &Binding,
    row: &Incoming,
    seen: &mut HashMap<Key, Option<u32>>,
) -> Option<Rejection> {
    let key = row.key.as_ref()?;
    match seen.get(key) {
        Some(first) => {
            let column = binding.key_columns.first().cloned();
            let also = first
                .map(|r| format!(" (also sheet row {r})"))
                .unwrap_or_default();
            Some(Rejection {
                index: row.index,
                sheet_row: row.sheet_row,
                key: Some(key.clone()),
                reason: format!(
                    "{}: the key {key} appears more than once in the sheet{also}",
                    column.as_deref().unwrap_or("key")
                ),
                column,
                value: None,
            })
        }
        None => {
            seen.insert(key.clone(), row.sheet_row);
            None
        }
    }
}

/// A new row (or one with a key the table lacks): every cell the sheet
/// holds; empty cells are left to the column's default.
pub fn insert(binding: &Binding, row: &Incoming) -> Result<Write, Rejection> {
    let mut cells = Vec::new();
    let mut sent = Vec::new();
    for (c, column) in binding.columns.iter().enumerate() {
        let Some(value) = row.value(c) else { continue };
        if column.generated {
            // Never written; what the sheet shows is repaired to the
            // computed value.
            sent.push((
                c,
                value.cloned().unwrap_or(sheetsync_reconcile::Value::Null),
            ));
            continue;
        }
        let value = value?;
        if !value.is_null() {
            cells.push((c, value.clone()));
        }
        sent.push((c, value.clone()));
    }
    Ok(Write {
        index: row.index,
        sheet_row: row.sheet_row,
        kind: WriteKind::Insert,
        key: row.key.clone(),
        cells,
        sent,
        before: None,
        repair_written: false,
        db_won: Vec::new(),
        conflicts: Vec::new(),
        note: None,
        already_held: false,
        reports_key: row.key.is_some(),
    })
}

fn update(
    binding: &Binding,
    row: &Incoming,
    current: &TableRow,
    state: Option<&RowState>,
    at: EventTime,
    unsettled: bool,
) -> Result<Write, Rejection> {
    let keys: HashSet<usize> = binding.key_indices().into_iter().collect();
    let in_flight = state.is_some_and(|s| s.unseen_db_change(at.watermark));
    let changed_at =
        |c: usize| state.and_then(|s| s.cell_changed_at.get(&binding.columns[c].name).copied());
    let seq = |c: usize| state.and_then(|s| s.cell_seq(&binding.columns[c].name));
    let mut inputs = Vec::new();
    for (c, column) in binding.columns.iter().enumerate() {
        if keys.contains(&c) || column.generated || !row.applies(c) {
            continue;
        }
        let Some(sheet) = row.value(c) else { continue };
        inputs.push((c, sheet?));
    }
    let cells: Vec<CellInput<'_>> = inputs
        .iter()
        .map(|&(c, sheet)| CellInput {
            column: &binding.columns[c].name,
            sheet,
            base: row.old.get(&c),
            db: &current.values[c],
            db_changed_at: changed_at(c),
            db_seq: seq(c),
        })
        .collect();
    let context = MergeContext {
        policy: binding.policy,
        edited_at: at.edited_at,
        watermark: at.watermark,
        row_in_flight: in_flight,
        unsettled,
        zone: at.zone,
    };
    let merged = merge_row(&context, &cells);
    let column_of = |name: &str| binding.columns.iter().position(|c| c.name == name);
    let written: Vec<(usize, Value)> = merged
        .writes
        .iter()
        .filter_map(|(name, value)| Some((column_of(name)?, value.clone())))
        .collect();
    let db_won = merged
        .to_sheet
        .iter()
        .filter(|(name, _)| !merged.writes.iter().any(|(w, _)| w == name))
        .filter_map(|(name, _)| column_of(name))
        .collect();
    let conflicts = merged
        .conflicts
        .iter()
        .filter_map(|conflict| {
            let c = column_of(&conflict.column)?;
            Some(Conflict {
                column: c,
                sheet_value: row.raw(c).cloned().unwrap_or_default(),
                db_value: Some(current.raw_text(c).to_string()),
                winner: match conflict.winner {
                    Side::Sheet => Winner::Sheet,
                    Side::Db => Winner::Db,
                },
                db_changed_at: conflict.db_changed_at,
            })
        })
        .collect();
    Ok(Write {
        index: row.index,
        sheet_row: row.sheet_row,
        kind: WriteKind::Update,
        key: row.key.clone(),
        sent: written.clone(),
        cells: written,
        before: Some(current.clone()),
        repair_written: in_flight,
        db_won,
        conflicts,
        note: None,
        already_held: state.is_some_and(|s| s.sheet_held),
        reports_key: !(row.applied.is_none() && state.is_some_and(awaits_key)),
    })
}

/// A row inserted from a keyless sheet row whose key no request reported.
fn awaits_key(state: &RowState) -> bool {
    !state.sheet_held && state.sheet_inserted_at.is_some()
}

/// A row the database deleted after the sheet last heard of it: the delete
/// is on its way to the sheet, so the edit is not applied; its values are
/// kept as conflicts.
fn deleted_in_db(binding: &Binding, row: &Incoming, key: &Key, state: &RowState) -> Skip {
    let keys: HashSet<usize> = binding.key_indices().into_iter().collect();
    let conflicts = binding
        .columns
        .iter()
        .enumerate()
        .filter(|(c, column)| !keys.contains(c) && !column.generated && row.applies(*c))
        .filter_map(|(c, _)| {
            let raw = row.raw(c)?;
            let empty = raw.is_null() || raw.as_str().is_some_and(str::is_empty);
            (!empty).then(|| Conflict {
                column: c,
                sheet_value: raw.clone(),
                db_value: None,
                winner: Winner::Db,
                db_changed_at: None,
            })
        })
        .collect();
    Skip {
        index: row.index,
        sheet_row: row.sheet_row,
        key: key.clone(),
        key_object: key_object(binding, row),
        status: RowStatus::Conflict,
        detail: Some("the row was deleted in the database; the edit was not applied".into()),
        held: None,
        conflicts,
        key_json: Some(state.key_json.clone()),
    }
}

/// The key as the sheet sent it, by key column name.
pub fn key_object(binding: &Binding, row: &Incoming) -> serde_json::Map<String, serde_json::Value> {
    binding
        .key_indices()
        .into_iter()
        .map(|c| {
            let json = match row.value(c) {
                Some(Ok(value)) => value.to_json(),
                _ => serde_json::Value::Null,
            };
            (binding.columns[c].name.clone(), json)
        })
        .collect()
}

/// Words for a conflict's answer: which columns, which side kept each.
pub fn conflict_detail(binding: &Binding, conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(|c| {
            let kept = match c.winner {
                Winner::Sheet => "the sheet's value was kept",
                Winner::Db => "the database's value was kept",
            };
            format!("{}: {kept}", binding.columns[c.column].name)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;
    use sheetsync_reconcile::{Column, ConflictPolicy, PgType};

    use super::*;
    use crate::incoming::Cell;

    fn binding() -> Binding {
        let mut id = Column::new("id", PgType::Int8);
        id.key_position = Some(0);
        id.has_default = true;
        Binding {
            name: "t".into(),
            table_oid: 1,
            table_schema: "public".into(),
            table_name: "t".into(),
            spreadsheet_id: "s".into(),
            sheet: "T".into(),
            policy: ConflictPolicy::Latest,
            key_columns: vec!["id".into()],
            columns: vec![
                id,
                Column::new("a", PgType::Int8),
                Column::new("b", PgType::Int8),
            ],
            identity_always: Vec::new(),
            columns_version: "1".into(),
        }
    }

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_764_000_000 + second, 0).unwrap()
    }

    /// Row 3 `[3, 10, 11]` as the sheet sends it; `applied`: its `edited`.
    fn row(applied: Option<&[usize]>) -> Incoming {
        let cell = |n: i64| {
            Some(Cell {
                raw: n.into(),
                value: Ok(Value::Int(n)),
            })
        };
        Incoming {
            index: 0,
            sheet_row: Some(4),
            cells: vec![cell(3), cell(10), cell(11)],
            key: Some(Key::from_values(&[Value::Int(3)])),
            applied: applied.map(|c| c.iter().copied().collect::<BTreeSet<usize>>()),
            old: HashMap::new(),
        }
    }

    /// Plans `row` against the table row 3 `[3, 10, null]`, inserted from a
    /// keyless sheet row typed at second 2, `held` or not yet.
    fn reports_key(row: Incoming, held: bool) -> bool {
        let binding = binding();
        let key = Key::from_values(&[Value::Int(3)]);
        let stored =
            TableRow::parse(&binding, "[3]".into(), r#"{"id":3,"a":10,"b":null}"#).unwrap();
        let state = RowState {
            key_json: "[3]".into(),
            cell_changed_at: [("a".to_string(), at(2))].into(),
            sheet_held: held,
            sheet_inserted_at: Some(at(2)),
            ..RowState::default()
        };
        let time = EventTime {
            edited_at: at(3),
            watermark: 2,
            zone: SheetZone::UTC,
        };
        let plan = plan_edit(
            &binding,
            &[Ok(row)],
            &[(key.clone(), stored)].into(),
            &[(key, state)].into(),
            time,
            false,
        );
        assert_eq!(plan.writes.len(), 1);
        assert_eq!(plan.writes[0].cells, vec![(2, Value::Int(11))]);
        plan.writes[0].reports_key
    }

    /// tests/model, "typed row, typed on, another row deleted": a row typed
    /// in two cells is sent whole twice; the script gives the second request
    /// the key from the first's answer, though the tab showed no key when it
    /// was read, nor when a `keys` request queued after it was read. Were
    /// the second request to mark the row held, that `keys` request would
    /// delete it from the table while the tab shows it.
    #[test]
    fn a_whole_row_edit_of_a_row_awaiting_its_key_does_not_report_it() {
        assert!(!reports_key(row(None), false));
    }

    #[test]
    fn other_edits_report_the_key() {
        // A paste into a keyed row: the key was in the tab.
        assert!(reports_key(row(Some(&[2])), false));
        // A row some request already reported.
        assert!(reports_key(row(None), true));
    }
}
