//! A tab too large for one request arrives in parts (docs/contract.md):
//! `partial` snapshots, then one `keys` request. A part whose rows all
//! carry a key reads only those rows, a part with a keyless row and a
//! `keys` request read the whole table (the latter only its keys); these
//! tests pin what each decides, whatever it read.

mod common;

use serde_json::{Value as Json, json};

use common::{Env, SHEET, SPREADSHEET, WATERMARK, edit, max_seq, setup, snapshot};

const TYPED: &str = "2026-11-25T13:00:00.000Z";
const READ_AT: &str = "2026-11-25T13:35:00.123Z";

fn part(event_id: &str, watermark: i64, rows: Json) -> Json {
    let mut body = snapshot(event_id, READ_AT, watermark, rows);
    body["partial"] = json!(true);
    body
}

fn keys(event_id: &str, watermark: i64, ids: &[i64]) -> Json {
    let keys: Vec<Json> = ids.iter().map(|id| json!({"id": id})).collect();
    json!({
        "v": 1, "event_id": event_id, "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
        "kind": "keys", "edited_at": READ_AT, "watermark": watermark, "keys": keys,
    })
}

async fn outbox_after(env: &Env, seq: i64) -> Vec<Json> {
    env.json_rows(&format!(
        "SELECT jsonb_build_array(op, key, row_image, origin)::text FROM sheetsync.outbox WHERE seq > {seq} ORDER BY seq"
    ))
    .await
}

/// Each rule of "Snapshots and the watermark" that a part applies, on its
/// own rows: a differing cell written, an equal row unchanged, a row with a
/// change on its way left to it, a key deleted behind the sheet's back not
/// inserted again, a new key inserted; the table's other rows untouched.
#[tokio::test]
async fn a_keyed_part_judges_its_own_rows_and_leaves_the_others() {
    let env = setup().await;
    env.client
        .batch_execute(
            "UPDATE orders SET qty = 70 WHERE id = 44;
             DELETE FROM orders WHERE id = 45;",
        )
        .await
        .unwrap();
    let before = max_seq(&env.client).await;
    let resp = env
        .post(&part(
            "part-1",
            WATERMARK,
            json!([
                {"row": 2, "values": [41, "Ada Lovelace", 9, false, "2026-12-01"]},
                {"row": 3, "values": [42, "Grace Hopper", 5, true, ""]},
                {"row": 5, "values": [44, "Edsger Dijkstra", 7, false, ""]},
                {"row": 6, "values": [45, "Barbara Liskov", 3, true, "2027-01-10"]},
                {"row": 7, "values": [50, "Frances Allen", 1, true, ""]}
            ]),
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(
        resp.body(),
        json!({"event_id": "part-1", "deleted": 0, "rows": [
            {"row": 2, "key": {"id": 41}, "status": "updated"},
            {"row": 3, "key": {"id": 42}, "status": "unchanged"},
            {"row": 5, "key": {"id": 44}, "status": "unchanged",
             "detail": "a database change to this row is on its way to the sheet"},
            {"row": 6, "key": {"id": 45}, "status": "unchanged",
             "detail": "this row was deleted in the database; the delete is on its way to the sheet"},
            {"row": 7, "key": {"id": 50}, "status": "inserted"}
        ]})
    );
    assert_eq!(
        env.table().await,
        vec![
            json!([41, "Ada Lovelace", 9, false, "2026-12-01"]),
            json!([42, "Grace Hopper", 5, true, null]),
            json!([43, "Alan Turing", 1, false, "2026-12-15"]),
            json!([44, "Edsger Dijkstra", 70, false, null]),
            json!([50, "Frances Allen", 1, true, null]),
        ]
    );
    // The sheet's own values queue nothing for the sheet.
    assert_eq!(outbox_after(&env, before).await, Vec::<Json>::new());
    assert_eq!(
        env.count("SELECT count(*) FROM sheetsync.row_state WHERE sheet_held AND key IN ('[41]', '[42]', '[50]')")
            .await,
        3
    );
}

/// A keyless row in a part is the row the sheet inserted whose key it has
/// not written back yet, though that row is in no part's keys: answered
/// with its key, nothing inserted.
#[tokio::test]
async fn a_part_with_a_keyless_row_finds_the_row_the_sheet_inserted() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let typed = json!({"row": 7, "values": ["", "Zoë Ada", 4, false, "2026-12-24"]});
    let resp = env
        .post(&edit("typed", TYPED, watermark, json!([typed.clone()])))
        .await;
    assert_eq!(resp.body()["rows"][0]["key"], json!({"id": 46}));
    let resp = env
        .post(&part(
            "part-keyless",
            watermark,
            json!([
                {"row": 2, "values": [41, "Ada Lovelace", 2, false, "2026-12-01"]},
                typed
            ]),
        ))
        .await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "part-keyless", "deleted": 0, "rows": [
            {"row": 2, "key": {"id": 41}, "status": "unchanged"},
            {"row": 7, "key": {"id": 46}, "status": "unchanged"}
        ]})
    );
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 6);
}

/// The `keys` request that ends a tab's parts deletes the rows it lacks;
/// one the database refuses to delete (a row referring to it) goes to the
/// sheet again whole, though the request read only keys.
#[tokio::test]
async fn a_keys_request_sends_a_row_it_cannot_delete_again_whole() {
    let env = setup().await;
    env.client
        .batch_execute(
            "CREATE TABLE lines (order_id bigint REFERENCES orders (id));
             INSERT INTO lines VALUES (43);",
        )
        .await
        .unwrap();
    let before = max_seq(&env.client).await;
    let resp = env.post(&keys("keys-1", WATERMARK, &[41, 42, 45])).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "keys-1", "rows": [], "deleted": 1, "resent": 1})
    );
    assert_eq!(
        env.table()
            .await
            .iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![41, 42, 43, 45]
    );
    assert_eq!(
        outbox_after(&env, before).await,
        vec![json!([
            "insert",
            [43],
            {"id": 43, "customer": "Alan Turing", "qty": 1, "shipped": false, "due": "2026-12-15"},
            "repair"
        ])]
    );
}

/// A keyed part compares its cells with the table's in SQL and brings back
/// whole only the rows that differ: what it decides is what the planner
/// decides from whole rows. Equal rows are unchanged (and a change on its
/// way still leaves its row alone), a cell that differs only in case is
/// written (text compares byte for byte), a number sent as text is the
/// number, an unreadable cell rejects its row, and the second row of a key
/// is refused as before.
#[tokio::test]
async fn a_keyed_part_compared_in_sql_decides_as_the_planner() {
    let env = setup().await;
    env.client
        .batch_execute("UPDATE orders SET qty = 30 WHERE id = 45")
        .await
        .unwrap();
    let before = max_seq(&env.client).await;
    let times_before = env
        .json_rows("SELECT jsonb_build_array(key, cell_changed_at)::text FROM sheetsync.row_state ORDER BY key")
        .await;
    let resp = env
        .post(&part(
            "part-compared",
            WATERMARK,
            json!([
                {"row": 2, "values": [41, "Ada Lovelace", 2, false, "2026-12-01"]},
                {"row": 3, "values": [42, "grace hopper", 5, true, ""]},
                {"row": 4, "values": [43, "Alan Turing", "1", false, "2026-12-15"]},
                {"row": 5, "values": [44, "Edsger Dijkstra", "seven", false, ""]},
                {"row": 6, "values": [45, "Barbara Liskov", 30, true, "2027-01-10"]},
                {"row": 7, "values": [41, "Ada L.", 2, false, "2026-12-01"]}
            ]),
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(
        resp.body(),
        json!({"event_id": "part-compared", "deleted": 0, "rows": [
            {"row": 2, "key": {"id": 41}, "status": "unchanged"},
            {"row": 3, "key": {"id": 42}, "status": "updated"},
            {"row": 4, "key": {"id": 43}, "status": "unchanged"},
            {"row": 5, "key": {"id": 44}, "status": "rejected",
             "reason": "qty: 'seven' is not a whole number", "column": "qty"},
            {"row": 6, "key": {"id": 45}, "status": "unchanged",
             "detail": "a database change to this row is on its way to the sheet"},
            {"row": 7, "key": {"id": 41}, "status": "rejected",
             "reason": "id: another row of the sheet has this key", "column": "id"}
        ]})
    );
    assert_eq!(
        env.table().await,
        vec![
            json!([41, "Ada Lovelace", 2, false, "2026-12-01"]),
            json!([42, "grace hopper", 5, true, null]),
            json!([43, "Alan Turing", 1, false, "2026-12-15"]),
            json!([44, "Edsger Dijkstra", 7, false, null]),
            json!([45, "Barbara Liskov", 30, true, "2027-01-10"]),
        ]
    );
    assert_eq!(outbox_after(&env, before).await, Vec::<Json>::new());
    // Only the written cell took the read's time.
    let times_after = env
        .json_rows("SELECT jsonb_build_array(key, cell_changed_at)::text FROM sheetsync.row_state ORDER BY key")
        .await;
    let changed: Vec<Json> = times_after
        .iter()
        .zip(&times_before)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| json!([a[0], a[1]["customer"]]))
        .collect();
    assert_eq!(changed, vec![json!([[42], "2026-11-25T13:35:00.123000Z"])]);
}

/// What SQL calls unequal goes to the planner whole, which judges at the
/// sheet's precision: a date-time the table holds to the microsecond that
/// the sheet shows to the millisecond is unchanged; an amount with more
/// decimals than its `numeric(12,2)` column is compared as sent (not as
/// the column would round it), written, and the rounded value goes back
/// to the sheet.
#[tokio::test]
async fn a_keyed_part_judges_precision_as_the_planner() {
    let env = setup().await;
    env.client
        .batch_execute(
            "ALTER TABLE orders ADD COLUMN at timestamptz, ADD COLUMN price numeric(12,2);
             UPDATE orders SET at = '2026-11-01 10:00:00.123456+00', price = 1.23;
             UPDATE sheetsync.row_state SET cell_changed_at = '{}';
             DELETE FROM sheetsync.outbox;",
        )
        .await
        .unwrap();
    let before = max_seq(&env.client).await;
    let mut body = part(
        "part-precision",
        before,
        json!([
            {"row": 2, "values": [41, "Ada Lovelace", 2, false, "2026-12-01", "2026-11-01T10:00:00.123Z", 1.23]},
            {"row": 3, "values": [42, "Grace Hopper", 5, true, "", "2026-11-01T10:00:00.123Z", 1.234]}
        ]),
    );
    body["header"] = json!(["id", "customer", "qty", "shipped", "due", "at", "price"]);
    let resp = env.post(&body).await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "part-precision", "deleted": 0, "rows": [
            {"row": 2, "key": {"id": 41}, "status": "unchanged"},
            {"row": 3, "key": {"id": 42}, "status": "updated"}
        ]})
    );
    assert_eq!(
        env.json_rows("SELECT jsonb_build_array(id, at, price)::text FROM orders WHERE id IN (41, 42) ORDER BY id")
            .await,
        vec![
            json!([41, "2026-11-01T10:00:00.123456+00:00", 1.23]),
            json!([42, "2026-11-01T10:00:00.123456+00:00", 1.23]),
        ]
    );
    assert_eq!(
        outbox_after(&env, before).await,
        vec![json!(["update", [42], {"id": 42, "price": 1.23}, "repair"])]
    );
}

/// A `keys` request reads back only the rows it lacks and the rows it
/// lists that the sheet is not known to hold: a key listed twice is one
/// key, the rows it lacks are deleted, and a listed row the sheet had not
/// reported is marked held.
#[tokio::test]
async fn a_keys_request_deletes_what_it_lacks_and_marks_what_it_lists() {
    let env = setup().await;
    env.client
        .batch_execute("UPDATE sheetsync.row_state SET sheet_held = (key <> '[42]')")
        .await
        .unwrap();
    let resp = env
        .post(&keys("keys-listed", WATERMARK, &[41, 41, 42, 45]))
        .await;
    assert_eq!(
        resp.body(),
        json!({"event_id": "keys-listed", "rows": [], "deleted": 2})
    );
    assert_eq!(
        env.table()
            .await
            .iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![41, 42, 45]
    );
    assert_eq!(
        env.json_rows(
            "SELECT jsonb_build_array(key, sheet_held)::text FROM sheetsync.row_state ORDER BY key"
        )
        .await,
        vec![
            json!([[41], true]),
            json!([[42], true]),
            json!([[43], false]),
            json!([[44], false]),
            json!([[45], true]),
        ]
    );
}
