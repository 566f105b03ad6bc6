//! A sheet cell (a JSON number, boolean, string or null, CONTRACT.md) → the
//! column's typed value.

use serde_json::Value as Json;

use super::{ConvertError, Reason, decimal, number_text, shown, time};
use crate::model::{Column, PgType, Value};
use crate::serial;
use crate::zone::SheetZone;

/// Converts one cell the script sent to `column`'s type. `""` and `null`
/// are `Null`; for typed (non-text) columns so is a cell of blanks.
pub fn from_sheet(cell: &Json, column: &Column) -> Result<Value, ConvertError> {
    from_sheet_as(cell, &column.name, column.pg_type)
}

/// [`from_sheet`] when only the column's name and type are at hand.
pub fn from_sheet_as(cell: &Json, column: &str, pg_type: PgType) -> Result<Value, ConvertError> {
    from_sheet_in(cell, column, pg_type, SheetZone::UTC)
}

/// [`from_sheet_as`] a cell of a spreadsheet in `zone`: a serial number (an
/// unformatted read, as the writer reads keys) is a wall clock there. ISO
/// text carries its own offset and needs no zone.
pub fn from_sheet_in(
    cell: &Json,
    column: &str,
    pg_type: PgType,
    zone: SheetZone,
) -> Result<Value, ConvertError> {
    let blank = match cell {
        Json::Null => true,
        Json::String(s) => s.is_empty() || (!is_textual(pg_type) && s.trim().is_empty()),
        _ => false,
    };
    if blank {
        return Ok(Value::Null);
    }
    convert(cell, pg_type, zone).map_err(|reason| ConvertError::new(column, reason))
}

fn is_textual(pg_type: PgType) -> bool {
    matches!(pg_type, PgType::Text | PgType::Json | PgType::Jsonb)
}

fn convert(cell: &Json, pg_type: PgType, zone: SheetZone) -> Result<Value, Reason> {
    match pg_type {
        PgType::Bool => boolean(cell),
        PgType::Int2 => integer(cell, i64::from(i16::MIN), i64::from(i16::MAX)),
        PgType::Int4 => integer(cell, i64::from(i32::MIN), i64::from(i32::MAX)),
        PgType::Int8 => integer(cell, i64::MIN, i64::MAX),
        PgType::Float4 => float(cell, f64::from(f32::MAX)),
        PgType::Float8 => float(cell, f64::MAX),
        PgType::Numeric => numeric(cell),
        PgType::Text => Ok(Value::Text(text(cell))),
        PgType::Date => date(cell),
        PgType::Timestamp => datetime(cell, zone).map(|(local, _)| Value::Timestamp(local)),
        PgType::Timestamptz => datetime(cell, zone).map(|(_, utc)| Value::TimestampTz(utc)),
        PgType::Uuid => uuid(cell),
        PgType::Json | PgType::Jsonb => Ok(Value::Json(json(cell))),
    }
}

fn boolean(cell: &Json) -> Result<Value, Reason> {
    match cell {
        Json::Bool(b) => Ok(Value::Bool(*b)),
        Json::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Json::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        other => Err(Reason::NotBoolean(shown(other))),
    }
}

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

fn integer(cell: &Json, min: i64, max: i64) -> Result<Value, Reason> {
    let not_whole = || Reason::NotWholeNumber(shown(cell));
    let out_of_range = || Reason::OutOfRange {
        value: shown(cell),
        min,
        max,
    };
    let value = match cell {
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.fract() != 0.0 || !f.is_finite() => return Err(not_whole()),
            // ±2^63 as floats: i64's range is [-2^63, 2^63).
            (None, Some(f)) if !(-TWO_POW_63..TWO_POW_63).contains(&f) => {
                return Err(out_of_range());
            }
            (None, Some(f)) => f as i64,
            (None, None) => return Err(out_of_range()),
        },
        Json::String(s) => {
            let canonical = decimal::normalize(s).ok_or_else(not_whole)?;
            if canonical.contains('.')
                || decimal::to_f64(&canonical).is_some_and(|f| !f.is_finite())
            {
                return Err(not_whole());
            }
            canonical.parse::<i64>().map_err(|_| out_of_range())?
        }
        _ => return Err(not_whole()),
    };
    if value < min || value > max {
        return Err(out_of_range());
    }
    Ok(Value::Int(value))
}

fn float(cell: &Json, max: f64) -> Result<Value, Reason> {
    let value = match cell {
        Json::Number(n) => n.as_f64().ok_or_else(|| Reason::NotNumber(shown(cell)))?,
        Json::String(s) => decimal::normalize(s)
            .and_then(|canonical| decimal::to_f64(&canonical))
            .ok_or_else(|| Reason::NotNumber(shown(cell)))?,
        _ => return Err(Reason::NotNumber(shown(cell))),
    };
    if value.is_finite() && value.abs() > max {
        return Err(Reason::NotNumber(shown(cell)));
    }
    Ok(Value::Float(value))
}

fn numeric(cell: &Json) -> Result<Value, Reason> {
    let literal = match cell {
        Json::Number(n) => number_text(n),
        Json::String(s) => s.clone(),
        _ => return Err(Reason::NotNumber(shown(cell))),
    };
    decimal::normalize(&literal)
        .map(Value::Numeric)
        .ok_or_else(|| Reason::NotNumber(shown(cell)))
}

/// Text from anything: numbers as written (no `.0`), booleans as the sheet
/// shows them.
fn text(cell: &Json) -> String {
    match cell {
        Json::String(s) => s.clone(),
        Json::Number(n) => number_text(n),
        Json::Bool(true) => "TRUE".to_owned(),
        Json::Bool(false) => "FALSE".to_owned(),
        other => other.to_string(),
    }
}

fn date(cell: &Json) -> Result<Value, Reason> {
    let not_date = || Reason::NotDate(shown(cell));
    match cell {
        Json::Number(n) => n
            .as_f64()
            .and_then(serial::to_date)
            .map(Value::Date)
            .ok_or_else(not_date),
        // A date-time is a date only at midnight: anything else would
        // silently drop the time (or shift the day, for a UTC rendering of a
        // local midnight).
        Json::String(s) => match time::parse(s) {
            Some(iso)
                if iso.local.time() == chrono::NaiveTime::MIN && iso.offset.unwrap_or(0) == 0 =>
            {
                Ok(Value::Date(iso.local.date()))
            }
            _ => Err(not_date()),
        },
        _ => Err(not_date()),
    }
}

/// The wall-clock time and the instant (a serial is a wall clock in `zone`,
/// a text without offset is read as UTC).
fn datetime(
    cell: &Json,
    zone: SheetZone,
) -> Result<(chrono::NaiveDateTime, chrono::DateTime<chrono::Utc>), Reason> {
    let not_datetime = || Reason::NotDateTime(shown(cell));
    match cell {
        Json::Number(n) => {
            let local = n
                .as_f64()
                .and_then(serial::to_datetime)
                .ok_or_else(not_datetime)?;
            Ok((local, zone.instant(local)))
        }
        Json::String(s) => {
            let iso = time::parse(s).ok_or_else(not_datetime)?;
            Ok((iso.local, iso.utc()))
        }
        _ => Err(not_datetime()),
    }
}

fn uuid(cell: &Json) -> Result<Value, Reason> {
    match cell {
        Json::String(s) => uuid::Uuid::try_parse(s.trim())
            .map(Value::Uuid)
            .map_err(|_| Reason::NotUuid(shown(cell))),
        other => Err(Reason::NotUuid(shown(other))),
    }
}

/// A string that parses as JSON is that JSON; any other string is a JSON
/// string; numbers and booleans are themselves.
fn json(cell: &Json) -> serde_json::Value {
    match cell {
        Json::String(s) => serde_json::from_str(s).unwrap_or_else(|_| cell.clone()),
        other => other.clone(),
    }
}
