//! The client asks for gzip answers as Google requires, and reads a tab the
//! same whether the server compresses or not.

use serde_json::json;
use sheetsync_sheets::{Endpoints, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::Emulator;

#[tokio::test]
async fn a_tab_reads_the_same_with_and_without_gzip_and_gzip_downloads_less() {
    let emu = Emulator::start().await;
    let mut rows = vec![vec![json!("id"), json!("name")]];
    rows.extend((1..=500).map(|i| vec![json!(i), json!(format!("customer number {i}"))]));
    emu.set_rows("S1", "Customers", rows);
    let key = parse_key(&emu.service_account_key()).unwrap();
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    let client = SheetsClient::new(key, &endpoints).await.unwrap();
    let keys = ["id".to_string()];

    emu.reset_log();
    let gzipped = client.read_tab("S1", "Customers", &keys).await.unwrap();
    let asked = emu.counters();
    assert_eq!(gzipped.rows.len(), 500);
    assert_eq!(gzipped.header, ["id", "name"]);
    assert!(
        asked.response_bytes * 5 < asked.json_bytes,
        "{} bytes on the wire for {} bytes of JSON",
        asked.response_bytes,
        asked.json_bytes
    );

    emu.faults().set_gzip_ignored(true);
    emu.reset_log();
    let plain = client.read_tab("S1", "Customers", &keys).await.unwrap();
    let ignored = emu.counters();
    assert_eq!(plain, gzipped);
    assert_eq!(ignored.response_bytes, ignored.json_bytes);
    assert_eq!(ignored.json_bytes, asked.json_bytes);
}
