//! Bearer tokens, the token endpoint's refusals, fault injection and the request log.

mod common;

use std::time::{Duration, Instant};

use common::Http;
use serde_json::json;
use sheetsync_sheets_emulator::{Emulator, GoogleQuotas, LoggedRequest, PayloadLimit};

const ID: &str = "1FaultSheet";

async fn setup() -> (Emulator, Http) {
    let emu = Emulator::start().await;
    emu.set_rows(ID, "Sheet1", vec![vec![json!("a")]]);
    let http = Http::new(&emu).await;
    emu.reset_log();
    (emu, http)
}

#[tokio::test]
async fn api_calls_need_a_token_the_emulator_issued() {
    let (emu, http) = setup().await;
    let anonymous = Http::anonymous(&emu)
        .get(&format!("/v4/spreadsheets/{ID}"))
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.body,
        json!({"error": {"code": 401, "status": "UNAUTHENTICATED",
        "message": "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."}})
    );
    assert!(anonymous.headers.contains_key("www-authenticate"));

    let mut forged = Http::anonymous(&emu);
    forged.token = Some("ya29.forged".into());
    let refused = forged.get(&format!("/v4/spreadsheets/{ID}")).await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Request had invalid authentication credentials.")
    );

    assert_eq!(
        http.get(&format!("/v4/spreadsheets/{ID}")).await.status,
        200
    );
    emu.revoke_tokens();
    assert_eq!(
        http.get(&format!("/v4/spreadsheets/{ID}")).await.status,
        401
    );
}

#[tokio::test]
async fn read_only_tokens_cannot_write() {
    let (emu, _) = setup().await;
    let mut reader = Http::anonymous(&emu);
    reader.token = Some(
        common::token(
            &emu,
            "https://www.googleapis.com/auth/spreadsheets.readonly",
        )
        .await,
    );
    assert_eq!(
        reader
            .get(&format!("/v4/spreadsheets/{ID}/values/A1"))
            .await
            .status,
        200
    );
    let denied = reader
        .put(
            &format!("/v4/spreadsheets/{ID}/values/A1?valueInputOption=RAW"),
            &json!({"values": [[1]]}),
        )
        .await;
    assert_eq!(
        denied.body,
        json!({"error": {"code": 403, "message": "Request had insufficient authentication scopes.", "status": "PERMISSION_DENIED"}})
    );
}

#[tokio::test]
async fn token_endpoint_refuses_unsigned_and_foreign_grants() {
    let (emu, _) = setup().await;
    let http = Http::anonymous(&emu);
    let forged = http
        .post_form("/token", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
        .await;
    assert_eq!(forged.status, 400);
    assert_eq!(
        forged.body,
        json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    );
    let wrong_grant = http.post_form("/token", "grant_type=password").await;
    assert_eq!(
        wrong_grant.body,
        json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type: password"})
    );
    let counters = emu.counters();
    assert_eq!((counters.token_requests, counters.api_requests), (2, 0));
}

#[tokio::test]
async fn quota_answers_429_with_retry_after() {
    let (emu, http) = setup().await;
    emu.faults().set_quota(2, Duration::from_secs(60));
    let path = format!("/v4/spreadsheets/{ID}/values/A1");
    assert_eq!(http.get(&path).await.status, 200);
    assert_eq!(http.get(&path).await.status, 200);
    let limited = http.get(&path).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(limited.body["error"]["code"], 429);
    assert_eq!(
        limited.body["error"]["message"],
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
    );
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    emu.faults().clear_quota();
    assert_eq!(http.get(&path).await.status, 200);
    let counters = emu.counters();
    assert_eq!(
        (
            counters.api_requests,
            counters.rate_limited,
            counters.succeeded
        ),
        (4, 1, 3)
    );
}

#[tokio::test]
async fn google_quotas_count_reads_and_writes_apart_per_user() {
    let (emu, http) = setup().await;
    emu.faults().set_google_quotas(Some(GoogleQuotas {
        read_per_user: 2,
        read_per_project: 300,
        write_per_user: 1,
        write_per_project: 300,
    }));
    let read = format!("/v4/spreadsheets/{ID}/values/A1");
    let write = format!("/v4/spreadsheets/{ID}:batchUpdate");
    let body = json!({"requests": []});
    assert_eq!(http.get(&read).await.status, 200);
    assert_eq!(http.get(&read).await.status, 200);
    let limited = http.get(&read).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.body["error"]["message"],
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
    );
    assert!(limited.headers.contains_key("retry-after"));
    // Writes have their own minute.
    assert_eq!(http.post(&write, &body).await.status, 200);
    let limited = http.post(&write, &body).await;
    assert_eq!(limited.status, 429);
    assert!(
        limited.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'Write requests per minute per user'"),
        "{}",
        limited.body
    );
    emu.faults().set_google_quotas(None);
    assert_eq!(http.get(&read).await.status, 200);
    assert_eq!(emu.counters().rate_limited, 2);
}

#[tokio::test]
async fn bodies_over_the_payload_limit_are_counted_or_refused() {
    let (emu, http) = setup().await;
    let write = format!("/v4/spreadsheets/{ID}:batchUpdate");
    let small = json!({"requests": []});
    let large = json!({"requests": [], "responseRanges": ["x".repeat(200)]});
    emu.faults().set_payload_limit(Some(PayloadLimit {
        bytes: 100,
        refuse: false,
    }));
    assert_eq!(http.post(&write, &small).await.status, 200);
    let counted = http.post(&write, &large).await;
    assert_eq!(counted.status, 200, "{}", counted.body);
    assert_eq!(emu.counters().oversized, 1);

    emu.faults().set_payload_limit(Some(PayloadLimit {
        bytes: 100,
        refuse: true,
    }));
    let refused = http.post(&write, &large).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with(
                "exceeds the configured limit of 100 bytes (Google recommends at most 2 MB)."
            ),
        "{}",
        refused.body
    );
    assert_eq!(emu.counters().oversized, 2);
    assert_eq!(http.post(&write, &small).await.status, 200);
}

#[tokio::test]
async fn server_errors_before_and_after_applying() {
    let (emu, http) = setup().await;
    emu.faults().fail_next(2, 503);
    let path = format!("/v4/spreadsheets/{ID}/values/B1?valueInputOption=RAW");
    let first = http.put(&path, &json!({"values": [[1]]})).await;
    assert_eq!(
        first.body,
        json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})
    );
    assert_eq!(http.put(&path, &json!({"values": [[2]]})).await.status, 503);
    assert_eq!(
        emu.rows(ID, "Sheet1"),
        vec![vec![json!("a")]],
        "failed before applying"
    );
    assert_eq!(http.put(&path, &json!({"values": [[3]]})).await.status, 200);
    assert_eq!(emu.rows(ID, "Sheet1"), vec![vec![json!("a"), json!(3)]]);

    emu.faults().fail_next_after_apply(1, 500);
    let lost = http.put(&path, &json!({"values": [[4]]})).await;
    assert_eq!(lost.body["error"]["status"], "INTERNAL");
    assert_eq!(
        emu.rows(ID, "Sheet1"),
        vec![vec![json!("a"), json!(4)]],
        "applied, answer lost"
    );
    assert_eq!(
        emu.faults().config(),
        sheetsync_sheets_emulator::FaultConfig::default()
    );
}

#[tokio::test]
async fn latency_delays_every_call() {
    let (emu, http) = setup().await;
    emu.faults().set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(
        http.get(&format!("/v4/spreadsheets/{ID}")).await.status,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn the_log_records_method_path_query_status_and_operation() {
    let (emu, http) = setup().await;
    let batch = json!({"requests": []});
    let replies = [
        http.get(&format!(
            "/v4/spreadsheets/{ID}/values/'Sheet1'!A1?valueRenderOption=UNFORMATTED_VALUE"
        ))
        .await,
        http.post(&format!("/v4/spreadsheets/{ID}:batchUpdate"), &batch)
            .await,
        http.get("/v4/elsewhere").await,
    ];
    // What the client downloaded, byte for byte (answers are compact JSON).
    let sizes: Vec<u64> = replies
        .iter()
        .map(|r| serde_json::to_vec(&r.body).unwrap().len() as u64)
        .collect();
    assert!(sizes.iter().all(|&n| n > 0));
    let sent = serde_json::to_vec(&batch).unwrap().len() as u64;
    assert_eq!(
        emu.requests(),
        vec![
            LoggedRequest {
                method: "GET".into(),
                path: format!("/v4/spreadsheets/{ID}/values/'Sheet1'!A1"),
                query: "valueRenderOption=UNFORMATTED_VALUE".into(),
                status: 200,
                operation: "spreadsheets.values.get".into(),
                response_bytes: sizes[0],
                json_bytes: sizes[0],
                request_bytes: 0,
            },
            LoggedRequest {
                method: "POST".into(),
                path: format!("/v4/spreadsheets/{ID}:batchUpdate"),
                query: String::new(),
                status: 200,
                operation: "spreadsheets.batchUpdate".into(),
                response_bytes: sizes[1],
                json_bytes: sizes[1],
                request_bytes: sent,
            },
            LoggedRequest {
                method: "GET".into(),
                path: "/v4/elsewhere".into(),
                query: String::new(),
                status: 404,
                operation: "unknown".into(),
                response_bytes: sizes[2],
                json_bytes: sizes[2],
                request_bytes: 0,
            },
        ]
    );
    let counters = emu.counters();
    assert_eq!(counters.response_bytes, sizes.iter().sum::<u64>());
    assert_eq!(counters.largest_response, *sizes.iter().max().unwrap());
    assert_eq!(counters.json_bytes, counters.response_bytes);
    assert_eq!(counters.largest_request, sent);
    assert_eq!(emu.request_count(), 3);
    assert_eq!(
        emu.counters().by_operation.get("spreadsheets.batchUpdate"),
        Some(&1)
    );
    emu.reset_log();
    assert_eq!((emu.request_count(), emu.requests().len()), (0, 0));
}

/// Google gzips an answer only when `Accept-Encoding` and `User-Agent`
/// both name gzip; `gzipIgnored` plays a server that never does.
#[tokio::test]
async fn answers_are_gzipped_only_when_asked_as_google_requires() {
    use std::io::Read;
    let (emu, http) = setup().await;
    let path = format!("/v4/spreadsheets/{ID}/values/Sheet1!A1");
    let (status, headers, plain) = http.get_raw(&path, &[]).await;
    assert_eq!((status, headers.get("content-encoding")), (200, None));
    let plain_json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(plain_json["values"], json!([["a"]]));

    let (_, headers, _) = http.get_raw(&path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(
        headers.get("content-encoding"),
        None,
        "the user agent must say gzip too"
    );

    let asking = [
        ("accept-encoding", "gzip, deflate"),
        ("user-agent", "sheetsync (gzip)"),
    ];
    let (status, headers, gzipped) = http.get_raw(&path, &asking).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-encoding").unwrap(), "gzip");
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated, plain.to_vec());

    emu.faults().set_gzip_ignored(true);
    let (_, headers, ignored) = http.get_raw(&path, &asking).await;
    assert_eq!(
        (headers.get("content-encoding"), ignored),
        (None, plain.clone())
    );
    assert_eq!(
        serde_json::to_value(emu.faults().config()).unwrap(),
        json!({"latencyMs": 0, "gzipIgnored": true})
    );

    let logged: Vec<(u64, u64)> = emu
        .requests()
        .iter()
        .map(|r| (r.response_bytes, r.json_bytes))
        .collect();
    let n = plain.len() as u64;
    assert_eq!(
        logged,
        vec![(n, n), (n, n), (gzipped.len() as u64, n), (n, n)]
    );
    let counters = emu.counters();
    assert_eq!(counters.json_bytes, 4 * n);
    assert_eq!(counters.response_bytes, 3 * n + gzipped.len() as u64);
}
