//! `spreadsheets.get` and `spreadsheets.create`: properties, tabs, developer
//! metadata and (with `includeGridData`) cell data.

use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use crate::cell::Cell;
use crate::error::ApiError;
use crate::grid::{Resolved, Sheet, Spreadsheet, Store};
use crate::http::{Query, parse_body};
use crate::metadata::Location;

pub fn sheet_properties(sheet: &Sheet, index: usize) -> Json {
    let mut grid = json!({"rowCount": sheet.row_count, "columnCount": sheet.column_count});
    if sheet.frozen_row_count > 0 {
        grid["frozenRowCount"] = json!(sheet.frozen_row_count);
    }
    if sheet.frozen_column_count > 0 {
        grid["frozenColumnCount"] = json!(sheet.frozen_column_count);
    }
    let mut out = json!({
        "sheetId": sheet.id,
        "title": sheet.title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": grid,
    });
    if sheet.hidden {
        out["hidden"] = json!(true);
    }
    out
}

/// `CellData` as `spreadsheets.get` returns it; `{}` for a blank cell.
pub fn cell_data(cell: &Cell) -> Json {
    let mut out = Map::new();
    let user_entered = cell.value.to_extended();
    if !user_entered.is_null() {
        out.insert("userEnteredValue".into(), user_entered);
        // A formula that shows nothing has no effective value.
        let effective = cell.effective_json();
        if !effective.is_null() {
            out.insert("effectiveValue".into(), effective);
        }
    }
    if let Some(text) = cell.formatted() {
        out.insert("formattedValue".into(), json!(text));
    }
    if let Some(format) = &cell.format {
        let format = serde_json::to_value(format).unwrap_or(Json::Null);
        out.insert("userEnteredFormat".into(), format.clone());
        out.insert("effectiveFormat".into(), format);
    }
    if let Some(note) = &cell.note {
        out.insert("note".into(), json!(note));
    }
    Json::Object(out)
}

/// `GridData` for a range: trailing blank rows and cells are left out, as Google does.
fn grid_data(sheet: &Sheet, r: &Resolved) -> Json {
    let last_row = r.end_row.min(sheet.rows.len());
    let mut rows: Vec<Json> = (r.start_row..last_row.max(r.start_row))
        .map(|row| {
            let mut values: Vec<Json> = (r.start_col..r.end_col)
                .map(|col| cell_data(sheet.cell(row, col)))
                .collect();
            while values
                .last()
                .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
            {
                values.pop();
            }
            if values.is_empty() {
                json!({})
            } else {
                json!({"values": values})
            }
        })
        .collect();
    while rows
        .last()
        .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
    {
        rows.pop();
    }
    let mut out = Map::new();
    if r.start_row > 0 {
        out.insert("startRow".into(), json!(r.start_row));
    }
    if r.start_col > 0 {
        out.insert("startColumn".into(), json!(r.start_col));
    }
    if !rows.is_empty() {
        out.insert("rowData".into(), Json::Array(rows));
    }
    Json::Object(out)
}

/// The `Spreadsheet` resource. `only` restricts tabs (and grid data) to ranges.
pub fn render(
    spreadsheet: &Spreadsheet,
    only: Option<&[Resolved]>,
    include_grid_data: bool,
) -> Json {
    let mut sheets = Vec::new();
    for (index, sheet) in spreadsheet.sheets.iter().enumerate() {
        let ranges: Vec<Resolved> = match only {
            Some(ranges) => ranges
                .iter()
                .filter(|r| r.sheet == index)
                .copied()
                .collect(),
            None => vec![whole(sheet, index)],
        };
        if only.is_some() && ranges.is_empty() {
            continue;
        }
        let mut entry = json!({"properties": sheet_properties(sheet, index)});
        if include_grid_data {
            entry["data"] = Json::Array(ranges.iter().map(|r| grid_data(sheet, r)).collect());
        }
        let metadata: Vec<Json> = spreadsheet
            .metadata
            .iter()
            .filter(|m| m.location == Location::Sheet(sheet.id))
            .map(|m| m.to_json())
            .collect();
        if !metadata.is_empty() {
            entry["developerMetadata"] = Json::Array(metadata);
        }
        sheets.push(entry);
    }
    let mut out = json!({
        "spreadsheetId": spreadsheet.id,
        "properties": {
            "title": spreadsheet.title,
            "locale": spreadsheet.locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": spreadsheet.time_zone,
        },
        "sheets": sheets,
        "spreadsheetUrl": format!("https://docs.google.com/spreadsheets/d/{}/edit", spreadsheet.id),
    });
    let top: Vec<Json> = spreadsheet
        .metadata
        .iter()
        .filter(|m| m.location == Location::Spreadsheet)
        .map(|m| m.to_json())
        .collect();
    if !top.is_empty() {
        out["developerMetadata"] = Json::Array(top);
    }
    out
}

fn whole(sheet: &Sheet, index: usize) -> Resolved {
    Resolved {
        sheet: index,
        start_row: 0,
        end_row: sheet.row_count,
        start_col: 0,
        end_col: sheet.column_count,
        open_rows: true,
    }
}

/// Resolves `ranges=` values, each within its tab's grid.
pub fn resolve_ranges(
    spreadsheet: &Spreadsheet,
    ranges: &[&str],
) -> Result<Vec<Resolved>, ApiError> {
    ranges
        .iter()
        .map(|text| {
            let r = spreadsheet.resolve(text)?;
            r.check_within(&spreadsheet.sheets[r.sheet])?;
            Ok(r)
        })
        .collect()
}

pub fn has_field_mask(query: &Query) -> bool {
    query.get("fields").is_some_and(|f| !f.trim().is_empty())
}

/// `GET /v4/spreadsheets/{id}`.
pub fn get(store: &Store, id: &str, query: &Query) -> Result<Json, ApiError> {
    query.allow(&["ranges", "includeGridData", "excludeTablesInBandedRanges"])?;
    let spreadsheet = store.get(id)?;
    // Google ignores includeGridData when a field mask is set: the mask decides.
    let include = query.bool("includeGridData")? || has_field_mask(query);
    let ranges = query.all("ranges");
    if ranges.is_empty() {
        return Ok(render(spreadsheet, None, include));
    }
    let resolved = resolve_ranges(spreadsheet, &ranges)?;
    Ok(render(spreadsheet, Some(&resolved), include))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    #[serde(default)]
    properties: Option<CreateProperties>,
    #[serde(default)]
    sheets: Vec<CreateSheet>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateProperties {
    title: Option<String>,
    time_zone: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateSheet {
    #[serde(default)]
    properties: crate::batch_update::SheetPropertiesInput,
}

/// `POST /v4/spreadsheets`: a new spreadsheet (one `Sheet1` tab unless tabs are given).
pub fn create(store: &mut Store, query: &Query, body: &[u8]) -> Result<(String, Json), ApiError> {
    query.allow(&[])?;
    let body: CreateBody = parse_body(body)?;
    let id = store.new_id();
    let properties = body.properties.unwrap_or_default();
    let title = properties
        .title
        .unwrap_or_else(|| "Untitled spreadsheet".to_string());
    let mut spreadsheet = Spreadsheet::new(&id, &title);
    if let Some(zone) = properties.time_zone {
        spreadsheet.time_zone =
            crate::time_zone::checked(&zone).map_err(ApiError::invalid_argument)?;
    }
    let tabs = if body.sheets.is_empty() {
        vec![CreateSheet::default()]
    } else {
        body.sheets
    };
    for tab in tabs {
        crate::batch_update::add_sheet(&mut spreadsheet, &tab.properties)
            .map_err(ApiError::invalid_argument)?;
    }
    let out = render(&spreadsheet, None, false);
    store.spreadsheets.insert(id.clone(), spreadsheet);
    Ok((id, out))
}
