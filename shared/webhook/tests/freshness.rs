//! Per-cell freshness (docs/contract.md, "Sync rules"): a cell is judged by
//! its own last database change, not the row's, so with several database
//! changes of a row in flight a paste never overwrites a database value the
//! sheet never showed without a conflict record.

mod common;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value as Json, json};

use common::{edit, max_seq, setup};

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `cell_seq` of row 42, as JSON.
async fn cell_seq(env: &common::Env) -> Json {
    env.json_rows("SELECT cell_seq::text FROM sheetsync.row_state WHERE key = '[42]'")
        .await
        .remove(0)
}

/// Two SQL changes of row 42 in flight (customer, then qty); the sheet, at
/// a watermark before both, pastes both cells. The sheet's paste is later,
/// so it wins both, and both database values are recorded: the customer's
/// change is not the row's latest, which the row-level rule called seen.
#[tokio::test]
async fn a_paste_over_two_changes_in_flight_records_both() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    env.client
        .batch_execute(
            "UPDATE orders SET customer = 'Grace M. Hopper' WHERE id = 42;
             UPDATE orders SET qty = 9 WHERE id = 42;",
        )
        .await
        .unwrap();
    assert_eq!(
        cell_seq(&env).await,
        json!({"id": 2, "customer": watermark + 1, "qty": watermark + 2, "shipped": 2, "due": 2})
    );
    let paste = edit(
        "p-1",
        &now(),
        watermark,
        json!([{"row": 3, "values": [42, "Grace B. Hopper", 6, true, ""], "edited": ["customer", "qty"]}]),
    );
    let resp = env.post(&paste).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "p-1", "rows": [{"row": 3, "key": {"id": 42}, "status": "conflict",
            "detail": "customer: the sheet's value was kept; qty: the sheet's value was kept"}],
            "deleted": 0})
    );
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace B. Hopper", 6, true, null])
    );
    assert_eq!(
        env.conflicts().await,
        vec![
            json!([
                [42],
                "customer",
                "Grace B. Hopper",
                "Grace M. Hopper",
                "sheet",
                "latest",
                "p-1"
            ]),
            json!([[42], "qty", 6, 9, "sheet", "latest", "p-1"]),
        ]
    );
    // The changes in flight would overwrite the pasted values on the sheet:
    // they are queued after them.
    assert_eq!(
        env.outbox().await,
        vec![
            json!(["update", [42], {"id": 42, "customer": "Grace M. Hopper"}, "db"]),
            json!(["update", [42], {"id": 42, "qty": 9}, "db"]),
            json!(["update", [42], {"id": 42, "customer": "Grace B. Hopper", "qty": 6}, "repair"]),
        ]
    );
    // The repair carries the pasted cells: until the watermark passes it,
    // the sheet may show the older changes there.
    let repair = max_seq(&env.client).await;
    assert_eq!(
        cell_seq(&env).await,
        json!({"id": 2, "customer": repair, "qty": repair, "shipped": 2, "due": 2})
    );

    // Pasting again before the repair reached the sheet: the sheet may be
    // showing "Grace M. Hopper" there, so the table's "Grace B. Hopper" is
    // recorded as it is overwritten.
    let again = edit(
        "p-2",
        &now(),
        watermark,
        json!([{"row": 3, "values": [42, "Grace Brewster Hopper", 6, true, ""], "edited": ["customer"]}]),
    );
    let resp = env.post(&again).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "conflict",
        "{}",
        resp.body()
    );
    assert_eq!(
        env.conflicts().await[2],
        json!([
            [42],
            "customer",
            "Grace Brewster Hopper",
            "Grace B. Hopper",
            "sheet",
            "latest",
            "p-2"
        ])
    );
    // Once the sheet received the repair, the same paste is an edit.
    let settled = edit(
        "p-3",
        &now(),
        max_seq(&env.client).await,
        json!([{"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "edited": ["customer"]}]),
    );
    let resp = env.post(&settled).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    assert_eq!(env.conflicts().await.len(), 3);
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace Hopper", 6, true, null])
    );
}

/// The sheet had received the customer's change (watermark), not the later
/// quantity change: a paste of the customer is an edit (no conflict), and is
/// queued because the row still has a change in flight.
#[tokio::test]
async fn a_paste_over_a_change_the_sheet_received_is_an_edit() {
    let env = setup().await;
    env.client
        .batch_execute("UPDATE orders SET customer = 'Grace M. Hopper' WHERE id = 42")
        .await
        .unwrap();
    let watermark = max_seq(&env.client).await;
    env.client
        .batch_execute("UPDATE orders SET qty = 9 WHERE id = 42")
        .await
        .unwrap();
    let paste = edit(
        "p-1",
        &now(),
        watermark,
        json!([{"row": 3, "values": [42, "Grace B. Hopper", 5, true, ""], "edited": ["customer"]}]),
    );
    let resp = env.post(&paste).await;
    assert_eq!(
        resp.body()["rows"],
        json!([{"row": 3, "key": {"id": 42}, "status": "updated"}])
    );
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace B. Hopper", 9, true, null])
    );
    assert_eq!(env.conflicts().await, Vec::<Json>::new());
    assert_eq!(
        env.outbox().await.last().unwrap(),
        &json!(["update", [42], {"id": 42, "customer": "Grace B. Hopper"}, "repair"])
    );
}

/// The person typed a date into an empty cell (no `old`) before SQL set
/// it; the writer then showed the SQL value over the typed one. The SQL
/// value is later and wins; the typed value is recorded, and the SQL value
/// is queued for the sheet again. Then a paste at a watermark that covers
/// the database's repair is an edit.
#[tokio::test]
async fn a_database_change_over_a_typed_value_it_never_saw_is_a_conflict() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let typed_at = now();
    env.client
        .batch_execute("UPDATE orders SET due = '2027-02-01' WHERE id = 42")
        .await
        .unwrap();
    let typed = edit(
        "e-1",
        &typed_at,
        watermark,
        json!([{"row": 3, "values": [42, "Grace Hopper", 5, true, "2027-03-01"], "edited": ["due"]}]),
    );
    let resp = env.post(&typed).await;
    assert_eq!(
        resp.body()["rows"],
        json!([{"row": 3, "key": {"id": 42}, "status": "conflict",
                "detail": "due: the database's value was kept"}])
    );
    assert_eq!(
        env.conflicts().await,
        vec![json!([
            [42],
            "due",
            "2027-03-01",
            "2027-02-01",
            "db",
            "latest",
            "e-1"
        ])]
    );
    assert_eq!(
        env.outbox().await.last().unwrap(),
        &json!(["update", [42], {"id": 42, "due": "2027-02-01"}, "repair"])
    );
    // The repair's sequence is the cell's now.
    let repair = max_seq(&env.client).await;
    assert_eq!(cell_seq(&env).await["due"], json!(repair));

    let paste = edit(
        "p-1",
        &now(),
        repair,
        json!([{"row": 3, "values": [42, "Grace Hopper", 5, true, "2027-04-01"], "edited": ["due"]}]),
    );
    let resp = env.post(&paste).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    assert_eq!(env.conflicts().await.len(), 1);
    assert_eq!(env.row(42).await.unwrap()[4], json!("2027-04-01"));
}

/// The sheet deleted row 42 while changes of it were still on their way to
/// the sheet (an SQL update, the webhook's own repair). Those changes only
/// update (the writer skips a key the sheet lacks), but the delete is
/// queued after them all the same, with a tombstone: a snapshot read before
/// the delete, still showing the row, does not bring it back.
#[tokio::test]
async fn a_key_deleted_in_the_sheet_with_changes_in_flight_stays_deleted() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let read_at = now();
    env.client
        .batch_execute("UPDATE orders SET qty = 9 WHERE id = 42")
        .await
        .unwrap();
    let typed = edit(
        "e-1",
        &now(),
        watermark,
        json!([{"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "old": {"qty": 5}}]),
    );
    assert_eq!(
        env.post(&typed).await.body()["rows"][0]["status"],
        "conflict"
    );
    let keys = json!({
        "v": 1, "event_id": "k-1", "spreadsheet_id": common::SPREADSHEET, "sheet": common::SHEET,
        "kind": "keys", "edited_at": now(), "watermark": watermark,
        "keys": [{"id": 41}, {"id": 43}, {"id": 44}, {"id": 45}],
    });
    assert_eq!(env.post(&keys).await.body()["deleted"], 1);
    assert_eq!(env.row(42).await, None);
    assert_eq!(
        env.outbox().await,
        vec![
            json!(["update", [42], {"id": 42, "qty": 9}, "db"]),
            json!(["update", [42], {"id": 42, "qty": 6}, "repair"]),
            json!(["delete", [42], null, "repair"]),
        ]
    );

    let mut rows = common::seed_sheet_rows();
    rows[1]["values"][2] = json!(6);
    let resp = env
        .post(&common::snapshot("s-1", &read_at, watermark, rows))
        .await;
    assert_eq!(
        resp.body()["rows"][1],
        json!({"row": 3, "key": {"id": 42}, "status": "unchanged",
               "detail": "this row was deleted in the database; the delete is on its way to the sheet"})
    );
    assert_eq!(env.row(42).await, None);
    assert_eq!(env.outbox().await.len(), 3);
    assert_eq!(env.conflicts().await.len(), 1);
}
