//! Row identity: a primary key in a canonical form, equal whichever side it
//! was read from (a sheet's `42` or `"42"` in an integer key column, the
//! table's int8 `42`, the outbox's JSON `[42]`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::convert::{ConvertError, decimal, from_sheet};
use crate::model::{Column, Value};

/// One key column's value in canonical form.
///
/// Whole numbers are `Int` whatever type carried them, so they order
/// numerically; every other value is its canonical text (the form
/// `to_jsonb` gives it). The variant order is the sort order: `Null` (never
/// in a stored key, but total), then numbers, then text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyPart {
    Null,
    Int(i64),
    Text(String),
}

/// A primary key: the key columns' values in key order.
///
/// Serialises as a JSON array (`[42]`, `["A-1", 3]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Key(pub Vec<KeyPart>);

impl Key {
    /// The key of typed values (from the sheet after conversion, or from the
    /// table).
    pub fn from_values(values: &[Value]) -> Key {
        Key(values.iter().map(KeyPart::from_value).collect())
    }

    /// The key of JSON values as `to_jsonb` renders them (outbox keys, queue
    /// messages) or as the Sheets API returns unformatted cells. Equal to
    /// [`Key::from_values`] of the same values when PostgreSQL renders
    /// timestamptz in UTC.
    pub fn from_json(values: &[Json]) -> Key {
        Key(values.iter().map(KeyPart::from_json).collect())
    }

    /// The key of a sheet row's key cells, converted to the key columns'
    /// types first (so a date key read back as a serial number, or a text key
    /// the sheet shows as a number, equals the table's key). `Ok(None)` when
    /// a key cell is empty: a new row.
    pub fn from_sheet(
        cells: &[Json],
        key_columns: &[&Column],
    ) -> Result<Option<Key>, ConvertError> {
        let mut parts = Vec::with_capacity(cells.len());
        for (cell, column) in cells.iter().zip(key_columns) {
            match from_sheet(cell, column)? {
                Value::Null => return Ok(None),
                value => parts.push(KeyPart::from_value(&value)),
            }
        }
        Ok(Some(Key(parts)))
    }

    pub fn parts(&self) -> &[KeyPart] {
        &self.0
    }
}

impl KeyPart {
    pub fn from_value(value: &Value) -> KeyPart {
        match value {
            Value::Null => KeyPart::Null,
            Value::Int(i) => KeyPart::Int(*i),
            Value::Float(f) => float_part(*f),
            Value::Numeric(n) => numeric_part(n),
            Value::Text(s) => KeyPart::Text(s.clone()),
            Value::Bool(b) => KeyPart::Text(b.to_string()),
            Value::Json(j) => KeyPart::Text(j.to_string()),
            other => match other.to_json() {
                Json::String(s) => KeyPart::Text(s),
                json => KeyPart::Text(json.to_string()),
            },
        }
    }

    pub fn from_json(value: &Json) -> KeyPart {
        match value {
            Json::Null => KeyPart::Null,
            Json::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => KeyPart::Int(i),
                (None, Some(f)) => float_part(f),
                (None, None) => numeric_part(&n.to_string()),
            },
            Json::String(s) => KeyPart::Text(s.clone()),
            Json::Bool(b) => KeyPart::Text(b.to_string()),
            other => KeyPart::Text(other.to_string()),
        }
    }
}

fn float_part(f: f64) -> KeyPart {
    numeric_part(&decimal::float_text(f))
}

fn numeric_part(text: &str) -> KeyPart {
    let canonical = decimal::normalize(text).unwrap_or_else(|| text.to_owned());
    match canonical.parse::<i64>() {
        Ok(i) => KeyPart::Int(i),
        Err(_) => KeyPart::Text(canonical),
    }
}

impl fmt::Display for Key {
    /// The JSON array form, for logs and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    #[test]
    fn sheet_table_and_outbox_forms_of_one_key_are_equal() {
        let table = Key::from_values(&[Value::Int(42), Value::Text("A-1".into())]);
        let outbox = Key::from_json(&[json!(42), json!("A-1")]);
        let sheet_float = Key::from_json(&[json!(42.0), json!("A-1")]);
        let numeric = Key::from_values(&[Value::Numeric("42".into()), Value::Text("A-1".into())]);
        assert_eq!(table, outbox);
        assert_eq!(table, sheet_float);
        assert_eq!(table, numeric);
        assert_eq!(table.to_string(), r#"[42,"A-1"]"#);
    }

    #[test]
    fn typed_keys_match_their_to_jsonb_rendering() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let id = uuid::Uuid::parse_str("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").unwrap();
        let ts = date
            .and_hms_micro_opt(14, 10, 3, 232_828)
            .unwrap()
            .and_utc();
        assert_eq!(
            Key::from_values(&[Value::Date(date), Value::Uuid(id), Value::TimestampTz(ts)]),
            Key::from_json(&[
                json!("2026-12-01"),
                json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                json!("2026-12-01T14:10:03.232828+00:00")
            ])
        );
        assert_eq!(
            Key::from_values(&[Value::Numeric("1.5".into())]),
            Key::from_json(&[json!(1.50)])
        );
        assert_eq!(
            Key::from_values(&[Value::Numeric("12345678901234567890.5".into())]),
            Key(vec![KeyPart::Text("12345678901234567890.5".into())])
        );
    }

    #[test]
    fn sheet_key_cells_are_typed_before_they_become_a_key() {
        use crate::model::PgType;
        let due = Column::new("due", PgType::Date);
        let code = Column::new("code", PgType::Text);
        let table = Key::from_json(&[json!("2026-12-01"), json!("42")]);
        assert_eq!(
            Key::from_sheet(&[json!(46357), json!(42)], &[&due, &code]),
            Ok(Some(table))
        );
        assert_eq!(
            Key::from_sheet(&[json!(""), json!(42)], &[&due, &code]),
            Ok(None)
        );
        assert_eq!(
            Key::from_sheet(&[json!("soon"), json!(42)], &[&due, &code])
                .unwrap_err()
                .to_string(),
            "due: 'soon' is not a date (write it as YYYY-MM-DD)"
        );
    }

    #[test]
    fn keys_order_numbers_numerically_before_text() {
        let mut keys = vec![
            Key::from_json(&[json!("b")]),
            Key::from_json(&[json!(10)]),
            Key::from_json(&[json!(9)]),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                Key::from_json(&[json!(9)]),
                Key::from_json(&[json!(10)]),
                Key::from_json(&[json!("b")]),
            ]
        );
    }

    #[test]
    fn serialises_as_a_json_array_and_back() {
        let key = Key::from_json(&[json!(7), json!("x")]);
        let text = serde_json::to_string(&key).unwrap();
        assert_eq!(text, r#"[7,"x"]"#);
        assert_eq!(serde_json::from_str::<Key>(&text).unwrap(), key);
    }
}
