//! `Value` → the cell the writer puts into the sheet, and what the sheet can
//! show of a database value.
//!
//! A sheet cell holds less than a table can: a number is an `f64`, a script
//! `Date` has milliseconds, a cell at most [`MAX_CELL_CHARS`] characters,
//! and a date-time is a wall clock in the spreadsheet's zone. The writer
//! writes a value so the sheet keeps all it can (text where a number would
//! round), and [`sheet_matches_in`] tells a value the sheet shows for a
//! table value from a person's edit.

use chrono::NaiveDateTime;

use super::{decimal, from_sheet_as};
use crate::model::{PgType, SheetCell, Value};
use crate::serial;
use crate::zone::SheetZone;

/// Google's limit on the characters of one cell: a longer value fails the
/// writer's whole batch, so it is cut to this length.
pub const MAX_CELL_CHARS: usize = 50_000;

/// Marks a value cut to [`MAX_CELL_CHARS`], so a person sees it is not all.
const CUT_MARK: char = '…';

/// Integers beyond ±2^53 lose digits as a sheet number (a double); they go
/// to the sheet as text, which [`from_sheet`](super::from_sheet) reads back
/// exactly.
const MAX_EXACT_INT: u64 = 1 << 53;

impl Value {
    /// [`Value::to_sheet_cell_in`] a spreadsheet in UTC.
    pub fn to_sheet_cell(&self) -> SheetCell {
        self.to_sheet_cell_in(SheetZone::UTC)
    }

    /// The sheet cell for this value in a spreadsheet whose time zone is
    /// `zone`: numbers, booleans, dates (serial numbers) keep their type,
    /// `timestamptz` is the wall clock in `zone`, `NULL` is an empty cell.
    /// A value a sheet number would round (an integer beyond 2^53, a
    /// `numeric` an `f64` does not hold) is text, which reads back exactly;
    /// text over [`MAX_CELL_CHARS`] is cut.
    pub fn to_sheet_cell_in(&self, zone: SheetZone) -> SheetCell {
        match self.whole_sheet_cell(zone) {
            SheetCell::Text(s) => SheetCell::Text(cut_to_cell(s)),
            other => other,
        }
    }

    fn whole_sheet_cell(&self, zone: SheetZone) -> SheetCell {
        match self {
            Value::Null => SheetCell::Empty,
            Value::Bool(b) => SheetCell::Bool(*b),
            Value::Int(i) if i.unsigned_abs() > MAX_EXACT_INT => SheetCell::Text(i.to_string()),
            Value::Int(i) => SheetCell::Number(*i as f64),
            Value::Float(f) if f.is_finite() => SheetCell::Number(*f),
            Value::Float(f) => SheetCell::Text(decimal::float_text(*f)),
            Value::Numeric(n) => match decimal::to_f64(n) {
                Some(f)
                    if f.is_finite()
                        && decimal::normalize(&decimal::float_text(f)).as_ref() == Some(n) =>
                {
                    SheetCell::Number(f)
                }
                _ => SheetCell::Text(n.clone()),
            },
            Value::Text(s) => SheetCell::Text(s.clone()),
            Value::Date(d) => SheetCell::Date(serial::from_date(*d)),
            Value::Timestamp(t) => SheetCell::DateTime(serial::from_datetime(*t)),
            Value::TimestampTz(t) => {
                SheetCell::DateTime(serial::from_datetime(zone.wall_clock(*t)))
            }
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

/// [`sheet_matches_in`] a spreadsheet in UTC (and for requests that do not
/// name their spreadsheet's zone).
pub fn sheet_matches(sheet: &Value, db: &Value) -> bool {
    sheet_matches_in(sheet, db, SheetZone::UTC)
}

/// Whether the sheet value `sheet` is what a spreadsheet in `zone` shows for
/// the database value `db`, so the person changed nothing. Equal values
/// match; so does, at the sheet's precision:
///
/// * an empty cell for an empty string;
/// * a `numeric` with more digits than a sheet number holds, when the sheet
///   has that number (written by writers before text was used for them);
/// * text or JSON cut to [`MAX_CELL_CHARS`], when the sheet has the cut;
/// * a date-time with microseconds, when the sheet has it to the
///   millisecond (the script's clock resolution), compared as wall clocks
///   in `zone` (a `timestamptz` in the hour a clock is set back reads back
///   an hour off, and a `timestamp` in the gap of a clock set forward reads
///   back moved forward: the sheet holds the same wall clock either way).
///
/// Without this, every snapshot would "repair" such values by truncating
/// them.
pub fn sheet_matches_in(sheet: &Value, db: &Value, zone: SheetZone) -> bool {
    if sheet == db {
        return true;
    }
    match (sheet, db) {
        // An empty string shows as an empty cell.
        (Value::Null, _) => matches!(db.to_sheet_cell(), SheetCell::Text(ref s) if s.is_empty()),
        (Value::Numeric(shown), Value::Numeric(exact)) => decimal::to_f64(exact)
            .filter(|f| f.is_finite())
            .and_then(|f| decimal::normalize(&decimal::float_text(f)))
            .is_some_and(|rounded| &rounded == shown),
        (Value::Text(_), Value::Text(_)) | (Value::Json(_), Value::Json(_)) => {
            read_back(db, zone).is_some_and(|shown| &shown == sheet)
        }
        (Value::Timestamp(s), Value::Timestamp(d)) => same_millisecond(*s, zone.shown(*d)),
        (Value::TimestampTz(s), Value::TimestampTz(d)) => {
            same_millisecond(zone.wall_clock(*s), zone.wall_clock(*d))
        }
        _ => false,
    }
}

/// A text or JSON value as the script reads back the cell the writer wrote.
fn read_back(db: &Value, zone: SheetZone) -> Option<Value> {
    let pg_type = match db {
        Value::Text(_) => PgType::Text,
        Value::Json(_) => PgType::Jsonb,
        _ => return None,
    };
    from_sheet_as(&db.to_sheet_cell_in(zone).to_json(), "", pg_type).ok()
}

/// Text as a cell can hold it: at most [`MAX_CELL_CHARS`] characters, the
/// last one [`CUT_MARK`] when cut.
fn cut_to_cell(text: String) -> String {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        None => text,
        Some(_) => {
            let keep = text
                .char_indices()
                .nth(MAX_CELL_CHARS - 1)
                .map_or(text.len(), |(at, _)| at);
            let mut cut = text[..keep].to_owned();
            cut.push(CUT_MARK);
            cut
        }
    }
}

fn same_millisecond(sheet: NaiveDateTime, db: NaiveDateTime) -> bool {
    let whole_millis = sheet
        .and_utc()
        .timestamp_subsec_micros()
        .is_multiple_of(1000);
    let apart = (sheet - db).num_microseconds().map(i64::abs);
    whole_millis && apart.is_some_and(|us| us < 1000)
}
