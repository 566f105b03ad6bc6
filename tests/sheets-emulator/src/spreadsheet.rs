//! `spreadsheets.get` and `spreadsheets.create`: properties, tabs, developer
//! metadata and (with `includeGridData`) cell data.

use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use crate::answer::{self, Node};
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

/// The `Spreadsheet` resource. `only` restricts tabs (and grid data) to
/// ranges; grid data stays in the tabs until the answer is written.
pub fn document<'a>(
    spreadsheet: &'a Spreadsheet,
    only: Option<&[Resolved]>,
    include_grid_data: bool,
) -> Node<'a> {
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
        let mut entry = Node::object(json!({"properties": sheet_properties(sheet, index)}));
        if include_grid_data {
            entry.insert(
                "data",
                Node::Array(ranges.iter().map(|r| Node::Grid(sheet, *r)).collect()),
            );
        }
        let metadata: Vec<Json> = spreadsheet
            .metadata
            .iter()
            .filter(|m| m.location == Location::Sheet(sheet.id))
            .map(|m| m.to_json())
            .collect();
        if !metadata.is_empty() {
            entry.insert("developerMetadata", Node::Json(Json::Array(metadata)));
        }
        sheets.push(entry);
    }
    let mut out = Node::object(json!({
        "spreadsheetId": spreadsheet.id,
        "properties": {
            "title": spreadsheet.title,
            "locale": spreadsheet.locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": spreadsheet.time_zone,
        },
        "spreadsheetUrl": format!("https://docs.google.com/spreadsheets/d/{}/edit", spreadsheet.id),
    }));
    out.insert("sheets", Node::Array(sheets));
    let top: Vec<Json> = spreadsheet
        .metadata
        .iter()
        .filter(|m| m.location == Location::Spreadsheet)
        .map(|m| m.to_json())
        .collect();
    if !top.is_empty() {
        out.insert("developerMetadata", Node::Json(Json::Array(top)));
    }
    out
}

/// The `Spreadsheet` resource as a value, for answers that embed it
/// (`spreadsheets.create`, a batchUpdate's `updatedSpreadsheet`).
pub fn render(
    spreadsheet: &Spreadsheet,
    only: Option<&[Resolved]>,
    include_grid_data: bool,
) -> Json {
    document(spreadsheet, only, include_grid_data).to_json()
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

/// `GET /v4/spreadsheets/{id}`: the answer's body, under its `fields` mask.
pub fn get(store: &Store, id: &str, query: &Query) -> Result<Vec<u8>, ApiError> {
    query.allow(&["ranges", "includeGridData", "excludeTablesInBandedRanges"])?;
    let spreadsheet = store.get(id)?;
    // Google ignores includeGridData when a field mask is set: the mask decides.
    let include = query.bool("includeGridData")? || has_field_mask(query);
    let ranges = query.all("ranges");
    let resolved = match ranges.is_empty() {
        true => None,
        false => Some(resolve_ranges(spreadsheet, &ranges)?),
    };
    let selection = answer::selection(query.get("fields"))?;
    document(spreadsheet, resolved.as_deref(), include)
        .to_body(selection.as_ref())
        .map_err(|e| {
            tracing::error!(error = %e, "writing a spreadsheets.get answer failed");
            ApiError::server_error(500)
        })
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
