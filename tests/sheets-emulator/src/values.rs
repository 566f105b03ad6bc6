//! `spreadsheets.values.*`: get, batchGet, update, batchUpdate, append, clear, batchClear.

use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::a1;
use crate::cell::{Cell, InputOption, ValueWrite, value_write};
use crate::error::ApiError;
use crate::grid::{Resolved, Sheet, Spreadsheet, grid_limit_error};
use crate::http::{Query, invalid_enum, parse_body};

/// How values are rendered (`valueRenderOption`, `dateTimeRenderOption`, `majorDimension`).
#[derive(Clone, Copy, Debug)]
pub struct Render {
    pub mode: RenderMode,
    pub dates_as_serial: bool,
    pub columns: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderMode {
    Formatted,
    Unformatted,
    Formula,
}

impl Render {
    fn from_names(value: &str, date: &str, dimension: &str) -> Render {
        Render {
            mode: match value {
                "UNFORMATTED_VALUE" => RenderMode::Unformatted,
                "FORMULA" => RenderMode::Formula,
                _ => RenderMode::Formatted,
            },
            dates_as_serial: date != "FORMATTED_STRING",
            columns: dimension == "COLUMNS",
        }
    }

    fn from_query(query: &Query, value: &str, date: &str) -> Result<Render, ApiError> {
        let value = query.choice(
            value,
            "ValueRenderOption",
            &["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"],
            "FORMATTED_VALUE",
        )?;
        let date = query.choice(
            date,
            "DateTimeRenderOption",
            &["SERIAL_NUMBER", "FORMATTED_STRING"],
            "SERIAL_NUMBER",
        )?;
        let dimension = major_dimension(query.get("majorDimension"))?;
        Ok(Render::from_names(value, date, dimension))
    }

    fn cell(&self, cell: &Cell) -> Json {
        match (self.mode, &cell.value) {
            (RenderMode::Formatted, _) => cell.formatted_json(),
            (RenderMode::Formula, crate::cell::CellValue::Formula(f)) => json!(f.text),
            _ => cell.unformatted_json(self.dates_as_serial),
        }
    }
}

fn major_dimension(value: Option<&str>) -> Result<&'static str, ApiError> {
    match value {
        None | Some("ROWS") | Some("DIMENSION_UNSPECIFIED") => Ok("ROWS"),
        Some("COLUMNS") => Ok("COLUMNS"),
        Some(other) => Err(invalid_enum("majorDimension", "Dimension", other)),
    }
}

fn input_option(value: Option<&str>) -> Result<InputOption, ApiError> {
    match value {
        Some("RAW") => Ok(InputOption::Raw),
        Some("USER_ENTERED") => Ok(InputOption::UserEntered),
        None | Some("INPUT_VALUE_OPTION_UNSPECIFIED") => Err(ApiError::invalid_argument(
            "'valueInputOption' is required but not specified",
        )),
        Some(other) => Err(invalid_enum("valueInputOption", "ValueInputOption", other)),
    }
}

/// A `ValueRange` for a resolved range, trailing empty cells and rows left out.
pub fn value_range(spreadsheet: &Spreadsheet, r: &Resolved, render: Render) -> Json {
    let sheet = &spreadsheet.sheets[r.sheet];
    let (outer, inner) = if render.columns {
        (
            (r.start_col, r.end_col),
            (r.start_row, r.end_row.min(sheet.rows.len())),
        )
    } else {
        (
            (r.start_row, r.end_row.min(sheet.rows.len())),
            (r.start_col, r.end_col),
        )
    };
    let mut lines: Vec<Vec<Json>> = Vec::new();
    for i in outer.0..outer.1 {
        let mut line: Vec<Json> = Vec::new();
        let mut filled = 0;
        for j in inner.0..inner.1.max(inner.0) {
            let cell = if render.columns {
                sheet.cell(j, i)
            } else {
                sheet.cell(i, j)
            };
            let value = render.cell(cell);
            if value != json!("") {
                filled = line.len() + 1;
            }
            line.push(value);
        }
        line.truncate(filled);
        lines.push(line);
    }
    while lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    let mut out = json!({
        "range": r.a1(&sheet.title),
        "majorDimension": if render.columns { "COLUMNS" } else { "ROWS" },
    });
    if !lines.is_empty() {
        out["values"] = json!(lines);
    }
    out
}

fn resolve_within(spreadsheet: &Spreadsheet, range: &str) -> Result<Resolved, ApiError> {
    let r = spreadsheet.resolve(range)?;
    r.check_within(&spreadsheet.sheets[r.sheet])?;
    Ok(r)
}

/// `GET values/{range}`.
pub fn get(spreadsheet: &Spreadsheet, range: &str, query: &Query) -> Result<Json, ApiError> {
    query.allow(&[
        "valueRenderOption",
        "dateTimeRenderOption",
        "majorDimension",
    ])?;
    let render = Render::from_query(query, "valueRenderOption", "dateTimeRenderOption")?;
    let r = resolve_within(spreadsheet, range)?;
    Ok(value_range(spreadsheet, &r, render))
}

/// `GET values:batchGet`.
pub fn batch_get(spreadsheet: &Spreadsheet, query: &Query) -> Result<Json, ApiError> {
    query.allow(&[
        "ranges",
        "valueRenderOption",
        "dateTimeRenderOption",
        "majorDimension",
    ])?;
    let render = Render::from_query(query, "valueRenderOption", "dateTimeRenderOption")?;
    let ranges = query
        .all("ranges")
        .iter()
        .map(|range| {
            Ok(value_range(
                spreadsheet,
                &resolve_within(spreadsheet, range)?,
                render,
            ))
        })
        .collect::<Result<Vec<Json>, ApiError>>()?;
    Ok(json!({"spreadsheetId": spreadsheet.id, "valueRanges": ranges}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueRangeInput {
    range: Option<String>,
    major_dimension: Option<String>,
    #[serde(default)]
    values: Vec<Vec<Json>>,
}

/// What one write did: the rectangle it covered.
struct Written {
    sheet: usize,
    start_row: usize,
    start_col: usize,
    rows: usize,
    cols: usize,
    cells: usize,
}

impl Written {
    fn response(&self, spreadsheet: &Spreadsheet, updated_data: Option<Render>) -> Json {
        let sheet = &spreadsheet.sheets[self.sheet];
        let resolved = Resolved {
            sheet: self.sheet,
            start_row: self.start_row,
            end_row: self.start_row + self.rows.max(1),
            start_col: self.start_col,
            end_col: self.start_col + self.cols.max(1),
            open_rows: false,
        };
        let mut out = json!({
            "spreadsheetId": spreadsheet.id,
            "updatedRange": resolved.a1(&sheet.title),
        });
        if self.cells > 0 {
            out["updatedRows"] = json!(self.rows);
            out["updatedColumns"] = json!(self.cols);
            out["updatedCells"] = json!(self.cells);
        }
        if let Some(render) = updated_data {
            out["updatedData"] = value_range(spreadsheet, &resolved, render);
        }
        out
    }
}

/// Writes a `ValueRange` at `r`'s top-left, within `r` unless it names one cell.
fn write_values(
    spreadsheet: &mut Spreadsheet,
    r: &Resolved,
    input: &ValueRangeInput,
    option: InputOption,
    grow: bool,
) -> Result<Written, ApiError> {
    let columns = major_dimension(input.major_dimension.as_deref())? == "COLUMNS";
    let (height, width) = if columns {
        (
            input.values.iter().map(Vec::len).max().unwrap_or(0),
            input.values.len(),
        )
    } else {
        (
            input.values.len(),
            input.values.iter().map(Vec::len).max().unwrap_or(0),
        )
    };
    let single_cell = r.end_row == r.start_row + 1 && r.end_col == r.start_col + 1;
    let sheet = &mut spreadsheet.sheets[r.sheet];
    if !single_cell && !grow {
        let bounds = a1::format_range(&sheet.title, r.start_row, r.end_row, r.start_col, r.end_col);
        if r.start_row + height > r.end_row {
            return Err(ApiError::invalid_argument(format!(
                "Requested writing within range [{bounds}], but tried writing to row [{}]",
                r.end_row + 1
            )));
        }
        if r.start_col + width > r.end_col {
            return Err(ApiError::invalid_argument(format!(
                "Requested writing within range [{bounds}], but tried writing to column [{}]",
                a1::column_letters(r.end_col)
            )));
        }
    }
    let (end_row, end_col) = (r.start_row + height, r.start_col + width);
    if grow {
        sheet.grow_to(end_row, 0);
    }
    if end_row > sheet.row_count || end_col > sheet.column_count {
        return Err(grid_limit_error(
            sheet,
            r.start_row,
            end_row.max(r.start_row + 1),
            r.start_col,
            end_col.max(r.start_col + 1),
        ));
    }
    let mut cells = 0;
    for (i, line) in input.values.iter().enumerate() {
        for (j, value) in line.iter().enumerate() {
            let (row, col) = if columns { (j, i) } else { (i, j) };
            cells += 1;
            match value_write(value, option).map_err(ApiError::invalid_argument)? {
                ValueWrite::Skip => {}
                ValueWrite::Set(value, format) => {
                    set_value(sheet, r.start_row + row, r.start_col + col, value, format)
                }
            }
        }
    }
    sheet.compact();
    Ok(Written {
        sheet: r.sheet,
        start_row: r.start_row,
        start_col: r.start_col,
        rows: height,
        cols: width,
        cells,
    })
}

fn set_value(
    sheet: &mut Sheet,
    row: usize,
    col: usize,
    value: crate::cell::CellValue,
    format: Option<crate::cell::NumberFormat>,
) {
    let cell = sheet.cell_mut(row, col);
    cell.value = value;
    if let Some(format) = format {
        cell.format
            .get_or_insert_with(Default::default)
            .number_format = Some(format);
    }
}

fn response_render(query_or_body: (Option<&str>, Option<&str>)) -> Result<Render, ApiError> {
    let value = query_or_body.0.unwrap_or("FORMATTED_VALUE");
    if !["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"].contains(&value) {
        return Err(invalid_enum(
            "responseValueRenderOption",
            "ValueRenderOption",
            value,
        ));
    }
    let date = query_or_body.1.unwrap_or("SERIAL_NUMBER");
    if !["SERIAL_NUMBER", "FORMATTED_STRING"].contains(&date) {
        return Err(invalid_enum(
            "responseDateTimeRenderOption",
            "DateTimeRenderOption",
            date,
        ));
    }
    Ok(Render::from_names(value, date, "ROWS"))
}

const WRITE_PARAMETERS: [&str; 4] = [
    "valueInputOption",
    "includeValuesInResponse",
    "responseValueRenderOption",
    "responseDateTimeRenderOption",
];

fn updated_data(query: &Query) -> Result<Option<Render>, ApiError> {
    let render = response_render((
        query.get("responseValueRenderOption"),
        query.get("responseDateTimeRenderOption"),
    ))?;
    Ok(query.bool("includeValuesInResponse")?.then_some(render))
}

fn check_body_range(
    spreadsheet: &Spreadsheet,
    url_range: &Resolved,
    input: &ValueRangeInput,
) -> Result<(), ApiError> {
    if let Some(text) = &input.range {
        let body_range = spreadsheet.resolve(text)?;
        if body_range != *url_range {
            let sheet = &spreadsheet.sheets[url_range.sheet].title;
            return Err(ApiError::invalid_argument(format!(
                "Requested update range [{}] does not match ValueRange range [{}]",
                url_range.a1(sheet),
                body_range.a1(&spreadsheet.sheets[body_range.sheet].title)
            )));
        }
    }
    Ok(())
}

/// `PUT values/{range}`; returns the response and the tab written.
pub fn update(
    spreadsheet: &mut Spreadsheet,
    range: &str,
    query: &Query,
    body: &[u8],
) -> Result<(Json, usize), ApiError> {
    query.allow(&WRITE_PARAMETERS)?;
    let option = input_option(query.get("valueInputOption"))?;
    let render = updated_data(query)?;
    let input: ValueRangeInput = parse_body(body)?;
    let r = spreadsheet.resolve(range)?;
    check_body_range(spreadsheet, &r, &input)?;
    let written = write_values(spreadsheet, &r, &input, option, false)?;
    Ok((written.response(spreadsheet, render), r.sheet))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BatchUpdateInput {
    value_input_option: Option<String>,
    #[serde(default)]
    data: Vec<ValueRangeInput>,
    #[serde(default)]
    include_values_in_response: bool,
    response_value_render_option: Option<String>,
    response_date_time_render_option: Option<String>,
}

/// `POST values:batchUpdate`; returns the response and the tabs written.
pub fn batch_update(
    spreadsheet: &mut Spreadsheet,
    query: &Query,
    body: &[u8],
) -> Result<(Json, Vec<usize>), ApiError> {
    query.allow(&[])?;
    let input: BatchUpdateInput = parse_body(body)?;
    let option = input_option(input.value_input_option.as_deref())?;
    let render = response_render((
        input.response_value_render_option.as_deref(),
        input.response_date_time_render_option.as_deref(),
    ))?;
    let mut responses = Vec::new();
    let mut sheets = Vec::new();
    let (mut rows, mut cols, mut cells) = (0, 0, 0);
    for data in &input.data {
        let range = data
            .range
            .as_deref()
            .ok_or_else(|| ApiError::invalid_argument("Invalid data[].range: must be specified"))?;
        let r = spreadsheet.resolve(range)?;
        let written = write_values(spreadsheet, &r, data, option, false)?;
        rows += written.rows;
        cols += written.cols;
        cells += written.cells;
        if !sheets.contains(&r.sheet) {
            sheets.push(r.sheet);
        }
        responses.push(written.response(
            spreadsheet,
            input.include_values_in_response.then_some(render),
        ));
    }
    let mut out = json!({"spreadsheetId": spreadsheet.id});
    if !responses.is_empty() {
        out["totalUpdatedRows"] = json!(rows);
        out["totalUpdatedColumns"] = json!(cols);
        out["totalUpdatedCells"] = json!(cells);
        out["totalUpdatedSheets"] = json!(sheets.len());
        out["responses"] = json!(responses);
    }
    Ok((out, sheets))
}

/// `POST values/{range}:append`: writes after the last row with values in the
/// range's columns (the "table"), growing the grid as needed.
pub fn append(
    spreadsheet: &mut Spreadsheet,
    range: &str,
    query: &Query,
    body: &[u8],
) -> Result<(Json, usize), ApiError> {
    let mut allowed = WRITE_PARAMETERS.to_vec();
    allowed.push("insertDataOption");
    query.allow(&allowed)?;
    let option = input_option(query.get("valueInputOption"))?;
    let insert_rows = match query.get("insertDataOption") {
        None | Some("OVERWRITE") => false,
        Some("INSERT_ROWS") => true,
        Some(other) => return Err(invalid_enum("insertDataOption", "InsertDataOption", other)),
    };
    let render = updated_data(query)?;
    let input: ValueRangeInput = parse_body(body)?;
    let r = spreadsheet.resolve(range)?;
    check_body_range(spreadsheet, &r, &input)?;
    let sheet = &mut spreadsheet.sheets[r.sheet];
    let width = input
        .values
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(r.end_col - r.start_col);
    let table_cols = (r.start_col, r.start_col + width);
    let last = sheet
        .last_value_row(Some(table_cols))
        .filter(|last| *last >= r.start_row);
    let at = last.map_or(r.start_row, |l| l + 1);
    let table_range = last
        .map(|l| a1::format_range(&sheet.title, r.start_row, l + 1, table_cols.0, table_cols.1));
    let height = if major_dimension(input.major_dimension.as_deref())? == "COLUMNS" {
        input.values.iter().map(Vec::len).max().unwrap_or(0)
    } else {
        input.values.len()
    };
    if insert_rows && at < sheet.row_count {
        sheet.insert_rows(at, height);
    }
    let target = Resolved {
        sheet: r.sheet,
        start_row: at,
        end_row: at + 1,
        start_col: r.start_col,
        end_col: r.start_col + 1,
        open_rows: false,
    };
    let written = write_values(spreadsheet, &target, &input, option, true)?;
    let mut out = json!({
        "spreadsheetId": spreadsheet.id,
        "updates": written.response(spreadsheet, render),
    });
    if let Some(table_range) = table_range {
        out["tableRange"] = json!(table_range);
    }
    Ok((out, r.sheet))
}

fn clear_range(spreadsheet: &mut Spreadsheet, range: &str) -> Result<(String, usize), ApiError> {
    let r = spreadsheet.resolve(range)?;
    let sheet = &mut spreadsheet.sheets[r.sheet];
    let end_row = r.end_row.min(sheet.row_count);
    let end_col = r.end_col.min(sheet.column_count);
    for row in r.start_row..end_row.min(sheet.rows.len()) {
        for col in r.start_col..end_col {
            if sheet.cell(row, col).value != crate::cell::CellValue::Empty {
                sheet.cell_mut(row, col).value = crate::cell::CellValue::Empty;
            }
        }
    }
    sheet.compact();
    let cleared = a1::format_range(
        &sheet.title,
        r.start_row,
        end_row.max(r.start_row + 1),
        r.start_col,
        end_col.max(r.start_col + 1),
    );
    Ok((cleared, r.sheet))
}

/// `POST values/{range}:clear`: values go, formats stay.
pub fn clear(
    spreadsheet: &mut Spreadsheet,
    range: &str,
    query: &Query,
) -> Result<(Json, usize), ApiError> {
    query.allow(&[])?;
    let (cleared, sheet) = clear_range(spreadsheet, range)?;
    Ok((
        json!({"spreadsheetId": spreadsheet.id, "clearedRange": cleared}),
        sheet,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BatchClearInput {
    #[serde(default)]
    ranges: Vec<String>,
}

/// `POST values:batchClear`.
pub fn batch_clear(
    spreadsheet: &mut Spreadsheet,
    query: &Query,
    body: &[u8],
) -> Result<(Json, Vec<usize>), ApiError> {
    query.allow(&[])?;
    let input: BatchClearInput = parse_body(body)?;
    let mut cleared = Vec::new();
    let mut sheets = Vec::new();
    for range in &input.ranges {
        let (text, sheet) = clear_range(spreadsheet, range)?;
        cleared.push(text);
        sheets.push(sheet);
    }
    Ok((
        json!({"spreadsheetId": spreadsheet.id, "clearedRanges": cleared}),
        sheets,
    ))
}
