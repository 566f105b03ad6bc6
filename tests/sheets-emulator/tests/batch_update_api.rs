//! `spreadsheets.batchUpdate`, `spreadsheets.get` and developer metadata over plain HTTP.

mod common;

use common::Http;
use serde_json::{Value as Json, json};
use sheetsync_sheets_emulator::{Cell, CellValue, ChangeSource, Emulator};

const ID: &str = "1BatchSheet";

async fn setup() -> (Emulator, Http, i32) {
    let emu = Emulator::start().await;
    let sheet_id = emu.add_sheet(ID, "orders");
    emu.set_rows(
        ID,
        "orders",
        vec![
            vec![json!("id"), json!("item"), json!("qty")],
            vec![json!(1), json!("apple"), json!(3)],
            vec![json!(2), json!("pear"), json!(5)],
            vec![json!(3), json!("fig"), json!(1)],
        ],
    );
    let http = Http::new(&emu).await;
    (emu, http, sheet_id)
}

async fn batch(http: &Http, requests: Json) -> common::Reply {
    http.post(
        &format!("/v4/spreadsheets/{ID}:batchUpdate"),
        &json!({"requests": requests}),
    )
    .await
}

fn value(v: Json) -> Json {
    match v {
        Json::Number(_) => json!({"userEnteredValue": {"numberValue": v}}),
        Json::String(_) => json!({"userEnteredValue": {"stringValue": v}}),
        Json::Bool(_) => json!({"userEnteredValue": {"boolValue": v}}),
        _ => json!({}),
    }
}

#[tokio::test]
async fn requests_apply_in_order_with_replies() {
    let (emu, http, sheet_id) = setup().await;
    let reply = batch(&http, json!([
        {"updateCells": {"rows": [{"values": [value(json!(30))]}], "fields": "userEnteredValue",
                         "start": {"sheetId": sheet_id, "rowIndex": 3, "columnIndex": 2}}},
        {"appendCells": {"sheetId": sheet_id, "rows": [{"values": [value(json!(4)), value(json!("kiwi")), value(json!(2))]}],
                         "fields": "userEnteredValue"}},
        // Descending order, as the writer sends deletes.
        {"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 2, "endIndex": 3}}},
        {"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}},
        {"addSheet": {"properties": {"title": "archive"}}},
        {"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "sheetsync.watermark", "metadataValue": "12",
            "location": {"sheetId": sheet_id}, "visibility": "DOCUMENT"}}},
    ])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let archive_id = emu.sheet_id(ID, "archive").unwrap();
    assert_eq!(
        reply.body,
        json!({
            "spreadsheetId": ID,
            "replies": [{}, {}, {}, {},
                {"addSheet": {"properties": {"sheetId": archive_id, "title": "archive", "index": 1, "sheetType": "GRID",
                                             "gridProperties": {"rowCount": 1000, "columnCount": 26}}}},
                {"createDeveloperMetadata": {"developerMetadata": {"metadataId": 1, "metadataKey": "sheetsync.watermark",
                    "metadataValue": "12", "location": {"locationType": "SHEET", "sheetId": sheet_id}, "visibility": "DOCUMENT"}}},
            ],
        })
    );
    assert_eq!(
        emu.rows(ID, "orders"),
        vec![
            vec![json!("id"), json!("item"), json!("qty")],
            vec![json!(3), json!("fig"), json!(30)],
            vec![json!(4), json!("kiwi"), json!(2)],
        ]
    );
    assert_eq!(emu.grid_size(ID, "orders"), Some((998, 26)));
    assert_eq!(
        emu.developer_metadata(ID, "orders", "sheetsync.watermark")
            .as_deref(),
        Some("12")
    );
}

#[tokio::test]
async fn a_failing_request_rolls_back_the_whole_batch() {
    let (emu, http, sheet_id) = setup().await;
    let before = emu.rows(ID, "orders");
    let mut changes = emu.changes();
    let reply = batch(&http, json!([
        {"updateCells": {"rows": [{"values": [value(json!("changed"))]}], "fields": "userEnteredValue",
                         "start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 1}}},
        {"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 0, "endIndex": 1000}}},
    ])).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["error"]["message"],
        "Invalid requests[1].deleteDimension: You can't delete all the rows on the sheet."
    );
    assert_eq!(emu.rows(ID, "orders"), before);
    assert!(
        changes.try_recv().is_err(),
        "a rolled-back batch reports no change"
    );

    let unknown_sheet = batch(
        &http,
        json!([{"appendCells": {"sheetId": 99, "rows": [], "fields": "*"}}]),
    )
    .await;
    assert_eq!(
        unknown_sheet.body["error"]["message"],
        "Invalid requests[0].appendCells: No grid with id: 99"
    );
    let off_grid = batch(&http, json!([{"updateCells": {"rows": [{"values": [value(json!(1))]}], "fields": "userEnteredValue",
        "start": {"sheetId": sheet_id, "rowIndex": 1000, "columnIndex": 0}}}])).await;
    assert_eq!(
        off_grid.body["error"]["message"],
        "Invalid requests[0].updateCells: Range ('orders'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    );
    let two_kinds = batch(&http, json!([{"appendCells": {}, "deleteDimension": {}}])).await;
    assert_eq!(
        two_kinds.body["error"]["message"],
        "Invalid value at 'requests[0]' (oneof), oneof field 'kind' is already set. Cannot set 'deleteDimension'"
    );
    let unknown_kind = batch(&http, json!([{"mergeCells": {}}])).await;
    assert_eq!(unknown_kind.status, 400);
    assert_eq!(emu.rows(ID, "orders"), before);
}

#[tokio::test]
async fn update_cells_masks_fields_and_ranges_clear_the_rest() {
    let (emu, http, sheet_id) = setup().await;
    let date = json!({"userEnteredValue": {"numberValue": 45296}, "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}});
    batch(&http, json!([{"updateCells": {"rows": [{"values": [date]}], "fields": "userEnteredValue,userEnteredFormat.numberFormat",
        "start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 3}}}])).await;
    assert_eq!(
        emu.cell(ID, "orders", 1, 3),
        Some(Cell::date(45296.0, "yyyy-mm-dd"))
    );
    // Only the value is masked: the date format stays when the value is replaced.
    batch(&http, json!([{"updateCells": {"rows": [{"values": [value(json!(45297))]}], "fields": "userEnteredValue",
        "start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 3}}}])).await;
    assert_eq!(
        emu.cell(ID, "orders", 1, 3),
        Some(Cell::date(45297.0, "yyyy-mm-dd"))
    );
    // An empty CellData under the mask clears the value (NULL -> cleared cell).
    batch(
        &http,
        json!([{"updateCells": {"rows": [{"values": [{}]}], "fields": "userEnteredValue",
        "start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 1}}}]),
    )
    .await;
    assert_eq!(
        emu.rows(ID, "orders")[1],
        vec![json!(1), json!(""), json!(3), json!(45297)]
    );
    // With a range, cells the rows do not cover are cleared.
    batch(&http, json!([{"updateCells": {"rows": [{"values": [value(json!("x"))]}], "fields": "userEnteredValue",
        "range": {"sheetId": sheet_id, "startRowIndex": 2, "endRowIndex": 4, "startColumnIndex": 1, "endColumnIndex": 3}}}])).await;
    assert_eq!(
        emu.rows(ID, "orders")[2..],
        [vec![json!(2), json!("x")], vec![json!(3)]]
    );
    let bad_mask = batch(
        &http,
        json!([{"updateCells": {"rows": [], "fields": "effectiveValue",
        "start": {"sheetId": sheet_id}}}]),
    )
    .await;
    assert_eq!(bad_mask.status, 400);
}

#[tokio::test]
async fn dimensions_sorting_and_sheet_properties() {
    let (emu, http, sheet_id) = setup().await;
    let reply = batch(&http, json!([
        {"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}},
        {"repeatCell": {"range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 0, "endColumnIndex": 2},
                        "cell": {"userEnteredValue": {"stringValue": "-"}}, "fields": "userEnteredValue"}},
        {"sortRange": {"range": {"sheetId": sheet_id, "startRowIndex": 2, "endRowIndex": 5},
                       "sortSpecs": [{"dimensionIndex": 2, "sortOrder": "DESCENDING"}]}},
        {"updateSheetProperties": {"properties": {"sheetId": sheet_id, "title": "Orders 2024", "gridProperties": {"frozenRowCount": 1}},
                                   "fields": "title,gridProperties.frozenRowCount"}},
    ])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        emu.rows(ID, "Orders 2024"),
        vec![
            vec![json!("id"), json!("item"), json!("qty")],
            vec![json!("-"), json!("-")],
            vec![json!(2), json!("pear"), json!(5)],
            vec![json!(1), json!("apple"), json!(3)],
            vec![json!(3), json!("fig"), json!(1)],
        ]
    );
    let got = http
        .get(&format!(
            "/v4/spreadsheets/{ID}?fields=sheets(properties(title,gridProperties))"
        ))
        .await;
    assert_eq!(
        got.body,
        json!({"sheets": [{"properties": {"title": "Orders 2024",
        "gridProperties": {"rowCount": 1001, "columnCount": 26, "frozenRowCount": 1}}}]})
    );
    let duplicate = batch(
        &http,
        json!([{"addSheet": {"properties": {"title": "orders 2024"}}}]),
    )
    .await;
    assert_eq!(
        duplicate.body["error"]["message"],
        "Invalid requests[0].addSheet: A sheet with the name \"orders 2024\" already exists. Please enter another name."
    );
}

#[tokio::test]
async fn get_with_grid_data_and_ranges() {
    let (emu, http, sheet_id) = setup().await;
    emu.set_cell(
        ID,
        "orders",
        1,
        3,
        Cell::date_time(45296.5, "yyyy-mm-dd hh:mm"),
    );
    emu.set_developer_metadata(ID, "orders", "sheetsync.watermark", "9");
    emu.add_sheet(ID, "other");
    let got = http
        .get(&format!(
            "/v4/spreadsheets/{ID}?includeGridData=true&ranges=orders!C2:D3"
        ))
        .await;
    assert_eq!(got.status, 200);
    let sheets = got.body["sheets"].as_array().unwrap();
    assert_eq!(sheets.len(), 1, "only tabs named by ranges");
    assert_eq!(sheets[0]["developerMetadata"][0]["metadataValue"], "9");
    assert_eq!(sheets[0]["properties"]["sheetId"], sheet_id);
    assert_eq!(
        sheets[0]["data"],
        json!([{
            "startRow": 1,
            "startColumn": 2,
            "rowData": [
                {"values": [
                    {"userEnteredValue": {"numberValue": 3}, "effectiveValue": {"numberValue": 3}, "formattedValue": "3"},
                    {"userEnteredValue": {"numberValue": 45296.5}, "effectiveValue": {"numberValue": 45296.5},
                     "formattedValue": "2024-01-05 12:00",
                     "userEnteredFormat": {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}},
                     "effectiveFormat": {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}}},
                ]},
                {"values": [{"userEnteredValue": {"numberValue": 5}, "effectiveValue": {"numberValue": 5}, "formattedValue": "5"}]},
            ],
        }])
    );
    // A field mask decides on its own: includeGridData is ignored, as Google does.
    let masked = http
        .get(&format!("/v4/spreadsheets/{ID}?ranges=orders!C2&fields=sheets(data(rowData(values(formattedValue))))"))
        .await;
    assert_eq!(
        masked.body,
        json!({"sheets": [{"data": [{"rowData": [{"values": [{"formattedValue": "3"}]}]}]}]})
    );
    let plain = http.get(&format!("/v4/spreadsheets/{ID}")).await;
    assert_eq!(plain.body["sheets"].as_array().map(Vec::len), Some(2));
    assert!(plain.body["sheets"][0].get("data").is_none());
    assert_eq!(plain.body["properties"]["locale"], "en_US");
}

#[tokio::test]
async fn developer_metadata_update_delete_and_search() {
    let (emu, http, sheet_id) = setup().await;
    let by_key = json!({"developerMetadataLookup": {"metadataKey": "sheetsync.watermark", "metadataLocation": {"sheetId": sheet_id}}});
    let missing = batch(&http, json!([{"updateDeveloperMetadata": {"dataFilters": [by_key], "developerMetadata": {"metadataValue": "5"},
        "fields": "metadataValue"}}])).await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.body["error"]["message"],
        "Invalid requests[0].updateDeveloperMetadata: No developer metadata matches the given data filters."
    );
    let no_visibility = batch(&http, json!([{"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "k", "location": {"sheetId": sheet_id}}}}])).await;
    assert_eq!(no_visibility.status, 400);

    batch(&http, json!([{"createDeveloperMetadata": {"developerMetadata": {"metadataId": 77, "metadataKey": "sheetsync.watermark",
        "metadataValue": "5", "location": {"sheetId": sheet_id}, "visibility": "PROJECT"}}}])).await;
    let updated = batch(&http, json!([{"updateDeveloperMetadata": {"dataFilters": [by_key], "developerMetadata": {"metadataValue": "8"},
        "fields": "metadataValue"}}])).await;
    assert_eq!(
        updated.body["replies"][0]["updateDeveloperMetadata"]["developerMetadata"][0]["metadataValue"],
        "8"
    );
    let search = http
        .post(
            &format!("/v4/spreadsheets/{ID}/developerMetadata:search"),
            &json!({"dataFilters": [by_key]}),
        )
        .await;
    assert_eq!(
        search.body,
        json!({"matchedDeveloperMetadata": [{
            "developerMetadata": {"metadataId": 77, "metadataKey": "sheetsync.watermark", "metadataValue": "8",
                                  "location": {"locationType": "SHEET", "sheetId": sheet_id}, "visibility": "PROJECT"},
            "dataFilters": [by_key],
        }]})
    );
    let one = http
        .get(&format!("/v4/spreadsheets/{ID}/developerMetadata/77"))
        .await;
    assert_eq!(one.body["metadataValue"], "8");
    let deleted = batch(
        &http,
        json!([{"deleteDeveloperMetadata": {"dataFilter": by_key}}]),
    )
    .await;
    assert_eq!(
        deleted.body["replies"][0]["deleteDeveloperMetadata"]["deletedDeveloperMetadata"][0]["metadataId"],
        77
    );
    assert_eq!(
        emu.developer_metadata(ID, "orders", "sheetsync.watermark"),
        None
    );
    let none = http
        .post(
            &format!("/v4/spreadsheets/{ID}/developerMetadata:search"),
            &json!({"dataFilters": [by_key]}),
        )
        .await;
    assert_eq!(none.body, json!({}));
    let gone = http
        .get(&format!("/v4/spreadsheets/{ID}/developerMetadata/77"))
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn writes_publish_changes_per_tab() {
    let (emu, http, sheet_id) = setup().await;
    let mut changes = emu.changes();
    batch(&http, json!([{"appendCells": {"sheetId": sheet_id, "rows": [{"values": [value(json!(9))]}], "fields": "userEnteredValue"}}])).await;
    let change = changes.recv().await.unwrap();
    assert_eq!(
        (
            change.spreadsheet_id.as_str(),
            change.sheet_id,
            change.sheet.as_str(),
            change.source
        ),
        (ID, sheet_id, "orders", ChangeSource::Api)
    );
    emu.enter_text(ID, "orders", 6, 0, "10");
    let seeded = changes.recv().await.unwrap();
    assert_eq!(
        (seeded.source, seeded.revision),
        (ChangeSource::Control, change.revision + 1)
    );
    assert!(changes.try_recv().is_err());
}

#[tokio::test]
async fn create_makes_a_spreadsheet_with_sheet1() {
    let emu = Emulator::start().await;
    let http = Http::new(&emu).await;
    let created = http
        .post("/v4/spreadsheets", &json!({"properties": {"title": "New"}}))
        .await;
    assert_eq!(created.status, 200);
    let id = created.body["spreadsheetId"].as_str().unwrap().to_string();
    assert_eq!(created.body["sheets"][0]["properties"]["title"], "Sheet1");
    assert_eq!(created.body["sheets"][0]["properties"]["sheetId"], 0);
    assert_eq!(emu.tabs(&id), vec!["Sheet1".to_string()]);
}

/// `properties.timeZone`: set by `create`, `updateSpreadsheetProperties`
/// or the seed API, reported by `spreadsheets.get` (also through a field
/// mask), and only IANA names, as Google checks.
#[tokio::test]
async fn the_spreadsheet_time_zone_is_kept_and_reported() {
    let (emu, http, _) = setup().await;
    let zone = |path: String| {
        let http = &http;
        async move {
            let reply = http.get(&path).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body["properties"]["timeZone"].clone()
        }
    };
    let masked = format!("/v4/spreadsheets/{ID}?fields=properties(timeZone)");
    assert_eq!(zone(masked.clone()).await, json!("Etc/GMT"));

    emu.set_time_zone(ID, "Asia/Kolkata");
    assert_eq!(
        zone(format!("/v4/spreadsheets/{ID}")).await,
        json!("Asia/Kolkata")
    );

    let reply = batch(
        &http,
        json!([{"updateSpreadsheetProperties": {
        "properties": {"timeZone": "America/Los_Angeles"}, "fields": "timeZone"}}]),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(zone(masked.clone()).await, json!("America/Los_Angeles"));

    let reply = batch(
        &http,
        json!([{"updateSpreadsheetProperties": {
        "properties": {"timeZone": "Pacific Time"}, "fields": "timeZone"}}]),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(zone(masked).await, json!("America/Los_Angeles"));

    let created = http
        .post(
            "/v4/spreadsheets",
            &json!({"properties": {"title": "t", "timeZone": "Australia/Lord_Howe"}}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        created.body["properties"]["timeZone"],
        json!("Australia/Lord_Howe")
    );
}

/// A formula is stored as written (`userEnteredValue.formulaValue`) and
/// read with what it shows (`effectiveValue`): computed for a formula over
/// constants, `#ERROR!` for one the emulator does not compute, and what a
/// test set for that one.
#[tokio::test]
async fn formulas_are_stored_as_written_and_read_with_what_they_show() {
    let (emu, http, sheet_id) = setup().await;
    let formula = |f: &str| json!({"userEnteredValue": {"formulaValue": f}});
    let reply = batch(&http, json!([
        {"updateCells": {"rows": [{"values": [formula("=2*3"), formula("=A2*2"), formula("=\"a\"&\"b\"")]}],
                         "fields": "userEnteredValue",
                         "start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 1}}},
    ])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    emu.set_cell(
        ID,
        "orders",
        2,
        1,
        Cell::formula("=UPPER(\"pear\")", CellValue::Text("PEAR".into())),
    );
    let read = http
        .get(&format!(
            "/v4/spreadsheets/{ID}?ranges=orders!B2:D3&fields={}",
            "sheets(data(rowData(values(effectiveValue,userEnteredValue,formattedValue))))"
        ))
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body,
        json!({"sheets": [{"data": [{"rowData": [
            {"values": [
                {"userEnteredValue": {"formulaValue": "=2*3"}, "effectiveValue": {"numberValue": 6}, "formattedValue": "6"},
                {"userEnteredValue": {"formulaValue": "=A2*2"}, "effectiveValue": {"errorValue": {"type": "ERROR",
                    "message": "The Sheets API emulator computes formulas over constants only."}}, "formattedValue": "#ERROR!"},
                {"userEnteredValue": {"formulaValue": "=\"a\"&\"b\""}, "effectiveValue": {"stringValue": "ab"}, "formattedValue": "ab"}
            ]},
            {"values": [
                {"userEnteredValue": {"formulaValue": "=UPPER(\"pear\")"}, "effectiveValue": {"stringValue": "PEAR"}, "formattedValue": "PEAR"},
                {"userEnteredValue": {"numberValue": 5}, "effectiveValue": {"numberValue": 5}, "formattedValue": "5"}
            ]}
        ]}]}]})
    );
    // The writer's mask: a formula where there is one, nothing more.
    let read = http
        .get(&format!(
            "/v4/spreadsheets/{ID}?ranges=orders!A2:B2&fields={}",
            "sheets(data(rowData(values(effectiveValue,userEnteredValue/formulaValue))))"
        ))
        .await;
    assert_eq!(
        read.body,
        json!({"sheets": [{"data": [{"rowData": [{"values": [
            {"userEnteredValue": {}, "effectiveValue": {"numberValue": 1}},
            {"userEnteredValue": {"formulaValue": "=2*3"}, "effectiveValue": {"numberValue": 6}}
        ]}]}]}]})
    );
    // values.get: what formulas show, or the formulas themselves.
    let shown = http
        .get(&format!(
            "/v4/spreadsheets/{ID}/values/orders!B2:D3?valueRenderOption=UNFORMATTED_VALUE"
        ))
        .await;
    assert_eq!(
        shown.body["values"],
        json!([[6, "#ERROR!", "ab"], ["PEAR", 5]])
    );
    let typed = http
        .get(&format!(
            "/v4/spreadsheets/{ID}/values/orders!B2:D3?valueRenderOption=FORMULA"
        ))
        .await;
    assert_eq!(
        typed.body["values"],
        json!([["=2*3", "=A2*2", "=\"a\"&\"b\""], ["=UPPER(\"pear\")", 5]])
    );
    // Writing a value over a formula replaces it, and what it showed.
    let reply = batch(
        &http,
        json!([
            {"updateCells": {"rows": [{"values": [value(json!(7))]}], "fields": "userEnteredValue",
                             "start": {"sheetId": sheet_id, "rowIndex": 2, "columnIndex": 1}}},
        ]),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        emu.cell(ID, "orders", 2, 1).unwrap().value,
        CellValue::Number(7.0)
    );
}
