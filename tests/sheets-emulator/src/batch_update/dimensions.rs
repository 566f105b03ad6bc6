//! deleteDimension, insertDimension, appendDimension.

// The request family shares the dispatcher's context and imports.
use super::*;

impl Ctx<'_> {
    pub(super) fn delete_dimension(&mut self, request: DimensionRequest) -> Outcome {
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

    pub(super) fn insert_dimension(&mut self, request: InsertDimension) -> Outcome {
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
                    .min(sheet.rows.get(source).map_or(0, |row| row.len()))
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

    pub(super) fn append_dimension(&mut self, request: AppendDimension) -> Outcome {
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DimensionRange {
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
pub(super) struct DimensionRequest {
    range: DimensionRange,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct InsertDimension {
    range: DimensionRange,
    #[serde(default)]
    inherit_from_before: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct AppendDimension {
    sheet_id: Option<i32>,
    dimension: Option<String>,
    #[serde(default)]
    length: usize,
}
