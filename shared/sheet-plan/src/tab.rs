//! The tab image: what one read of a tab tells the planner (header, each
//! data row's cells and grid row, the watermark, the journal), from one
//! `spreadsheets.get` request.
//!
//! Why `spreadsheets.get` and not `values.batchGet`: the watermark is
//! developer metadata on the tab, which only `spreadsheets.get` returns
//! together with cell values; `values.batchGet` would need a second read,
//! and the batch would cost three requests instead of two.

use serde_json::Value as Json;
use sheetsync_reconcile::{SheetLocale, SheetSettings, SheetZone};

use crate::TabError;
use crate::journal::{Journal, journal_sheet_id, journal_title};
use crate::wire::{ExtendedValue, GridData, ReadRow, Spreadsheet, WATERMARK_KEY};

/// One data row of the tab.
#[derive(Debug, Clone, PartialEq)]
pub struct TabRow {
    /// 0-based grid row index (row 1 of the sheet is 0).
    pub row_index: usize,
    /// The key columns' cells in key order, as JSON (`null` when empty).
    pub key_cells: Vec<Json>,
    /// Every cell of the row as read, in grid column order (trailing empty
    /// cells dropped); what a repair compares.
    pub cells: Vec<Json>,
    /// The row's cells that hold a formula, by grid column (usually none).
    pub formulas: Vec<FormulaCell>,
}

/// A cell where a person typed a formula.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaCell {
    /// Grid column.
    pub column: usize,
    /// The formula as typed (`userEnteredValue.formulaValue`).
    pub formula: String,
    /// What it shows (`effectiveValue`, as [`cell_json`] reads it: `null`
    /// when it shows nothing); `None` when it shows an error.
    pub shows: Option<Json>,
}

impl TabRow {
    /// The formula in grid column `column`, if the cell holds one.
    pub fn formula(&self, column: usize) -> Option<&FormulaCell> {
        self.formulas.iter().find(|f| f.column == column)
    }
}

/// The tab's `sheetsync.watermark` developer metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermark {
    pub metadata_id: i32,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TabImage {
    pub sheet_id: i32,
    pub title: String,
    /// Row 1's names in grid column order (index = grid column); "" for
    /// blank cells. Empty when the tab holds nothing at all.
    pub header: Vec<String>,
    /// Grid rows that hold data below the header, in sheet order.
    pub rows: Vec<TabRow>,
    /// One past the last grid row read (header included).
    pub row_end: usize,
    /// The tab's grid width (0 when unknown).
    pub column_count: usize,
    pub watermark: Option<Watermark>,
    /// Grid columns of the key columns, in key order.
    pub key_index: Vec<usize>,
    /// The tab's journal; `None` until a batch creates it.
    pub journal: Option<Journal>,
    /// The spreadsheet's time zone: date-time cells are wall clocks in it.
    pub zone: SheetZone,
    /// The spreadsheet's locale: how text a person typed in a key cell
    /// reads (as the webhook reads it).
    pub locale: SheetLocale,
}

impl TabImage {
    /// How the tab's cells read: its zone and its locale.
    pub fn settings(&self) -> SheetSettings {
        SheetSettings {
            zone: self.zone,
            locale: self.locale,
        }
    }

    /// The watermark's sequence, 0 when the tab has none.
    pub fn watermark_seq(&self) -> i64 {
        self.watermark.map_or(0, |w| w.seq)
    }

    /// Grid row of the header (row 1 of the sheet when the tab is read whole).
    pub fn header_row(&self) -> usize {
        self.row_end.saturating_sub(1 + self.rows.len())
    }

    /// Grid column of a header name (first match; names compared trimmed).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The data row at grid row `row_index`.
    pub fn row(&self, row_index: usize) -> Option<&TabRow> {
        self.rows
            .binary_search_by_key(&row_index, |r| r.row_index)
            .ok()
            .map(|i| &self.rows[i])
    }

    /// The sheet id the tab's journal has, or gets when a batch creates it.
    pub fn journal_sheet_id(&self) -> i32 {
        self.journal
            .as_ref()
            .map_or_else(|| journal_sheet_id(self.sheet_id), |j| j.sheet_id)
    }

    /// Builds the image from a `spreadsheets.get` answer for `sheet` that
    /// read the whole tab.
    pub fn from_spreadsheet(
        spreadsheet: Spreadsheet,
        spreadsheet_id: &str,
        sheet: &str,
        key_columns: &[String],
    ) -> Result<TabImage, TabError> {
        let (mut image, data) = TabImage::frame(spreadsheet, spreadsheet_id, sheet)?;
        let grid = data.into_iter().next().unwrap_or_default();
        // Row 1 is the header, as the Apps Script reads it.
        let header_row = grid.start_row;
        let mut rows = grid.row_data.into_iter();
        image.header = rows
            .next()
            .map(|first| header_of(grid.start_column, &first))
            .unwrap_or_default();
        image.row_end = header_row + 1;
        // An empty tab gets a header from the planner; a tab with data but
        // no header fails below on its missing key column.
        if image.header.is_empty()
            && !rows.any(|r| r.values.iter().any(|c| c.effective_value.is_some()))
        {
            image.row_end = header_row;
            return Ok(image);
        }
        image.key_index = image.locate_keys(key_columns)?;
        for (offset, row) in rows.enumerate() {
            let row_index = header_row + 1 + offset;
            image.row_end = row_index + 1;
            image.rows.push(tab_row(
                row_index,
                grid.start_column,
                &row,
                &image.key_index,
            ));
        }
        Ok(image)
    }

    /// The image's frame from an answer: the tab's identity, grid size and
    /// watermark, the spreadsheet's zone and locale, and the journal; no
    /// header and no rows yet. Also returns the tab's grid data, one per
    /// range read, in the order the ranges were asked.
    pub(crate) fn frame(
        spreadsheet: Spreadsheet,
        spreadsheet_id: &str,
        sheet: &str,
    ) -> Result<(TabImage, Vec<GridData>), TabError> {
        // Writing date-times in a zone other than the spreadsheet's would
        // shift every one the script reads back: refuse a zone we do not know.
        let zone = match &spreadsheet.properties.time_zone {
            None => SheetZone::UTC,
            Some(name) => name.parse().map_err(|_| TabError::UnknownTimeZone {
                spreadsheet_id: spreadsheet_id.to_string(),
                zone: name.clone(),
            })?,
        };
        let locale = spreadsheet
            .properties
            .locale
            .as_deref()
            .map_or(SheetLocale::UNKNOWN, SheetLocale::from_tag);
        let journal_name = journal_title(sheet);
        let journal = spreadsheet
            .sheets
            .iter()
            .find(|s| s.properties.title == journal_name)
            .map(Journal::from_sheet);
        let tab = spreadsheet
            .sheets
            .into_iter()
            .find(|s| s.properties.title == sheet)
            .ok_or_else(|| TabError::TabNotFound {
                spreadsheet_id: spreadsheet_id.to_string(),
                sheet: sheet.to_string(),
            })?;
        let watermark = tab
            .developer_metadata
            .iter()
            .filter(|m| m.metadata_key.as_deref() == Some(WATERMARK_KEY))
            .filter_map(|m| {
                let seq = m.metadata_value.as_deref()?.trim().parse::<i64>().ok()?;
                Some(Watermark {
                    metadata_id: m.metadata_id?,
                    seq,
                })
            })
            .max_by_key(|w| w.seq);
        let image = TabImage {
            sheet_id: tab.properties.sheet_id,
            title: tab.properties.title,
            header: Vec::new(),
            rows: Vec::new(),
            row_end: 0,
            column_count: tab.properties.grid_properties.column_count,
            watermark,
            key_index: Vec::new(),
            journal,
            zone,
            locale,
        };
        Ok((image, tab.data))
    }

    /// Grid columns of `key_columns`, located in the header by name.
    pub(crate) fn locate_keys(&self, key_columns: &[String]) -> Result<Vec<usize>, TabError> {
        key_columns
            .iter()
            .map(|k| {
                self.column_index(k)
                    .ok_or_else(|| TabError::MissingKeyColumn {
                        sheet: self.title.clone(),
                        column: k.clone(),
                    })
            })
            .collect()
    }
}

/// Row 1's names, trimmed, by grid column (trailing blanks dropped).
pub(crate) fn header_of(start_column: usize, row: &ReadRow) -> Vec<String> {
    let mut header = vec![String::new(); start_column];
    header.extend(row.values.iter().map(|c| match &c.effective_value {
        Some(v) => match cell_json(v) {
            Json::String(s) => s.trim().to_string(),
            other => other.to_string(),
        },
        None => String::new(),
    }));
    while header.last().is_some_and(String::is_empty) {
        header.pop();
    }
    header
}

/// One data row read in full from grid column `start_column`.
pub(crate) fn tab_row(
    row_index: usize,
    start_column: usize,
    row: &ReadRow,
    key_index: &[usize],
) -> TabRow {
    let key_cells = key_index
        .iter()
        .map(|&col| {
            col.checked_sub(start_column)
                .and_then(|i| row.values.get(i))
                .and_then(|c| c.effective_value.as_ref())
                .map_or(Json::Null, cell_json)
        })
        .collect();
    let mut cells = vec![Json::Null; start_column];
    cells.extend(
        row.values
            .iter()
            .map(|c| c.effective_value.as_ref().map_or(Json::Null, cell_json)),
    );
    while cells.last() == Some(&Json::Null) {
        cells.pop();
    }
    let formulas = row
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.user_entered_value {
            Some(ExtendedValue::FormulaValue(Json::String(formula))) => Some(FormulaCell {
                column: start_column + i,
                formula: formula.clone(),
                shows: match &c.effective_value {
                    Some(ExtendedValue::ErrorValue(_)) => None,
                    Some(v) => Some(cell_json(v)),
                    None => Some(Json::Null),
                },
            }),
            _ => None,
        })
        .collect();
    TabRow {
        row_index,
        key_cells,
        cells,
        formulas,
    }
}

/// A read cell as the JSON the sheet side of docs/contract.md uses; whole numbers
/// become integers so `42.0` and the table's `42` are the same key.
pub fn cell_json(value: &ExtendedValue) -> Json {
    match value {
        ExtendedValue::NumberValue(n) => {
            if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                Json::from(*n as i64)
            } else {
                serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number)
            }
        }
        ExtendedValue::StringValue(s) => Json::String(s.clone()),
        ExtendedValue::BoolValue(b) => Json::Bool(*b),
        ExtendedValue::ErrorValue(_) | ExtendedValue::FormulaValue(_) => Json::Null,
    }
}

/// A1 range naming a whole tab: `'Tab name'` with quotes doubled.
pub fn tab_range(sheet: &str) -> String {
    format!("'{}'", sheet.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spreadsheet(v: Json) -> Spreadsheet {
        serde_json::from_value(v).unwrap()
    }

    fn cell(v: Json) -> Json {
        match v {
            Json::Null => json!({}),
            Json::String(s) => json!({"effectiveValue": {"stringValue": s}}),
            Json::Bool(b) => json!({"effectiveValue": {"boolValue": b}}),
            n => json!({"effectiveValue": {"numberValue": n}}),
        }
    }

    fn grid(rows: Vec<Vec<Json>>) -> Json {
        let rows: Vec<Json> = rows
            .into_iter()
            .map(|r| json!({"values": r.into_iter().map(cell).collect::<Vec<_>>()}))
            .collect();
        json!({"sheets": [
            {"properties": {"sheetId": 1, "title": "Other"}},
            {"properties": {"sheetId": 9, "title": "Orders"},
             "developerMetadata": [
                {"metadataId": 5, "metadataKey": "other", "metadataValue": "99"},
                {"metadataId": 6, "metadataKey": "sheetsync.watermark", "metadataValue": "41"}],
             "data": [{"rowData": rows}]}]})
    }

    #[test]
    fn locates_header_keys_rows_and_watermark() {
        let s = spreadsheet(grid(vec![
            vec![json!(" customer "), json!("id"), json!("qty")],
            vec![json!("Ada"), json!(42.0), json!(3)],
            vec![json!("Bob")],
            vec![],
            vec![json!("Eve"), json!("7")],
        ]));
        let tab = TabImage::from_spreadsheet(s, "S", "Orders", &["id".into()]).unwrap();
        assert_eq!(tab.sheet_id, 9);
        assert_eq!(tab.header, vec!["customer", "id", "qty"]);
        assert_eq!(
            tab.watermark,
            Some(Watermark {
                metadata_id: 6,
                seq: 41
            })
        );
        assert_eq!(
            tab.rows,
            vec![
                TabRow {
                    row_index: 1,
                    key_cells: vec![json!(42)],
                    cells: vec![json!("Ada"), json!(42), json!(3)],
                    formulas: vec![],
                },
                TabRow {
                    row_index: 2,
                    key_cells: vec![Json::Null],
                    cells: vec![json!("Bob")],
                    formulas: vec![],
                },
                TabRow {
                    row_index: 3,
                    key_cells: vec![Json::Null],
                    cells: vec![],
                    formulas: vec![],
                },
                TabRow {
                    row_index: 4,
                    key_cells: vec![json!("7")],
                    cells: vec![json!("Eve"), json!("7")],
                    formulas: vec![],
                },
            ]
        );
        assert_eq!(tab.row_end, 5);
    }

    #[test]
    fn empty_tab_and_missing_tab_and_missing_key_column() {
        let s = spreadsheet(grid(vec![]));
        let tab = TabImage::from_spreadsheet(s, "S", "Orders", &["id".into()]).unwrap();
        assert!(tab.header.is_empty() && tab.rows.is_empty());
        assert_eq!((tab.row_end, tab.watermark_seq()), (0, 41));

        let s = spreadsheet(grid(vec![vec![json!("name")]]));
        let err = TabImage::from_spreadsheet(s, "S", "Orders", &["id".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tab 'Orders' has no header column named 'id'"
        );

        let s = spreadsheet(grid(vec![vec![], vec![json!("id")], vec![json!(1)]]));
        let err = TabImage::from_spreadsheet(s, "S", "Orders", &["id".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tab 'Orders' has no header column named 'id'"
        );

        let s = spreadsheet(grid(vec![]));
        let err = TabImage::from_spreadsheet(s, "S", "Nope", &["id".into()]).unwrap_err();
        assert_eq!(err.to_string(), "spreadsheet S has no tab 'Nope'");
    }

    #[test]
    fn reads_the_spreadsheets_time_zone() {
        let mut answer = grid(vec![vec![json!("id")]]);
        let tab = TabImage::from_spreadsheet(spreadsheet(answer.clone()), "S", "Orders", &[]);
        assert_eq!(tab.unwrap().zone, SheetZone::UTC);

        answer["properties"] = json!({"timeZone": "Australia/Lord_Howe"});
        let tab = TabImage::from_spreadsheet(spreadsheet(answer.clone()), "S", "Orders", &[]);
        assert_eq!(tab.unwrap().zone.name(), "Australia/Lord_Howe");

        answer["properties"] = json!({"timeZone": "Moon/Tranquility"});
        let err = TabImage::from_spreadsheet(spreadsheet(answer), "S", "Orders", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "spreadsheet S has a time zone sheetsync does not know: 'Moon/Tranquility'"
        );
    }

    #[test]
    fn reads_formulas_and_what_they_show() {
        let s = spreadsheet(
            json!({"sheets": [{"properties": {"sheetId": 9, "title": "Orders"},
            "data": [{"rowData": [
                {"values": [{"effectiveValue": {"stringValue": "id"}},
                            {"effectiveValue": {"stringValue": "qty"}},
                            {"effectiveValue": {"stringValue": "total"}},
                            {"effectiveValue": {"stringValue": "note"}}]},
                {"values": [{"effectiveValue": {"numberValue": 1}},
                            {"effectiveValue": {"numberValue": 3}},
                            {"userEnteredValue": {"formulaValue": "=B2*2"},
                             "effectiveValue": {"numberValue": 6}},
                            {"userEnteredValue": {"formulaValue": "=1/0"},
                             "effectiveValue": {"errorValue": {"type": "DIVIDE_BY_ZERO"}}},
                            {"userEnteredValue": {"formulaValue": "=\"\""}}]}
            ]}]}]}),
        );
        let tab = TabImage::from_spreadsheet(s, "S", "Orders", &["id".into()]).unwrap();
        let row = &tab.rows[0];
        assert_eq!(row.cells, vec![json!(1), json!(3), json!(6)]);
        assert_eq!(
            row.formulas,
            vec![
                FormulaCell {
                    column: 2,
                    formula: "=B2*2".into(),
                    shows: Some(json!(6)),
                },
                FormulaCell {
                    column: 3,
                    formula: "=1/0".into(),
                    shows: None,
                },
                FormulaCell {
                    column: 4,
                    formula: "=\"\"".into(),
                    shows: Some(Json::Null),
                },
            ]
        );
        assert_eq!(row.formula(2).map(|f| f.formula.as_str()), Some("=B2*2"));
        assert_eq!(row.formula(1), None);
    }

    #[test]
    fn quotes_tab_names() {
        assert_eq!(tab_range("Bob's tab"), "'Bob''s tab'");
        assert_eq!(cell_json(&ExtendedValue::NumberValue(2.5)), json!(2.5));
    }
}
