//! The production clients, unchanged: google-sheets4 + yup-oauth2 service-account
//! flow with only the root URL and token URI pointing at the emulator.

mod common;

use google_sheets4::Sheets;
use google_sheets4::api::{
    AppendCellsRequest, BatchUpdateSpreadsheetRequest, CellData, CellFormat,
    CreateDeveloperMetadataRequest, DataFilter, DeleteDimensionRequest, DeveloperMetadata,
    DeveloperMetadataLocation, DeveloperMetadataLookup, DimensionRange, ExtendedValue,
    GridCoordinate, NumberFormat, Request, RowData, UpdateCellsRequest,
    UpdateDeveloperMetadataRequest, ValueRange,
};
use google_sheets4::hyper_util::client::legacy::Client;
use google_sheets4::hyper_util::rt::TokioExecutor;
use serde_json::json;
use sheetsync_sheets_emulator::{Cell, Emulator};

const SHEET: &str = "1AbcSpreadsheet";

async fn hub(
    emu: &Emulator,
) -> Sheets<
    google_sheets4::hyper_rustls::HttpsConnector<
        google_sheets4::hyper_util::client::legacy::connect::HttpConnector,
    >,
> {
    let auth = common::authenticator(emu).await;
    let client = Client::builder(TokioExecutor::new()).build(common::connector());
    let mut hub = Sheets::new(client, auth);
    hub.root_url(emu.root_url());
    hub.base_url(emu.root_url());
    hub
}

fn number(n: f64) -> CellData {
    CellData {
        user_entered_value: Some(ExtendedValue {
            number_value: Some(n),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn text(s: &str) -> CellData {
    CellData {
        user_entered_value: Some(ExtendedValue {
            string_value: Some(s.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn date(serial: f64) -> CellData {
    CellData {
        user_entered_value: Some(ExtendedValue {
            number_value: Some(serial),
            ..Default::default()
        }),
        user_entered_format: Some(CellFormat {
            number_format: Some(NumberFormat {
                type_: Some("DATE".into()),
                pattern: Some("yyyy-mm-dd".into()),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn row(values: Vec<CellData>) -> RowData {
    RowData {
        values: Some(values),
    }
}

#[tokio::test]
async fn google_sheets4_reads_and_writes_through_the_real_oauth_flow() {
    let emu = Emulator::start().await;
    let sheet_id = emu.add_sheet(SHEET, "My Orders");
    emu.set_rows(
        SHEET,
        "My Orders",
        vec![
            vec![json!("id"), json!("item"), json!("qty"), json!("due")],
            vec![json!(1), json!("apple"), json!(3)],
            vec![json!(2), json!("pear"), json!(5)],
        ],
    );
    let hub = hub(&emu).await;

    // spreadsheets.get: properties, grid size.
    let (_, spreadsheet) = hub.spreadsheets().get(SHEET).doit().await.unwrap();
    let props = spreadsheet.sheets.unwrap()[0].properties.clone().unwrap();
    assert_eq!(props.title.as_deref(), Some("My Orders"));
    assert_eq!(props.sheet_id, Some(sheet_id));
    assert_eq!(props.grid_properties.unwrap().row_count, Some(1000));

    // values.get of the key column with a quoted tab name.
    let (_, keys) = hub
        .spreadsheets()
        .values_get(SHEET, "'My Orders'!A:A")
        .value_render_option("UNFORMATTED_VALUE")
        .date_time_render_option("SERIAL_NUMBER")
        .doit()
        .await
        .unwrap();
    assert_eq!(keys.range.as_deref(), Some("'My Orders'!A1:A1000"));
    assert_eq!(
        keys.values,
        Some(vec![vec![json!("id")], vec![json!(1)], vec![json!(2)]])
    );

    // One batchUpdate: update a cell, append a row with a date, delete row 2, stamp metadata.
    let requests = vec![
        Request {
            update_cells: Some(UpdateCellsRequest {
                rows: Some(vec![row(vec![number(7.0)])]),
                fields: Some(google_sheets4::FieldMask::new(&["userEnteredValue"])),
                start: Some(GridCoordinate {
                    sheet_id: Some(sheet_id),
                    row_index: Some(2),
                    column_index: Some(2),
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
        Request {
            append_cells: Some(AppendCellsRequest {
                sheet_id: Some(sheet_id),
                rows: Some(vec![row(vec![
                    number(3.0),
                    text("plum"),
                    number(1.0),
                    date(45296.0),
                ])]),
                fields: Some(google_sheets4::FieldMask::new(&[
                    "userEnteredValue",
                    "userEnteredFormat.numberFormat",
                ])),
                ..Default::default()
            }),
            ..Default::default()
        },
        Request {
            delete_dimension: Some(DeleteDimensionRequest {
                range: Some(DimensionRange {
                    sheet_id: Some(sheet_id),
                    dimension: Some("ROWS".into()),
                    start_index: Some(1),
                    end_index: Some(2),
                }),
            }),
            ..Default::default()
        },
        Request {
            create_developer_metadata: Some(CreateDeveloperMetadataRequest {
                developer_metadata: Some(DeveloperMetadata {
                    metadata_key: Some("sheetsync.watermark".into()),
                    metadata_value: Some("41".into()),
                    location: Some(DeveloperMetadataLocation {
                        sheet_id: Some(sheet_id),
                        ..Default::default()
                    }),
                    visibility: Some("DOCUMENT".into()),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        },
    ];
    let (_, response) = hub
        .spreadsheets()
        .batch_update(
            BatchUpdateSpreadsheetRequest {
                requests: Some(requests),
                ..Default::default()
            },
            SHEET,
        )
        .doit()
        .await
        .unwrap();
    let replies = response.replies.unwrap();
    assert_eq!(replies.len(), 4);
    let created = replies[3]
        .create_developer_metadata
        .clone()
        .unwrap()
        .developer_metadata
        .unwrap();
    assert_eq!(created.metadata_value.as_deref(), Some("41"));

    assert_eq!(
        emu.rows(SHEET, "My Orders"),
        vec![
            vec![json!("id"), json!("item"), json!("qty"), json!("due")],
            vec![json!(2), json!("pear"), json!(7)],
            vec![json!(3), json!("plum"), json!(1), json!(45296)],
        ]
    );
    assert_eq!(
        emu.cell(SHEET, "My Orders", 2, 3),
        Some(Cell::date(45296.0, "yyyy-mm-dd"))
    );
    assert_eq!(
        emu.developer_metadata(SHEET, "My Orders", "sheetsync.watermark")
            .as_deref(),
        Some("41")
    );
    assert_eq!(emu.grid_size(SHEET, "My Orders"), Some((999, 26)));

    // updateDeveloperMetadata by key, then the metadata comes back with spreadsheets.get.
    let update = Request {
        update_developer_metadata: Some(UpdateDeveloperMetadataRequest {
            data_filters: Some(vec![DataFilter {
                developer_metadata_lookup: Some(DeveloperMetadataLookup {
                    metadata_key: Some("sheetsync.watermark".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            developer_metadata: Some(DeveloperMetadata {
                metadata_value: Some("57".into()),
                ..Default::default()
            }),
            fields: Some(google_sheets4::FieldMask::new(&["metadataValue"])),
        }),
        ..Default::default()
    };
    hub.spreadsheets()
        .batch_update(
            BatchUpdateSpreadsheetRequest {
                requests: Some(vec![update]),
                ..Default::default()
            },
            SHEET,
        )
        .doit()
        .await
        .unwrap();
    let (_, spreadsheet) = hub
        .spreadsheets()
        .get(SHEET)
        .add_ranges("'My Orders'!A1:D")
        .include_grid_data(true)
        .doit()
        .await
        .unwrap();
    let tab = &spreadsheet.sheets.unwrap()[0];
    let metadata = tab.developer_metadata.clone().unwrap();
    assert_eq!(metadata[0].metadata_value.as_deref(), Some("57"));
    let data = tab.data.clone().unwrap();
    let rows = data[0].row_data.clone().unwrap();
    let due = &rows[2].values.as_ref().unwrap()[3];
    assert_eq!(due.formatted_value.as_deref(), Some("2024-01-05"));
    assert_eq!(
        due.effective_value.as_ref().unwrap().number_value,
        Some(45296.0)
    );

    // values.update with USER_ENTERED parses like the UI.
    let (_, updated) = hub
        .spreadsheets()
        .values_update(
            ValueRange {
                values: Some(vec![vec![json!("TRUE"), json!("2024-02-01"), json!("'7")]]),
                ..Default::default()
            },
            SHEET,
            "'My Orders'!B5:D5",
        )
        .value_input_option("USER_ENTERED")
        .doit()
        .await
        .unwrap();
    assert_eq!(updated.updated_cells, Some(3));
    assert_eq!(
        emu.rows(SHEET, "My Orders")[4],
        vec![json!(""), json!(true), json!(45323), json!("7")]
    );

    // Every call carried a bearer token the emulator issued (no 401s). yup-oauth2
    // fetched one token per scope set: google-sheets4 asks drive.readonly for
    // reads and spreadsheets for writes.
    let counters = emu.counters();
    assert_eq!(counters.token_requests, 2);
    assert_eq!(counters.api_requests, 6);
    assert_eq!(counters.succeeded, 6);
}

#[tokio::test]
async fn google_sheets4_surfaces_google_errors() {
    let emu = Emulator::start().await;
    emu.add_sheet(SHEET, "Sheet1");
    let hub = hub(&emu).await;
    let err = hub
        .spreadsheets()
        .values_get(SHEET, "Nope!A1")
        .doit()
        .await
        .unwrap_err();
    match err {
        google_sheets4::Error::BadRequest(body) => assert_eq!(
            body,
            json!({"error": {"code": 400, "message": "Unable to parse range: Nope!A1", "status": "INVALID_ARGUMENT"}})
        ),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    let err = hub.spreadsheets().get("missing").doit().await.unwrap_err();
    match err {
        google_sheets4::Error::BadRequest(body) => assert_eq!(body["error"]["status"], "NOT_FOUND"),
        other => panic!("expected BadRequest, got {other:?}"),
    }
}
