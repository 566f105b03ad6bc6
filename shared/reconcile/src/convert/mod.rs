//! Typed conversion between the three forms a value takes: the sheet's JSON
//! cell (docs/contract.md), PostgreSQL's `to_jsonb` rendering and text input, and
//! the typed [`Value`](crate::Value) in between.
//!
//! * [`from_sheet`]: a cell the script sent → `Value` (`""`/`null` → `Null`).
//! * [`from_pg_json`] / [`from_pg_value`] / [`row_from_pg_json`]: what the
//!   database rendered → `Value`.
//! * `Value::to_pg_text` (bind as `$n::text::<sql_type>`), `Value::to_json`,
//!   `Value::to_json_text`, `Value::to_sheet_cell`.
//! * [`sheet_matches`]: whether a sheet value is what the sheet shows for a
//!   database value (the sheet cannot hold every database value exactly).
//!
//! Date-times the script sends are ISO 8601 with the offset of the
//! spreadsheet's zone, read from cells whose serial is the wall clock in that
//! zone ([`crate::zone`]): the writer writes `timestamp` as its wall clock
//! and `timestamptz` as its wall clock in the spreadsheet's zone, so the
//! offset gives back the instant. An offset is honoured for `timestamptz`
//! and dropped for `timestamp` (PostgreSQL's own cast does the same); a
//! date-time without one is read as UTC.

mod cell;
pub(crate) mod decimal;
mod pg;
mod sheet;
pub(crate) mod time;
mod typed;

use std::fmt;

use serde_json::Value as Json;

use crate::locale::SheetLocale;
use crate::zone::SheetZone;

pub use cell::{MAX_CELL_CHARS, sheet_matches, sheet_matches_in};
pub use pg::{from_pg_json, from_pg_value, row_from_pg_json};
pub use sheet::{from_sheet, from_sheet_as, from_sheet_in};

/// The spreadsheet's settings that change how its cells read: the time
/// zone of its date-time serials, and the locale of text a person typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetSettings {
    pub zone: SheetZone,
    pub locale: SheetLocale,
}

impl SheetSettings {
    /// A spreadsheet in UTC whose locale is not known: requests from
    /// scripts that send neither.
    pub const UTC: SheetSettings = SheetSettings {
        zone: SheetZone::UTC,
        locale: SheetLocale::UNKNOWN,
    };

    pub fn in_zone(zone: SheetZone) -> SheetSettings {
        SheetSettings {
            zone,
            ..SheetSettings::UTC
        }
    }
}

/// A value that cannot become its column's type. Displays as
/// `column: reason`, in words a sheet user understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    column: String,
    reason: Reason,
}

/// Why a value cannot be converted; the quoted text is the value as the
/// user sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("'{0}' is not a whole number")]
    NotWholeNumber(String),
    #[error("'{value}' is out of range ({min} to {max})")]
    OutOfRange { value: String, min: i64, max: i64 },
    #[error("'{0}' is not a number")]
    NotNumber(String),
    #[error("'{value}' is not a number (this spreadsheet writes numbers like {example})")]
    NotNumberIn {
        value: String,
        example: &'static str,
    },
    #[error("'{0}' is not TRUE or FALSE")]
    NotBoolean(String),
    #[error("'{value}' is not a date (write it as {write})")]
    NotDate { value: String, write: &'static str },
    #[error("'{value}' is not a date and time (write it as {write})")]
    NotDateTime { value: String, write: &'static str },
    #[error("'{0}' is not a UUID")]
    NotUuid(String),
    #[error("a value is required")]
    Required,
    /// The database rendered something its type cannot produce.
    #[error("'{value}' is not a {pg_type} value")]
    NotPgValue {
        value: String,
        pg_type: &'static str,
    },
}

impl ConvertError {
    pub fn new(column: impl Into<String>, reason: Reason) -> ConvertError {
        ConvertError {
            column: column.into(),
            reason,
        }
    }

    /// An empty cell in a column that needs a value.
    pub fn required(column: impl Into<String>) -> ConvertError {
        ConvertError::new(column, Reason::Required)
    }

    /// The column name (empty when converted without one, see
    /// [`ConvertError::in_column`]).
    pub fn column(&self) -> &str {
        &self.column
    }

    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// Names the column, for errors of conversions that only knew the type.
    pub fn in_column(mut self, column: impl Into<String>) -> ConvertError {
        self.column = column.into();
        self
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.column, self.reason)
        }
    }
}

impl std::error::Error for ConvertError {}

/// Longest quoted value in a message; longer ones are cut with `…`.
const SHOWN_CHARS: usize = 40;

/// A cell as the user sees it, for messages: numbers without `.0`,
/// booleans as the sheet shows them.
pub(crate) fn shown(cell: &Json) -> String {
    let text = match cell {
        Json::String(s) => s.clone(),
        Json::Number(n) => number_text(n),
        Json::Bool(true) => "TRUE".to_owned(),
        Json::Bool(false) => "FALSE".to_owned(),
        other => other.to_string(),
    };
    cut(text)
}

pub(crate) fn cut(text: String) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A JSON number as people write it (`42`, not `42.0`).
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => decimal::float_text(f),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests;
