//! `spreadsheets.values.*` over plain HTTP: exact responses and errors.

mod common;

use common::Http;
use serde_json::json;
use sheetsync_sheets_emulator::{Cell, Emulator};

const ID: &str = "1ValuesSheet";

async fn setup() -> (Emulator, Http) {
    let emu = Emulator::start().await;
    emu.set_rows(
        ID,
        "Sheet1",
        vec![
            vec![
                json!("id"),
                json!("name"),
                json!("active"),
                json!("due"),
                json!("price"),
            ],
            vec![
                json!(1),
                json!("Ann"),
                json!(true),
                json!(null),
                json!(1234.5),
            ],
            vec![json!(2), json!(""), json!(false)],
        ],
    );
    emu.set_cell(ID, "Sheet1", 1, 3, Cell::date(45296.0, "yyyy-mm-dd"));
    emu.add_sheet(ID, "My Tab");
    let http = Http::new(&emu).await;
    (emu, http)
}

#[tokio::test]
async fn get_renders_formatted_unformatted_and_serial_values() {
    let (_emu, http) = setup().await;
    let path = format!("/v4/spreadsheets/{ID}/values/Sheet1!A1:E");
    let formatted = http.get(&path).await;
    assert_eq!(formatted.status, 200);
    assert_eq!(
        formatted.body,
        json!({
            "range": "Sheet1!A1:E1000",
            "majorDimension": "ROWS",
            "values": [
                ["id", "name", "active", "due", "price"],
                ["1", "Ann", "TRUE", "2024-01-05", "1234.5"],
                ["2", "", "FALSE"],
            ],
        })
    );
    let unformatted = http
        .get(&format!(
            "{path}?valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=SERIAL_NUMBER"
        ))
        .await;
    assert_eq!(
        unformatted.body["values"][1],
        json!([1, "Ann", true, 45296, 1234.5])
    );
    let dates_as_text = http
        .get(&format!(
            "{path}?valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption=FORMATTED_STRING"
        ))
        .await;
    assert_eq!(
        dates_as_text.body["values"][1],
        json!([1, "Ann", true, "2024-01-05", 1234.5])
    );
    let columns = http
        .get(&format!("/v4/spreadsheets/{ID}/values/B2:C3?majorDimension=COLUMNS&valueRenderOption=UNFORMATTED_VALUE"))
        .await;
    assert_eq!(
        columns.body,
        json!({
            "range": "Sheet1!B2:C3",
            "majorDimension": "COLUMNS",
            "values": [["Ann"], [true, false]],
        })
    );
    let empty = http
        .get(&format!("/v4/spreadsheets/{ID}/values/'My%20Tab'!A1:B2"))
        .await;
    assert_eq!(
        empty.body,
        json!({"range": "'My Tab'!A1:B2", "majorDimension": "ROWS"})
    );
    let whole = http
        .get(&format!(
            "/v4/spreadsheets/{ID}/values/Sheet1?valueRenderOption=UNFORMATTED_VALUE"
        ))
        .await;
    assert_eq!(whole.body["range"], "Sheet1!A1:Z1000");
    assert_eq!(whole.body["values"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn get_errors_as_google_does() {
    let (_emu, http) = setup().await;
    let bad_range = http
        .get(&format!("/v4/spreadsheets/{ID}/values/Nope!A1"))
        .await;
    assert_eq!(bad_range.status, 400);
    assert_eq!(
        bad_range.body,
        json!({"error": {"code": 400, "message": "Unable to parse range: Nope!A1", "status": "INVALID_ARGUMENT"}})
    );
    let beyond = http
        .get(&format!("/v4/spreadsheets/{ID}/values/Sheet1!A1:AA2"))
        .await;
    assert_eq!(
        beyond.body["error"]["message"],
        "Range ('Sheet1'!A1:AA2) exceeds grid limits. Max rows: 1000, max columns: 26"
    );
    let option = http
        .get(&format!(
            "/v4/spreadsheets/{ID}/values/A1?valueRenderOption=RAW"
        ))
        .await;
    assert_eq!(
        option.body["error"]["message"],
        "Invalid value at 'value_render_option' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), \"RAW\""
    );
    let unknown = http
        .get(&format!("/v4/spreadsheets/{ID}/values/A1?bogus=1"))
        .await;
    assert_eq!(unknown.status, 400);
    let missing = http.get("/v4/spreadsheets/nope/values/A1").await;
    assert_eq!(
        missing.body,
        json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}})
    );
}

#[tokio::test]
async fn update_writes_raw_and_user_entered_values() {
    let (emu, http) = setup().await;
    let raw = http
        .put(
            &format!("/v4/spreadsheets/{ID}/values/Sheet1!B3:D3?valueInputOption=RAW"),
            &json!({"values": [["42", null, 7]]}),
        )
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(
        raw.body,
        json!({
            "spreadsheetId": ID,
            "updatedRange": "Sheet1!B3:D3",
            "updatedRows": 1,
            "updatedColumns": 3,
            "updatedCells": 3,
        })
    );
    // RAW keeps "42" as text; null leaves the cell (false) alone.
    assert_eq!(
        emu.rows(ID, "Sheet1")[2],
        vec![json!(2), json!("42"), json!(false), json!(7)]
    );

    let typed = http
        .put(
            &format!("/v4/spreadsheets/{ID}/values/Sheet1!F1?valueInputOption=USER_ENTERED&includeValuesInResponse=true&responseValueRenderOption=UNFORMATTED_VALUE"),
            &json!({"values": [["42"], ["2024-01-06"], ["'0042"], ["10%"], [""]]}),
        )
        .await;
    assert_eq!(typed.body["updatedRange"], "Sheet1!F1:F5");
    assert_eq!(
        typed.body["updatedData"]["values"],
        json!([[42], [45297], ["0042"], [0.1]])
    );
    assert_eq!(
        emu.cell(ID, "Sheet1", 1, 5).unwrap().formatted().as_deref(),
        Some("2024-01-06")
    );

    let overflow = http
        .put(
            &format!("/v4/spreadsheets/{ID}/values/Sheet1!A1:B1?valueInputOption=RAW"),
            &json!({"values": [[1, 2, 3]]}),
        )
        .await;
    assert_eq!(
        overflow.body["error"]["message"],
        "Requested writing within range [Sheet1!A1:B1], but tried writing to column [C]"
    );
    let no_option = http
        .put(
            &format!("/v4/spreadsheets/{ID}/values/A1"),
            &json!({"values": [[1]]}),
        )
        .await;
    assert_eq!(
        no_option.body["error"]["message"],
        "'valueInputOption' is required but not specified"
    );
    let off_grid = http
        .put(
            &format!("/v4/spreadsheets/{ID}/values/Sheet1!A1000?valueInputOption=RAW"),
            &json!({"values": [[1], [2]]}),
        )
        .await;
    assert_eq!(
        off_grid.body["error"]["message"],
        "Range ('Sheet1'!A1000:A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    );
}

#[tokio::test]
async fn append_writes_after_the_table_and_grows_the_grid() {
    let (emu, http) = setup().await;
    let appended = http
        .post(
            &format!("/v4/spreadsheets/{ID}/values/Sheet1!A1:C:append?valueInputOption=RAW&insertDataOption=INSERT_ROWS"),
            &json!({"values": [[3, "Cy", true], [4, "Di", false]]}),
        )
        .await;
    assert_eq!(appended.status, 200);
    assert_eq!(
        appended.body,
        json!({
            "spreadsheetId": ID,
            "tableRange": "Sheet1!A1:C3",
            "updates": {
                "spreadsheetId": ID,
                "updatedRange": "Sheet1!A4:C5",
                "updatedRows": 2,
                "updatedColumns": 3,
                "updatedCells": 6,
            },
        })
    );
    assert_eq!(
        emu.rows(ID, "Sheet1")[4],
        vec![json!(4), json!("Di"), json!(false)]
    );
    assert_eq!(emu.grid_size(ID, "Sheet1"), Some((1002, 26)));

    // Appending to a full grid adds rows.
    emu.add_sheet(ID, "Tiny");
    http.post(
        &format!("/v4/spreadsheets/{ID}:batchUpdate"),
        &json!({"requests": [{"updateSheetProperties": {
            "properties": {"sheetId": emu.sheet_id(ID, "Tiny").unwrap(), "gridProperties": {"rowCount": 1}},
            "fields": "gridProperties.rowCount"}}]}),
    )
    .await;
    let grown = http
        .post(
            &format!("/v4/spreadsheets/{ID}/values/Tiny!A1:append?valueInputOption=RAW"),
            &json!({"values": [["a"], ["b"]]}),
        )
        .await;
    assert_eq!(grown.body["updates"]["updatedRange"], "Tiny!A1:A2");
    assert_eq!(emu.grid_size(ID, "Tiny"), Some((2, 26)));
}

#[tokio::test]
async fn batch_get_batch_update_clear_and_batch_clear() {
    let (emu, http) = setup().await;
    let batch = http
        .get(&format!("/v4/spreadsheets/{ID}/values:batchGet?ranges=Sheet1!A1:A2&ranges=%27My%20Tab%27!A1&valueRenderOption=UNFORMATTED_VALUE"))
        .await;
    assert_eq!(
        batch.body,
        json!({
            "spreadsheetId": ID,
            "valueRanges": [
                {"range": "Sheet1!A1:A2", "majorDimension": "ROWS", "values": [["id"], [1]]},
                {"range": "'My Tab'!A1", "majorDimension": "ROWS"},
            ],
        })
    );
    let update = http
        .post(
            &format!("/v4/spreadsheets/{ID}/values:batchUpdate"),
            &json!({
                "valueInputOption": "RAW",
                "data": [
                    {"range": "'My Tab'!A1:B1", "values": [["x", "y"]]},
                    {"range": "Sheet1!B2", "values": [["Bo"]]},
                ],
            }),
        )
        .await;
    assert_eq!(update.body["totalUpdatedCells"], 3);
    assert_eq!(update.body["totalUpdatedSheets"], 2);
    assert_eq!(
        update.body["responses"][0]["updatedRange"],
        "'My Tab'!A1:B1"
    );
    assert_eq!(emu.rows(ID, "My Tab"), vec![vec![json!("x"), json!("y")]]);

    // A failing range leaves the whole values.batchUpdate unapplied.
    let failed = http
        .post(&format!("/v4/spreadsheets/{ID}/values:batchUpdate"), &json!({
            "valueInputOption": "RAW",
            "data": [{"range": "'My Tab'!A1", "values": [["changed"]]}, {"range": "Nope!A1", "values": [[1]]}],
        }))
        .await;
    assert_eq!(failed.status, 400);
    assert_eq!(emu.rows(ID, "My Tab"), vec![vec![json!("x"), json!("y")]]);

    let cleared = http
        .post(
            &format!("/v4/spreadsheets/{ID}/values/Sheet1!D2:D:clear"),
            &json!({}),
        )
        .await;
    assert_eq!(
        cleared.body,
        json!({"spreadsheetId": ID, "clearedRange": "Sheet1!D2:D1000"})
    );
    let cell = emu.cell(ID, "Sheet1", 1, 3).unwrap();
    assert_eq!(cell.value, sheetsync_sheets_emulator::CellValue::Empty);
    assert!(cell.number_format().is_some(), "clear keeps formats");
    let batch_cleared = http
        .post(
            &format!("/v4/spreadsheets/{ID}/values:batchClear"),
            &json!({"ranges": ["'My Tab'!A1:B1", "Sheet1!E2"]}),
        )
        .await;
    assert_eq!(
        batch_cleared.body["clearedRanges"],
        json!(["'My Tab'!A1:B1", "Sheet1!E2"])
    );
    assert_eq!(emu.rows(ID, "My Tab"), Vec::<Vec<serde_json::Value>>::new());
}
