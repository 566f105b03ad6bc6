//! Per-row outcomes: rejects, inserts with database-assigned keys and
//! defaults, repairs for the sheet, policies, idempotency, `/sync_gsheet`.

mod common;

use serde_json::{Value as Json, json};
use sheetsync_reconcile::ConflictPolicy;

use common::{SHEET, SPREADSHEET, edit, max_seq, setup, setup_with, signed};

const AT: &str = "2026-11-25T13:35:00.123Z";

/// A bad cell rejects its row only (with the reason and the cell's column),
/// recorded in `sheetsync.rejects`; the database refusing a row (NOT NULL,
/// a check) does the same without undoing the others.
#[tokio::test]
async fn rejected_rows_do_not_stop_the_others() {
    let env = setup().await;
    env.client
        .batch_execute("ALTER TABLE orders ADD CONSTRAINT qty_not_negative CHECK (qty >= 0)")
        .await
        .unwrap();
    let body = edit(
        "e-1",
        AT,
        1289,
        json!([
            {"row": 2, "values": [41, "Ada Lovelace", "abc", false, "2026-12-01"]},
            {"row": 3, "values": [42, "Grace Hopper", 6, true, ""]},
            {"row": 4, "values": [43, "Alan Turing", -1, false, "2026-12-15"]},
            {"row": 8, "values": ["", "", 1, false, ""]},
            {"row": 9, "values": ["", "Ken Thompson", 1, false, "soon"]},
            {"row": 10, "values": ["", "Dennis Ritchie", 2, true, "2026-12-31"]}
        ]),
    );
    let resp = env.post(&body).await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(
        resp.body()["rows"],
        json!([
            {"row": 2, "key": {"id": 41}, "status": "rejected", "reason": "qty: 'abc' is not a whole number", "column": "qty"},
            {"row": 3, "key": {"id": 42}, "status": "updated"},
            {"row": 4, "key": {"id": 43}, "status": "rejected", "reason": "breaks the table's rule qty_not_negative"},
            {"row": 8, "status": "rejected", "reason": "customer: a value is required", "column": "customer"},
            {"row": 9, "status": "rejected", "reason": "due: 'soon' is not a date (write it as YYYY-MM-DD)", "column": "due"},
            {"row": 10, "key": {"id": 46}, "status": "inserted"}
        ])
    );
    assert_eq!(env.row(41).await.unwrap()[2], json!(2));
    assert_eq!(env.row(42).await.unwrap()[2], json!(6));
    assert_eq!(env.row(43).await.unwrap()[2], json!(1));
    assert_eq!(
        env.row(46).await.unwrap(),
        json!([46, "Dennis Ritchie", 2, true, "2026-12-31"])
    );
    assert_eq!(
        env.rejects().await,
        vec![
            json!([2, [41], "qty", "abc", "qty: 'abc' is not a whole number"]),
            json!([
                4,
                [43],
                null,
                null,
                "breaks the table's rule qty_not_negative"
            ]),
            json!([8, null, "customer", null, "customer: a value is required"]),
            json!([
                9,
                null,
                "due",
                "soon",
                "due: 'soon' is not a date (write it as YYYY-MM-DD)"
            ]),
        ]
    );
}

/// A request whose only row the database refuses (run without a savepoint,
/// then again with the row rejected): answered, recorded, replayable.
#[tokio::test]
async fn a_lone_refused_row_is_rejected_and_recorded() {
    let env = setup().await;
    env.client
        .batch_execute("ALTER TABLE orders ADD CONSTRAINT qty_not_negative CHECK (qty >= 0)")
        .await
        .unwrap();
    let body = edit(
        "e-1",
        AT,
        1289,
        json!([{"row": 3, "values": [42, "Grace Hopper", -6, true, ""], "old": {"qty": 5}}]),
    );
    let resp = env.post(&body).await;
    let expected = json!({
        "event_id": "e-1",
        "rows": [{"row": 3, "key": {"id": 42}, "status": "rejected",
                  "reason": "breaks the table's rule qty_not_negative"}],
        "deleted": 0
    });
    assert_eq!((resp.status, &resp.body()), (200, &expected));
    assert_eq!(env.row(42).await.unwrap()[2], json!(5));
    assert_eq!(
        env.rejects().await,
        vec![json!([
            3,
            [42],
            null,
            null,
            "breaks the table's rule qty_not_negative"
        ])]
    );
    let after = env.everything().await;
    assert_eq!(env.post(&body).await.body(), expected);
    assert_eq!(env.everything().await, after);
}

/// Where the stored row differs from what the sheet sent (a default, a
/// value the column normalised), that difference is queued for the sheet.
#[tokio::test]
async fn stored_differences_are_queued_for_the_sheet() {
    let env = setup().await;
    env.client
        .batch_execute(
            "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new',
                                ADD COLUMN price numeric(8,2)",
        )
        .await
        .unwrap();
    // The new columns' own changes for the sheet (the header and every
    // row's values, docs/schema-changes.md) are queued first, as the relay
    // would on its next drain, and the sheet has received them (its
    // watermark): what follows is the request's alone.
    env.client
        .batch_execute("SELECT sheetsync.check_schema(name) FROM sheetsync.bindings")
        .await
        .unwrap();
    let before = max_seq(&env.client).await;
    let mut body = edit(
        "e-1",
        AT,
        before.max(1289),
        json!([
            {"row": 7, "values": ["", "Ken Thompson", 1, false, "", "", 4.56789]},
            {"row": 3, "values": [42, "Grace Hopper", 5, true, "", "new", 2.5]}
        ]),
    );
    body["header"] = json!(["id", "customer", "qty", "shipped", "due", "status", "price"]);
    let resp = env.post(&body).await;
    assert_eq!(
        resp.body()["rows"],
        json!([
            {"row": 7, "key": {"id": 46}, "status": "inserted"},
            {"row": 3, "key": {"id": 42}, "status": "updated"}
        ]),
        "{}",
        resp.body()
    );
    let queued = env
        .json_rows(&format!(
            "SELECT jsonb_build_array(op, key, row_image, origin)::text FROM sheetsync.outbox WHERE seq > {before} ORDER BY seq"
        ))
        .await;
    assert_eq!(
        queued,
        vec![json!(["update", [46], {"id": 46, "status": "new", "price": 4.57}, "repair"])]
    );
    // The repair is the row's latest change: a snapshot read before it
    // reaches the sheet does not undo it.
    let seq: Option<i64> = env
        .client
        .query_one(
            "SELECT last_db_seq FROM sheetsync.row_state WHERE key = '[46]'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(seq, Some(before + 1));
}

/// The same event id again: the first answer, and nothing written.
#[tokio::test]
async fn a_replayed_event_returns_the_first_answer_and_changes_nothing() {
    let env = setup().await;
    let body = edit(
        "e-1",
        AT,
        1289,
        json!([{"row": 7, "values": ["", "Ken Thompson", 1, false, ""]}]),
    );
    let first = env.post(&body).await;
    assert_eq!(first.body()["rows"][0]["key"], json!({"id": 46}));
    let after_first = env.everything().await;
    let again = env.post(&body).await;
    assert_eq!((again.status, &again.body()), (200, &first.body()));
    assert_eq!(env.everything().await, after_first);
    // Even with a different body (a retry after the sheet changed): the id
    // decides.
    let mut changed = body.clone();
    changed["rows"][0]["values"][1] = json!("Someone Else");
    assert_eq!(env.post(&changed).await.body(), first.body());
    assert_eq!(env.table().await.len(), 6);
}

/// Two deliveries of one event at the same time: one does the work, the
/// other waits for it and answers the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_one_event_apply_once() {
    let env = setup().await;
    let body = edit(
        "e-1",
        AT,
        1289,
        json!([{"row": 7, "values": ["", "Ken Thompson", 1, false, ""]}]),
    )
    .to_string();
    let (a, b) = tokio::join!(
        env.webhook.handle(signed("/sync_postgres", &body)),
        env.webhook.handle(signed("/sync_postgres", &body)),
    );
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.body(), b.body());
    assert_eq!(env.table().await.len(), 6);
    assert_eq!(
        env.count("SELECT count(*) FROM sheetsync.processed_events")
            .await,
        1
    );
}

#[tokio::test]
async fn policy_db_keeps_database_changes_and_sheet_overrides_them() {
    for (policy, qty, winner) in [
        (ConflictPolicy::Db, 9, "db"),
        (ConflictPolicy::Sheet, 6, "sheet"),
    ] {
        let env = setup_with(policy, |c| c).await;
        let watermark = max_seq(&env.client).await;
        env.client
            .batch_execute("UPDATE orders SET qty = 9 WHERE id = 42")
            .await
            .unwrap();
        // Edited "before" the SQL change: under `sheet` the sheet wins anyway.
        let body = edit(
            "e-1",
            AT,
            watermark,
            json!([{"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "old": {"qty": 5}}]),
        );
        let resp = env.post(&body).await;
        assert_eq!(
            resp.body()["rows"][0]["status"],
            "conflict",
            "{policy:?}: {}",
            resp.body()
        );
        assert_eq!(env.row(42).await.unwrap()[2], json!(qty), "{policy:?}");
        assert_eq!(
            env.conflicts().await,
            vec![json!([[42], "qty", 6, 9, winner, policy.as_str(), "e-1"])],
            "{policy:?}"
        );
    }
}

/// An edit of a row the database deleted after the sheet last heard from
/// it: the delete is on its way; the edit is kept as a conflict.
#[tokio::test]
async fn an_edit_of_a_row_deleted_in_the_database_is_kept_as_a_conflict() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    env.client
        .batch_execute("DELETE FROM orders WHERE id = 42")
        .await
        .unwrap();
    let body = edit(
        "e-1",
        AT,
        watermark,
        json!([{"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "old": {"qty": 5}}]),
    );
    let resp = env.post(&body).await;
    assert_eq!(
        resp.body()["rows"][0],
        json!({"row": 3, "key": {"id": 42}, "status": "conflict",
               "detail": "the row was deleted in the database; the edit was not applied"})
    );
    assert_eq!(env.row(42).await, None);
    assert_eq!(
        env.conflicts().await,
        vec![json!([[42], "qty", 6, null, "db", "latest", "e-1"])]
    );
}

/// `POST /sync_gsheet` queues the whole table (with its key set) once per
/// event id.
#[tokio::test]
async fn sync_gsheet_queues_the_whole_table_once() {
    let env = setup().await;
    let body = json!({"v": 1, "event_id": "p-1", "spreadsheet_id": SPREADSHEET, "sheet": SHEET})
        .to_string();
    let resp = env.webhook.handle(signed("/sync_gsheet", &body)).await;
    assert_eq!(
        (resp.status, &resp.body()),
        (200, &json!({"event_id": "p-1", "queued": 5}))
    );
    let ops: Vec<Json> = env
        .json_rows(
            "SELECT jsonb_build_array(op, key, origin)::text FROM sheetsync.outbox ORDER BY seq",
        )
        .await;
    assert_eq!(ops.len(), 6);
    assert_eq!(ops[0], json!(["insert", [41], "backfill"]));
    assert_eq!(ops[5][0], "keyset");
    let again = env.webhook.handle(signed("/sync_gsheet", &body)).await;
    assert_eq!(again.body(), resp.body());
    assert_eq!(env.count("SELECT count(*) FROM sheetsync.outbox").await, 6);

    let unknown = body.replace("Orders", "Nope");
    let resp = env.webhook.handle(signed("/sync_gsheet", &unknown)).await;
    assert_eq!(
        (resp.status, resp.body()["error"]["code"].as_str()),
        (404, Some("unknown_sheet"))
    );
}

/// A two-column key: both parts identify a row; a row with one part empty
/// is rejected; `keys` entries may be arrays in key order.
#[tokio::test]
async fn composite_keys() {
    let env = setup().await;
    env.client
        .batch_execute(
            "CREATE TABLE stock (region text, sku integer, count integer NOT NULL DEFAULT 0,
                                 PRIMARY KEY (region, sku));
             INSERT INTO stock VALUES ('eu', 1, 5), ('eu', 2, 6), ('us', 1, 7);",
        )
        .await
        .unwrap();
    sheetsync_store::attach(
        &env.client,
        &sheetsync_store::AttachSpec {
            name: Some("stock".into()),
            table: sheetsync_config::TableRef::parse("stock").unwrap(),
            spreadsheet_id: SPREADSHEET.into(),
            sheet: "Stock".into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .unwrap();
    let body = json!({
        "v": 1, "event_id": "s-1", "spreadsheet_id": SPREADSHEET, "sheet": "Stock",
        "kind": "edit", "edited_at": AT, "header": ["sku", "region", "count"],
        "rows": [
            {"row": 2, "values": [1, "eu", 50]},
            {"row": 3, "values": [2, "", 60]},
            {"row": 4, "values": [3, "us", ""]}
        ]
    });
    let resp = env.post(&body).await;
    assert_eq!(
        resp.body()["rows"],
        json!([
            {"row": 2, "key": {"region": "eu", "sku": 1}, "status": "updated"},
            {"row": 3, "status": "rejected", "column": "region",
             "reason": "region: the key is incomplete (fill every key column, or none for a new row)"},
            {"row": 4, "key": {"region": "us", "sku": 3}, "status": "inserted"}
        ]),
        "{}",
        resp.body()
    );
    let rows = env
        .json_rows(
            "SELECT jsonb_build_array(region, sku, count)::text FROM stock ORDER BY region, sku",
        )
        .await;
    assert_eq!(
        rows,
        vec![
            json!(["eu", 1, 50]),
            json!(["eu", 2, 6]),
            json!(["us", 1, 7]),
            json!(["us", 3, 0])
        ]
    );

    // The sheet no longer lists ("eu", 2): it is deleted only if the sheet
    // held it (these rows were inserted before the binding: never sent,
    // so not deleted).
    let keys = json!({
        "v": 1, "event_id": "s-2", "spreadsheet_id": SPREADSHEET, "sheet": "Stock",
        "kind": "keys", "watermark": 1_000_000,
        "keys": [["eu", 1], {"region": "us", "sku": 1}, ["us", 3]]
    });
    let resp = env.post(&keys).await;
    assert_eq!(resp.body()["deleted"], 0, "{}", resp.body());
    env.client
        .batch_execute("UPDATE stock SET count = 9 WHERE region = 'eu' AND sku = 2")
        .await
        .unwrap();
    let mut keys = keys;
    keys["event_id"] = json!("s-3");
    let resp = env.post(&keys).await;
    assert_eq!(resp.body()["deleted"], 1, "{}", resp.body());
    assert_eq!(env.count("SELECT count(*) FROM stock").await, 3);
}
