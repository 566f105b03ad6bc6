//! Compact wire types for the two calls made per batch. They serialise and
//! deserialise to exactly the Sheets API v4 JSON, carrying only the fields
//! sheetsync uses (see `client` for why not the generated types).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Developer metadata key holding the highest outbox `seq` applied to a tab.
pub const WATERMARK_KEY: &str = "sheetsync.watermark";

/// Field mask of the tab read: the spreadsheet's zone and locale, sheet
/// identity, its metadata, each cell's effective value, and the formula of a
/// cell that holds one (a cell without a formula adds nothing to the answer).
pub const READ_FIELDS: &str = "properties(timeZone,locale),sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),\
developerMetadata(metadataId,metadataKey,metadataValue),\
data(startRow,startColumn,rowData(values(effectiveValue,userEnteredValue/formulaValue))))";

/// Field mask of a row read: the rows' cells and formulas, nothing else.
pub const ROW_FIELDS: &str = "sheets(properties(title),data(startRow,startColumn,rowData(values(effectiveValue,userEnteredValue/formulaValue))))";

/// Field mask of the journal as a repair reads it: cells as entered, so a
/// misplaced write is undone with the formula or format the cell had.
pub const JOURNAL_FIELDS: &str = "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),\
data(startRow,startColumn,rowData(values(effectiveValue,userEnteredValue,userEnteredFormat(numberFormat)))))";

/// Field mask of a batchUpdate answer: the journal after the batch.
pub const VERIFY_FIELDS: &str = "updatedSpreadsheet(sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),\
data(startRow,startColumn,rowData(values(effectiveValue)))))";

/// Mask for cells whose format is left as the user set it.
pub const FIELDS_VALUE: &str = "userEnteredValue";
/// Mask for a header cell a schema change names (its note cleared).
pub const FIELDS_VALUE_AND_NOTE: &str = "userEnteredValue,note";
/// Mask for the note on a dropped column's header cell (its name kept).
pub const FIELDS_NOTE: &str = "note";
/// Mask for date and date-time cells, which carry their number format.
pub const FIELDS_VALUE_AND_FORMAT: &str = "userEnteredValue,userEnteredFormat.numberFormat";

// ---- read: spreadsheets.get ----

#[derive(Debug, Deserialize)]
pub struct Spreadsheet {
    #[serde(default)]
    pub properties: SpreadsheetProperties,
    #[serde(default)]
    pub sheets: Vec<Sheet>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpreadsheetProperties {
    /// The IANA zone date-time cells are wall clocks in (`Europe/Berlin`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// How people write numbers and dates in it (`de_DE`).
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sheet {
    pub properties: SheetProperties,
    #[serde(default)]
    pub developer_metadata: Vec<DeveloperMetadata>,
    #[serde(default)]
    pub data: Vec<GridData>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SheetProperties {
    #[serde(default)]
    pub sheet_id: i32,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub grid_properties: GridProperties,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridProperties {
    #[serde(default)]
    pub row_count: usize,
    #[serde(default)]
    pub column_count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<MetadataLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataLocation {
    pub sheet_id: i32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GridData {
    #[serde(default)]
    pub start_row: usize,
    #[serde(default)]
    pub start_column: usize,
    #[serde(default)]
    pub row_data: Vec<ReadRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReadRow {
    #[serde(default, deserialize_with = "exact_cells")]
    pub values: Vec<ReadCell>,
}

/// A row's cells at their exact count: a growing `Vec` keeps room for
/// four, and a key read holds one cell in each of 100,000 rows (51 MB
/// instead of 9 MB, measured with massif).
fn exact_cells<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ReadCell>, D::Error> {
    let mut cells = Vec::<ReadCell>::deserialize(deserializer)?;
    cells.shrink_to_fit();
    Ok(cells)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadCell {
    pub effective_value: Option<ExtendedValue>,
    /// From the tab: only a formula (`formulaValue`), which the writer
    /// leaves alone while it shows the table's value. From the journal:
    /// the cell as entered, written back as it was. `{}` (a mask naming
    /// `formulaValue` over a cell without one) is none.
    #[serde(default, deserialize_with = "value_or_empty")]
    pub user_entered_value: Option<ExtendedValue>,
    /// Boxed: only journal reads ask for it, and every cell of every read
    /// would carry its 48 bytes.
    pub user_entered_format: Option<Box<ReadFormat>>,
}

/// An `ExtendedValue`, `None` for `null` or `{}`.
fn value_or_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ExtendedValue>, D::Error> {
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)? {
        None => Ok(None),
        Some(object) if object.is_empty() => Ok(None),
        Some(object) => serde_json::from_value(serde_json::Value::Object(object))
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadFormat {
    pub number_format: Option<ReadNumberFormat>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
pub struct ReadNumberFormat {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub pattern: String,
}

/// A cell value; `errorValue` (a formula error) is read as no value. A
/// formula is written back only when a misplaced write is repaired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExtendedValue {
    NumberValue(f64),
    StringValue(String),
    BoolValue(bool),
    #[serde(skip_serializing)]
    ErrorValue(serde_json::Value),
    FormulaValue(serde_json::Value),
}

// ---- write: spreadsheets.batchUpdate ----

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdate {
    pub requests: Vec<Request>,
    /// With `response_ranges`: the answer carries those ranges as they are
    /// after the batch (how the writer verifies where its rows landed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub include_spreadsheet_in_response: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_ranges: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub response_include_grid_data: bool,
}

impl BatchUpdate {
    /// Bytes of the body as sent (counted, not buffered).
    pub fn encoded_len(&self) -> usize {
        struct Count(usize);
        impl std::io::Write for Count {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut count = Count(0);
        // Writing into a counter cannot fail, nor can serialising these types.
        let _ = serde_json::to_writer(&mut count, self);
        count.0
    }

    pub fn new(requests: Vec<Request>) -> BatchUpdate {
        BatchUpdate {
            requests,
            include_spreadsheet_in_response: false,
            response_ranges: Vec::new(),
            response_include_grid_data: false,
        }
    }
}

/// The part of a batchUpdate answer the writer reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateResponse {
    pub updated_spreadsheet: Option<Spreadsheet>,
}

/// One entry of `requests`: Google's one-field-set union, as serde's
/// externally tagged enum (`{"updateCells": {...}}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Request {
    UpdateCells(UpdateCells),
    /// An `updateCells` over a range with no rows: clears the masked fields.
    #[serde(rename = "updateCells")]
    ClearCells(ClearCells),
    /// An `updateCells` that also sets (or, absent, clears) cell notes:
    /// the header cells a schema change writes.
    #[serde(rename = "updateCells")]
    UpdateNotedCells(UpdateNotedCells),
    DeleteDimension(DeleteDimension),
    InsertDimension(InsertDimension),
    AppendDimension(AppendDimension),
    AppendCells(AppendCells),
    CopyPaste(CopyPaste),
    AddSheet(AddSheet),
    UpdateSheetProperties(UpdateSheetProperties),
    CreateDeveloperMetadata(CreateDeveloperMetadata),
    UpdateDeveloperMetadata(UpdateDeveloperMetadata),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearCells {
    pub range: GridRange,
    pub fields: &'static str,
}

/// 0-based, end-exclusive; `None` runs to the grid's edge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GridRange {
    pub sheet_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_row_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_row_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column_index: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyPaste {
    pub source: GridRange,
    pub destination: GridRange,
    pub paste_type: &'static str,
    pub paste_orientation: &'static str,
}

/// Header cells with their notes, under `fields` (`FIELDS_VALUE_AND_NOTE`
/// or `FIELDS_NOTE`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateNotedCells {
    pub start: GridCoordinate,
    pub rows: Vec<NotedRow>,
    pub fields: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotedRow {
    pub values: Vec<NotedCell>,
}

/// A cell's value and note; an absent note under a mask naming `note`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotedCell {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_entered_value: Option<ExtendedValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Adds `length` rows or columns at the grid's end.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendDimension {
    pub sheet_id: i32,
    pub dimension: &'static str,
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertDimension {
    pub range: DimensionRange,
    pub inherit_from_before: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddSheet {
    pub properties: NewSheetProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSheetProperties {
    pub sheet_id: i32,
    pub title: String,
    pub hidden: bool,
    pub grid_properties: GridProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSheetProperties {
    pub properties: SheetGrid,
    pub fields: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SheetGrid {
    pub sheet_id: i32,
    pub grid_properties: GridProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCells {
    pub start: GridCoordinate,
    pub rows: Vec<RowData>,
    pub fields: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GridCoordinate {
    pub sheet_id: i32,
    pub row_index: usize,
    pub column_index: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowData {
    pub values: Vec<CellData>,
}

/// An empty `CellData` under a mask naming `userEnteredValue` clears the cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CellData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_entered_value: Option<ExtendedValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_entered_format: Option<CellFormat>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CellFormat {
    pub number_format: NumberFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberFormat {
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    pub pattern: Cow<'static, str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeleteDimension {
    pub range: DimensionRange,
}

/// Rows `start_index .. end_index` (0-based, end exclusive).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DimensionRange {
    pub sheet_id: i32,
    pub dimension: &'static str,
    pub start_index: usize,
    pub end_index: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendCells {
    pub sheet_id: i32,
    pub rows: Vec<RowData>,
    pub fields: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeveloperMetadata {
    pub developer_metadata: DeveloperMetadata,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDeveloperMetadata {
    pub data_filters: Vec<DataFilter>,
    pub developer_metadata: DeveloperMetadata,
    pub fields: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFilter {
    pub developer_metadata_lookup: MetadataLookup,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataLookup {
    pub metadata_id: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_google_grid_json_and_ignores_extra_fields() {
        let body = json!({"spreadsheetId": "S", "sheets": [{
            "properties": {"sheetId": 7, "title": "Orders", "gridProperties": {"rowCount": 1000}},
            "developerMetadata": [{"metadataId": 3, "metadataKey": "sheetsync.watermark",
                "metadataValue": "12", "location": {"sheetId": 7, "locationType": "SHEET"}}],
            "data": [{"rowData": [
                {"values": [{"effectiveValue": {"stringValue": "id"}, "formattedValue": "id"}]},
                {"values": [{"effectiveValue": {"numberValue": 42}}, {}, {"effectiveValue": {"boolValue": true}},
                            {"effectiveValue": {"errorValue": {"type": "DIVIDE_BY_ZERO"}}}]},
                {}
            ]}]
        }]});
        let s: Spreadsheet = serde_json::from_value(body).unwrap();
        let sheet = &s.sheets[0];
        assert_eq!(
            (sheet.properties.sheet_id, sheet.properties.title.as_str()),
            (7, "Orders")
        );
        assert_eq!(
            sheet.developer_metadata[0].metadata_value.as_deref(),
            Some("12")
        );
        let rows = &sheet.data[0].row_data;
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1].values[0].effective_value,
            Some(ExtendedValue::NumberValue(42.0))
        );
        assert_eq!(rows[1].values[1].effective_value, None);
        assert_eq!(
            rows[1].values[2].effective_value,
            Some(ExtendedValue::BoolValue(true))
        );
        assert!(matches!(
            rows[1].values[3].effective_value,
            Some(ExtendedValue::ErrorValue(_))
        ));
        assert!(rows[2].values.is_empty());
    }

    #[test]
    fn a_read_row_holds_room_for_its_cells_only() {
        let row: ReadRow =
            serde_json::from_value(json!({"values": [{"effectiveValue": {"numberValue": 7}}]}))
                .unwrap();
        assert_eq!((row.values.len(), row.values.capacity()), (1, 1));
    }

    #[test]
    fn reads_a_formula_and_nothing_from_an_emptied_user_entered_value() {
        let row: ReadRow = serde_json::from_value(json!({"values": [
            {"effectiveValue": {"numberValue": 6}, "userEnteredValue": {"formulaValue": "=B2*2"}},
            {"effectiveValue": {"numberValue": 3}, "userEnteredValue": {}},
            {"userEnteredValue": null}
        ]}))
        .unwrap();
        assert_eq!(
            row.values[0].user_entered_value,
            Some(ExtendedValue::FormulaValue(json!("=B2*2")))
        );
        assert_eq!(row.values[1].user_entered_value, None);
        assert_eq!(row.values[2].user_entered_value, None);
    }

    #[test]
    fn writes_google_request_json() {
        let req = BatchUpdate::new(vec![
            Request::UpdateCells(UpdateCells {
                start: GridCoordinate {
                    sheet_id: 7,
                    row_index: 4,
                    column_index: 1,
                },
                rows: vec![RowData {
                    values: vec![
                        CellData {
                            user_entered_value: Some(ExtendedValue::NumberValue(3.0)),
                            user_entered_format: None,
                        },
                        CellData::default(),
                    ],
                }],
                fields: FIELDS_VALUE,
            }),
            Request::DeleteDimension(DeleteDimension {
                range: DimensionRange {
                    sheet_id: 7,
                    dimension: "ROWS",
                    start_index: 9,
                    end_index: 10,
                },
            }),
            Request::UpdateDeveloperMetadata(UpdateDeveloperMetadata {
                data_filters: vec![DataFilter {
                    developer_metadata_lookup: MetadataLookup { metadata_id: 3 },
                }],
                developer_metadata: DeveloperMetadata {
                    metadata_id: None,
                    metadata_key: None,
                    metadata_value: Some("13".into()),
                    location: None,
                    visibility: None,
                },
                fields: "metadataValue",
            }),
        ]);
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"requests": [
                {"updateCells": {"start": {"sheetId": 7, "rowIndex": 4, "columnIndex": 1},
                    "rows": [{"values": [{"userEnteredValue": {"numberValue": 3.0}}, {}]}],
                    "fields": "userEnteredValue"}},
                {"deleteDimension": {"range": {"sheetId": 7, "dimension": "ROWS", "startIndex": 9, "endIndex": 10}}},
                {"updateDeveloperMetadata": {"dataFilters": [{"developerMetadataLookup": {"metadataId": 3}}],
                    "developerMetadata": {"metadataValue": "13"}, "fields": "metadataValue"}}
            ]})
        );
    }
}
