//! `spreadsheets.batchUpdate`: requests applied in order to a copy of the
//! spreadsheet, which replaces the original only if every request succeeded.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value as Json, json};

use crate::cell::{Cell, CellFormat, CellValue};
use crate::error::ApiError;
use crate::grid::{MAX_CELLS, Sheet, Spreadsheet, grid_limit_error};
use crate::http::parse_body;
use crate::metadata::{self, DataFilter, DeveloperMetadata, Location, MetadataInput};
use crate::spreadsheet::sheet_properties;

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
            "addSheet" => self.add_sheet(payload(kind, value)?),
            "deleteSheet" => self.delete_sheet(payload(kind, value)?),
            "updateSheetProperties" => self.update_sheet_properties(payload(kind, value)?),
            "createDeveloperMetadata" => self.create_metadata(payload(kind, value)?),
            "updateDeveloperMetadata" => self.update_metadata(payload(kind, value)?),
            "deleteDeveloperMetadata" => self.delete_metadata(payload(kind, value)?),
            other => Err(RequestError::Api(ApiError::invalid_argument(format!(
                "Invalid JSON payload received. Unknown name \"{other}\" at 'requests[]': Cannot find field (the Sheets API emulator implements updateCells, appendCells, repeatCell, deleteDimension, insertDimension, appendDimension, sortRange, addSheet, deleteSheet, updateSheetProperties and create/update/deleteDeveloperMetadata)."
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

    fn update_cells(&mut self, request: UpdateCells) -> Outcome {
        let mask = FieldMask::parse(&request.fields)?;
        let rows = decode_rows(&request.rows)?;
        let (position, start_row, start_col, bounds) = match (&request.start, &request.range) {
            (Some(start), None) => (
                self.position(start.sheet_id)?,
                start.row_index.unwrap_or(0),
                start.column_index.unwrap_or(0),
                None,
            ),
            (None, Some(range)) => {
                let position = self.position(range.sheet_id)?;
                let sheet = &self.spreadsheet.sheets[position];
                let (r0, r1, c0, c1) = range.bounds(sheet)?;
                (position, r0, c0, Some((r1, c1)))
            }
            _ => return Err("Exactly one of start or range must be set.".into()),
        };
        let sheet = &mut self.spreadsheet.sheets[position];
        let height = rows.len();
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let (end_row, end_col) = bounds.unwrap_or((start_row + height, start_col + width));
        if start_row + height > end_row || start_col + width > end_col {
            return Err("The rows and values in the request exceed the range.".into());
        }
        check_grid(sheet, start_row, end_row, start_col, end_col)?;
        for (i, row) in rows.iter().enumerate() {
            for (j, data) in row.iter().enumerate() {
                mask.apply(sheet.cell_mut(start_row + i, start_col + j), data);
            }
        }
        if bounds.is_some() {
            // A range also clears the masked fields of cells the rows do not cover.
            let blank = Cell::default();
            for row in start_row..end_row.min(sheet.rows.len()) {
                let covered = rows.get(row - start_row).map_or(0, Vec::len);
                for col in (start_col + covered)..end_col {
                    if !sheet.cell(row, col).is_blank() {
                        mask.apply(sheet.cell_mut(row, col), &blank);
                    }
                }
            }
        }
        self.touch(position);
        Ok(json!({}))
    }

    fn append_cells(&mut self, request: AppendCells) -> Outcome {
        let mask = FieldMask::parse(&request.fields)?;
        let rows = decode_rows(&request.rows)?;
        let position = self.position(request.sheet_id)?;
        let sheet = &mut self.spreadsheet.sheets[position];
        let at = sheet.last_value_row(None).map_or(0, |last| last + 1);
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        sheet.grow_to(at + rows.len(), 0);
        check_grid(sheet, at, at + rows.len(), 0, width)?;
        for (i, row) in rows.iter().enumerate() {
            for (j, data) in row.iter().enumerate() {
                mask.apply(sheet.cell_mut(at + i, j), data);
            }
        }
        self.touch(position);
        Ok(json!({}))
    }

    fn repeat_cell(&mut self, request: RepeatCell) -> Outcome {
        let mask = FieldMask::parse(&request.fields)?;
        let data = decode_cell(&request.cell)?;
        let position = self.position(request.range.sheet_id)?;
        let sheet = &mut self.spreadsheet.sheets[position];
        let (r0, r1, c0, c1) = request.range.bounds(sheet)?;
        check_grid(sheet, r0, r1, c0, c1)?;
        for row in r0..r1 {
            for col in c0..c1 {
                mask.apply(sheet.cell_mut(row, col), &data);
            }
        }
        self.touch(position);
        Ok(json!({}))
    }

    fn delete_dimension(&mut self, request: DimensionRequest) -> Outcome {
        let range = request.range;
        let position = self.position(range.sheet_id)?;
        let sheet = &mut self.spreadsheet.sheets[position];
        let rows = range.rows()?;
        let count = if rows {
            sheet.row_count
        } else {
            sheet.column_count
        };
        let start = range.start_index.unwrap_or(0);
        let end = range.end_index.unwrap_or(count);
        let noun = if rows { "row" } else { "column" };
        if start >= end {
            return Err(format!(
                "Invalid dimension range: startIndex [{start}] must be less than endIndex [{end}]."
            )
            .into());
        }
        if end > count {
            return Err(format!(
                "Cannot delete a {noun} that doesn't exist. Tried to delete {noun} index {} but there are only {count} {noun}s.",
                end - 1
            )
            .into());
        }
        if end - start == count {
            return Err(format!("You can't delete all the {noun}s on the sheet.").into());
        }
        if rows {
            sheet.delete_rows(start, end);
            sheet.frozen_row_count = sheet.frozen_row_count.min(sheet.row_count);
        } else {
            sheet.delete_columns(start, end);
            sheet.frozen_column_count = sheet.frozen_column_count.min(sheet.column_count);
        }
        self.touch(position);
        Ok(json!({}))
    }

    fn insert_dimension(&mut self, request: InsertDimension) -> Outcome {
        let range = request.range;
        let position = self.position(range.sheet_id)?;
        let sheet = &mut self.spreadsheet.sheets[position];
        let rows = range.rows()?;
        let count = if rows {
            sheet.row_count
        } else {
            sheet.column_count
        };
        let (Some(start), Some(end)) = (range.start_index, range.end_index) else {
            return Err("Invalid dimension range: startIndex and endIndex must be set.".into());
        };
        if start >= end || start > count {
            return Err(format!(
                "Invalid dimension range [{start}, {end}) for a sheet with {count} {}.",
                if rows { "rows" } else { "columns" }
            )
            .into());
        }
        if request.inherit_from_before && start == 0 {
            return Err(
                "Cannot inherit properties from before when inserting at the start of the sheet."
                    .into(),
            );
        }
        let source = if request.inherit_from_before {
            Some(start - 1)
        } else if start < count {
            Some(start)
        } else {
            None
        };
        if rows {
            sheet.insert_rows(start, end - start);
            if let Some(source) = source.map(|s| if s >= start { s + end - start } else { s }) {
                for col in 0..sheet
                    .column_count
                    .min(sheet.rows.get(source).map_or(0, Vec::len))
                {
                    let format = sheet.cell(source, col).format.clone();
                    if format.is_some() {
                        for row in start..end {
                            sheet.cell_mut(row, col).format = format.clone();
                        }
                    }
                }
            }
        } else {
            sheet.insert_columns(start, end - start);
            if let Some(source) = source.map(|s| if s >= start { s + end - start } else { s }) {
                for row in 0..sheet.rows.len() {
                    let format = sheet.cell(row, source).format.clone();
                    if format.is_some() {
                        for col in start..end {
                            sheet.cell_mut(row, col).format = format.clone();
                        }
                    }
                }
            }
        }
        self.touch(position);
        Ok(json!({}))
    }

    fn append_dimension(&mut self, request: AppendDimension) -> Outcome {
        let position = self.position(request.sheet_id)?;
        let sheet = &mut self.spreadsheet.sheets[position];
        if request.length == 0 {
            return Err("length must be positive.".into());
        }
        match request.dimension.as_deref() {
            Some("ROWS") => sheet.row_count += request.length,
            Some("COLUMNS") => sheet.column_count += request.length,
            _ => return Err("dimension must be ROWS or COLUMNS.".into()),
        }
        self.touch(position);
        Ok(json!({}))
    }

    fn sort_range(&mut self, request: SortRange) -> Outcome {
        let position = self.position(request.range.sheet_id)?;
        let sheet = &mut self.spreadsheet.sheets[position];
        let (r0, r1, c0, c1) = request.range.bounds(sheet)?;
        check_grid(sheet, r0, r1, c0, c1)?;
        let mut block: Vec<Vec<Cell>> = (r0..r1)
            .map(|row| (c0..c1).map(|col| sheet.cell(row, col).clone()).collect())
            .collect();
        let mut specs = Vec::new();
        for spec in &request.sort_specs {
            let column = spec.dimension_index.unwrap_or(0);
            if column < c0 || column >= c1 {
                return Err(format!("Sort column {column} is outside the range.").into());
            }
            let descending = match spec.sort_order.as_deref() {
                None | Some("ASCENDING") => false,
                Some("DESCENDING") => true,
                Some(other) => return Err(format!("Invalid sortOrder {other}.").into()),
            };
            specs.push((column - c0, descending));
        }
        block.sort_by(|a, b| {
            for (column, descending) in &specs {
                let ordering = compare_for_sort(&a[*column].value, &b[*column].value, *descending);
                if ordering != std::cmp::Ordering::Equal {
                    return ordering;
                }
            }
            std::cmp::Ordering::Equal
        });
        for (i, cells) in block.into_iter().enumerate() {
            for (j, cell) in cells.into_iter().enumerate() {
                if !(cell.is_blank() && sheet.cell(r0 + i, c0 + j).is_blank()) {
                    *sheet.cell_mut(r0 + i, c0 + j) = cell;
                }
            }
        }
        self.touch(position);
        Ok(json!({}))
    }

    fn add_sheet(&mut self, request: AddSheet) -> Outcome {
        let position = add_sheet(self.spreadsheet, &request.properties)?;
        self.touch(position);
        let sheet = &self.spreadsheet.sheets[position];
        Ok(json!({"addSheet": {"properties": sheet_properties(sheet, position)}}))
    }

    fn delete_sheet(&mut self, request: DeleteSheet) -> Outcome {
        let position = self.position(request.sheet_id)?;
        if self.spreadsheet.sheets.len() == 1 {
            return Err("You can't remove all the sheets in a document.".into());
        }
        self.touch(position);
        let removed = self.spreadsheet.sheets.remove(position);
        self.spreadsheet
            .metadata
            .retain(|m| m.location != Location::Sheet(removed.id));
        Ok(json!({}))
    }

    fn update_sheet_properties(&mut self, request: UpdateSheetProperties) -> Outcome {
        let position = self.position(request.properties.sheet_id)?;
        let fields: Vec<&str> = request
            .fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() {
            return Err("At least one field must be updated, but 'fields' is empty.".into());
        }
        let all = fields.contains(&"*");
        let wants = |name: &str| {
            all || fields
                .iter()
                .any(|f| *f == name || name.starts_with(&format!("{f}.")))
        };
        let props = &request.properties;
        let grid = props.grid_properties.clone().unwrap_or_default();
        for field in &fields {
            let known = [
                "*",
                "title",
                "index",
                "gridProperties",
                "gridProperties.rowCount",
                "gridProperties.columnCount",
                "gridProperties.frozenRowCount",
                "gridProperties.frozenColumnCount",
            ];
            if !known.contains(field) {
                return Err(format!(
                    "the Sheets API emulator cannot update sheet property '{field}'"
                )
                .into());
            }
        }
        if wants("title") {
            let title = props.title.clone().unwrap_or_default();
            check_title(
                self.spreadsheet,
                &title,
                Some(self.spreadsheet.sheets[position].id),
            )?;
            self.touch(position);
            self.spreadsheet.sheets[position].title = title;
        }
        self.touch(position);
        let sheet = &mut self.spreadsheet.sheets[position];
        if wants("gridProperties.rowCount") {
            let rows = grid.row_count.unwrap_or(0);
            if rows == 0 {
                return Err("gridProperties.rowCount must be positive.".into());
            }
            if rows < sheet.row_count {
                sheet.delete_rows(rows, sheet.row_count);
            } else {
                sheet.row_count = rows;
            }
        }
        if wants("gridProperties.columnCount") {
            let cols = grid.column_count.unwrap_or(0);
            if cols == 0 {
                return Err("gridProperties.columnCount must be positive.".into());
            }
            if cols < sheet.column_count {
                sheet.delete_columns(cols, sheet.column_count);
            } else {
                sheet.column_count = cols;
            }
        }
        if wants("gridProperties.frozenRowCount") {
            sheet.frozen_row_count = grid.frozen_row_count.unwrap_or(0);
        }
        if wants("gridProperties.frozenColumnCount") {
            sheet.frozen_column_count = grid.frozen_column_count.unwrap_or(0);
        }
        if wants("index") {
            let index = props.index.unwrap_or(0).min(self.spreadsheet.sheets.len());
            let sheet = self.spreadsheet.sheets.remove(position);
            // Google counts the target index before removing the moved tab.
            let target = if index > position { index - 1 } else { index };
            self.spreadsheet
                .sheets
                .insert(target.min(self.spreadsheet.sheets.len()), sheet);
        }
        Ok(json!({}))
    }

    fn create_metadata(&mut self, request: CreateMetadata) -> Outcome {
        let input = request.developer_metadata;
        let key = input
            .metadata_key
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or("Developer metadata must have a key specified.")?;
        let visibility = input
            .visibility
            .ok_or("Developer metadata must have a visibility specified.")?;
        let location = input
            .location
            .as_ref()
            .ok_or("Developer metadata must have a location specified.")?
            .to_location()?;
        if let Location::Sheet(id) = location {
            let position = self.position(Some(id))?;
            self.touch(position);
        }
        let metadata_id = match input.metadata_id {
            Some(id) if id <= 0 => return Err("Developer metadata ID must be positive.".into()),
            Some(id)
                if self
                    .spreadsheet
                    .metadata
                    .iter()
                    .any(|m| m.metadata_id == id) =>
            {
                return Err(format!("Developer metadata with ID {id} already exists.").into());
            }
            Some(id) => id,
            None => self.spreadsheet.allocate_metadata_id(),
        };
        let metadata = DeveloperMetadata {
            metadata_id,
            metadata_key: key,
            metadata_value: input.metadata_value,
            location,
            visibility,
        };
        let out = metadata.to_json();
        self.spreadsheet.metadata.push(metadata);
        Ok(json!({"createDeveloperMetadata": {"developerMetadata": out}}))
    }

    fn update_metadata(&mut self, request: UpdateMetadata) -> Outcome {
        if request.data_filters.is_empty() {
            return Err("At least one data filter must be specified.".into());
        }
        let fields: Vec<&str> = request
            .fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() {
            return Err("'fields' must name the developer metadata fields to update.".into());
        }
        let mut selected: Vec<usize> = Vec::new();
        for filter in &request.data_filters {
            for i in metadata::select(&self.spreadsheet.metadata, filter)? {
                if !selected.contains(&i) {
                    selected.push(i);
                }
            }
        }
        if selected.is_empty() {
            return Err("No developer metadata matches the given data filters.".into());
        }
        let update = &request.developer_metadata;
        let location = match &update.location {
            Some(l) if fields.contains(&"location") || fields.contains(&"*") => {
                Some(l.to_location()?)
            }
            _ => None,
        };
        if let Some(Location::Sheet(id)) = location {
            self.position(Some(id))?;
        }
        let mut out = Vec::new();
        for i in selected {
            let before = self.spreadsheet.metadata[i].location;
            let m = &mut self.spreadsheet.metadata[i];
            for field in &fields {
                match *field {
                    "metadataKey" => {
                        m.metadata_key = update
                            .metadata_key
                            .clone()
                            .ok_or("Developer metadata must have a key specified.")?
                    }
                    "metadataValue" => m.metadata_value = update.metadata_value.clone(),
                    "visibility" => {
                        m.visibility = update
                            .visibility
                            .ok_or("Developer metadata must have a visibility specified.")?
                    }
                    "location" => {
                        m.location =
                            location.ok_or("Developer metadata must have a location specified.")?
                    }
                    "metadataId" => return Err("metadataId cannot be updated.".into()),
                    "*" => {
                        m.metadata_key = update
                            .metadata_key
                            .clone()
                            .ok_or("Developer metadata must have a key specified.")?;
                        m.metadata_value = update.metadata_value.clone();
                        m.visibility = update
                            .visibility
                            .ok_or("Developer metadata must have a visibility specified.")?;
                        m.location =
                            location.ok_or("Developer metadata must have a location specified.")?;
                    }
                    other => {
                        return Err(
                            format!("Invalid field mask '{other}' for DeveloperMetadata.").into(),
                        );
                    }
                }
            }
            out.push(m.to_json());
            let after = m.location;
            for location in [before, after] {
                if let Location::Sheet(id) = location
                    && let Some(position) = self.spreadsheet.sheets.iter().position(|s| s.id == id)
                {
                    self.touch(position);
                }
            }
        }
        Ok(json!({"updateDeveloperMetadata": {"developerMetadata": out}}))
    }

    fn delete_metadata(&mut self, request: DeleteMetadata) -> Outcome {
        let selected = metadata::select(&self.spreadsheet.metadata, &request.data_filter)?;
        let mut deleted = Vec::new();
        for i in selected.into_iter().rev() {
            let m = self.spreadsheet.metadata.remove(i);
            if let Location::Sheet(id) = m.location
                && let Some(position) = self.spreadsheet.sheets.iter().position(|s| s.id == id)
            {
                self.touch(position);
            }
            deleted.push(m.to_json());
        }
        deleted.reverse();
        let mut reply = json!({});
        if !deleted.is_empty() {
            reply["deletedDeveloperMetadata"] = Json::Array(deleted);
        }
        Ok(json!({"deleteDeveloperMetadata": reply}))
    }
}

/// Sheets' sort: numbers, then text (case-insensitive), then booleans; blanks always last.
fn compare_for_sort(a: &CellValue, b: &CellValue, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &CellValue) -> u8 {
        match v {
            CellValue::Number(_) => 0,
            CellValue::Text(_) | CellValue::Formula(_) => 1,
            CellValue::Bool(_) => 2,
            CellValue::Empty => 3,
        }
    }
    match (a, b) {
        (CellValue::Empty, CellValue::Empty) => return Ordering::Equal,
        (CellValue::Empty, _) => return Ordering::Greater,
        (_, CellValue::Empty) => return Ordering::Less,
        _ => {}
    }
    let ordering = match (a, b) {
        (CellValue::Number(x), CellValue::Number(y)) => x.total_cmp(y),
        (CellValue::Text(x), CellValue::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (CellValue::Bool(x), CellValue::Bool(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    };
    if descending {
        ordering.reverse()
    } else {
        ordering
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

fn check_title(spreadsheet: &Spreadsheet, title: &str, except: Option<i32>) -> Result<(), String> {
    if title.trim().is_empty() {
        return Err("Sheet title must not be empty.".into());
    }
    if spreadsheet
        .sheets
        .iter()
        .any(|s| Some(s.id) != except && s.title.eq_ignore_ascii_case(title))
    {
        return Err(format!(
            "A sheet with the name \"{title}\" already exists. Please enter another name."
        ));
    }
    Ok(())
}

/// Adds a tab as `addSheet` does; returns its position.
pub fn add_sheet(
    spreadsheet: &mut Spreadsheet,
    props: &SheetPropertiesInput,
) -> Result<usize, String> {
    let title = match &props.title {
        Some(title) => title.clone(),
        None => (1..)
            .map(|n| format!("Sheet{n}"))
            .find(|t| spreadsheet.sheet_by_title(t).is_none())
            .unwrap_or_default(),
    };
    check_title(spreadsheet, &title, None)?;
    let id = match props.sheet_id {
        Some(id) if id < 0 => return Err(format!("Invalid sheetId {id}: must be non-negative.")),
        Some(id) if spreadsheet.sheet_by_id(id).is_some() => {
            return Err(format!("Sheet with id {id} already exists."));
        }
        Some(id) => id,
        None => spreadsheet.allocate_sheet_id(),
    };
    let mut sheet = Sheet::new(id, &title);
    if let Some(grid) = &props.grid_properties {
        sheet.row_count = grid.row_count.unwrap_or(sheet.row_count);
        sheet.column_count = grid.column_count.unwrap_or(sheet.column_count);
        sheet.frozen_row_count = grid.frozen_row_count.unwrap_or(0);
        sheet.frozen_column_count = grid.frozen_column_count.unwrap_or(0);
        if sheet.row_count == 0 || sheet.column_count == 0 {
            return Err("gridProperties.rowCount and columnCount must be positive.".into());
        }
    }
    Ok(spreadsheet.add_sheet(sheet, props.index))
}

// ---- request bodies ---------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateCells {
    #[serde(default)]
    rows: Vec<RowData>,
    #[serde(default)]
    fields: String,
    start: Option<GridCoordinate>,
    range: Option<GridRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AppendCells {
    sheet_id: Option<i32>,
    #[serde(default)]
    rows: Vec<RowData>,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RepeatCell {
    range: GridRange,
    #[serde(default)]
    cell: CellData,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RowData {
    #[serde(default)]
    values: Vec<CellData>,
}

/// `CellData` as written: read-only members (`effectiveValue`, ...) are accepted and ignored, as Google does.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CellData {
    user_entered_value: Option<ExtendedValueIn>,
    user_entered_format: Option<CellFormat>,
    note: Option<String>,
    #[serde(rename = "effectiveValue")]
    _effective_value: Option<Json>,
    #[serde(rename = "formattedValue")]
    _formatted_value: Option<Json>,
    #[serde(rename = "effectiveFormat")]
    _effective_format: Option<Json>,
}

/// `ExtendedValue` as written (typed, so large batches parse without a `Value` per cell).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExtendedValueIn {
    number_value: Option<f64>,
    string_value: Option<String>,
    bool_value: Option<bool>,
    formula_value: Option<String>,
    error_value: Option<Json>,
}

impl ExtendedValueIn {
    fn to_value(&self) -> Result<CellValue, RequestError> {
        let set = [
            self.number_value.is_some(),
            self.string_value.is_some(),
            self.bool_value.is_some(),
            self.formula_value.is_some(),
            self.error_value.is_some(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err("ExtendedValue may set only one of numberValue, stringValue, boolValue, formulaValue".into());
        }
        if self.error_value.is_some() {
            return Err("errorValue cannot be written".into());
        }
        Ok(
            match (
                self.number_value,
                &self.string_value,
                self.bool_value,
                &self.formula_value,
            ) {
                (Some(n), ..) => CellValue::Number(n),
                // An empty string leaves the cell empty, as in Sheets.
                (_, Some(s), ..) if s.is_empty() => CellValue::Empty,
                (_, Some(s), ..) => CellValue::Text(s.clone()),
                (_, _, Some(b), _) => CellValue::Bool(b),
                (_, _, _, Some(f)) => CellValue::Formula(f.clone()),
                _ => CellValue::Empty,
            },
        )
    }
}

fn decode_cell(data: &CellData) -> Result<Cell, RequestError> {
    let value = match &data.user_entered_value {
        Some(v) => v.to_value()?,
        None => CellValue::Empty,
    };
    Ok(Cell {
        value,
        format: data.user_entered_format.clone(),
        note: data.note.clone(),
    })
}

fn decode_rows(rows: &[RowData]) -> Result<Vec<Vec<Cell>>, RequestError> {
    rows.iter()
        .map(|row| row.values.iter().map(decode_cell).collect())
        .collect()
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DimensionRange {
    sheet_id: Option<i32>,
    dimension: Option<String>,
    start_index: Option<usize>,
    end_index: Option<usize>,
}

impl DimensionRange {
    fn rows(&self) -> Result<bool, RequestError> {
        match self.dimension.as_deref() {
            Some("ROWS") => Ok(true),
            Some("COLUMNS") => Ok(false),
            _ => Err("Invalid dimension range: dimension must be ROWS or COLUMNS.".into()),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DimensionRequest {
    range: DimensionRange,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InsertDimension {
    range: DimensionRange,
    #[serde(default)]
    inherit_from_before: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AppendDimension {
    sheet_id: Option<i32>,
    dimension: Option<String>,
    #[serde(default)]
    length: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SortRange {
    range: GridRange,
    #[serde(default)]
    sort_specs: Vec<SortSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SortSpec {
    dimension_index: Option<usize>,
    sort_order: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddSheet {
    #[serde(default)]
    properties: SheetPropertiesInput,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SheetPropertiesInput {
    pub sheet_id: Option<i32>,
    pub title: Option<String>,
    pub index: Option<usize>,
    pub grid_properties: Option<GridPropertiesInput>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct GridPropertiesInput {
    pub row_count: Option<usize>,
    pub column_count: Option<usize>,
    pub frozen_row_count: Option<usize>,
    pub frozen_column_count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteSheet {
    sheet_id: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateSheetProperties {
    properties: SheetPropertiesInput,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateMetadata {
    developer_metadata: MetadataInput,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateMetadata {
    #[serde(default)]
    data_filters: Vec<DataFilter>,
    #[serde(default)]
    developer_metadata: MetadataInput,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteMetadata {
    data_filter: DataFilter,
}

/// The `fields` mask of updateCells/appendCells/repeatCell over `CellData`.
struct FieldMask {
    value: bool,
    note: bool,
    /// `None`: the format is untouched; `Some(None)`: the whole format; `Some(Some(names))`: those members.
    format: Option<Option<Vec<String>>>,
}

impl FieldMask {
    fn parse(text: &str) -> Result<FieldMask, RequestError> {
        let mut mask = FieldMask {
            value: false,
            note: false,
            format: None,
        };
        let paths: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if paths.is_empty() {
            return Err("At least one field must be updated, but 'fields' is empty.".into());
        }
        for path in paths {
            match path {
                "*" => {
                    mask.value = true;
                    mask.note = true;
                    mask.format = Some(None);
                }
                "userEnteredValue" => mask.value = true,
                "note" => mask.note = true,
                "userEnteredFormat" => mask.format = Some(None),
                other => match other.strip_prefix("userEnteredFormat.") {
                    Some(member) => {
                        let member = member.split('.').next().unwrap_or(member).to_string();
                        match &mut mask.format {
                            Some(None) => {}
                            Some(Some(members)) => members.push(member),
                            None => mask.format = Some(Some(vec![member])),
                        }
                    }
                    None => {
                        return Err(format!(
                            "the Sheets API emulator writes userEnteredValue, userEnteredFormat and note; cannot update field mask '{other}'"
                        )
                        .into());
                    }
                },
            }
        }
        Ok(mask)
    }

    fn apply(&self, cell: &mut Cell, data: &Cell) {
        if self.value {
            cell.value = data.value.clone();
        }
        if self.note {
            cell.note = data.note.clone();
        }
        match &self.format {
            None => {}
            Some(None) => cell.format = data.format.clone(),
            Some(Some(members)) => {
                let mut format = cell.format.take().unwrap_or_default();
                let source = data.format.clone().unwrap_or_default();
                for member in members {
                    if member == "numberFormat" {
                        format.number_format = source.number_format.clone();
                    } else {
                        match source.other.get(member) {
                            Some(v) => format.other.insert(member.clone(), v.clone()),
                            None => format.other.remove(member),
                        };
                    }
                }
                cell.format = (format != CellFormat::default()).then_some(format);
            }
        }
    }
}
