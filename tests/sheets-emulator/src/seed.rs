//! Seeding and inspecting tabs directly (no auth, no quota, not logged): the
//! `Emulator` methods and `/_emulator/...` both call these.

use serde_json::Value as Json;

use crate::cell::{Cell, CellValue, parse_user_entered};
use crate::changes::ChangeSource;
use crate::formula::Formula;
use crate::grid::{Sheet, Spreadsheet};
use crate::metadata::{DeveloperMetadata, Location, Visibility};
use crate::state::Shared;

/// A seed value: JSON number/string/bool/null, or a `Cell` object
/// (`{"value": {"numberValue": 45296}, "format": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}}`).
/// A formula cell may say what it shows, which the emulator computes only
/// for formulas over constants:
/// `{"value": {"formulaValue": "=B2*2"}, "effectiveValue": {"numberValue": 6}}`.
pub fn cell_from_json(value: &Json) -> Result<Cell, String> {
    if let Some(object) = value.as_object()
        && let Some(shown) = object.get("effectiveValue")
    {
        let mut rest = object.clone();
        rest.remove("effectiveValue");
        let cell = cell_from_json(&Json::Object(rest))?;
        let CellValue::Formula(formula) = &cell.value else {
            return Err(format!(
                "effectiveValue is for formula cells (a value shows itself): {value}"
            ));
        };
        let shown = CellValue::from_extended(shown)?;
        return Ok(Cell {
            value: CellValue::Formula(Formula::showing(formula.text.clone(), shown)),
            ..cell
        });
    }
    Ok(match value {
        Json::Null => Cell::default(),
        Json::Bool(b) => Cell::bool(*b),
        Json::Number(n) => Cell::number(n.as_f64().ok_or_else(|| format!("bad number {n}"))?),
        Json::String(s) if s.is_empty() => Cell::default(),
        Json::String(s) => Cell::text(s.clone()),
        Json::Object(_) => {
            serde_json::from_value(value.clone()).map_err(|e| format!("bad cell {value}: {e}"))?
        }
        Json::Array(_) => return Err(format!("a cell cannot be an array: {value}")),
    })
}

/// The tab's position, creating the spreadsheet and tab when missing.
fn ensure_tab(spreadsheet: &mut Spreadsheet, tab: &str) -> usize {
    if let Some(position) = spreadsheet.sheet_index_by_title(tab) {
        return position;
    }
    let id = spreadsheet.allocate_sheet_id();
    spreadsheet.add_sheet(Sheet::new(id, tab), None)
}

/// Runs `edit` on a tab (created if missing), then reports the change.
pub fn with_tab<R>(
    shared: &Shared,
    spreadsheet_id: &str,
    tab: &str,
    edit: impl FnOnce(&mut Sheet) -> R,
) -> R {
    let mut store = shared.store();
    let spreadsheet = store.ensure(spreadsheet_id);
    let position = ensure_tab(spreadsheet, tab);
    let sheet = &mut spreadsheet.sheets[position];
    let out = edit(sheet);
    let width = sheet.rows.iter().map(|row| row.len()).max().unwrap_or(0);
    let height = sheet.rows.len();
    sheet.grow_to(height, width);
    sheet.compact();
    let (sheet_id, title) = (sheet.id, sheet.title.clone());
    drop(store);
    shared.notify(spreadsheet_id, sheet_id, &title, ChangeSource::Control);
    out
}

/// Reads a tab without creating it.
pub fn read_tab<R>(
    shared: &Shared,
    spreadsheet_id: &str,
    tab: &str,
    read: impl FnOnce(&Spreadsheet, &Sheet) -> R,
) -> Option<R> {
    let store = shared.store();
    let spreadsheet = store.spreadsheets.get(spreadsheet_id)?;
    let sheet = spreadsheet.sheet_by_title(tab)?;
    Some(read(spreadsheet, sheet))
}

pub fn add_sheet(shared: &Shared, spreadsheet_id: &str, tab: &str) -> i32 {
    with_tab(shared, spreadsheet_id, tab, |sheet| sheet.id)
}

/// Replaces the tab's cells with `rows` (growing the grid to fit).
pub fn set_rows(
    shared: &Shared,
    spreadsheet_id: &str,
    tab: &str,
    rows: &[Vec<Json>],
) -> Result<(), String> {
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|row| row.iter().map(cell_from_json).collect::<Result<_, _>>())
        .collect::<Result<_, _>>()?;
    with_tab(shared, spreadsheet_id, tab, |sheet| sheet.set_cells(cells));
    Ok(())
}

pub fn set_cell(
    shared: &Shared,
    spreadsheet_id: &str,
    tab: &str,
    row: usize,
    col: usize,
    cell: Cell,
) {
    with_tab(shared, spreadsheet_id, tab, |sheet| {
        *sheet.cell_mut(row, col) = cell;
    });
}

/// Types `text` into a cell as a person would (numbers, dates, `TRUE` become typed
/// values; an existing number format is kept unless the text implies one).
pub fn enter_text(
    shared: &Shared,
    spreadsheet_id: &str,
    tab: &str,
    row: usize,
    col: usize,
    text: &str,
) -> Cell {
    let (value, detected) = parse_user_entered(text);
    with_tab(shared, spreadsheet_id, tab, |sheet| {
        let cell = sheet.cell_mut(row, col);
        cell.value = value;
        if let Some(format) = detected {
            cell.format
                .get_or_insert_with(Default::default)
                .number_format = Some(format);
        }
        cell.clone()
    })
}

/// Deletes `count` rows at `start` like the sheet UI does (rows below move up, the grid shrinks).
pub fn delete_rows(
    shared: &Shared,
    spreadsheet_id: &str,
    tab: &str,
    start: usize,
    count: usize,
) -> bool {
    with_tab(shared, spreadsheet_id, tab, |sheet| {
        let end = (start + count).min(sheet.row_count);
        if start >= end || end - start >= sheet.row_count {
            return false;
        }
        sheet.delete_rows(start, end);
        true
    })
}

/// The tab's values as `values.get` with `UNFORMATTED_VALUE` / `SERIAL_NUMBER` shows them.
pub fn rows(sheet: &Sheet) -> Vec<Vec<Json>> {
    let mut out: Vec<Vec<Json>> = sheet
        .rows
        .iter()
        .map(|row| {
            let mut values: Vec<Json> = row.iter().map(|c| c.unformatted_json(true)).collect();
            while values
                .last()
                .is_some_and(|v| *v == Json::String(String::new()))
            {
                values.pop();
            }
            values
        })
        .collect();
    while out.last().is_some_and(Vec::is_empty) {
        out.pop();
    }
    out
}

pub fn metadata_value(spreadsheet: &Spreadsheet, sheet: &Sheet, key: &str) -> Option<String> {
    spreadsheet
        .metadata
        .iter()
        .find(|m| m.location == Location::Sheet(sheet.id) && m.metadata_key == key)
        .and_then(|m| m.metadata_value.clone())
}

/// Sets (or replaces) one sheet-located metadata entry with `key`.
pub fn set_metadata(shared: &Shared, spreadsheet_id: &str, tab: &str, key: &str, value: &str) {
    let sheet_id = add_sheet(shared, spreadsheet_id, tab);
    let mut store = shared.store();
    let spreadsheet = store.ensure(spreadsheet_id);
    match spreadsheet
        .metadata
        .iter_mut()
        .find(|m| m.location == Location::Sheet(sheet_id) && m.metadata_key == key)
    {
        Some(existing) => existing.metadata_value = Some(value.to_string()),
        None => {
            let metadata_id = spreadsheet.allocate_metadata_id();
            spreadsheet.metadata.push(DeveloperMetadata {
                metadata_id,
                metadata_key: key.to_string(),
                metadata_value: Some(value.to_string()),
                location: Location::Sheet(sheet_id),
                visibility: Visibility::Document,
            });
        }
    }
    drop(store);
    shared.notify(spreadsheet_id, sheet_id, tab, ChangeSource::Control);
}

/// Sets the spreadsheet's `properties.timeZone` (creating the spreadsheet
/// when missing); the error is Google's for a name it does not know.
pub fn set_time_zone(shared: &Shared, spreadsheet_id: &str, zone: &str) -> Result<(), String> {
    let zone = crate::time_zone::checked(zone)?;
    shared.store().ensure(spreadsheet_id).time_zone = zone;
    Ok(())
}

/// Sets the spreadsheet's `properties.locale` (creating the spreadsheet
/// when missing). The emulator parses nothing by it: it only reports it.
pub fn set_locale(shared: &Shared, spreadsheet_id: &str, locale: &str) -> Result<(), String> {
    let plausible = !locale.is_empty()
        && locale.len() <= 16
        && locale
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plausible {
        return Err(format!(
            "Invalid value at 'spreadsheet.properties.locale' ({locale})"
        ));
    }
    shared.store().ensure(spreadsheet_id).locale = locale.to_string();
    Ok(())
}
