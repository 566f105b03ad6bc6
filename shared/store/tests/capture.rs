//! The capture trigger, installed by attach: what reaches the outbox.

mod common;

use serde_json::json;
use sheetsync_store::attach;

async fn orders() -> (sheetsync_testkit::TestDb, tokio_postgres::Client) {
    let (db, client) = common::migrated().await;
    client
        .batch_execute(
            "CREATE TABLE orders (id int PRIMARY KEY, customer text, qty int);
             INSERT INTO orders VALUES (2, 'Grace', 1), (3, 'Alan', 6);",
        )
        .await
        .unwrap();
    attach(&client, &common::spec("orders", "Orders"))
        .await
        .unwrap();
    (db, client)
}

#[tokio::test]
async fn three_changes_in_one_transaction_appear_only_after_commit() {
    let (db, mut writer) = orders().await;
    let observer = db.client().await;

    let tx = writer.transaction().await.unwrap();
    tx.batch_execute(
        "INSERT INTO orders VALUES (1, 'Ada', 3);
         UPDATE orders SET qty = 2 WHERE id = 2;
         DELETE FROM orders WHERE id = 3;",
    )
    .await
    .unwrap();
    assert_eq!(
        common::count(&observer, "SELECT count(*) FROM sheetsync.outbox").await,
        0
    );
    tx.commit().await.unwrap();

    assert_eq!(
        common::outbox(&observer).await,
        vec![
            (
                "insert".to_string(),
                json!([1]),
                Some(json!({"id": 1, "customer": "Ada", "qty": 3})),
                "db".to_string()
            ),
            (
                "update".to_string(),
                json!([2]),
                Some(json!({"id": 2, "qty": 2})),
                "db".to_string()
            ),
            ("delete".to_string(), json!([3]), None, "db".to_string()),
        ]
    );
    let txids = common::count(
        &observer,
        "SELECT count(DISTINCT txid)::int8 FROM sheetsync.outbox",
    )
    .await;
    assert_eq!(txids, 1);
}

#[tokio::test]
async fn a_rolled_back_transaction_queues_nothing() {
    let (_db, mut client) = orders().await;
    let tx = client.transaction().await.unwrap();
    tx.batch_execute(
        "INSERT INTO orders VALUES (1, 'Ada', 3);
         UPDATE orders SET qty = 2 WHERE id = 2;
         DELETE FROM orders WHERE id = 3;",
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(common::outbox(&client).await, vec![]);
    assert_eq!(
        common::count(&client, "SELECT count(*) FROM sheetsync.row_state").await,
        0
    );
}

#[tokio::test]
async fn writes_from_the_sheet_queue_nothing_and_the_setting_ends_with_the_transaction() {
    let (_db, mut client) = orders().await;
    let tx = client.transaction().await.unwrap();
    tx.batch_execute(
        "SET LOCAL sheetsync.origin = 'sheet';
         INSERT INTO orders VALUES (1, 'Ada', 3);
         UPDATE orders SET qty = 2 WHERE id = 2;
         DELETE FROM orders WHERE id = 3;",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(common::outbox(&client).await, vec![]);

    client
        .batch_execute("UPDATE orders SET customer = 'Ada L.' WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(
        common::outbox(&client).await,
        vec![(
            "update".to_string(),
            json!([1]),
            Some(json!({"id": 1, "customer": "Ada L."})),
            "db".to_string()
        )]
    );
}

#[tokio::test]
async fn a_key_change_is_a_delete_and_an_insert() {
    let (_db, client) = orders().await;
    client
        .batch_execute("UPDATE orders SET id = 20, qty = 9 WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(
        common::outbox(&client).await,
        vec![
            ("delete".to_string(), json!([2]), None, "db".to_string()),
            (
                "insert".to_string(),
                json!([20]),
                Some(json!({"id": 20, "customer": "Grace", "qty": 9})),
                "db".to_string()
            ),
        ]
    );
    let tombstone: Option<i64> = client
        .query_one(
            "SELECT tombstone_seq FROM sheetsync.row_state WHERE key = '[2]'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(tombstone.is_some());
}

#[tokio::test]
async fn a_key_inserted_again_is_not_held_by_the_sheet() {
    let (_db, client) = orders().await;
    // The sheet had reported row 2; it is deleted and inserted again in SQL.
    client
        .batch_execute(
            "INSERT INTO sheetsync.row_state (binding, key, sheet_held) VALUES ('orders', '[2]', true);
             DELETE FROM orders WHERE id = 2;
             INSERT INTO orders VALUES (2, 'Grace', 4);",
        )
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT sheet_held, tombstone_seq, last_db_seq FROM sheetsync.row_state WHERE key = '[2]'",
            &[],
        )
        .await
        .unwrap();
    let (held, tombstone, last): (bool, Option<i64>, Option<i64>) =
        (row.get(0), row.get(1), row.get(2));
    assert!(!held, "a snapshot lacking the new row must not delete it");
    assert_eq!(tombstone, None);
    let insert_seq = common::count(&client, "SELECT max(seq) FROM sheetsync.outbox").await;
    assert_eq!(last, Some(insert_seq));
}

#[tokio::test]
async fn an_update_that_changes_nothing_queues_nothing() {
    let (_db, client) = orders().await;
    client
        .batch_execute("UPDATE orders SET qty = qty")
        .await
        .unwrap();
    assert_eq!(common::outbox(&client).await, vec![]);
}

#[tokio::test]
async fn composite_keys_travel_in_key_order() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute(
            "CREATE TABLE lines (note text, line int, order_no text, PRIMARY KEY (order_no, line))",
        )
        .await
        .unwrap();
    attach(&client, &common::spec("lines", "Lines"))
        .await
        .unwrap();
    client
        .batch_execute("INSERT INTO lines VALUES ('x', 2, 'A-1')")
        .await
        .unwrap();
    let rows = common::outbox(&client).await;
    assert_eq!(rows[0].1, json!(["A-1", 2]));
}

/// `row_state.cell_seq`: per column, the sequence of its last change made
/// in the database (migration 0002); a key inserted again starts over.
#[tokio::test]
async fn cell_seq_follows_each_columns_last_change() {
    let (_db, client) = orders().await;
    let seqs = |key: &'static str| {
        let client = &client;
        async move {
            let text: String = client
                .query_one(
                    "SELECT cell_seq::text FROM sheetsync.row_state WHERE key = $1::text::jsonb",
                    &[&key],
                )
                .await
                .unwrap()
                .get(0);
            serde_json::from_str::<serde_json::Value>(&text).unwrap()
        }
    };
    client
        .batch_execute("INSERT INTO orders VALUES (1, 'Ada', 3)")
        .await
        .unwrap();
    let insert: i64 = common::count(&client, "SELECT max(seq) FROM sheetsync.outbox").await;
    assert_eq!(
        seqs("[1]").await,
        json!({"id": insert, "customer": insert, "qty": insert})
    );
    client
        .batch_execute(
            "UPDATE orders SET qty = 4 WHERE id = 1;
             UPDATE orders SET customer = 'Ada L.' WHERE id = 1;
             UPDATE orders SET customer = 'Ada L.' WHERE id = 1;",
        )
        .await
        .unwrap();
    assert_eq!(
        seqs("[1]").await,
        json!({"id": insert, "qty": insert + 1, "customer": insert + 2})
    );
    client
        .batch_execute(
            "UPDATE sheetsync.row_state SET sheet_inserted_at = now() WHERE key = '[1]';
             DELETE FROM orders WHERE id = 1;
             INSERT INTO orders VALUES (1, 'Ada', 3);",
        )
        .await
        .unwrap();
    let again: i64 = common::count(&client, "SELECT max(seq) FROM sheetsync.outbox").await;
    assert_eq!(
        seqs("[1]").await,
        json!({"id": again, "customer": again, "qty": again})
    );
    assert_eq!(
        common::count(
            &client,
            "SELECT count(*) FROM sheetsync.row_state WHERE key = '[1]' AND sheet_inserted_at IS NULL"
        )
        .await,
        1
    );
}
