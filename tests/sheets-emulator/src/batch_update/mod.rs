//! `spreadsheets.batchUpdate`: requests applied in order to a copy of the
//! spreadsheet, which replaces the original only if every request succeeded.
//! One file per request family: cells, dimensions, sheets, metadata.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value as Json, json};

use crate::cell::{Cell, CellFormat, CellValue};
use crate::error::ApiError;
use crate::grid::{MAX_CELLS, Sheet, Spreadsheet, grid_limit_error};
use crate::http::parse_body;
use crate::metadata::{self, DataFilter, DeveloperMetadata, Location, MetadataInput};
use crate::spreadsheet::sheet_properties;

mod cells;
mod developer_metadata;
mod dimensions;
mod sheets;

pub use sheets::{SheetPropertiesInput, add_sheet};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Body {
    /// Each request stays raw until its kind is known, then parses straight
    /// into its typed form (a 10,000-row updateCells is parsed once).
    #[serde(default)]
    requests: Vec<std::collections::BTreeMap<String, Box<RawValue>>>,
    #[serde(default)]
    include_spreadsheet_in_response: bool,
    #[serde(default)]
    response_ranges: Vec<String>,
    #[serde(default)]
    response_include_grid_data: bool,
}

/// Applies a batchUpdate body to `spreadsheet` (the caller's copy); with a
/// `fields` mask, grid data follows the mask (Google ignores
/// `responseIncludeGridData` then). Returns the
/// response and the ids of tabs touched, with their titles before the batch.
pub fn apply(
    spreadsheet: &mut Spreadsheet,
    body: &[u8],
    field_mask: bool,
) -> Result<(Json, Vec<(i32, String)>), ApiError> {
    let body: Body = parse_body(body)?;
    let mut touched: Vec<(i32, String)> = Vec::new();
    let mut replies = Vec::with_capacity(body.requests.len());
    for (index, request) in body.requests.iter().enumerate() {
        let names: Vec<&String> = request.keys().collect();
        let (kind, payload) = match names.as_slice() {
            [kind] => (kind.as_str(), &request[kind.as_str()]),
            [] => {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid requests[{index}]: request must set exactly one kind"
                )));
            }
            [_, second, ..] => {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid value at 'requests[{index}]' (oneof), oneof field 'kind' is already set. Cannot set '{second}'"
                )));
            }
        };
        let mut ctx = Ctx {
            spreadsheet: &mut *spreadsheet,
            touched: &mut touched,
        };
        let reply = ctx.request(kind, payload.get()).map_err(|e| match e {
            RequestError::Invalid(message) => ApiError::in_request(index, kind, &message),
            RequestError::Api(api) => api,
        })?;
        replies.push(reply);
    }
    for sheet in &mut spreadsheet.sheets {
        sheet.compact();
    }
    if spreadsheet.total_cells() > MAX_CELLS {
        return Err(ApiError::invalid_argument(format!(
            "This action would increase the number of cells in the workbook above the limit of {MAX_CELLS} cells."
        )));
    }
    let mut out = json!({"spreadsheetId": spreadsheet.id, "replies": replies});
    let include_grid_data = body.response_include_grid_data || field_mask;
    if body.include_spreadsheet_in_response {
        let ranges: Vec<&str> = body.response_ranges.iter().map(String::as_str).collect();
        let updated = if ranges.is_empty() {
            crate::spreadsheet::render(spreadsheet, None, include_grid_data)
        } else {
            let resolved = crate::spreadsheet::resolve_ranges(spreadsheet, &ranges)?;
            crate::spreadsheet::render(spreadsheet, Some(&resolved), include_grid_data)
        };
        out["updatedSpreadsheet"] = updated;
    }
    Ok((out, touched))
}

enum RequestError {
    /// Reported as `Invalid requests[i].kind: message`.
    Invalid(String),
    Api(ApiError),
}

impl From<String> for RequestError {
    fn from(message: String) -> Self {
        RequestError::Invalid(message)
    }
}

impl From<&str> for RequestError {
    fn from(message: &str) -> Self {
        RequestError::Invalid(message.to_string())
    }
}

type Outcome = Result<Json, RequestError>;

fn payload<T: for<'de> Deserialize<'de>>(kind: &str, raw: &str) -> Result<T, RequestError> {
    serde_json::from_str(raw).map_err(|e| {
        RequestError::Api(ApiError::invalid_argument(format!(
            "Invalid JSON payload received. {e} at '{kind}'"
        )))
    })
}

struct Ctx<'a> {
    spreadsheet: &'a mut Spreadsheet,
    touched: &'a mut Vec<(i32, String)>,
}

impl Ctx<'_> {
    fn request(&mut self, kind: &str, value: &str) -> Outcome {
        match kind {
            "updateCells" => self.update_cells(payload(kind, value)?),
            "appendCells" => self.append_cells(payload(kind, value)?),
            "repeatCell" => self.repeat_cell(payload(kind, value)?),
            "deleteDimension" => self.delete_dimension(payload(kind, value)?),
            "insertDimension" => self.insert_dimension(payload(kind, value)?),
            "appendDimension" => self.append_dimension(payload(kind, value)?),
            "sortRange" => self.sort_range(payload(kind, value)?),
            "copyPaste" => self.copy_paste(payload(kind, value)?),
            "addSheet" => self.add_sheet(payload(kind, value)?),
            "deleteSheet" => self.delete_sheet(payload(kind, value)?),
            "updateSheetProperties" => self.update_sheet_properties(payload(kind, value)?),
            "updateSpreadsheetProperties" => {
                self.update_spreadsheet_properties(payload(kind, value)?)
            }
            "createDeveloperMetadata" => self.create_metadata(payload(kind, value)?),
            "updateDeveloperMetadata" => self.update_metadata(payload(kind, value)?),
            "deleteDeveloperMetadata" => self.delete_metadata(payload(kind, value)?),
            other => Err(RequestError::Api(ApiError::invalid_argument(format!(
                "Invalid JSON payload received. Unknown name \"{other}\" at 'requests[]': Cannot find field (the Sheets API emulator implements updateCells, appendCells, repeatCell, copyPaste, deleteDimension, insertDimension, appendDimension, sortRange, addSheet, deleteSheet, updateSheetProperties, updateSpreadsheetProperties and create/update/deleteDeveloperMetadata)."
            )))),
        }
    }

    fn touch(&mut self, position: usize) {
        let sheet = &self.spreadsheet.sheets[position];
        if !self.touched.iter().any(|(id, _)| *id == sheet.id) {
            self.touched.push((sheet.id, sheet.title.clone()));
        }
    }

    fn position(&self, sheet_id: Option<i32>) -> Result<usize, RequestError> {
        let id = sheet_id.unwrap_or(0);
        self.spreadsheet
            .sheets
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| RequestError::Invalid(format!("No grid with id: {id}")))
    }
}

fn check_grid(
    sheet: &Sheet,
    r0: usize,
    r1: usize,
    c0: usize,
    c1: usize,
) -> Result<(), RequestError> {
    if r1 > sheet.row_count || c1 > sheet.column_count {
        let e = grid_limit_error(sheet, r0, r1.max(r0 + 1), c0, c1.max(c0 + 1));
        return Err(RequestError::Invalid(e.message));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GridCoordinate {
    sheet_id: Option<i32>,
    row_index: Option<usize>,
    column_index: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GridRange {
    sheet_id: Option<i32>,
    start_row_index: Option<usize>,
    end_row_index: Option<usize>,
    start_column_index: Option<usize>,
    end_column_index: Option<usize>,
}

impl GridRange {
    /// Zero-based, end-exclusive bounds; open ends run to the grid's edge.
    fn bounds(&self, sheet: &Sheet) -> Result<(usize, usize, usize, usize), RequestError> {
        let r0 = self.start_row_index.unwrap_or(0);
        let r1 = self.end_row_index.unwrap_or(sheet.row_count);
        let c0 = self.start_column_index.unwrap_or(0);
        let c1 = self.end_column_index.unwrap_or(sheet.column_count);
        if r0 > r1 || c0 > c1 {
            return Err("Invalid grid range: a start index is after its end index.".into());
        }
        Ok((r0, r1, c0, c1))
    }
}
