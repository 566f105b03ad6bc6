//! Every error of docs/contract.md's table, answered with its status and code,
//! writing nothing; hostile and unknown header names.

mod common;

use serde_json::{Value as Json, json};
use sheetsync_config::DbConfig;
use sheetsync_webhook::{Clock, Db, Secret, Webhook, WebhookConfig, WebhookRequest};

use common::{Env, NOW, SHEET, SPREADSHEET, edit, setup, setup_with, signed, signed_at};

fn code(body: &Json) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn assert_untouched(env: &Env, before: &Json) {
    assert_eq!(&env.everything().await, before);
}

fn single_edit(event_id: &str) -> Json {
    edit(
        event_id,
        "2026-11-25T13:35:00.123Z",
        1289,
        json!([{"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "old": {"qty": 5}}]),
    )
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let env = setup().await;
    let before = env.everything().await;
    let good = single_edit("e-1").to_string();
    let cases = [
        good[..good.len() - 3].to_string(),
        "[1, 2]".to_string(),
        json!({"v": 1}).to_string(),
        single_edit("e-1")
            .to_string()
            .replace(r#""v":1"#, r#""v":2"#),
        single_edit("e-1")
            .to_string()
            .replace(r#""kind":"edit""#, r#""kind":"upsert""#),
        single_edit("e-1")
            .to_string()
            .replace(r#""values":[42"#, r#""values":{"a":42}"#),
        json!({"v": 1, "event_id": "e-2", "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
               "kind": "keys", "keys": [[41, 1]]})
        .to_string(),
        json!({"v": 1, "event_id": "e-3", "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
               "kind": "keys", "keys": [{"id": "forty-one"}]})
        .to_string(),
    ];
    for body in cases {
        let resp = env.webhook.handle(signed("/sync_postgres", &body)).await;
        assert_eq!(
            (resp.status, code(&resp.body())),
            (400, "malformed"),
            "{body}"
        );
    }
    assert_untouched(&env, &before).await;
}

#[tokio::test]
async fn missing_or_wrong_signatures_are_401_bad_signature() {
    let env = setup().await;
    let before = env.everything().await;
    let body = single_edit("e-1").to_string();
    let mut no_signature = signed("/sync_postgres", &body);
    no_signature
        .headers
        .retain(|(n, _)| n != "X-Sheetsync-Signature");
    let mut no_timestamp = signed("/sync_postgres", &body);
    no_timestamp
        .headers
        .retain(|(n, _)| n != "X-Sheetsync-Timestamp");
    let mut tampered = signed("/sync_postgres", &body);
    tampered.body = body.replace("6,true", "7,true").into_bytes();
    let mut lowercase_headers = signed("/sync_postgres", &body);
    for (name, _) in &mut lowercase_headers.headers {
        *name = name.to_ascii_lowercase();
    }
    for req in [no_signature, no_timestamp, tampered] {
        let resp = env.webhook.handle(req).await;
        assert_eq!((resp.status, code(&resp.body())), (401, "bad_signature"));
    }
    assert_untouched(&env, &before).await;
    // Header names are case-insensitive.
    assert_eq!(env.webhook.handle(lowercase_headers).await.status, 200);
}

#[tokio::test]
async fn timestamps_outside_the_window_are_401_stale() {
    let env = setup().await;
    let before = env.everything().await;
    let body = single_edit("e-1").to_string();
    for at in [NOW - 301, NOW + 301] {
        let resp = env
            .webhook
            .handle(signed_at("/sync_postgres", &body, at))
            .await;
        assert_eq!((resp.status, code(&resp.body())), (401, "stale"));
    }
    assert_untouched(&env, &before).await;
    assert_eq!(
        env.webhook
            .handle(signed_at("/sync_postgres", &body, NOW - 300))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_unbound_tab_is_404_unknown_sheet() {
    let env = setup().await;
    let before = env.everything().await;
    let body = single_edit("e-1")
        .to_string()
        .replace(r#""sheet":"Orders""#, r#""sheet":"Nope""#);
    let resp = env.webhook.handle(signed("/sync_postgres", &body)).await;
    assert_eq!((resp.status, code(&resp.body())), (404, "unknown_sheet"));
    assert_untouched(&env, &before).await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_too_large() {
    let env = setup_with(sheetsync_reconcile::ConflictPolicy::Latest, |mut c| {
        c.max_body_bytes = 200;
        c
    })
    .await;
    let before = env.everything().await;
    let body = single_edit("e-1").to_string();
    assert!(body.len() > 200);
    let resp = env.webhook.handle(signed("/sync_postgres", &body)).await;
    assert_eq!((resp.status, code(&resp.body())), (413, "too_large"));
    // Checked before the signature: an unsigned oversized body is 413 too.
    let mut unsigned = signed("/sync_postgres", &body);
    unsigned.headers.clear();
    assert_eq!(env.webhook.handle(unsigned).await.status, 413);
    assert_untouched(&env, &before).await;
}

#[tokio::test]
async fn a_header_without_the_key_column_is_422() {
    let env = setup().await;
    let before = env.everything().await;
    let mut body = single_edit("e-1");
    body["header"] = json!(["ID", "customer", "qty", "shipped", "due"]);
    let resp = env.post(&body).await;
    assert_eq!(
        (resp.status, code(&resp.body())),
        (422, "unknown_key_column")
    );
    assert_untouched(&env, &before).await;
}

#[tokio::test]
async fn an_unreachable_database_is_503_unavailable() {
    let env = setup().await;
    // A port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = Webhook::new(
        WebhookConfig {
            clock: Clock::Fixed(NOW),
            ..WebhookConfig::new(Secret::new(common::SECRET))
        },
        Db::new(
            DbConfig::from_url(&format!("postgres://postgres@127.0.0.1:{port}/x")).unwrap(),
            1,
        ),
    );
    let resp = down
        .handle(signed("/sync_postgres", &single_edit("e-1").to_string()))
        .await;
    assert_eq!((resp.status, code(&resp.body())), (503, "unavailable"));
    let resp = down
        .handle(signed(
            "/sync_gsheet",
            &json!({"v": 1, "event_id": "p-1", "spreadsheet_id": SPREADSHEET, "sheet": SHEET})
                .to_string(),
        ))
        .await;
    assert_eq!((resp.status, code(&resp.body())), (503, "unavailable"));
    drop(env);
}

/// The connection dies in the middle of the transaction (after the row was
/// updated): 503, nothing of the request stays, and the next request makes
/// a new connection and succeeds.
#[tokio::test]
async fn a_connection_lost_mid_request_is_503_and_writes_nothing() {
    let env = setup().await;
    let before = env.everything().await;
    env.client
        .batch_execute(
            "CREATE FUNCTION die() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
             CREATE TRIGGER die AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION die();",
        )
        .await
        .unwrap();
    let resp = env.post(&single_edit("e-1")).await;
    assert_eq!(
        (resp.status, code(&resp.body())),
        (503, "unavailable"),
        "{}",
        resp.body()
    );
    assert_untouched(&env, &before).await;

    env.client
        .batch_execute("DROP TRIGGER die ON orders")
        .await
        .unwrap();
    let resp = env.post(&single_edit("e-1")).await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace Hopper", 6, true, null])
    );
}

#[tokio::test]
async fn other_paths_and_methods_are_refused() {
    let env = setup().await;
    let body = single_edit("e-1").to_string();
    let resp = env.webhook.handle(signed("/sync", &body)).await;
    assert_eq!((resp.status, code(&resp.body())), (404, "not_found"));
    let get = WebhookRequest {
        method: "GET".into(),
        ..signed("/sync_postgres", &body)
    };
    let resp = env.webhook.handle(get).await;
    assert_eq!(
        (resp.status, code(&resp.body())),
        (405, "method_not_allowed")
    );
    // A stage prefix is fine.
    assert_eq!(
        env.webhook
            .handle(signed("/prod/sync_postgres", &body))
            .await
            .status,
        200
    );
}

/// Header names are matched against the catalog, never put into SQL:
/// quotes, semicolons and `DROP TABLE` are unknown columns like any other.
#[tokio::test]
async fn hostile_header_names_change_nothing() {
    let env = setup().await;
    let hostile = [
        "qty\"; DROP TABLE orders; --",
        "customer'",
        "Robert'); DROP TABLE orders;--",
        "\"qty\"",
        "id\" = 1 OR \"id",
        "due; DELETE FROM orders",
    ];
    let mut header: Vec<Json> = common::HEADER.iter().map(|h| json!(h)).collect();
    let mut values = vec![
        json!(42),
        json!("Grace Hopper"),
        json!(6),
        json!(true),
        json!(""),
    ];
    for name in hostile {
        header.push(json!(name));
        values.push(json!("0; DROP TABLE orders"));
    }
    let mut body = single_edit("e-1");
    body["header"] = json!(header);
    body["rows"] = json!([{"row": 3, "values": values, "edited": hostile}]);
    let resp = env.post(&body).await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(resp.body()["ignored_columns"], json!(hostile));
    // `edited` names only unknown columns: nothing applies.
    assert_eq!(resp.body()["rows"][0]["status"], "unchanged");
    assert_eq!(env.table().await.len(), 5);
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace Hopper", 5, true, null])
    );

    body["event_id"] = json!("e-2");
    body["rows"][0]["edited"] = json!(["qty"]);
    let resp = env.post(&body).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace Hopper", 6, true, null])
    );
    assert_eq!(env.table().await.len(), 5);
}

#[tokio::test]
async fn unknown_columns_are_ignored_and_reported() {
    let env = setup().await;
    let body = json!({
        "v": 1, "event_id": "e-1", "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
        "kind": "edit", "edited_at": "2026-11-25T13:35:00.123Z", "watermark": 1289,
        "header": ["notes", "id", "qty", "customer", "colour", ""],
        "rows": [
            {"row": 3, "values": ["call back", 42, 6, "Grace B. Hopper", "red", "x"]},
            {"row": 9, "values": ["new", "", 1, "Ken Thompson", "blue", ""]}
        ]
    });
    let resp = env.post(&body).await;
    assert_eq!(
        resp.body(),
        json!({
            "event_id": "e-1",
            "rows": [
                {"row": 3, "key": {"id": 42}, "status": "updated"},
                {"row": 9, "key": {"id": 46}, "status": "inserted"}
            ],
            "deleted": 0,
            "ignored_columns": ["notes", "colour"],
            "missing_columns": ["shipped", "due"]
        })
    );
    // Columns the header lacks keep their values.
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace B. Hopper", 6, true, null])
    );
    assert_eq!(
        env.row(46).await.unwrap(),
        json!([46, "Ken Thompson", 1, null, null])
    );
}

/// The kept connection is killed while idle (a proxy timeout, a database
/// restart): the next request connects again and succeeds.
#[tokio::test]
async fn a_connection_lost_while_idle_is_made_again() {
    let env = setup().await;
    assert_eq!(env.post(&single_edit("e-1")).await.status, 200);
    let killed: i64 = env
        .client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed >= 1);
    let mut second = single_edit("e-2");
    second["rows"][0]["values"][2] = json!(7);
    second["rows"][0]["old"] = json!({"qty": 6});
    second["edited_at"] = json!("2026-11-25T13:36:00.000Z");
    let resp = env.post(&second).await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(env.row(42).await.unwrap()[2], json!(7));
}
