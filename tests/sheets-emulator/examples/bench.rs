//! Emulator overhead, so writer benchmarks can tell it apart from their own:
//! `cargo run --release -p sheetsync-sheets-emulator --example bench`.
//! Prints a table of median wall times over the loopback HTTP path.

use std::time::{Duration, Instant};

use google_sheets4::hyper;
use google_sheets4::hyper_util::client::legacy::Client;
use google_sheets4::hyper_util::client::legacy::connect::HttpConnector;
use google_sheets4::hyper_util::rt::TokioExecutor;
use google_sheets4::yup_oauth2::{self, CustomHyperClientBuilder, ServiceAccountAuthenticator};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value as Json, json};
use sheetsync_sheets_emulator::Emulator;

const ID: &str = "bench";
const ROWS: usize = 10_000;

struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    root: String,
    token: String,
}

impl Api {
    async fn call(&self, method: hyper::Method, path: &str, body: Option<&Json>) -> Json {
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.root, path))
            .header("authorization", format!("Bearer {}", self.token))
            .body(Full::new(Bytes::from(
                body.map(Json::to_string).unwrap_or_default(),
            )))
            .expect("request");
        let response = self.client.request(request).await.expect("response");
        assert!(response.status().is_success(), "{}", response.status());
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&bytes).expect("json")
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn time<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    median(samples)
}

fn rows(n: usize) -> Json {
    let rows: Vec<Json> = (0..n)
        .map(|i| {
            json!({"values": [
                {"userEnteredValue": {"numberValue": i}},
                {"userEnteredValue": {"stringValue": format!("item {i}")}},
                {"userEnteredValue": {"numberValue": 45296 + i % 365},
                 "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}},
                {"userEnteredValue": {"boolValue": i % 2 == 0}},
            ]})
        })
        .collect();
    Json::Array(rows)
}

#[tokio::main]
async fn main() {
    let emu = Emulator::start().await;
    let sheet_id = emu.add_sheet(ID, "orders");
    let key = yup_oauth2::parse_service_account_key(emu.service_account_key()).expect("key");
    let auth_client = Client::builder(TokioExecutor::new()).build(
        google_sheets4::hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("roots")
            .https_or_http()
            .enable_http1()
            .build(),
    );
    let auth =
        ServiceAccountAuthenticator::with_client(key, CustomHyperClientBuilder::from(auth_client))
            .build()
            .await
            .expect("authenticator");
    let started = Instant::now();
    let token = auth
        .token(&["https://www.googleapis.com/auth/spreadsheets"])
        .await
        .expect("token")
        .token()
        .expect("token text")
        .to_string();
    let token_time = started.elapsed();
    let api = Api {
        client: Client::builder(TokioExecutor::new()).build_http(),
        root: emu.root_url().trim_end_matches('/').to_string(),
        token,
    };
    let batch = format!("/v4/spreadsheets/{ID}:batchUpdate");

    let append = json!({"requests": [{"appendCells": {"sheetId": sheet_id, "rows": rows(ROWS), "fields": "userEnteredValue,userEnteredFormat.numberFormat"}}]});
    let append_time = time(1, || async {
        api.call(hyper::Method::POST, &batch, Some(&append)).await;
    })
    .await;

    let small_get =
        format!("/v4/spreadsheets/{ID}/values/orders!A1:D1?valueRenderOption=UNFORMATTED_VALUE");
    let small = time(200, || async {
        api.call(hyper::Method::GET, &small_get, None).await;
    })
    .await;

    let keys =
        format!("/v4/spreadsheets/{ID}/values/orders!A:A?valueRenderOption=UNFORMATTED_VALUE");
    let key_read = time(20, || async {
        api.call(hyper::Method::GET, &keys, None).await;
    })
    .await;

    let update = json!({"requests": [{"updateCells": {"rows": rows(ROWS), "fields": "userEnteredValue",
        "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0}}}]});
    let update_time = time(5, || async {
        api.call(hyper::Method::POST, &batch, Some(&update)).await;
    })
    .await;

    let one_cell = json!({"requests": [{"updateCells": {"rows": [{"values": [{"userEnteredValue": {"numberValue": 1}}]}],
        "fields": "userEnteredValue", "start": {"sheetId": sheet_id, "rowIndex": 5, "columnIndex": 2}}}]});
    let one_cell_time = time(50, || async {
        api.call(hyper::Method::POST, &batch, Some(&one_cell)).await;
    })
    .await;

    println!("| operation (tab of {ROWS} rows x 4 columns)            | median      |");
    println!("|-------------------------------------------------------|-------------|");
    println!(
        "| token (JWT-bearer grant, RS256 verify)                | {:>9.2?} |",
        token_time
    );
    println!(
        "| values.get one row                                    | {:>9.2?} |",
        small
    );
    println!(
        "| values.get key column (A:A, {ROWS} values)            | {:>9.2?} |",
        key_read
    );
    println!(
        "| batchUpdate appendCells {ROWS} rows                   | {:>9.2?} |",
        append_time
    );
    println!(
        "| batchUpdate updateCells {ROWS} rows                   | {:>9.2?} |",
        update_time
    );
    println!(
        "| batchUpdate updateCells 1 cell (copies its row)       | {:>9.2?} |",
        one_cell_time
    );
    println!("requests served: {}", emu.request_count());
}
