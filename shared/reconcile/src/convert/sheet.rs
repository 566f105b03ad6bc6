//! A sheet cell (a JSON number, boolean, string or null, docs/contract.md) → the
//! column's typed value.

use serde_json::Value as Json;

use super::{ConvertError, Reason, SheetSettings, decimal, number_text, shown, time, typed};
use crate::locale::SheetLocale;
use crate::model::{Column, PgType, Value};
use crate::serial;

/// Converts one cell the script sent to `column`'s type. `""` and `null`
/// are `Null`; for typed (non-text) columns so is a cell of blanks.
pub fn from_sheet(cell: &Json, column: &Column) -> Result<Value, ConvertError> {
    from_sheet_as(cell, &column.name, column.pg_type)
}

/// [`from_sheet`] when only the column's name and type are at hand.
pub fn from_sheet_as(cell: &Json, column: &str, pg_type: PgType) -> Result<Value, ConvertError> {
    from_sheet_in(cell, column, pg_type, SheetSettings::UTC)
}

/// [`from_sheet_as`] a cell of a spreadsheet with `settings`: a serial
/// number (an unformatted read, as the writer reads keys) is a wall clock
/// in its zone, and text a person typed is read as its locale writes
/// numbers, dates and TRUE/FALSE ([`typed`]). ISO text carries its own
/// offset and reads the same everywhere.
pub fn from_sheet_in(
    cell: &Json,
    column: &str,
    pg_type: PgType,
    settings: SheetSettings,
) -> Result<Value, ConvertError> {
    let blank = match cell {
        Json::Null => true,
        Json::String(s) => s.is_empty() || (!is_textual(pg_type) && s.trim().is_empty()),
        _ => false,
    };
    if blank {
        return Ok(Value::Null);
    }
    convert(cell, pg_type, settings).map_err(|reason| ConvertError::new(column, reason))
}

fn is_textual(pg_type: PgType) -> bool {
    matches!(pg_type, PgType::Text | PgType::Json | PgType::Jsonb)
}

fn convert(cell: &Json, pg_type: PgType, settings: SheetSettings) -> Result<Value, Reason> {
    let locale = settings.locale;
    match pg_type {
        PgType::Bool => boolean(cell, locale),
        PgType::Int2 => integer(cell, i64::from(i16::MIN), i64::from(i16::MAX), locale),
        PgType::Int4 => integer(cell, i64::from(i32::MIN), i64::from(i32::MAX), locale),
        PgType::Int8 => integer(cell, i64::MIN, i64::MAX, locale),
        PgType::Float4 => float(cell, f64::from(f32::MAX), locale),
        PgType::Float8 => float(cell, f64::MAX, locale),
        PgType::Numeric => numeric(cell, locale),
        PgType::Text => Ok(Value::Text(text(cell))),
        PgType::Date => date(cell, locale),
        PgType::Timestamp => datetime(cell, settings).map(|(local, _)| Value::Timestamp(local)),
        PgType::Timestamptz => datetime(cell, settings).map(|(_, utc)| Value::TimestampTz(utc)),
        PgType::Uuid => uuid(cell),
        PgType::Json | PgType::Jsonb => Ok(Value::Json(json(cell))),
    }
}

/// A checkbox, TRUE/FALSE in English or the locale's words, or what a
/// checkbox with custom values writes (`yes`/`no`, `1`/`0`).
fn boolean(cell: &Json, locale: SheetLocale) -> Result<Value, Reason> {
    let read = match cell {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Json::String(s) => typed::boolean(s, locale),
        _ => None,
    };
    read.map(Value::Bool)
        .ok_or_else(|| Reason::NotBoolean(shown(cell)))
}

/// The canonical decimal of a number typed as text: as the locale writes
/// it, else in the plain form the writer and JSON use (`1234.5`, `1e3`).
fn number_in_text(text: &str, locale: SheetLocale) -> Option<String> {
    typed::number(text, locale).or_else(|| decimal::normalize(text))
}

fn not_number(cell: &Json, locale: SheetLocale) -> Reason {
    if locale.is_known() {
        Reason::NotNumberIn {
            value: shown(cell),
            example: locale.number_example(),
        }
    } else {
        Reason::NotNumber(shown(cell))
    }
}

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

fn integer(cell: &Json, min: i64, max: i64, locale: SheetLocale) -> Result<Value, Reason> {
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
            let canonical = number_in_text(s, locale).ok_or_else(not_whole)?;
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

fn float(cell: &Json, max: f64, locale: SheetLocale) -> Result<Value, Reason> {
    let value = match cell {
        Json::Number(n) => n.as_f64().ok_or_else(|| Reason::NotNumber(shown(cell)))?,
        Json::String(s) => number_in_text(s, locale)
            .and_then(|canonical| decimal::to_f64(&canonical))
            .ok_or_else(|| not_number(cell, locale))?,
        _ => return Err(not_number(cell, locale)),
    };
    if value.is_finite() && value.abs() > max {
        return Err(Reason::NotNumber(shown(cell)));
    }
    Ok(Value::Float(value))
}

fn numeric(cell: &Json, locale: SheetLocale) -> Result<Value, Reason> {
    let canonical = match cell {
        Json::Number(n) => decimal::normalize(&number_text(n)),
        Json::String(s) => number_in_text(s, locale),
        _ => None,
    };
    canonical
        .map(Value::Numeric)
        .ok_or_else(|| not_number(cell, locale))
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

fn date(cell: &Json, locale: SheetLocale) -> Result<Value, Reason> {
    let not_date = || Reason::NotDate {
        value: shown(cell),
        write: locale.date_example(),
    };
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
            Some(_) => Err(not_date()),
            None => match typed::date_time(s, locale) {
                Some((local, _)) if local.time() == chrono::NaiveTime::MIN => {
                    Ok(Value::Date(local.date()))
                }
                _ => Err(not_date()),
            },
        },
        _ => Err(not_date()),
    }
}

/// The wall-clock time and the instant: a serial, or a date-time typed as
/// the locale writes it, is a wall clock in the spreadsheet's zone; ISO text
/// without offset is read as UTC (the contract's rule).
fn datetime(
    cell: &Json,
    settings: SheetSettings,
) -> Result<(chrono::NaiveDateTime, chrono::DateTime<chrono::Utc>), Reason> {
    let zone = settings.zone;
    let not_datetime = || Reason::NotDateTime {
        value: shown(cell),
        write: settings.locale.date_time_example(),
    };
    match cell {
        Json::Number(n) => {
            let local = n
                .as_f64()
                .and_then(serial::to_datetime)
                .ok_or_else(not_datetime)?;
            Ok((local, zone.instant(local)))
        }
        Json::String(s) => match time::parse(s) {
            Some(iso) => Ok((iso.local, iso.utc())),
            None => {
                let (local, _) = typed::date_time(s, settings.locale).ok_or_else(not_datetime)?;
                Ok((local, zone.instant(local)))
            }
        },
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
