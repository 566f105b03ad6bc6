//! updateCells, appendCells, repeatCell, sortRange and the CellData they carry.

// The request family shares the dispatcher's context and imports.
use super::*;

impl Ctx<'_> {
    pub(super) fn update_cells(&mut self, request: UpdateCells) -> Outcome {
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

    pub(super) fn append_cells(&mut self, request: AppendCells) -> Outcome {
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

    pub(super) fn repeat_cell(&mut self, request: RepeatCell) -> Outcome {
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

    pub(super) fn sort_range(&mut self, request: SortRange) -> Outcome {
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
                let ordering = compare_for_sort(
                    sort_value(&a[*column]),
                    sort_value(&b[*column]),
                    *descending,
                );
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
}

/// What a cell sorts by: what it shows (a formula showing an error sorts as text).
fn sort_value(cell: &Cell) -> &CellValue {
    cell.shown().unwrap_or(&cell.value)
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct UpdateCells {
    #[serde(default)]
    rows: Vec<RowData>,
    #[serde(default)]
    fields: String,
    start: Option<GridCoordinate>,
    range: Option<GridRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct AppendCells {
    sheet_id: Option<i32>,
    #[serde(default)]
    rows: Vec<RowData>,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RepeatCell {
    range: GridRange,
    #[serde(default)]
    cell: CellData,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RowData {
    #[serde(default)]
    values: Vec<CellData>,
}

/// `CellData` as written: read-only members (`effectiveValue`, ...) are accepted and ignored, as Google does.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CellData {
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
pub(super) struct ExtendedValueIn {
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
                (_, _, _, Some(f)) => CellValue::Formula(crate::formula::Formula::new(f.clone())),
                _ => CellValue::Empty,
            },
        )
    }
}

pub(super) fn decode_cell(data: &CellData) -> Result<Cell, RequestError> {
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

pub(super) fn decode_rows(rows: &[RowData]) -> Result<Vec<Vec<Cell>>, RequestError> {
    rows.iter()
        .map(|row| row.values.iter().map(decode_cell).collect())
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SortRange {
    range: GridRange,
    #[serde(default)]
    sort_specs: Vec<SortSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SortSpec {
    dimension_index: Option<usize>,
    sort_order: Option<String>,
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CopyPaste {
    source: GridRange,
    destination: GridRange,
    paste_type: Option<String>,
    paste_orientation: Option<String>,
}

impl Ctx<'_> {
    /// `copyPaste`: the source block (values, formats and notes for
    /// PASTE_NORMAL; values only for PASTE_VALUES) is written at the
    /// destination's top-left, repeated to fill a destination that is a
    /// multiple of it, as Google does; within one sheet or across sheets.
    pub(super) fn copy_paste(&mut self, request: CopyPaste) -> Outcome {
        let values_only = match request.paste_type.as_deref().unwrap_or("PASTE_NORMAL") {
            "PASTE_NORMAL" => false,
            "PASTE_VALUES" => true,
            other => {
                return Err(format!(
                    "the Sheets API emulator does not implement pasteType {other}"
                )
                .into());
            }
        };
        if request
            .paste_orientation
            .as_deref()
            .is_some_and(|o| o != "NORMAL")
        {
            return Err("the Sheets API emulator implements pasteOrientation NORMAL only".into());
        }
        let from = self.position(request.source.sheet_id)?;
        let (r0, r1, c0, c1) = request.source.bounds(&self.spreadsheet.sheets[from])?;
        let block: Vec<Vec<Cell>> = (r0..r1)
            .map(|r| {
                (c0..c1)
                    .map(|c| self.spreadsheet.sheets[from].cell(r, c).clone())
                    .collect()
            })
            .collect();
        let to = self.position(request.destination.sheet_id)?;
        let sheet = &mut self.spreadsheet.sheets[to];
        let (d0, d1, e0, e1) = request.destination.bounds(sheet)?;
        let (height, width) = (r1 - r0, c1 - c0);
        let tiles = |span: usize, size: usize| {
            if size > 0 && span >= size && span.is_multiple_of(size) {
                span / size
            } else {
                1
            }
        };
        let (down, across) = (tiles(d1 - d0, height), tiles(e1 - e0, width));
        check_grid(sheet, d0, d0 + height * down, e0, e0 + width * across)?;
        for i in 0..down {
            for j in 0..across {
                for (r, row) in block.iter().enumerate() {
                    for (c, cell) in row.iter().enumerate() {
                        let target = sheet.cell_mut(d0 + i * height + r, e0 + j * width + c);
                        if values_only {
                            target.value = cell.value.clone();
                        } else {
                            *target = cell.clone();
                        }
                    }
                }
            }
        }
        self.touch(to);
        Ok(json!({}))
    }
}
