//! Edits racing database changes, safe deletes and snapshot races
//! (DESIGN.md "Sync rules" and "Snapshots and the watermark").

mod common;

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value as Json, json};

use common::{Env, edit, max_seq, seed_sheet_rows, setup, snapshot};

fn at(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn qty_edit(event_id: &str, edited_at: &str, watermark: i64, qty: i64, old: i64) -> Json {
    edit(
        event_id,
        edited_at,
        watermark,
        json!([{"row": 3, "values": [42, "Grace Hopper", qty, true, ""], "old": {"qty": old}}]),
    )
}

/// The user typed 6 at `t1`; SQL set 9 at `t2 > t1` and committed before the
/// request arrived: the database wins, the sheet's 6 is kept as a conflict
/// and the 9 is queued for the sheet.
#[tokio::test]
async fn a_later_sql_update_wins_over_a_late_arriving_edit() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let t1 = Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    env.client
        .batch_execute("UPDATE orders SET qty = 9 WHERE id = 42")
        .await
        .unwrap();
    let resp = env.post(&qty_edit("e-1", &at(t1), watermark, 6, 5)).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "conflict",
        "{}",
        resp.body()
    );
    assert_eq!(
        resp.body()["rows"][0]["detail"],
        "qty: the database's value was kept"
    );
    assert_eq!(env.row(42).await.unwrap()[2], json!(9));
    assert_eq!(
        env.conflicts().await,
        vec![json!([[42], "qty", 6, 9, "db", "latest", "e-1"])]
    );
    let outbox = env.outbox().await;
    assert_eq!(
        outbox.last().unwrap(),
        &json!(["update", [42], {"id": 42, "qty": 9}, "repair"])
    );
}

/// SQL set 9 at `t0`; the user, not having seen it, typed 6 over 5 at
/// `t1 > t0`: the sheet wins, the 9 is kept as a conflict, and because the
/// 9 is still on its way to the sheet, the 6 is queued after it.
#[tokio::test]
async fn a_later_edit_wins_over_an_earlier_sql_update() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    env.client
        .batch_execute("UPDATE orders SET qty = 9 WHERE id = 42")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let resp = env
        .post(&qty_edit("e-1", &at(Utc::now()), watermark, 6, 5))
        .await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "conflict",
        "{}",
        resp.body()
    );
    assert_eq!(
        resp.body()["rows"][0]["detail"],
        "qty: the sheet's value was kept"
    );
    assert_eq!(env.row(42).await.unwrap()[2], json!(6));
    assert_eq!(
        env.conflicts().await,
        vec![json!([[42], "qty", 6, 9, "sheet", "latest", "e-1"])]
    );
    let outbox = env.outbox().await;
    assert_eq!(
        outbox,
        vec![
            json!(["update", [42], {"id": 42, "qty": 9}, "db"]),
            json!(["update", [42], {"id": 42, "qty": 6}, "repair"]),
        ]
    );
}

/// A real race: the SQL transaction holds the row while the request comes
/// in; the request waits for it, then decides by time.
#[tokio::test]
async fn racing_transactions_are_decided_by_time() {
    for sheet_is_later in [true, false] {
        let env = setup().await;
        let watermark = max_seq(&env.client).await;
        let early = Utc::now();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let sql = env.db.client().await;
        sql.batch_execute("BEGIN; UPDATE orders SET qty = 9 WHERE id = 42")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let edited_at = if sheet_is_later { Utc::now() } else { early };
        let body = qty_edit("e-1", &at(edited_at), watermark, 6, 5);
        // Activity statistics are frozen inside a transaction: watch from
        // a connection of its own.
        let watcher = env.db.client().await;
        let request = tokio::spawn(async move {
            let resp = env.post(&body).await;
            (env, resp)
        });
        // The request is blocked on the row lock until the SQL commits.
        wait_for_lock_waiter(&watcher).await;
        assert!(!request.is_finished());
        sql.batch_execute("COMMIT").await.unwrap();
        let (env, resp) = request.await.unwrap();
        assert_eq!(resp.status, 200, "{}", resp.body());
        let (qty, winner) = if sheet_is_later {
            (6, "sheet")
        } else {
            (9, "db")
        };
        assert_eq!(env.row(42).await.unwrap()[2], json!(qty));
        assert_eq!(
            env.conflicts().await,
            vec![json!([[42], "qty", 6, 9, winner, "latest", "e-1"])]
        );
    }
}

async fn wait_for_lock_waiter(client: &tokio_postgres::Client) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the request never waited for the row lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// SQL changed the customer, the sheet the quantity: both survive, no
/// conflict.
#[tokio::test]
async fn edits_of_different_columns_of_one_row_both_survive() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let t1 = Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    env.client
        .batch_execute("UPDATE orders SET customer = 'Grace M. Hopper' WHERE id = 42")
        .await
        .unwrap();
    // The script sends the whole row as the sheet shows it (old customer).
    let resp = env.post(&qty_edit("e-1", &at(t1), watermark, 6, 5)).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace M. Hopper", 6, true, null])
    );
    assert_eq!(env.conflicts().await, Vec::<Json>::new());

    // A paste naming only `shipped` leaves the row's stale cells alone too.
    let t2 = Utc::now();
    env.client
        .batch_execute("UPDATE orders SET qty = 8 WHERE id = 42")
        .await
        .unwrap();
    let paste = edit(
        "e-2",
        &at(t2),
        watermark,
        json!([{"row": 3, "values": [42, "Grace Hopper", 5, false, ""], "edited": ["shipped"]}]),
    );
    let resp = env.post(&paste).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    assert_eq!(
        env.row(42).await.unwrap(),
        json!([42, "Grace M. Hopper", 8, false, null])
    );
}

/// The user typed 6 over 5 at `t1`; afterwards SQL went 5 → 7 → 5. By value
/// the database looks unchanged, but its change is later: it wins.
#[tokio::test]
async fn an_a_b_a_change_in_sql_after_the_edit_still_wins() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let t1 = Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    env.client
        .batch_execute(
            "UPDATE orders SET qty = 7 WHERE id = 42; UPDATE orders SET qty = 5 WHERE id = 42;",
        )
        .await
        .unwrap();
    let resp = env.post(&qty_edit("e-1", &at(t1), watermark, 6, 5)).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "conflict",
        "{}",
        resp.body()
    );
    assert_eq!(env.row(42).await.unwrap()[2], json!(5));
    assert_eq!(
        env.conflicts().await,
        vec![json!([[42], "qty", 6, 5, "db", "latest", "e-1"])]
    );
}

async fn snapshot_of_seed(env: &Env, event_id: &str, edited_at: &str, watermark: i64) -> Json {
    let resp = env
        .post(&snapshot(event_id, edited_at, watermark, seed_sheet_rows()))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    resp.body()
}

/// A row inserted in SQL after the tab was read is not deleted by that
/// snapshot (nor sent again: its insert is on its way); once the watermark covers it,
/// a snapshot without it deletes it.
#[tokio::test]
async fn a_row_inserted_after_the_snapshot_is_not_deleted_by_it() {
    let env = setup().await;
    let read_at = at(Utc::now());
    let watermark = max_seq(&env.client).await;
    env.client
        .batch_execute("INSERT INTO orders (id, customer, qty) VALUES (50, 'Ken Thompson', 2)")
        .await
        .unwrap();
    let body = snapshot_of_seed(&env, "s-1", &read_at, watermark).await;
    assert_eq!(
        (body["deleted"].clone(), body["resent"].clone()),
        (json!(0), Json::Null)
    );
    assert!(env.row(50).await.is_some());
    // Left to its insert, which is on its way: nothing more queued.
    assert_eq!(
        env.outbox().await.last().unwrap(),
        &json!(["insert", [50], {"id": 50, "customer": "Ken Thompson", "qty": 2, "shipped": null, "due": null}, "db"])
    );

    let covering = max_seq(&env.client).await;
    let body = snapshot_of_seed(&env, "s-2", &at(Utc::now()), covering).await;
    assert_eq!(body["deleted"], 1);
    assert_eq!(env.row(50).await, None);
    assert_eq!(env.table().await.len(), 5);
}

/// SQL changed row 41 after the tab was read: the snapshot's stale value
/// does not revert it.
#[tokio::test]
async fn a_stale_snapshot_value_leaves_the_sql_value() {
    let env = setup().await;
    let read_at = at(Utc::now());
    let watermark = max_seq(&env.client).await;
    env.client
        .batch_execute("UPDATE orders SET qty = 20 WHERE id = 41")
        .await
        .unwrap();
    let body = snapshot_of_seed(&env, "s-1", &read_at, watermark).await;
    assert_eq!(
        body["rows"][0],
        json!({"row": 2, "key": {"id": 41}, "status": "unchanged",
               "detail": "a database change to this row is on its way to the sheet"})
    );
    assert_eq!(env.row(41).await.unwrap()[2], json!(20));
}

/// SQL deleted row 43 after the tab was read: the snapshot still showing it
/// does not bring it back.
#[tokio::test]
async fn a_snapshot_showing_a_row_deleted_since_does_not_reinsert_it() {
    let env = setup().await;
    let read_at = at(Utc::now());
    let watermark = max_seq(&env.client).await;
    env.client
        .batch_execute("DELETE FROM orders WHERE id = 43")
        .await
        .unwrap();
    let body = snapshot_of_seed(&env, "s-1", &read_at, watermark).await;
    assert_eq!(body["rows"][2]["status"], "unchanged");
    assert_eq!(env.row(43).await, None);
    assert_eq!(env.table().await.len(), 4);

    // Once the delete reached the sheet, a snapshot with the key (typed in
    // again) inserts it.
    let covering = max_seq(&env.client).await;
    snapshot_of_seed(&env, "s-2", &at(Utc::now()), covering).await;
    assert_eq!(
        env.row(43).await.unwrap(),
        json!([43, "Alan Turing", 1, false, "2026-12-15"])
    );
}

/// An edit the webhook never received shows up in the next snapshot and is
/// applied.
#[tokio::test]
async fn a_missed_sheet_edit_in_a_snapshot_is_applied() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let mut rows = seed_sheet_rows();
    rows[3]["values"][2] = json!(70);
    rows[4]["values"][1] = json!("Barbara J. Liskov");
    let resp = env
        .post(&snapshot("s-1", &at(Utc::now()), watermark, rows))
        .await;
    let body = resp.body();
    let statuses: Vec<&str> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["unchanged", "unchanged", "unchanged", "updated", "updated"]
    );
    assert_eq!(env.row(44).await.unwrap()[2], json!(70));
    assert_eq!(env.row(45).await.unwrap()[1], json!("Barbara J. Liskov"));
    assert_eq!(env.conflicts().await, Vec::<Json>::new());
}

/// A sheet edit that arrived after the tab was read is not undone by that
/// (older) snapshot.
#[tokio::test]
async fn a_snapshot_read_before_an_applied_edit_does_not_undo_it() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let read_at = at(Utc::now());
    tokio::time::sleep(Duration::from_millis(5)).await;
    let resp = env
        .post(&qty_edit("e-1", &at(Utc::now()), watermark, 6, 5))
        .await;
    assert_eq!(resp.body()["rows"][0]["status"], "updated");
    snapshot_of_seed(&env, "s-1", &read_at, watermark).await;
    assert_eq!(env.row(42).await.unwrap()[2], json!(6));
}

fn keys_request(event_id: &str, watermark: i64, ids: &[i64]) -> Json {
    let keys: Vec<Json> = ids.iter().map(|id| json!({ "id": id })).collect();
    json!({
        "v": 1, "event_id": event_id, "spreadsheet_id": common::SPREADSHEET, "sheet": common::SHEET,
        "kind": "keys", "edited_at": at(Utc::now()), "watermark": watermark, "keys": keys,
    })
}

/// Inserts row 50 with no insert recorded for the sheet, as a row older
/// than the binding: a snapshot without it re-sends it.
async fn row_without_a_recorded_insert(env: &Env) {
    env.client
        .batch_execute(
            "BEGIN; SET LOCAL sheetsync.origin = 'sheet'; \
             INSERT INTO orders (id, customer, qty) VALUES (50, 'Ken Thompson', 2); COMMIT",
        )
        .await
        .unwrap();
}

/// Row 50 is re-sent to the sheet; before the re-send lands, the person
/// deletes the row there. The webhook deletes it and queues its delete after
/// the re-send, which would otherwise put it back in the sheet for good (the
/// sheet's own delete queues nothing), and a snapshot read before that
/// delete lands, still showing the row, does not insert it again.
#[tokio::test]
async fn a_row_deleted_in_the_sheet_while_a_resend_is_on_its_way_stays_deleted() {
    let env = setup().await;
    let before = max_seq(&env.client).await;
    row_without_a_recorded_insert(&env).await;
    assert_eq!(
        snapshot_of_seed(&env, "s-1", &at(Utc::now()), before).await["resent"],
        1
    );
    let resent = max_seq(&env.client).await;

    // The sheet lists 50 (it has it from elsewhere), then the person deletes it.
    let all = [41, 42, 43, 44, 45];
    let listed = env
        .post(&keys_request("k-1", before, &[&all[..], &[50]].concat()))
        .await;
    assert_eq!(listed.body()["deleted"], 0, "{}", listed.body());
    let deleted = env.post(&keys_request("k-2", before, &all)).await;
    assert_eq!(deleted.body()["deleted"], 1, "{}", deleted.body());
    assert_eq!(env.row(50).await, None);
    assert_eq!(
        env.outbox().await.last().unwrap(),
        &json!(["delete", [50], null, "repair"])
    );
    let tombstone: i64 = env
        .client
        .query_one(
            "SELECT tombstone_seq FROM sheetsync.row_state WHERE key = '[50]'::jsonb",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(tombstone > resent, "the delete is queued after the re-send");

    // The re-send put the row back; a snapshot read then leaves it deleted.
    let mut rows = seed_sheet_rows();
    rows.as_array_mut()
        .unwrap()
        .push(json!({"row": 7, "values": [50, "Ken Thompson", 2, false, ""]}));
    let resp = env
        .post(&snapshot("s-2", &at(Utc::now()), resent, rows))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body());
    assert_eq!(env.row(50).await, None);
    assert_eq!(env.table().await.len(), 5);
}

/// Without a change on its way, a sheet delete queues nothing.
#[tokio::test]
async fn a_sheet_delete_with_nothing_on_its_way_queues_nothing() {
    let env = setup().await;
    let covering = max_seq(&env.client).await;
    let resp = env
        .post(&keys_request("k-1", covering, &[41, 42, 43, 45]))
        .await;
    assert_eq!(resp.body()["deleted"], 1, "{}", resp.body());
    assert_eq!(max_seq(&env.client).await, covering);
}

/// Row 50's insert is on its way when a snapshot lacks it: it is left to
/// the insert, not re-sent (a re-send landing after a person deleted the
/// row would bring it back for good). Once the insert reached the sheet, a
/// settled snapshot without the row deletes it, even with an SQL update of
/// it on its way; that update is followed by the delete.
#[tokio::test]
async fn a_row_deleted_before_the_sheet_reported_it_stays_deleted() {
    let env = setup().await;
    let read_at = at(Utc::now());
    let before = max_seq(&env.client).await;
    env.client
        .batch_execute("INSERT INTO orders (id, customer, qty) VALUES (50, 'Ken Thompson', 2)")
        .await
        .unwrap();
    let inserted = max_seq(&env.client).await;
    let body = snapshot_of_seed(&env, "s-1", &read_at, before).await;
    assert_eq!(body["resent"], Json::Null, "{body}");
    assert_eq!(max_seq(&env.client).await, inserted, "nothing queued");
    env.client
        .batch_execute("UPDATE orders SET qty = 3 WHERE id = 50")
        .await
        .unwrap();

    let body = snapshot_of_seed(&env, "s-2", &at(Utc::now()), inserted).await;
    assert_eq!(
        (body["deleted"].clone(), body["resent"].clone()),
        (json!(1), Json::Null),
        "deleted, not sent again: {body}"
    );
    assert_eq!(env.row(50).await, None);
    assert_eq!(
        env.outbox().await.last().unwrap(),
        &json!(["delete", [50], null, "repair"])
    );
}

/// Row 50 is re-sent and the re-send is still on its way; the person edits
/// the row. The re-send would show the sheet the old value again (and the
/// next snapshot carry it back into the table), so the edited value is
/// queued after it.
#[tokio::test]
async fn an_edit_of_a_row_with_a_resend_in_flight_is_queued_after_it() {
    let env = setup().await;
    let before = max_seq(&env.client).await;
    row_without_a_recorded_insert(&env).await;
    assert_eq!(
        snapshot_of_seed(&env, "s-1", &at(Utc::now()), before).await["resent"],
        1
    );

    let typed = edit(
        "e-1",
        &at(Utc::now()),
        before,
        json!([{"row": 7, "values": [50, "Dennis Ritchie", 2, false, ""], "old": {"customer": "Ken Thompson"}}]),
    );
    let resp = env.post(&typed).await;
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    assert_eq!(
        env.outbox().await.last().unwrap(),
        &json!(["update", [50], {"id": 50, "customer": "Dennis Ritchie"}, "repair"])
    );
}

/// A backfill chunk holds the binding's writer lock while it reads the row
/// and queues it: an edit of that row waits for the chunk, then sees the
/// row state it left (the backfill's insert still on its way to the sheet)
/// and queues the edited value after it, so the older image the chunk read
/// cannot overwrite the edit on the sheet.
#[tokio::test]
async fn an_edit_waits_for_a_backfill_chunk_and_is_queued_after_it() {
    let env = setup().await;
    let watermark = max_seq(&env.client).await;
    let chunk = env.db.client().await;
    chunk
        .batch_execute(
            "BEGIN;
             SELECT pg_advisory_xact_lock(21331, sheetsync.binding_lock_key('orders'));
             WITH q AS (SELECT sheetsync.enqueue('orders', 'insert', '[42]', to_jsonb(o), 'backfill') AS s
                          FROM orders o WHERE id = 42)
             UPDATE sheetsync.row_state SET last_db_seq = q.s FROM q
              WHERE binding = 'orders' AND key = '[42]';",
        )
        .await
        .unwrap();
    let body = qty_edit("e-1", &at(Utc::now()), watermark, 6, 5);
    let watcher = env.db.client().await;
    let request = tokio::spawn(async move {
        let resp = env.post(&body).await;
        (env, resp)
    });
    wait_for_lock_waiter(&watcher).await;
    assert!(!request.is_finished(), "the edit waits for the chunk");
    chunk.batch_execute("COMMIT").await.unwrap();
    let (env, resp) = request.await.unwrap();
    assert_eq!(
        resp.body()["rows"][0]["status"],
        "updated",
        "{}",
        resp.body()
    );
    assert_eq!(env.row(42).await.unwrap()[2], json!(6));
    let outbox = env.outbox().await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert_eq!(
        (&outbox[0][0], &outbox[0][3]),
        (&json!("insert"), &json!("backfill"))
    );
    assert_eq!(
        outbox[1],
        json!(["update", [42], {"id": 42, "qty": 6}, "repair"])
    );
}
