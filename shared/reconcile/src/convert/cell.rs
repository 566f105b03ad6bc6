//! `Value` → the cell the writer puts into the sheet, and what the sheet can
//! show of a database value.

use chrono::NaiveDateTime;

use super::{decimal, from_sheet_as};
use crate::model::{PgType, SheetCell, Value};
use crate::serial;

/// Integers beyond ±2^53 lose digits as a sheet number (a double); they go
/// to the sheet as text, which [`from_sheet`](super::from_sheet) reads back
/// exactly.
const MAX_EXACT_INT: u64 = 1 << 53;

impl Value {
    /// The sheet cell for this value: numbers, booleans, dates (serial
    /// numbers) keep their type, `timestamptz` is shown in UTC, `NULL` is an
    /// empty cell.
    pub fn to_sheet_cell(&self) -> SheetCell {
        match self {
            Value::Null => SheetCell::Empty,
            Value::Bool(b) => SheetCell::Bool(*b),
            Value::Int(i) if i.unsigned_abs() > MAX_EXACT_INT => SheetCell::Text(i.to_string()),
            Value::Int(i) => SheetCell::Number(*i as f64),
            Value::Float(f) if f.is_finite() => SheetCell::Number(*f),
            Value::Float(f) => SheetCell::Text(decimal::float_text(*f)),
            Value::Numeric(n) => match decimal::to_f64(n) {
                Some(f) if f.is_finite() => SheetCell::Number(f),
                _ => SheetCell::Text(n.clone()),
            },
            Value::Text(s) => SheetCell::Text(s.clone()),
            Value::Date(d) => SheetCell::Date(serial::from_date(*d)),
            Value::Timestamp(t) => SheetCell::DateTime(serial::from_datetime(*t)),
            Value::TimestampTz(t) => SheetCell::DateTime(serial::from_datetime(t.naive_utc())),
            Value::Uuid(u) => SheetCell::Text(u.hyphenated().to_string()),
            Value::Json(serde_json::Value::String(s)) => {
                // A string that reads as other JSON keeps its quotes, so it
                // comes back as a string.
                if serde_json::from_str::<serde_json::Value>(s).is_ok() {
                    SheetCell::Text(serde_json::Value::String(s.clone()).to_string())
                } else {
                    SheetCell::Text(s.clone())
                }
            }
            Value::Json(j) => SheetCell::Text(j.to_string()),
        }
    }
}

impl SheetCell {
    /// The cell as the script sends it back (serial numbers for dates, as an
    /// unformatted read gives them).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            SheetCell::Empty => serde_json::Value::String(String::new()),
            SheetCell::Bool(b) => serde_json::Value::Bool(*b),
            SheetCell::Text(s) => serde_json::Value::String(s.clone()),
            SheetCell::Number(f) | SheetCell::Date(f) | SheetCell::DateTime(f) => {
                serde_json::Number::from_f64(*f)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
    }
}

/// Whether the sheet value `sheet` is what the sheet shows for the database
/// value `db`, so the user changed nothing. Equal values match; so does a
/// `numeric` with more digits than a sheet number holds when the sheet has
/// that number, and a date-time with microseconds when the sheet has it to
/// the millisecond (the script's clock resolution), and an empty cell
/// matches an empty string. Without this, every
/// snapshot would "repair" such values by truncating them.
pub fn sheet_matches(sheet: &Value, db: &Value) -> bool {
    if sheet == db {
        return true;
    }
    match (sheet, db) {
        // An empty string shows as an empty cell.
        (Value::Null, _) => matches!(db.to_sheet_cell(), SheetCell::Text(ref s) if s.is_empty()),
        (Value::Numeric(_), Value::Numeric(_)) => {
            from_sheet_as(&db.to_sheet_cell().to_json(), "", PgType::Numeric)
                .is_ok_and(|shown| &shown == sheet)
        }
        (Value::Timestamp(s), Value::Timestamp(d)) => same_millisecond(*s, *d),
        (Value::TimestampTz(s), Value::TimestampTz(d)) => {
            same_millisecond(s.naive_utc(), d.naive_utc())
        }
        _ => false,
    }
}

fn same_millisecond(sheet: NaiveDateTime, db: NaiveDateTime) -> bool {
    let whole_millis = sheet.and_utc().timestamp_subsec_micros() % 1000 == 0;
    let apart = (sheet - db).num_microseconds().map(i64::abs);
    whole_millis && apart.is_some_and(|us| us < 1000)
}
