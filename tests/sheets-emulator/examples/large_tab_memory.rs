//! The emulator's memory for a whole-tab `spreadsheets.get` of a large tab:
//! `cargo run --release -p sheetsync-sheets-emulator --example large_tab_memory [ROWS]`.
//!
//! Seeds a ROWS × 20 tab (100,000 by default; ten-character strings, a
//! number key), then gets the whole tab over loopback HTTP twice — all of
//! `CellData`, and under the writer's field mask — counting the answer's
//! bytes as they arrive (the client holds none of it). Prints the process's
//! resident memory with the tab seeded (VmRSS) and its peak during each get
//! (VmHWM, reset before each through `/proc/self/clear_refs`), from
//! `/proc/self/status`: Linux only.

use std::time::Instant;

use google_sheets4::hyper;
use google_sheets4::hyper_util::client::legacy::Client;
use google_sheets4::hyper_util::client::legacy::connect::HttpConnector;
use google_sheets4::hyper_util::rt::TokioExecutor;
use google_sheets4::yup_oauth2::{self, CustomHyperClientBuilder, ServiceAccountAuthenticator};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sheetsync_sheet_plan::wire::READ_FIELDS;
use sheetsync_sheets_emulator::{Cell, Emulator};

const ID: &str = "large";
const TAB: &str = "big";
const COLUMNS: usize = 20;

/// A line of `/proc/self/status`, in MB.
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Starts a new peak: VmHWM drops to the current VmRSS.
fn reset_peak() {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("cannot reset VmHWM ({e}); peaks include the seeding");
    }
}

async fn token(emu: &Emulator) -> String {
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
    auth.token(&["https://www.googleapis.com/auth/spreadsheets"])
        .await
        .expect("token")
        .token()
        .expect("token text")
        .to_string()
}

/// GETs `path` and answers the body's length, dropping each chunk as it comes.
async fn body_bytes(client: &Client<HttpConnector, Full<Bytes>>, token: &str, url: String) -> u64 {
    let request = hyper::Request::builder()
        .uri(url)
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("response");
    assert!(response.status().is_success(), "{}", response.status());
    let mut body = response.into_body();
    let mut bytes = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body").into_data() {
            bytes += data.len() as u64;
        }
    }
    bytes
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let emu = Emulator::start().await;
    emu.add_sheet(ID, TAB);
    emu.edit_rows(ID, TAB, |tab| {
        tab.push(
            (0..COLUMNS)
                .map(|c| Cell::text(format!("c{c:02}")))
                .collect(),
        );
        for row in 1..=rows {
            let mut cells = vec![Cell::number(row as f64)];
            cells.extend((1..COLUMNS).map(|c| Cell::text(format!("{row:07}-{c:02}"))));
            tab.push(cells);
        }
    });
    let client = Client::builder(TokioExecutor::new()).build_http();
    let token = token(&emu).await;
    let root = emu.root_url();
    let seeded = status_mb("VmRSS:");

    println!(
        "| whole-tab spreadsheets.get, {rows} x {COLUMNS} tab | answer | time | peak RSS (VmHWM) |"
    );
    println!("|---|---|---|---|");
    let asks = [
        (
            "all CellData",
            format!("{root}v4/spreadsheets/{ID}?includeGridData=true"),
        ),
        (
            "writer's field mask",
            format!(
                "{root}v4/spreadsheets/{ID}?fields={}",
                utf8_percent_encode(READ_FIELDS, NON_ALPHANUMERIC)
            ),
        ),
    ];
    for (what, url) in asks {
        reset_peak();
        let started = Instant::now();
        let bytes = body_bytes(&client, &token, url).await;
        let took = started.elapsed();
        println!(
            "| {what} | {:.1} MB | {:.2} s | {:.0} MB |",
            bytes as f64 / 1e6,
            took.as_secs_f64(),
            status_mb("VmHWM:")
        );
    }
    println!("resident with the tab seeded (VmRSS): {seeded:.0} MB");
}
