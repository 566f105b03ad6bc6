//! Row keys on both sides, in `sheetsync_reconcile::Key`'s canonical form: the
//! sheet's `42.0` and the table's `42` are one key.

use serde_json::Value as Json;
use sheetsync_reconcile::{Key, KeyPart, PgType, SheetSettings, Value};

/// The key of a queue message (`to_jsonb` values in key order).
pub fn db_key(values: &[Json]) -> Key {
    Key::from_json(values)
}

/// The key of a sheet row from its key cells, or `None` when the row has
/// no usable key: a key cell is empty (a row typed into the sheet and not
/// yet synced) or cannot be its column's type (a typo the table cannot
/// hold). Such rows are never located, written or removed.
///
/// Cells are read as the webhook reads them (`sheetsync_reconcile::convert::from_sheet_in`), so
/// `"42"` in an integer key column and a date's serial number match the
/// table's key; a date-time serial is a wall clock in the spreadsheet's
/// zone, as the writer wrote it, and text reads as its locale writes it.
pub fn sheet_key(
    cells: &[Json],
    columns: &[(&str, PgType)],
    settings: SheetSettings,
) -> Option<Key> {
    let mut parts = Vec::with_capacity(cells.len());
    for (cell, (name, pg_type)) in cells.iter().zip(columns) {
        match sheetsync_reconcile::convert::from_sheet_in(cell, name, *pg_type, settings) {
            Ok(Value::Null) | Err(_) => return None,
            Ok(value) => parts.push(KeyPart::from_value(&value)),
        }
    }
    Some(Key(parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sheet_and_table_forms_match() {
        let id = [("id", PgType::Int8)];
        assert_eq!(
            sheet_key(&[json!(42)], &id, SheetSettings::UTC),
            Some(db_key(&[json!(42)]))
        );
        assert_eq!(
            sheet_key(&[json!(42.0)], &id, SheetSettings::UTC),
            Some(db_key(&[json!(42)]))
        );
        assert_eq!(
            sheet_key(&[json!("42")], &id, SheetSettings::UTC),
            Some(db_key(&[json!(42)]))
        );
        assert_eq!(
            sheet_key(
                &[json!("A-1"), json!(3)],
                &[("code", PgType::Text), ("n", PgType::Int4)],
                SheetSettings::UTC
            ),
            Some(db_key(&[json!("A-1"), json!(3)]))
        );
        // 2026-12-01 is serial 46357.
        assert_eq!(
            sheet_key(
                &[json!(46357)],
                &[("day", PgType::Date)],
                SheetSettings::UTC
            ),
            Some(db_key(&[json!("2026-12-01")]))
        );
        // A timestamptz key's serial is a wall clock in the spreadsheet's
        // zone: 2026-01-01 01:00 in Berlin is midnight UTC.
        let berlin = SheetSettings::in_zone("Europe/Berlin".parse().unwrap());
        assert_eq!(
            sheet_key(
                &[json!(46023.041666666664)],
                &[("at", PgType::Timestamptz)],
                berlin
            ),
            Some(db_key(&[json!("2026-01-01T00:00:00+00:00")]))
        );
        // A key typed as text reads as the spreadsheet's locale writes it,
        // as the webhook reads it.
        let german = SheetSettings {
            locale: sheetsync_reconcile::SheetLocale::from_tag("de_DE"),
            ..SheetSettings::UTC
        };
        assert_eq!(
            sheet_key(&[json!("1.234")], &id, german),
            Some(db_key(&[json!(1234)]))
        );
    }

    #[test]
    fn empty_or_unreadable_key_cells_mean_no_key() {
        let id = [("id", PgType::Int4)];
        assert_eq!(sheet_key(&[Json::Null], &id, SheetSettings::UTC), None);
        assert_eq!(
            sheet_key(&[json!("")], &[("code", PgType::Text)], SheetSettings::UTC),
            None
        );
        assert_eq!(sheet_key(&[json!("4x")], &id, SheetSettings::UTC), None);
        assert_eq!(
            sheet_key(
                &[json!("x"), Json::Null],
                &[("code", PgType::Text), ("n", PgType::Int4)],
                SheetSettings::UTC
            ),
            None
        );
    }
}
