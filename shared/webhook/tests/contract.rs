//! The shared contract fixtures (tests/contract/*.json): each request, sent
//! as the script sent it, gets exactly the recorded response. The Apps
//! Script tests check the same files from the other side.

mod common;

use std::path::PathBuf;

use serde_json::{Value as Json, json};
use sheetsync_webhook::signature::{Secret, sign};
use sheetsync_webhook::{WebhookRequest, WebhookResponse};

use common::{Env, setup_with, workspace_root};

fn contract_dir() -> PathBuf {
    workspace_root().join("tests/contract")
}

fn load(name: &str) -> Json {
    let path = contract_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn request_of(case: &Json) -> WebhookRequest {
    let request = &case["request"];
    let headers = request["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    WebhookRequest {
        method: "POST".into(),
        path: request["path"].as_str().unwrap_or("/sync_postgres").into(),
        headers,
        body: request["raw_body"].as_str().unwrap().as_bytes().to_vec(),
    }
}

async fn env_for(case: &Json) -> Env {
    let max_body = case["config"]["max_body_bytes"].as_u64();
    let env = setup_with(sheetsync_reconcile::ConflictPolicy::Latest, |mut config| {
        if let Some(limit) = max_body {
            config.max_body_bytes = limit as usize;
        }
        config
    })
    .await;
    assert_eq!(case["now"], json!(common::NOW), "{}", case["name"]);
    for sql in case["given"].as_array().into_iter().flatten() {
        env.client
            .batch_execute(sql.as_str().unwrap())
            .await
            .unwrap();
    }
    env
}

/// Errors are compared by status and code (the message is free text).
fn assert_response(case: &Json, got: &WebhookResponse) {
    let name = &case["name"];
    let expected = &case["response"];
    assert!(!expected.is_null(), "{name}: the fixture has no response");
    assert_eq!(
        json!(got.status),
        expected["status"],
        "{name}: {}",
        got.body()
    );
    if expected["body"].get("error").is_some() {
        assert_eq!(
            got.body()["error"]["code"],
            expected["body"]["error"]["code"],
            "{name}"
        );
        assert!(got.body()["error"]["message"].is_string(), "{name}");
    } else {
        assert_eq!(&got.body(), &expected["body"], "{name}");
    }
}

async fn run_case(name: &str) -> Env {
    let case = load(name);
    let env = env_for(&case).await;
    let got = env.webhook.handle(request_of(&case)).await;
    assert_response(&case, &got);
    env
}

#[tokio::test]
async fn edit_single_cell() {
    let env = run_case("edit-single-cell").await;
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace Hopper", 6, true, null])
    );
    assert_eq!(env.outbox().await, Vec::<Json>::new());
}

#[tokio::test]
async fn edit_paste_3x4() {
    let case = load("edit-paste-3x4");
    let env = run_case("edit-paste-3x4").await;
    let rows = case["request"]["body"]["rows"].as_array().unwrap();
    for row in rows {
        let values = &row["values"];
        let id = values[0].as_i64().unwrap();
        let due = match &values[4] {
            Json::String(s) if s.is_empty() => Json::Null,
            other => other.clone(),
        };
        assert_eq!(
            env.row(id).await.unwrap(),
            json!([id, values[1], values[2], values[3], due]),
            "row {id}"
        );
    }
}

#[tokio::test]
async fn insert_row() {
    let env = run_case("insert-row").await;
    assert_eq!(env.table().await.len(), 6);
    assert!(env.row(46).await.is_some());
}

#[tokio::test]
async fn remove_row() {
    let env = run_case("remove-row").await;
    assert_eq!(env.row(43).await, None);
    assert_eq!(env.table().await.len(), 4);
}

#[tokio::test]
async fn snapshot() {
    let env = run_case("snapshot").await;
    assert_eq!(
        env.row(46).await.unwrap(),
        json!([46, "Zoë Ada", 4, false, "2026-12-24"])
    );
    assert_eq!(env.table().await.len(), 6);
}

/// Three requests of one "Sync now", replayed in order on one database.
#[tokio::test]
async fn snapshot_in_parts() {
    let first = load("snapshot-partial-1");
    let env = env_for(&first).await;
    for name in [
        "snapshot-partial-1",
        "snapshot-partial-2",
        "snapshot-partial-keys",
    ] {
        let case = load(name);
        let got = env.webhook.handle(request_of(&case)).await;
        assert_response(&case, &got);
    }
}

#[tokio::test]
async fn error_cases() {
    for name in [
        "error-bad-signature",
        "error-signed-with-master",
        "error-stale-timestamp",
        "error-malformed-json",
        "error-unknown-sheet",
        "error-unknown-key-column",
        "error-too-large",
    ] {
        let env = run_case(name).await;
        assert_eq!(
            env.count("SELECT count(*) FROM sheetsync.processed_events")
                .await,
            0,
            "{name}"
        );
        assert_eq!(env.outbox().await, Vec::<Json>::new(), "{name}");
    }
}

/// Every fixture file is covered by a test above.
#[test]
fn every_fixture_is_replayed() {
    let mut names: Vec<String> = std::fs::read_dir(contract_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .filter(|n| n != "signature")
        .collect();
    names.sort();
    let covered = [
        "edit-paste-3x4",
        "edit-single-cell",
        "error-bad-signature",
        "error-malformed-json",
        "error-signed-with-master",
        "error-stale-timestamp",
        "error-too-large",
        "error-unknown-key-column",
        "error-unknown-sheet",
        "insert-row",
        "remove-row",
        "snapshot",
        "snapshot-partial-1",
        "snapshot-partial-2",
        "snapshot-partial-keys",
    ];
    let extra: Vec<&String> = names
        .iter()
        .filter(|n| !covered.contains(&n.as_str()) && !n.starts_with("webhook-"))
        .collect();
    assert!(extra.is_empty(), "fixtures without a test: {extra:?}");
}

/// The stand-alone HMAC test vector, computed with openssl by the fixture's
/// author.
#[test]
fn signature_test_vector() {
    let vector = load("signature");
    let secret = Secret::new(vector["secret"].as_str().unwrap());
    let timestamp = vector["timestamp"].as_str().unwrap();
    let body = vector["body"].as_str().unwrap();
    assert_eq!(
        sign(&secret, timestamp, body.as_bytes()),
        vector["signature"].as_str().unwrap()
    );
    sheetsync_webhook::signature::verify(
        &secret,
        Some(timestamp),
        vector["signature"].as_str(),
        body.as_bytes(),
        timestamp.parse().unwrap(),
        300,
    )
    .unwrap();
}

/// The key derivation vector beside it: the key `sheetsync key` prints for
/// the fixtures' spreadsheet, which signed every accepted fixture.
#[test]
fn key_derivation_test_vector() {
    let vector = &load("signature")["key_derivation"];
    let master = Secret::new(vector["master"].as_str().unwrap());
    let spreadsheet = vector["spreadsheet_id"].as_str().unwrap();
    let key = sheetsync_webhook::spreadsheet_key(&master, spreadsheet);
    assert_eq!(key.reveal(), vector["key"].as_str().unwrap());
    assert_eq!(
        vector["message"].as_str().unwrap(),
        format!(
            "{}{spreadsheet}",
            sheetsync_webhook::keys::DERIVATION_PREFIX
        )
    );
    assert_eq!(
        (vector["master"].as_str(), spreadsheet),
        (Some(common::SECRET), common::SPREADSHEET)
    );
}

/// Prints each fixture's actual response (for filling in `response`):
/// `cargo test -p sheetsync-webhook --test contract -- --ignored --nocapture print_responses`.
#[tokio::test]
#[ignore]
async fn print_responses() {
    let mut names: Vec<String> = std::fs::read_dir(contract_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .filter(|n| n != "signature" && !n.starts_with("snapshot-partial"))
        .collect();
    names.sort();
    for name in names {
        let case = load(&name);
        let env = env_for(&case).await;
        let got = env.webhook.handle(request_of(&case)).await;
        println!(
            "=== {name}\n{}",
            json!({"status": got.status, "body": got.body()})
        );
    }
    let env = env_for(&load("snapshot-partial-1")).await;
    for name in [
        "snapshot-partial-1",
        "snapshot-partial-2",
        "snapshot-partial-keys",
    ] {
        let got = env.webhook.handle(request_of(&load(name))).await;
        println!(
            "=== {name}\n{}",
            json!({"status": got.status, "body": got.body()})
        );
    }
}
