//! The handler driven by the recorded SQS event in tests/events, against the
//! emulator, configured the way the Lambda is: through its environment names.

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::{Value as Json, json};
use sheet_writer::{handle, writer_from_lookup};
use sheetsync_sheets_emulator::Emulator;
use tokio::time::Instant;

const SPREADSHEET: &str = "1AbCsheetsyncFixture";

fn fixture() -> SqsEvent {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/events/sqs-writer.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn numbers_as_f64(rows: Vec<Vec<Json>>) -> Vec<Vec<Json>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| match v {
                    Json::Number(n) => json!(n.as_f64().unwrap()),
                    other => other,
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn recorded_event_applies_and_reports_the_poison_message_and_its_successor() {
    let emu = Emulator::start().await;
    emu.add_sheet(SPREADSHEET, "Orders");
    emu.set_rows(
        SPREADSHEET,
        "Orders",
        vec![
            vec![
                json!("id"),
                json!("customer"),
                json!("qty"),
                json!("shipped"),
                json!("due"),
            ],
            vec![json!(42), json!("Ada"), json!(2), json!(false)],
        ],
    );
    emu.add_sheet(SPREADSHEET, "Customers");
    emu.set_rows(
        SPREADSHEET,
        "Customers",
        vec![
            vec![json!("id"), json!("customer")],
            vec![json!(7), json!("Ada")],
        ],
    );
    let key_file =
        std::env::temp_dir().join(format!("sheet-writer-key-{}.json", std::process::id()));
    std::fs::write(&key_file, emu.service_account_key()).unwrap();
    let env = [
        (
            "GOOGLE_SERVICE_ACCOUNT_FILE",
            key_file.display().to_string(),
        ),
        ("SHEETS_API_ROOT_URL", emu.root_url()),
    ];
    let writer =
        writer_from_lookup(|name| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
            .await
            .unwrap();
    std::fs::remove_file(&key_file).unwrap();

    let response = handle(&writer, fixture(), Instant::now() + Duration::from_secs(30)).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        vec![
            "0e1b5c2a-6a3e-4a53-9a7e-4d1f5f2c2a12",
            "0e1b5c2a-6a3e-4a53-9a7e-4d1f5f2c2a13"
        ]
    );
    assert_eq!(
        numbers_as_f64(emu.rows(SPREADSHEET, "Orders")),
        numbers_as_f64(vec![
            vec![
                json!("id"),
                json!("customer"),
                json!("qty"),
                json!("shipped"),
                json!("due")
            ],
            vec![json!(42), json!("Ada"), json!(3), json!(false)],
            vec![
                json!(43),
                json!("Grace"),
                json!(1),
                json!(true),
                json!(46357)
            ],
        ])
    );
    assert_eq!(
        emu.developer_metadata(SPREADSHEET, "Orders", "sheetsync.watermark")
            .as_deref(),
        Some("1289")
    );
    assert_eq!(
        numbers_as_f64(emu.rows(SPREADSHEET, "Customers"))[1],
        vec![json!(7.0), json!("Ada Lovelace")]
    );
    // The response is what Lambda's ReportBatchItemFailures expects.
    let wire = serde_json::to_value(&response).unwrap();
    assert_eq!(
        wire["batchItemFailures"][0],
        json!({"itemIdentifier": "0e1b5c2a-6a3e-4a53-9a7e-4d1f5f2c2a12"})
    );
}

#[tokio::test]
async fn missing_key_configuration_is_a_clear_error() {
    let err = writer_from_lookup(|_| None).await.err().unwrap();
    assert!(
        err.to_string().contains("GOOGLE_SERVICE_ACCOUNT_JSON"),
        "{err}"
    );
}

#[tokio::test]
async fn settings_are_checked_and_several_keys_are_taken() {
    let emu = Emulator::start().await;
    let key = emu.service_account_key();
    let env = |pace: &str| {
        let pairs = [
            ("GOOGLE_SERVICE_ACCOUNT_JSON", format!("[{key}, {key}]")),
            ("SHEETS_API_ROOT_URL", emu.root_url()),
            ("SHEETSYNC_WRITER_PACE_PER_MINUTE", pace.to_string()),
            ("SHEETSYNC_WRITER_PACE_BURST", "4".to_string()),
            ("SHEETSYNC_WRITER_MIN_BATCH_MS", "250".to_string()),
        ];
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    };
    let err = writer_from_lookup(env("sixty")).await.err().unwrap();
    assert_eq!(
        err.to_string(),
        "SHEETSYNC_WRITER_PACE_PER_MINUTE=sixty: not a whole number: invalid digit found in string"
    );
    let writer = writer_from_lookup(env("600")).await.unwrap();
    emu.add_sheet(SPREADSHEET, "Orders");
    emu.add_sheet(SPREADSHEET, "Customers");
    let started = Instant::now();
    handle(&writer, fixture(), started + Duration::from_secs(30)).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(emu.rows(SPREADSHEET, "Orders")[0][0], json!("id"));
}

#[test]
fn batch_metrics_use_the_shared_names() {
    let mut outcome = sheetsync_writer::Outcome::default();
    outcome.stats.messages = 4;
    outcome.stats.rows_updated = 2;
    outcome.stats.rows_appended = 1;
    outcome.stats.sheets_requests = 2;
    outcome.stats.failed_messages = 2;
    outcome.stats.max_lag_ms = Some(840);
    let lines = sheet_writer::metrics(&outcome).to_lines(1_700_000_000_000);
    assert_eq!(lines.len(), 1);
    let line: Json = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(line["function"], "sheet-writer");
    assert_eq!(line["BatchSize"], json!(4));
    assert_eq!(line["RowsApplied"], json!(3));
    assert_eq!(line["SheetsRequests"], json!(2));
    assert_eq!(line["SheetsThrottled"], json!(0));
    assert_eq!(line["BatchItemFailures"], json!(2));
    assert_eq!(line["CommitToSheetLagMs"], json!(840));
}
