//! The webhook and the relay logged in as the functions' own role, given
//! only what `sheetsync attach --grant-to` grants: every kind of request
//! works, the queued changes drain, and an unbound table stays unreadable.

mod common;

use std::time::Duration;

use serde_json::json;
use sheetsync_outbox::{DrainOptions, MemoryQueue, Scope, drain};
use sheetsync_testkit::TestRole;
use sheetsync_webhook::{Clock, Db, Secret, Webhook, WebhookConfig};
use tokio_postgres::error::SqlState;

use common::{NOW, SECRET, SHEET, SPREADSHEET, edit, seed_sheet_rows, setup, signed, snapshot};

#[tokio::test]
async fn the_webhook_and_the_relay_run_on_the_granted_role_alone() {
    let env = setup().await;
    let role = TestRole::create(&env.db).await;
    sheetsync_store::grant(&env.client, "orders", role.name())
        .await
        .unwrap();
    env.client
        .batch_execute("CREATE TABLE payroll (id int PRIMARY KEY, amount int)")
        .await
        .unwrap();
    let webhook = Webhook::new(
        WebhookConfig {
            clock: Clock::Fixed(NOW),
            ..WebhookConfig::new(Secret::new(SECRET))
        },
        Db::new(role.db_config(&env.db), 1),
    );
    let post = async |body: String, path: &str| {
        let resp = webhook.handle(signed(path, &body)).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.body());
        resp.body()
    };

    // An edit (a conflict: the database changed the cell after the sheet's
    // base), a reject, a new row with a database-assigned key, a snapshot
    // (which deletes a row the sheet no longer holds), and a push.
    env.client
        .batch_execute("UPDATE orders SET qty = 9 WHERE id = 41")
        .await
        .unwrap();
    let body = post(
        edit(
            "r-1",
            "2026-11-25T11:00:00Z",
            0,
            json!([
                {"row": 2, "values": [41, "Ada Lovelace", 3, false, "2026-12-01"], "old": {"qty": 2}},
                {"row": 3, "values": [42, "Grace Hopper", "lots", true, ""], "old": {"qty": 5}},
                {"row": 7, "values": ["", "Zoë", 1, false, ""]}
            ]),
        )
        .to_string(),
        "/sync_postgres",
    )
    .await;
    let statuses: Vec<&str> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["conflict", "rejected", "inserted"], "{body}");
    // The tab as the sheet holds it now: row 43 removed, the new row keyed.
    let mut rows = seed_sheet_rows().as_array().unwrap().clone();
    rows.remove(2);
    let new_key = body["rows"][2]["key"]["id"].clone();
    rows.push(json!({"row": 6, "values": [new_key, "Zoë", 1, false, ""]}));
    let max = common::max_seq(&env.client).await;
    let body = post(
        snapshot("r-2", "2026-11-25T13:40:00Z", max, json!(rows)).to_string(),
        "/sync_postgres",
    )
    .await;
    assert_eq!(body["deleted"], 1, "{body}");
    let body = post(
        json!({"v": 1, "event_id": "r-3", "spreadsheet_id": SPREADSHEET, "sheet": SHEET})
            .to_string(),
        "/sync_gsheet",
    )
    .await;
    assert_eq!(body["queued"], 5, "{body}");

    // The relay, as the same role, drains what was queued.
    let mut relay = role.client(&env.db).await;
    let (queue, mut received) = MemoryQueue::new(1000);
    let report = drain(
        &mut relay,
        &queue,
        &Scope::All,
        &DrainOptions::default(),
        std::time::Instant::now() + Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert!(report.failures().next().is_none(), "{report:?}");
    assert!(report.rows_sent() > 0, "{report:?}");
    assert!(received.try_recv().is_ok());
    assert_eq!(env.count("SELECT count(*) FROM sheetsync.outbox").await, 0);

    // And the role, signed requests or not, cannot read a table not bound.
    let err = relay
        .batch_execute("SELECT * FROM payroll")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
}
