//! `"unsettled": true` (docs/contract.md): the tab holds a writer batch not
//! yet verified in place, or changed while it was read, so its keyed rows
//! and key list decide nothing destructive. One test per kind.

mod common;

use serde_json::{Value as Json, json};

use common::{SHEET, SPREADSHEET, edit, max_seq, setup, snapshot};

const READ_AT: &str = "2026-11-25T13:35:00.123Z";

fn unsettled(mut body: Json) -> Json {
    body["unsettled"] = json!(true);
    body
}

const SEED_TABLE: [&str; 5] = [
    r#"[41, "Ada Lovelace", 2, false, "2026-12-01"]"#,
    r#"[42, "Grace Hopper", 5, true, null]"#,
    r#"[43, "Alan Turing", 1, false, "2026-12-15"]"#,
    r#"[44, "Edsger Dijkstra", 7, false, null]"#,
    r#"[45, "Barbara Liskov", 3, true, "2027-01-10"]"#,
];

fn seed_table() -> Vec<Json> {
    SEED_TABLE
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect()
}

/// A key list missing rows the sheet held deletes nothing, marks nothing,
/// and is answered `deferred`; the answer is kept for the event id.
#[tokio::test]
async fn keys_delete_nothing() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let body = unsettled(json!({
        "v": 1, "event_id": "k-1", "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
        "kind": "keys", "edited_at": READ_AT, "watermark": watermark,
        "keys": [{"id": 41}, {"id": 42}],
    }));
    let before = env.everything().await;
    let resp = env.post(&body).await;
    let answer = json!({"event_id": "k-1", "rows": [], "deleted": 0, "deferred": true});
    assert_eq!(resp.body(), answer);
    let mut after = env.everything().await;
    assert_eq!(after["events"], 1);
    after["events"] = before["events"].clone();
    assert_eq!(after, before);
    // The same event again: the stored answer.
    assert_eq!(env.post(&body).await.body(), answer);
}

/// A full snapshot: keyed rows (equal, differing, a key the table lacks)
/// are deferred; rows missing from it are neither deleted nor re-sent; the
/// keyless row is deferred too (it may hold another row's values), with no
/// key in its answer.
#[tokio::test]
async fn snapshot_defers_keyed_and_keyless_rows() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let rows = json!([
        {"row": 2, "values": [41, "Ada Lovelace", 2, false, "2026-12-01"]},
        {"row": 3, "values": [42, "Grace Hopper", 50, true, ""]},
        {"row": 4, "values": [99, "Dennis Ritchie", 1, false, ""]},
        {"row": 5, "values": ["", "Zoë Ada", 4, false, "2026-12-24"]}
    ]);
    let resp = env
        .post(&unsettled(snapshot("s-1", READ_AT, watermark, rows)))
        .await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "s-1", "rows": [
            {"row": 2, "key": {"id": 41}, "status": "deferred"},
            {"row": 3, "key": {"id": 42}, "status": "deferred"},
            {"row": 4, "key": {"id": 99}, "status": "deferred"},
            {"row": 5, "status": "deferred"}
        ], "deleted": 0, "deferred": true})
    );
    assert_eq!(env.table().await, seed_table());
    assert_eq!(env.outbox().await, Vec::<Json>::new());
    assert_eq!(env.conflicts().await, Vec::<Json>::new());
    assert_eq!(
        env.count("SELECT count(*) FROM sheetsync.row_state WHERE sheet_held")
            .await,
        0
    );
}

/// A part of a snapshot: the same, upserts only.
#[tokio::test]
async fn partial_snapshot_defers_keyed_rows() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let mut body = unsettled(snapshot(
        "s-1",
        READ_AT,
        watermark,
        json!([
            {"row": 5, "values": [44, "Edsger W. Dijkstra", 7, false, ""]},
            {"row": 6, "values": ["", "Zoë Ada", 4, false, "2026-12-24"]}
        ]),
    ));
    body["partial"] = json!(true);
    let resp = env.post(&body).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "s-1", "rows": [
            {"row": 5, "key": {"id": 44}, "status": "deferred"},
            {"row": 6, "status": "deferred"}
        ], "deleted": 0, "deferred": true})
    );
    assert_eq!(env.table().await, seed_table());
}

/// An edit: cells the person typed (`old`, `edited`) apply; a keyed
/// whole-row re-send is deferred; a keyless row is inserted. A pasted cell
/// (no base) records the database value it replaces: the unsettled tab may
/// have shown another row's value there.
#[tokio::test]
async fn edit_applies_typed_cells_and_defers_whole_rows() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let rows = json!([
        {"row": 2, "values": [41, "Ada Lovelace", 3, false, "2026-12-01"], "old": {"qty": 2}},
        {"row": 3, "values": [42, "Grace B. Hopper", 5, true, ""], "edited": ["customer"]},
        {"row": 4, "values": [43, "Alan M. Turing", 10, true, ""]},
        {"row": 7, "values": ["", "Zoë Ada", 4, false, "2026-12-24"]}
    ]);
    let resp = env
        .post(&unsettled(edit("e-1", READ_AT, watermark, rows)))
        .await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "e-1", "rows": [
            {"row": 2, "key": {"id": 41}, "status": "updated"},
            {"row": 3, "key": {"id": 42}, "status": "conflict", "detail": "customer: the sheet's value was kept"},
            {"row": 4, "key": {"id": 43}, "status": "deferred"},
            {"row": 7, "key": {"id": 46}, "status": "inserted"}
        ], "deleted": 0, "deferred": true})
    );
    assert_eq!(
        env.table().await,
        vec![
            json!([41, "Ada Lovelace", 3, false, "2026-12-01"]),
            json!([42, "Grace B. Hopper", 5, true, null]),
            json!([43, "Alan Turing", 1, false, "2026-12-15"]),
            json!([44, "Edsger Dijkstra", 7, false, null]),
            json!([45, "Barbara Liskov", 3, true, "2027-01-10"]),
            json!([46, "Zoë Ada", 4, false, "2026-12-24"]),
        ]
    );
    let conflicts = env.conflicts().await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    // (key, column, sheet value, database value, winner, …)
    assert_eq!(
        conflicts[0].as_array().unwrap()[..5],
        [
            json!([42]),
            json!("customer"),
            json!("Grace B. Hopper"),
            json!("Grace Hopper"),
            json!("sheet")
        ]
    );
}

/// An unsettled edit with nothing to defer says nothing about it.
#[tokio::test]
async fn edit_without_whole_rows_is_not_deferred() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let rows = json!([
        {"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "old": {"qty": 5}}
    ]);
    let resp = env
        .post(&unsettled(edit("e-1", READ_AT, watermark, rows)))
        .await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "e-1", "rows": [{"row": 3, "key": {"id": 42}, "status": "updated"}], "deleted": 0})
    );
    // `"unsettled": false` is today's behaviour: a whole row applies.
    let mut settled = edit(
        "e-2",
        READ_AT,
        watermark,
        json!([{"row": 4, "values": [43, "Alan M. Turing", 1, false, "2026-12-15"]}]),
    );
    settled["unsettled"] = json!(false);
    let resp = env.post(&settled).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "e-2", "rows": [{"row": 4, "key": {"id": 43}, "status": "updated"}], "deleted": 0})
    );
}
