//! addSheet, deleteSheet, updateSheetProperties, updateSpreadsheetProperties.

// The request family shares the dispatcher's context and imports.
use super::*;

impl Ctx<'_> {
    pub(super) fn add_sheet(&mut self, request: AddSheet) -> Outcome {
        let position = add_sheet(self.spreadsheet, &request.properties)?;
        self.touch(position);
        let sheet = &self.spreadsheet.sheets[position];
        Ok(json!({"addSheet": {"properties": sheet_properties(sheet, position)}}))
    }

    pub(super) fn delete_sheet(&mut self, request: DeleteSheet) -> Outcome {
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

    /// Only `timeZone` is kept; the emulator has no other spreadsheet
    /// property a request could change.
    pub(super) fn update_spreadsheet_properties(
        &mut self,
        request: UpdateSpreadsheetProperties,
    ) -> Outcome {
        let fields: Vec<&str> = request.fields.split(',').map(str::trim).collect();
        if fields.iter().all(|f| f.is_empty()) {
            return Err("At least one field must be updated, but 'fields' is empty.".into());
        }
        if let Some(other) = fields.iter().find(|f| !matches!(**f, "timeZone" | "*")) {
            return Err(
                format!("The emulator cannot update spreadsheet property '{other}'.").into(),
            );
        }
        let zone = request
            .properties
            .time_zone
            .ok_or("properties.timeZone is required when fields names it")?;
        self.spreadsheet.time_zone = crate::time_zone::checked(&zone)?;
        Ok(json!({}))
    }

    pub(super) fn update_sheet_properties(&mut self, request: UpdateSheetProperties) -> Outcome {
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
                "hidden",
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
        if wants("hidden") {
            sheet.hidden = props.hidden.unwrap_or(false);
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
    sheet.hidden = props.hidden.unwrap_or(false);
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct AddSheet {
    #[serde(default)]
    properties: SheetPropertiesInput,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SheetPropertiesInput {
    pub sheet_id: Option<i32>,
    pub title: Option<String>,
    pub index: Option<usize>,
    pub hidden: Option<bool>,
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
pub(super) struct DeleteSheet {
    sheet_id: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct UpdateSpreadsheetProperties {
    properties: SpreadsheetPropertiesInput,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SpreadsheetPropertiesInput {
    #[serde(default)]
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct UpdateSheetProperties {
    properties: SheetPropertiesInput,
    #[serde(default)]
    fields: String,
}
