//! Backfill: the whole table into the outbox (inserts in key order, with
//! keyset parts covering every key), through the relay to SQS (moto).

mod common;

use sheetsync_store::StoredBinding;

use common::*;
use serde_json::{Value as Json, json};
use sheetsync_outbox::{DrainOptions, backfill};
use sheetsync_queue::Op;
use sheetsync_reconcile::Key;
use sheetsync_store::Binding;

/// Rows written the way the webhook writes them: nothing is captured.
async fn seed_uncaptured(f: &Fixture, sql: &str) {
    f.client
        .batch_execute(&format!(
            "BEGIN; SET LOCAL sheetsync.origin = 'sheet'; {sql}; COMMIT;"
        ))
        .await
        .unwrap();
}

struct Keyset {
    keys: Vec<Vec<Json>>,
    from: Option<Vec<Json>>,
    to: Option<Vec<Json>>,
}

fn keysets(changes: &[sheetsync_queue::RowChange]) -> Vec<Keyset> {
    changes
        .iter()
        .filter_map(|c| match &c.op {
            Op::Keyset { keys, from, to } => Some(Keyset {
                keys: keys.clone(),
                from: from.clone(),
                to: to.clone(),
            }),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_backfill_carries_every_row_then_the_full_key_set() {
    let mut f = Fixture::new().await;
    seed_uncaptured(
        &f,
        "INSERT INTO orders SELECT g, 'note ' || g, g * 2 FROM generate_series(1, 2500) g",
    )
    .await;
    assert!(f.outbox_seqs("orders").await.is_empty());

    let binding = Binding::load(&f.client, "orders").await.unwrap();
    let report = backfill(&mut f.client, &binding, 1000).await.unwrap();
    // One chunk per 1000 rows, each its inserts then its keyset; each
    // part after the first repeats its neighbour's boundary key.
    assert_eq!(
        (
            report.queued_rows,
            report.keyset_parts,
            report.chunks,
            report.first_seq,
            report.last_seq
        ),
        (2500, 3, 3, Some(1), Some(2503))
    );

    let sink = f.sink();
    let drained = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!(drained.rows_sent(), 2503);
    let received = f.receive(drained.messages() as usize).await;
    assert_eq!(received.len() as u64, drained.messages());
    let changes = changes_of(&received, "orders");
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=2503).collect::<Vec<i64>>());

    let keyset_seqs: Vec<i64> = changes
        .iter()
        .filter(|c| matches!(c.op, Op::Keyset { .. }))
        .map(|c| c.seq)
        .collect();
    assert_eq!(keyset_seqs, vec![1001, 2002, 2503]);

    // Inserts: every row, whole, in key order.
    let inserts: Vec<(Vec<Json>, Json)> = changes
        .iter()
        .filter_map(|c| match &c.op {
            Op::Insert { key, values } => Some((key.clone(), Json::Object(values.clone()))),
            _ => None,
        })
        .collect();
    assert_eq!(inserts.len(), 2500);
    for (i, (key, values)) in inserts.iter().enumerate() {
        let id = i as i64 + 1;
        assert_eq!(key, &vec![json!(id)]);
        assert_eq!(
            values,
            &json!({"id": id, "note": format!("note {id}"), "qty": id * 2})
        );
    }

    // Every row's last change not from the sheet is now its backfill insert.
    let state: Vec<(String, i64)> = f
        .client
        .query(
            "SELECT key::text, last_db_seq FROM sheetsync.row_state
              WHERE binding = 'orders' ORDER BY last_db_seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(state.len(), 2500);
    assert_eq!(state[0], ("[1]".to_string(), 1));
    assert_eq!(state[999], ("[1000]".to_string(), 1000));
    assert_eq!(state[1000], ("[1001]".to_string(), 1002));
    assert_eq!(state[2499], ("[2500]".to_string(), 2502));

    // Keyset: contiguous ranges over the whole key space.
    let parts = keysets(&changes);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].from, None);
    assert_eq!(parts[2].to, None);
    for pair in parts.windows(2) {
        assert_eq!(pair[1].from, pair[0].to);
        assert!(pair[0].to.is_some());
        assert_eq!(pair[1].keys.first(), pair[0].to.as_ref());
    }
    let mut all: Vec<Vec<Json>> = parts.iter().flat_map(|p| p.keys.clone()).collect();
    all.dedup();
    assert_eq!(all, (1..=2500).map(|i| vec![json!(i)]).collect::<Vec<_>>());
    for p in &parts {
        let last = p.keys.last().unwrap();
        if let Some(to) = &p.to {
            assert_eq!(last, to);
        }
    }
}

#[tokio::test]
async fn keyset_keys_follow_the_canonical_key_order() {
    let mut f = Fixture::new().await;
    seed_uncaptured(
        &f,
        "INSERT INTO items SELECT 'sku-' || g, 'item' FROM generate_series(1, 30) g",
    )
    .await;
    let binding = Binding::load(&f.client, "items").await.unwrap();
    // A text key under the database's collation (not `C`): the rows in
    // chunks, then the key set in one transaction, sorted as the writer
    // sorts keys.
    let report = backfill(&mut f.client, &binding, 7).await.unwrap();
    assert_eq!(
        (report.queued_rows, report.keyset_parts, report.chunks),
        (30, 5, 6)
    );

    let sink = f.sink();
    let drained = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    let received = f.receive(drained.messages() as usize).await;
    let parts = keysets(&changes_of(&received, "items"));
    let mut keys: Vec<Vec<Json>> = parts.iter().flat_map(|p| p.keys.clone()).collect();
    keys.dedup();
    let mut expected: Vec<Vec<Json>> = (1..=30).map(|g| vec![json!(format!("sku-{g}"))]).collect();
    expected.sort_by_key(|k| Key::from_json(k));
    assert_eq!(keys, expected);
    // Text keys: "sku-10" sorts before "sku-2".
    assert_eq!(keys[1], vec![json!("sku-10")]);
}

#[tokio::test]
async fn an_empty_table_backfills_one_keyset_that_clears_the_sheet() {
    let mut f = Fixture::new().await;
    let binding = Binding::load(&f.client, "orders").await.unwrap();
    let report = backfill(&mut f.client, &binding, 100).await.unwrap();
    assert_eq!(
        (
            report.queued_rows,
            report.keyset_parts,
            report.chunks,
            report.first_seq
        ),
        (0, 1, 1, report.last_seq)
    );
    let origin: String = f
        .client
        .query_one(
            "SELECT origin || ' ' || op || ' ' || row_image::text FROM sheetsync.outbox WHERE binding = 'orders'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        origin,
        r#"backfill keyset {"to": null, "from": null, "keys": []}"#
    );
    let sink = f.sink();
    let drained = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!(drained.rows_sent(), 1);
}
