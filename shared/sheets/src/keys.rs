//! Row keys on both sides, in `reconcile::Key`'s canonical form: the
//! sheet's `42.0` and the table's `42` are one key.

use reconcile::{Key, KeyPart, PgType, Value, serial};
use serde_json::Value as Json;

/// The key of a queue message (`to_jsonb` values in key order).
pub fn db_key(values: &[Json]) -> Key {
    Key::from_json(values)
}

/// The key of a sheet row from its key cells, or `None` when a key cell is
/// empty (a row typed into the sheet and not yet synced: never touched).
///
/// Date and timestamp cells come back from the API as serial numbers; they
/// are turned into the typed value so they compare equal to the table's key.
pub fn sheet_key(cells: &[Json], types: &[PgType]) -> Option<Key> {
    let mut parts = Vec::with_capacity(cells.len());
    for (i, cell) in cells.iter().enumerate() {
        let empty = match cell {
            Json::Null => true,
            Json::String(s) => s.trim().is_empty(),
            _ => false,
        };
        if empty {
            return None;
        }
        let typed = match (cell.as_f64(), types.get(i)) {
            (Some(serial), Some(t)) => serial_value(serial, *t),
            _ => None,
        };
        parts.push(match typed {
            Some(value) => KeyPart::from_value(&value),
            None => KeyPart::from_json(cell),
        });
    }
    Some(Key(parts))
}

/// A Google serial number as the typed value of a date or timestamp column.
fn serial_value(number: f64, pg_type: PgType) -> Option<Value> {
    match pg_type {
        PgType::Date => serial::to_date(number).map(Value::Date),
        PgType::Timestamp => serial::to_datetime(number).map(Value::Timestamp),
        PgType::Timestamptz => serial::to_datetime(number).map(|t| Value::TimestampTz(t.and_utc())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sheet_and_table_forms_match() {
        assert_eq!(
            sheet_key(&[json!(42)], &[PgType::Int8]),
            Some(db_key(&[json!(42)]))
        );
        assert_eq!(
            sheet_key(&[json!("A-1"), json!(3)], &[PgType::Text, PgType::Int4]),
            Some(db_key(&[json!("A-1"), json!(3)]))
        );
        // 2026-12-01 is serial 46357.
        assert_eq!(
            sheet_key(&[json!(46357)], &[PgType::Date]),
            Some(db_key(&[json!("2026-12-01")]))
        );
    }

    #[test]
    fn empty_key_cells_mean_no_key() {
        assert_eq!(sheet_key(&[Json::Null], &[PgType::Int4]), None);
        assert_eq!(sheet_key(&[json!(" ")], &[PgType::Text]), None);
        assert_eq!(
            sheet_key(&[json!("x"), Json::Null], &[PgType::Text, PgType::Int4]),
            None
        );
    }
}
