//! A row typed into the sheet without a key, keyed by the database, then
//! deleted in the sheet (docs/contract.md, "Rows the sheet inserted"): it
//! leaves the table in every order of events, and a tab read before its key
//! was written back never deletes it nor inserts it twice.
//!
//! Times are the script's: the row is typed at `TYPED`, tabs are read
//! before it (`BEFORE`) or after it (`AFTER`, `LATER`).

mod common;

use serde_json::{Value as Json, json};

use common::{Env, SHEET, SPREADSHEET, edit, max_seq, seed_sheet_rows, setup, snapshot};

const BEFORE: &str = "2026-11-25T12:30:00.000Z";
const TYPED: &str = "2026-11-25T13:00:00.000Z";
const AFTER: &str = "2026-11-25T13:05:00.000Z";
const LATER: &str = "2026-11-25T13:10:00.000Z";

/// The typed row's cells, keyless, as the sheet shows them (row 7).
fn typed_row() -> Json {
    json!({"row": 7, "values": ["", "Zoë Ada", 4, false, "2026-12-24"]})
}

/// The same row once the script wrote its key back.
fn keyed_row() -> Json {
    json!({"row": 7, "values": [46, "Zoë Ada", 4, false, "2026-12-24"]})
}

/// Types the row: the database assigns key 46.
async fn type_row(env: &Env) {
    let watermark = max_seq(&env.client).await;
    let resp = env
        .post(&edit("i-1", TYPED, watermark, json!([typed_row()])))
        .await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "i-1", "rows": [{"row": 7, "key": {"id": 46}, "status": "inserted"}], "deleted": 0})
    );
}

fn keys(event_id: &str, read_at: &str, watermark: i64, ids: &[i64]) -> Json {
    let keys: Vec<Json> = ids.iter().map(|id| json!({"id": id})).collect();
    json!({
        "v": 1, "event_id": event_id, "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
        "kind": "keys", "edited_at": read_at, "watermark": watermark, "keys": keys,
    })
}

/// The seed rows, plus `extra`.
fn tab(extra: &[Json]) -> Json {
    let mut rows = seed_sheet_rows().as_array().unwrap().clone();
    rows.extend(extra.iter().cloned());
    Json::Array(rows)
}

const SEED: [i64; 5] = [41, 42, 43, 44, 45];

fn ids(table: &[Json]) -> Vec<i64> {
    table.iter().map(|r| r[0].as_i64().unwrap()).collect()
}

/// `rows[5]`, `deleted`, `resent` of a snapshot answer.
fn snapshot_outcome(body: &Json) -> (Json, Json, Json) {
    (
        body["rows"].get(5).cloned().unwrap_or(Json::Null),
        body["deleted"].clone(),
        body["resent"].clone(),
    )
}

/// Key written back, row deleted, `keys` request: the list cannot show a
/// keyless row, so it cannot tell this from a row still waiting for its
/// key. It deletes nothing and answers `deferred`; the snapshot that
/// follows finds the row neither keyed nor keyless and deletes it.
#[tokio::test]
async fn deleted_after_the_write_back_keys_then_snapshot() {
    let env = setup().await;
    type_row(&env).await;
    let watermark = max_seq(&env.client).await;
    let resp = env.post(&keys("k-1", AFTER, watermark, &SEED)).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "k-1", "rows": [], "deleted": 0, "deferred": true})
    );
    assert_eq!(ids(&env.table().await), [41, 42, 43, 44, 45, 46]);

    let resp = env.post(&snapshot("s-1", LATER, watermark, tab(&[]))).await;
    assert_eq!(
        snapshot_outcome(&resp.body()),
        (Json::Null, json!(1), Json::Null)
    );
    assert_eq!(ids(&env.table().await), SEED);
    // The sheet deleted it: nothing goes to the sheet.
    assert_eq!(env.outbox().await, Vec::<Json>::new());
}

/// A snapshot read after the key was written back and the row deleted.
#[tokio::test]
async fn deleted_after_the_write_back_snapshot() {
    let env = setup().await;
    type_row(&env).await;
    let watermark = max_seq(&env.client).await;
    let resp = env.post(&snapshot("s-1", AFTER, watermark, tab(&[]))).await;
    assert_eq!(
        snapshot_outcome(&resp.body()),
        (Json::Null, json!(1), Json::Null)
    );
    assert_eq!(ids(&env.table().await), SEED);
}

/// The row deleted before the answer came back (no key was written): the
/// `keys` request defers, the snapshot deletes.
#[tokio::test]
async fn deleted_before_the_write_back() {
    let env = setup().await;
    type_row(&env).await;
    let watermark = max_seq(&env.client).await;
    let resp = env.post(&keys("k-1", AFTER, watermark, &SEED)).await;
    assert_eq!(resp.body()["deferred"], true, "{}", resp.body());
    let resp = env.post(&snapshot("s-1", LATER, watermark, tab(&[]))).await;
    assert_eq!(resp.body()["deleted"], 1, "{}", resp.body());
    assert_eq!(ids(&env.table().await), SEED);
}

/// tests/model, "typed row, typed on, another row deleted": the row's next
/// cell typed before the insert was answered is sent whole, and the script
/// gives that request the key from the answer; a `keys` request read before
/// the write-back (another row deleted) lacks the key. The whole-row edit
/// applies, but does not report the key: the `keys` request defers instead
/// of deleting a row the tab shows.
#[tokio::test]
async fn a_whole_row_edit_given_the_key_does_not_report_it() {
    let env = setup().await;
    type_row(&env).await;
    let watermark = max_seq(&env.client).await;
    let mut row = keyed_row();
    row["values"][2] = json!(5);
    let resp = env.post(&edit("i-2", AFTER, watermark, json!([row]))).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "i-2", "rows": [{"row": 7, "key": {"id": 46}, "status": "updated"}], "deleted": 0})
    );
    let resp = env.post(&keys("k-1", LATER, watermark, &SEED)).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "k-1", "rows": [], "deleted": 0, "deferred": true})
    );
    assert_eq!(ids(&env.table().await), [41, 42, 43, 44, 45, 46]);
}

/// Tabs read after the row was typed but before its key was written back:
/// a `keys` request lacking the key defers; a snapshot showing the row
/// keyless answers it with its key (inserting nothing); after the write-back
/// and the delete, a snapshot deletes it.
#[tokio::test]
async fn read_before_the_write_back_then_deleted() {
    let env = setup().await;
    type_row(&env).await;
    let watermark = max_seq(&env.client).await;
    let resp = env.post(&keys("k-1", AFTER, watermark, &SEED)).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "k-1", "rows": [], "deleted": 0, "deferred": true})
    );
    let resp = env
        .post(&snapshot("s-1", AFTER, watermark, tab(&[typed_row()])))
        .await;
    assert_eq!(
        snapshot_outcome(&resp.body()),
        (
            json!({"row": 7, "key": {"id": 46}, "status": "unchanged"}),
            json!(0),
            Json::Null
        )
    );
    assert_eq!(ids(&env.table().await), [41, 42, 43, 44, 45, 46]);

    let resp = env.post(&snapshot("s-2", LATER, watermark, tab(&[]))).await;
    assert_eq!(resp.body()["deleted"], 1, "{}", resp.body());
    assert_eq!(ids(&env.table().await), SEED);
}

/// A snapshot read after the row was typed, arriving after its insert (the
/// script queued it): the keyless row is that row, not a new one, even
/// where SQL changed it since (the writer cannot reach a row without its
/// key, so such cells may show anything).
#[tokio::test]
async fn a_snapshot_read_before_the_insert_was_answered_is_no_duplicate() {
    let env = setup().await;
    type_row(&env).await;
    env.client
        .batch_execute("UPDATE orders SET qty = 8 WHERE id = 46")
        .await
        .unwrap();
    let watermark = max_seq(&env.client).await - 1;
    let resp = env
        .post(&snapshot("s-1", AFTER, watermark, tab(&[typed_row()])))
        .await;
    assert_eq!(
        snapshot_outcome(&resp.body()),
        (
            json!({"row": 7, "key": {"id": 46}, "status": "unchanged"}),
            json!(0),
            Json::Null
        )
    );
    assert_eq!(
        env.row(46).await.unwrap(),
        json!([46, "Zoë Ada", 8, false, "2026-12-24"])
    );
    assert_eq!(ids(&env.table().await), [41, 42, 43, 44, 45, 46]);
    // A keyless row that differs in a cell the sheet wrote is a new row.
    let other = json!({"row": 8, "values": ["", "Zoë B. Ada", 4, false, "2026-12-24"]});
    let resp = env
        .post(&snapshot(
            "s-2",
            AFTER,
            watermark,
            tab(&[typed_row(), other]),
        ))
        .await;
    assert_eq!(
        resp.body()["rows"][6],
        json!({"row": 8, "key": {"id": 47}, "status": "inserted"})
    );
    assert_eq!(ids(&env.table().await), [41, 42, 43, 44, 45, 46, 47]);
}

/// Tabs read before the row was typed, arriving after its insert: they
/// cannot show it, so they neither delete it nor send it to the sheet
/// (which has it), and a `keys` request does not defer for it.
#[tokio::test]
async fn tabs_read_before_the_row_was_typed_leave_it() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    type_row(&env).await;
    let resp = env.post(&keys("k-1", BEFORE, watermark, &SEED)).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "k-1", "rows": [], "deleted": 0})
    );
    let resp = env
        .post(&snapshot("s-1", BEFORE, watermark, tab(&[])))
        .await;
    assert_eq!(
        snapshot_outcome(&resp.body()),
        (Json::Null, json!(0), Json::Null)
    );
    assert_eq!(ids(&env.table().await), [41, 42, 43, 44, 45, 46]);
    assert_eq!(env.outbox().await, Vec::<Json>::new());
}

/// Once any request reported the key (here an edit of the keyed row), the
/// row is held like any other: a `keys` request without it deletes it.
#[tokio::test]
async fn a_reported_key_is_deleted_by_a_keys_request() {
    let env = setup().await;
    type_row(&env).await;
    let watermark = max_seq(&env.client).await;
    let mut row = keyed_row();
    row["values"][2] = json!(5);
    row["old"] = json!({"qty": 4});
    let resp = env.post(&edit("e-1", AFTER, watermark, json!([row]))).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    let resp = env.post(&keys("k-1", LATER, watermark, &SEED)).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "k-1", "rows": [], "deleted": 1})
    );
    assert_eq!(ids(&env.table().await), SEED);
}

/// A snapshot read after the write-back shows the key: the row is held
/// from then on, and a snapshot without it deletes it.
#[tokio::test]
async fn a_snapshot_with_the_written_back_key_holds_it() {
    let env = setup().await;
    type_row(&env).await;
    let watermark = max_seq(&env.client).await;
    let resp = env
        .post(&snapshot("s-1", AFTER, watermark, tab(&[keyed_row()])))
        .await;
    assert_eq!(
        snapshot_outcome(&resp.body()),
        (
            json!({"row": 7, "key": {"id": 46}, "status": "unchanged"}),
            json!(0),
            Json::Null
        )
    );
    let resp = env.post(&keys("k-1", LATER, watermark, &SEED)).await;
    assert_eq!(resp.body()["deleted"], 1, "{}", resp.body());
    assert_eq!(ids(&env.table().await), SEED);
}
