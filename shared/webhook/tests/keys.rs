//! Per-spreadsheet keys against a real database: a key read from one
//! spreadsheet's script cannot write another spreadsheet's binding, the
//! master itself signs nothing, and during a rotation both masters' keys
//! are taken.

mod common;

use serde_json::{Value as Json, json};
use sheetsync_config::TableRef;
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_store::{AttachSpec, attach};
use sheetsync_webhook::{MasterSecrets, Secret, WebhookRequest, spreadsheet_key};

use common::{Env, NOW, SECRET, SPREADSHEET, edit, setup, setup_with, signed, signed_with};

/// The other team's spreadsheet, bound to its own table.
const OTHER: &str = "1XyZ-other-team";

fn code(body: &Json) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn signed_by(spreadsheet: &str, master: &str, path: &str, body: &str) -> WebhookRequest {
    let key = spreadsheet_key(&Secret::new(master), spreadsheet);
    signed_with(&key.signing_secret(), path, body, NOW)
}

/// The contract's `orders` binding, and `salaries` bound to [`OTHER`].
async fn two_teams() -> Env {
    let env = setup().await;
    env.client
        .batch_execute(
            "CREATE TABLE salaries (id bigint PRIMARY KEY, amount integer);
             INSERT INTO salaries VALUES (1, 100);",
        )
        .await
        .unwrap();
    attach(
        &env.client,
        &AttachSpec {
            name: Some("salaries".into()),
            table: TableRef::parse("salaries").unwrap(),
            spreadsheet_id: OTHER.into(),
            sheet: "Pay".into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .unwrap();
    env
}

fn raise(event_id: &str) -> String {
    json!({
        "v": 1, "event_id": event_id, "spreadsheet_id": OTHER, "sheet": "Pay",
        "kind": "edit", "edited_at": "2026-11-25T13:35:00.123Z",
        "header": ["id", "amount"], "rows": [{"row": 2, "values": [1, 1000000]}],
    })
    .to_string()
}

async fn salary(env: &Env) -> i32 {
    env.client
        .query_one("SELECT amount FROM salaries WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_key_of_one_spreadsheet_cannot_write_another_spreadsheets_binding() {
    let env = two_teams().await;
    let events = "SELECT count(*) FROM sheetsync.processed_events";
    // An editor of the orders spreadsheet signs for the other team's tab
    // with the key they can read in their own script.
    let resp = env
        .webhook
        .handle(signed_by(
            SPREADSHEET,
            SECRET,
            "/sync_postgres",
            &raise("x-1"),
        ))
        .await;
    assert_eq!((resp.status, code(&resp.body())), (401, "bad_signature"));
    let push =
        json!({"v": 1, "event_id": "x-2", "spreadsheet_id": OTHER, "sheet": "Pay"}).to_string();
    let resp = env
        .webhook
        .handle(signed_by(SPREADSHEET, SECRET, "/sync_gsheet", &push))
        .await;
    assert_eq!((resp.status, code(&resp.body())), (401, "bad_signature"));
    assert_eq!(salary(&env).await, 100);
    assert_eq!(env.count(events).await, 0);
    assert_eq!(env.count("SELECT count(*) FROM sheetsync.outbox").await, 0);

    // The other team's own key does it.
    let resp = env
        .webhook
        .handle(signed_by(OTHER, SECRET, "/sync_postgres", &raise("x-3")))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(salary(&env).await, 1_000_000);
}

#[tokio::test]
async fn the_master_secret_itself_signs_nothing() {
    let env = setup().await;
    let body = edit(
        "m-1",
        "2026-11-25T13:35:00.123Z",
        1289,
        json!([{"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "old": {"qty": 5}}]),
    )
    .to_string();
    let resp = env
        .webhook
        .handle(signed_with(
            &Secret::new(SECRET),
            "/sync_postgres",
            &body,
            NOW,
        ))
        .await;
    assert_eq!((resp.status, code(&resp.body())), (401, "bad_signature"));
    assert_eq!(env.row(42).await.unwrap()[2], 5);
    // The spreadsheet's key does.
    let resp = env.webhook.handle(signed("/sync_postgres", &body)).await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(env.row(42).await.unwrap()[2], 6);
}

/// The rotation procedure of docs/security.md, step by step: before, the
/// old master only; during, the new one current and the old previous;
/// after, the new one only.
#[tokio::test]
async fn keys_rotate_without_refusing_a_script_in_between() {
    const OLD: &str = SECRET;
    const NEW: &str = "the-new-master";
    // Each edit a second after the last, so `latest` takes it.
    let edit_qty = |event_id: &str, qty: i64, old: i64| {
        edit(
            event_id,
            &format!("2026-11-25T13:35:0{qty}.000Z"),
            1289,
            json!([{"row": 3, "values": [42, "Grace Hopper", qty, true, ""], "old": {"qty": old}}]),
        )
        .to_string()
    };
    let post = async |env: &Env, master: &str, body: &str| {
        env.webhook
            .handle(signed_by(SPREADSHEET, master, "/sync_postgres", body))
            .await
    };

    let before = setup().await;
    assert_eq!(post(&before, OLD, &edit_qty("r-1", 6, 5)).await.status, 200);
    let resp = post(&before, NEW, &edit_qty("r-2", 7, 6)).await;
    assert_eq!((resp.status, code(&resp.body())), (401, "bad_signature"));

    let during = setup_with(ConflictPolicy::Latest, |mut config| {
        config.masters = MasterSecrets::new(Secret::new(NEW)).with_previous(Some(Secret::new(OLD)));
        config
    })
    .await;
    assert_eq!(post(&during, OLD, &edit_qty("r-3", 6, 5)).await.status, 200);
    assert_eq!(post(&during, NEW, &edit_qty("r-4", 7, 6)).await.status, 200);
    assert_eq!(during.row(42).await.unwrap()[2], 7);

    let after = setup_with(ConflictPolicy::Latest, |mut config| {
        config.masters = MasterSecrets::new(Secret::new(NEW));
        config
    })
    .await;
    let resp = post(&after, OLD, &edit_qty("r-5", 6, 5)).await;
    assert_eq!((resp.status, code(&resp.body())), (401, "bad_signature"));
    assert_eq!(post(&after, NEW, &edit_qty("r-6", 6, 5)).await.status, 200);
}
