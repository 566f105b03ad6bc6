//! The model's state in the product's own types, so the product's planners
//! can judge it: the binding, the table's rows and `row_state` as the
//! webhook reads them, a request's rows as the webhook converts them.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value as Json;
use serde_json::value::RawValue;
use sheetsync_plan::incoming::{Cell, Incoming};
use sheetsync_plan::table::{RowState as PgRowState, TableRow};
use sheetsync_reconcile::Binding;
use sheetsync_reconcile::{Column, ConflictPolicy, Key, PgType, Value};

use crate::world::{RowState, Val, WIDTH, World};

/// Column names in binding order: the key, then the data columns.
pub const COLUMNS: [&str; WIDTH + 1] = ["id", "a", "b"];

/// The one binding every scenario syncs: `id bigint` (database default),
/// `a`, `b` nullable `bigint`.
pub fn binding(policy: ConflictPolicy) -> Binding {
    let columns = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut column = Column::new(*name, PgType::Int8);
            if i == 0 {
                column.key_position = Some(0);
                column.nullable = false;
                column.has_default = true;
            }
            column
        })
        .collect();
    Binding {
        name: "model".into(),
        table_oid: 1,
        table_schema: "public".into(),
        table_name: "model".into(),
        spreadsheet_id: "sheet".into(),
        sheet: "Model".into(),
        policy,
        key_columns: vec!["id".into()],
        columns,
        identity_always: Vec::new(),
        columns_version: "1".into(),
    }
}

/// The logical clock as the instant the product compares.
pub fn instant(tick: u8) -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_000_000 + i64::from(tick), 0)
        .single()
        .unwrap_or_default()
}

pub fn value(v: Val) -> Value {
    v.map_or(Value::Null, |n| Value::Int(i64::from(n)))
}

pub fn json(v: Val) -> Json {
    v.map_or(Json::Null, Json::from)
}

/// A cell as the sheet sent it (JSON) back to the model's value.
pub fn val_of_json(json: &Json) -> Val {
    json.as_i64().and_then(|n| i8::try_from(n).ok())
}

/// A `to_jsonb` text back to the model's value.
pub fn val_of_text(text: &str) -> Val {
    text.parse::<i64>().ok().and_then(|n| i8::try_from(n).ok())
}

pub fn key(k: i64) -> Key {
    Key::from_values(&[Value::Int(k)])
}

pub fn key_int(key: &Key) -> Option<i64> {
    match key.0.as_slice() {
        [sheetsync_reconcile::KeyPart::Int(k)] => Some(*k),
        _ => None,
    }
}

pub fn key_json(k: i64) -> String {
    format!("[{k}]")
}

fn raw(text: String) -> Option<Box<RawValue>> {
    RawValue::from_string(text).ok()
}

/// A table row as the webhook reads it (`to_jsonb`).
pub fn table_row(k: i64, cells: &[Val; WIDTH]) -> TableRow {
    let mut values = vec![Value::Int(k)];
    let mut raws = vec![raw(k.to_string())];
    for &cell in cells {
        values.push(value(cell));
        raws.push(raw(cell.map_or("null".into(), |n| n.to_string())));
    }
    TableRow {
        key: key(k),
        key_json: key_json(k),
        raw: raws,
        values,
    }
}

pub fn table_rows(world: &World) -> HashMap<Key, TableRow> {
    world
        .table
        .iter()
        .map(|(&k, cells)| (key(k), table_row(k, cells)))
        .collect()
}

/// `row_state` as the webhook reads it.
pub fn row_states(world: &World) -> HashMap<Key, PgRowState> {
    world
        .states
        .iter()
        .map(|(&k, s)| (key(k), pg_state(k, s)))
        .collect()
}

fn pg_state(k: i64, state: &RowState) -> PgRowState {
    let by_column = |c: usize| COLUMNS[c].to_string();
    PgRowState {
        key_json: key_json(k),
        last_db_seq: state.last_db_seq,
        cell_changed_at: (0..=WIDTH)
            .filter_map(|c| Some((by_column(c), instant(state.cell_changed_at[c]?))))
            .collect(),
        sheet_held: state.sheet_held,
        tombstone_seq: state.tombstone_seq,
        cell_seq: (0..=WIDTH)
            .filter_map(|c| Some((by_column(c), state.cell_seq[c]?)))
            .collect(),
        sheet_inserted_at: state.sheet_inserted_at.map(instant),
    }
}

/// One sheet row of a request, converted as `Incoming::convert` does for
/// integer cells (the key is read from the key cell; empty: a new row).
pub fn incoming(
    index: usize,
    key: Option<i64>,
    cells: &[Val; WIDTH],
    applied: Option<[bool; WIDTH]>,
    old: &[Option<Val>; WIDTH],
) -> Incoming {
    let key_cell = key.map_or(Value::Null, Value::Int);
    let mut converted = vec![Some(Cell {
        raw: key.map_or(Json::Null, Json::from),
        value: Ok(key_cell),
    })];
    for &cell in cells {
        converted.push(Some(Cell {
            raw: json(cell),
            value: Ok(value(cell)),
        }));
    }
    let applied = applied.map(|columns| {
        (0..WIDTH)
            .filter(|&c| columns[c])
            .map(|c| c + 1)
            .collect::<BTreeSet<usize>>()
    });
    let old = (0..WIDTH)
        .filter_map(|c| Some((c + 1, value(old[c]?))))
        .collect();
    Incoming {
        index,
        sheet_row: u32::try_from(index + 2).ok(),
        cells: converted,
        key: key.map(self::key),
        applied,
        old,
    }
}

/// A typed value back to the model's value.
pub fn val_of_value(v: &Value) -> Val {
    match v {
        Value::Int(n) => i8::try_from(*n).ok(),
        _ => None,
    }
}
