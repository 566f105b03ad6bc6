//! `/_emulator/...` over HTTP (what the binary, the Node tests and the local stack use),
//! and the binary itself.

mod common;

use std::future::IntoFuture;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Http;
use google_sheets4::hyper;
use google_sheets4::hyper_util::client::legacy::Client;
use google_sheets4::hyper_util::rt::TokioExecutor;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde_json::json;
use sheetsync_sheets_emulator::Emulator;

#[tokio::test]
async fn seed_inspect_and_faults_over_http() {
    let emu = Emulator::start().await;
    let control = Http::anonymous(&emu);
    let seeded = control
        .put(
            "/_emulator/spreadsheets/S1/tabs/My%20Tab",
            &json!({"rows": [["id", "due"], [1, {"value": {"numberValue": 45296},
            "format": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}}]]}),
        )
        .await;
    assert_eq!(seeded.status, 200);
    assert_eq!(seeded.body, json!({"rows": [["id", "due"], [1, 45296]]}));
    let typed = control
        .put(
            "/_emulator/spreadsheets/S1/tabs/My%20Tab/cells/2/1",
            &json!({"text": "2024-01-06"}),
        )
        .await;
    assert_eq!(
        typed.body,
        json!({"value": {"numberValue": 45297}, "format": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}, "formatted": "2024-01-06"})
    );
    let cell = control
        .get("/_emulator/spreadsheets/S1/tabs/My%20Tab/cells/1/1")
        .await;
    assert_eq!(cell.body["formatted"], "2024-01-05");
    control
        .put(
            "/_emulator/spreadsheets/S1/tabs/My%20Tab/metadata/sheetsync.watermark",
            &json!({"value": "3"}),
        )
        .await;
    assert_eq!(
        emu.developer_metadata("S1", "My Tab", "sheetsync.watermark")
            .as_deref(),
        Some("3")
    );
    let tab = control
        .get("/_emulator/spreadsheets/S1/tabs/My%20Tab")
        .await;
    assert_eq!(
        tab.body["developerMetadata"],
        json!({"sheetsync.watermark": "3"})
    );
    assert_eq!(tab.body["cells"][2][1]["formatted"], "2024-01-06");
    assert_eq!(tab.body["rowCount"], 1000);
    let deleted = control
        .send(
            hyper::Method::DELETE,
            "/_emulator/spreadsheets/S1/tabs/My%20Tab/rows/1?count=1",
            None,
        )
        .await;
    assert_eq!(deleted.body, json!({"rows": [["id", "due"], ["", 45297]]}));
    assert_eq!(
        control
            .get("/_emulator/spreadsheets/S1/tabs/Nope")
            .await
            .status,
        404
    );

    let key = control.get("/_emulator/service-account").await;
    assert_eq!(key.body["token_uri"], emu.token_uri());
    assert_eq!(
        key.body["client_email"],
        sheetsync_sheets_emulator::TEST_CLIENT_EMAIL
    );

    let faults = control
        .put(
            "/_emulator/faults",
            &json!({"failNext": {"count": 1, "status": 500}}),
        )
        .await;
    assert_eq!(
        faults.body,
        json!({"failNext": {"count": 1, "status": 500, "afterApply": false}, "latencyMs": 0})
    );
    let api = Http::new(&emu).await;
    let failed = api.get("/v4/spreadsheets/S1").await;
    assert_eq!(failed.status, 500);
    let answered = api.get("/v4/spreadsheets/S1").await;
    assert_eq!(answered.status, 200);
    let failed_bytes = failed.body.to_string().len();
    let answered_bytes = answered.body.to_string().len();
    let log = control.get("/_emulator/requests").await;
    assert_eq!(log.body["counters"]["apiRequests"], 2);
    assert_eq!(log.body["counters"]["serverErrors"], 1);
    assert_eq!(
        log.body["counters"]["responseBytes"],
        failed_bytes + answered_bytes
    );
    assert_eq!(
        log.body["counters"]["largestResponse"],
        failed_bytes.max(answered_bytes)
    );
    assert_eq!(log.body["counters"]["largestRequest"], 0);
    assert_eq!(
        log.body["requests"][1],
        json!({"method": "GET", "path": "/v4/spreadsheets/S1", "query": "", "status": 500,
               "operation": "spreadsheets.get", "responseBytes": failed_bytes,
               "jsonBytes": failed_bytes, "requestBytes": 0})
    );
    let overview = control.get("/_emulator/").await;
    assert_eq!(
        overview.body["spreadsheets"][0]["tabs"][0]["title"],
        "My Tab"
    );

    assert_eq!(
        control.post("/_emulator/reset", &json!({})).await.status,
        200
    );
    assert_eq!(emu.tabs("S1"), Vec::<String>::new());
    assert_eq!(emu.request_count(), 0);
    assert_eq!(
        api.get("/v4/spreadsheets/S1").await.status,
        401,
        "reset revokes tokens"
    );
}

#[tokio::test]
async fn changes_stream_as_server_sent_events() {
    let emu = Emulator::start().await;
    let sheet_id = emu.add_sheet("S2", "orders");
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client
        .get(
            format!("{}_emulator/changes", emu.root_url())
                .parse()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    // The subscription exists once headers arrived; this edit must reach it.
    emu.enter_text("S2", "orders", 0, 0, "hello");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while !text.contains("\n\n") {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("no event before the deadline");
        if let Some(Ok(frame)) = frame
            && let Ok(data) = frame.into_data()
        {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let change: serde_json::Value = serde_json::from_str(data).unwrap();
    assert!(text.starts_with("event: change\n"), "{text}");
    assert_eq!(
        change,
        json!({"revision": 2, "spreadsheetId": "S2", "sheetId": sheet_id, "sheet": "orders", "source": "control"})
    );
}

/// Kills the binary if the test fails before it stops on its own.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[tokio::test]
async fn the_binary_serves_until_interrupted() {
    let mut running = Running(
        Command::new(env!("CARGO_BIN_EXE_sheets-emulator"))
            .args(["--port", "0", "--spreadsheet", "S3", "--sheet", "orders"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut running.0;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let root = loop {
        let line = lines
            .next()
            .expect("binary exited before printing its URL")
            .unwrap();
        if let Some(url) = line.strip_prefix("Sheets API root URL:") {
            break url.trim().to_string();
        }
    };
    assert!(root.starts_with("http://127.0.0.1:"), "{root}");
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client
        .get(format!("{root}_emulator/").parse().unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let overview: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(overview["spreadsheets"][0]["spreadsheetId"], "S3");
    assert_eq!(overview["spreadsheets"][0]["tabs"][0]["title"], "orders");
    assert_eq!(overview["tokenUri"], format!("{root}token"));

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "binary did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn the_router_serves_from_another_listener_with_its_own_token_uri() {
    let emu = Emulator::start().await;
    emu.set_rows("S4", "orders", vec![vec![json!("id")], vec![json!(7)]]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, emu.router()).into_future());

    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client
        .get(format!("{other}_emulator/service-account").parse().unwrap())
        .await
        .unwrap();
    let key_json = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let key: serde_json::Value = serde_json::from_str(&key_json).unwrap();
    assert_eq!(key["token_uri"], format!("{other}token"));

    // The real flow against the other listener: the JWT's audience is that listener's /token.
    let key = google_sheets4::yup_oauth2::parse_service_account_key(&key_json).unwrap();
    let auth_client = Client::builder(TokioExecutor::new()).build(common::connector());
    let auth = google_sheets4::yup_oauth2::ServiceAccountAuthenticator::with_client(
        key,
        google_sheets4::yup_oauth2::CustomHyperClientBuilder::from(auth_client),
    )
    .build()
    .await
    .unwrap();
    let token = auth
        .token(&[common::SCOPE])
        .await
        .unwrap()
        .token()
        .unwrap()
        .to_string();
    let mut api = Http::anonymous(&emu);
    api.base = other.trim_end_matches('/').to_string();
    api.token = Some(token);
    let values = api
        .get("/v4/spreadsheets/S4/values/orders!A2?valueRenderOption=UNFORMATTED_VALUE")
        .await;
    assert_eq!(
        values.body,
        json!({"range": "orders!A2", "majorDimension": "ROWS", "values": [[7]]})
    );
    assert_eq!(
        emu.counters().token_requests,
        1,
        "one state behind both listeners"
    );
    server.abort();
}

/// Tests say what a formula the emulator does not compute shows.
#[tokio::test]
async fn a_formula_cell_is_seeded_with_what_it_shows() {
    let emu = Emulator::start().await;
    let control = Http::anonymous(&emu);
    let cell = json!({"value": {"formulaValue": "=B2*2"}, "effectiveValue": {"numberValue": 6}});
    let put = control
        .put("/_emulator/spreadsheets/S1/tabs/T/cells/1/2", &cell)
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let expected = json!({"value": {"formulaValue": "=B2*2"},
        "effectiveValue": {"numberValue": 6}, "formatted": "6"});
    assert_eq!(put.body, expected);
    let got = control
        .get("/_emulator/spreadsheets/S1/tabs/T/cells/1/2")
        .await;
    assert_eq!(got.body, expected);
    let seeded = control
        .put(
            "/_emulator/spreadsheets/S1/tabs/T",
            &json!({"rows": [["id", "a", "b"], [1, 3, cell], [2, {"value": {"formulaValue": "=1+1"}}]]}),
        )
        .await;
    assert_eq!(
        seeded.body,
        json!({"rows": [["id", "a", "b"], [1, 3, 6], [2, 2]]})
    );
    let refused = control
        .put(
            "/_emulator/spreadsheets/S1/tabs/T/cells/1/2",
            &json!({"value": {"numberValue": 1}, "effectiveValue": {"numberValue": 2}}),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
}
