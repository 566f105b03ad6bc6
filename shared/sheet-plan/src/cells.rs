//! Typed cells: a table value as the `CellData` that keeps its type in the
//! sheet (numbers stay numbers, dates are serial numbers with a date format,
//! NULL clears the cell).

use std::borrow::Cow;

use serde_json::Value as Json;
use sheetsync_reconcile::model::SheetCell;
use sheetsync_reconcile::{PgType, SheetZone, Value};

use crate::wire::{CellData, CellFormat, ExtendedValue, NumberFormat};

pub const DATE_FORMAT: NumberFormat = NumberFormat {
    kind: Cow::Borrowed("DATE"),
    pattern: Cow::Borrowed("yyyy-mm-dd"),
};
pub const DATE_TIME_FORMAT: NumberFormat = NumberFormat {
    kind: Cow::Borrowed("DATE_TIME"),
    pattern: Cow::Borrowed("yyyy-mm-dd hh:mm:ss"),
};

/// A cell to write, and whether it sets a number format (dates do; other
/// cells leave the user's format alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub data: CellData,
    pub formatted: bool,
}

/// The cell for one column value of a queue message (`to_jsonb` form), in a
/// spreadsheet whose time zone is `zone` (a `timestamptz` is its wall clock
/// there). A value its column type cannot read (which PostgreSQL never
/// renders) is written as its text, so the sheet still shows what the table
/// holds.
pub fn cell_for(value: &Json, pg_type: PgType, zone: SheetZone) -> Cell {
    let typed = match value {
        Json::Null => Ok(Value::Null),
        other => sheetsync_reconcile::convert::from_pg_value(other, pg_type),
    };
    match typed {
        Ok(v) => from_sheet_cell(v.to_sheet_cell_in(zone)),
        Err(_) => {
            let text = match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            from_sheet_cell(SheetCell::Text(text))
        }
    }
}

pub fn from_sheet_cell(cell: SheetCell) -> Cell {
    let plain = |v: Option<ExtendedValue>| Cell {
        data: CellData {
            user_entered_value: v,
            user_entered_format: None,
        },
        formatted: false,
    };
    let dated = |serial: f64, format: NumberFormat| Cell {
        data: CellData {
            user_entered_value: Some(ExtendedValue::NumberValue(serial)),
            user_entered_format: Some(CellFormat {
                number_format: format,
            }),
        },
        formatted: true,
    };
    match cell {
        SheetCell::Empty => plain(None),
        // JSON has no NaN or Infinity: such floats are shown as text.
        SheetCell::Number(n) if !n.is_finite() => {
            plain(Some(ExtendedValue::StringValue(n.to_string())))
        }
        SheetCell::Number(n) => plain(Some(ExtendedValue::NumberValue(n))),
        SheetCell::Bool(b) => plain(Some(ExtendedValue::BoolValue(b))),
        SheetCell::Text(s) => plain(Some(ExtendedValue::StringValue(s))),
        SheetCell::Date(serial) => dated(serial, DATE_FORMAT),
        SheetCell::DateTime(serial) => dated(serial, DATE_TIME_FORMAT),
    }
}

/// A header cell.
pub fn text_cell(text: &str) -> CellData {
    CellData {
        user_entered_value: Some(ExtendedValue::StringValue(text.to_string())),
        user_entered_format: None,
    }
}
