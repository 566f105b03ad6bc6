//! The drain against real PostgreSQL and a real SQS API (moto), with the
//! production aws-sdk-sqs client.

mod common;

use std::sync::Mutex;
use std::time::Instant;

use common::*;
use sheetsync_outbox::pack::PackLimits;
use sheetsync_outbox::sink::{EntryOutcome, OutgoingMessage, QueueSink, SinkError};
use sheetsync_outbox::{BindingOutcome, DrainOptions, OutboxError, Scope, SqsSink, drain};
use sheetsync_testkit::moto::{closed_endpoint, sqs_client_for};

fn ins(seq: i64, key: &str) -> (i64, &'static str, String) {
    (seq, "insert", key.to_owned())
}

#[tokio::test]
async fn committed_changes_arrive_in_commit_order_and_rolled_back_ones_never() {
    let mut f = Fixture::new().await;
    // One statement per transaction (a multi-statement string would be one
    // implicit transaction).
    for sql in [
        "INSERT INTO orders VALUES (1, 'a', 1)",
        "INSERT INTO orders VALUES (2, 'b', 2)",
        "UPDATE orders SET qty = 5 WHERE id = 2",
        "BEGIN; INSERT INTO orders VALUES (99, 'never', 0); ROLLBACK",
        "DELETE FROM orders WHERE id = 1",
        "INSERT INTO items VALUES ('A-1', 'bolt')",
    ] {
        f.client.batch_execute(sql).await.unwrap();
    }
    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!(report.rows_sent(), 5);
    assert_eq!(report.failures().count(), 0);

    let received = f.receive(1).await;
    assert_eq!(
        received.len(),
        1,
        "one message for both bindings of the spreadsheet"
    );
    assert_eq!(batches(&received).len(), 2);
    let orders = changes_of(&received, "orders");
    let seqs: Vec<i64> = orders.iter().map(|c| c.seq).collect();
    // The rolled-back insert used a sequence number (4) but never arrives.
    assert_eq!(
        summary(&orders),
        vec![
            ins(seqs[0], "[1]"),
            ins(seqs[1], "[2]"),
            (seqs[2], "update", "[2]".into()),
            (seqs[3], "delete", "[1]".into()),
        ]
    );
    assert_eq!(seqs, vec![1, 2, 3, 5]);
    let update = &orders[2].op;
    assert_eq!(
        serde_json::to_value(update).unwrap(),
        serde_json::json!({"op": "update", "key": [2], "values": {"id": 2, "qty": 5}})
    );
    let batch = batches(&received)
        .into_iter()
        .find(|b| b.binding == "orders")
        .unwrap();
    assert_eq!(
        (batch.spreadsheet_id.as_str(), batch.sheet.as_str()),
        ("S1", "Orders")
    );
    assert_eq!(batch.key_columns, vec!["id"]);
    let cols: Vec<(String, sheetsync_reconcile::PgType)> = batch
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.pg_type))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("id".into(), sheetsync_reconcile::PgType::Int4),
            ("note".into(), sheetsync_reconcile::PgType::Text),
            ("qty".into(), sheetsync_reconcile::PgType::Int4),
        ]
    );
    assert_eq!(
        summary(&changes_of(&received, "items")),
        vec![ins(6, "[\"A-1\"]")]
    );
    // Grouped by spreadsheet: each message's group is its spreadsheet.
    for r in &received {
        for batch in sheetsync_queue::decode_batches(&r.body).unwrap() {
            assert_eq!(r.group_id.as_deref(), Some(batch.spreadsheet_id.as_str()));
        }
    }
    assert!(f.outbox_seqs("orders").await.is_empty());
    assert!(f.outbox_seqs("items").await.is_empty());
}

#[tokio::test]
async fn a_change_waits_while_an_older_one_is_uncommitted() {
    let mut f = Fixture::new().await;
    let writer = f.db.client().await;
    // The open transaction takes seq 1; a later one commits seq 2 first.
    writer
        .batch_execute("BEGIN; INSERT INTO orders VALUES (1, 'slow', 1);")
        .await
        .unwrap();
    f.client
        .batch_execute("INSERT INTO orders VALUES (2, 'fast', 2)")
        .await
        .unwrap();
    let sink = f.sink();
    let report = drain(
        &mut f.client,
        &sink,
        &Scope::Bindings(vec!["orders".into()]),
        &DrainOptions::default(),
        far(),
    )
    .await
    .unwrap();
    assert!(
        matches!(report.bindings[0].outcome, BindingOutcome::WritersBusy),
        "{report:?}"
    );
    assert_eq!(report.rows_sent(), 0);
    assert_eq!(f.outbox_seqs("orders").await, vec![2]);

    writer.batch_execute("COMMIT").await.unwrap();
    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!(report.rows_sent(), 2);
    let received = f.receive(1).await;
    assert_eq!(
        summary(&changes_of(&received, "orders")),
        vec![ins(1, "[1]"), ins(2, "[2]")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_draining_at_once_send_each_row_once_in_order() {
    let f = Fixture::new().await;
    f.client
        .batch_execute(
            "INSERT INTO orders SELECT g, 'n' || g, g FROM generate_series(1, 300) g;
             UPDATE orders SET qty = qty + 1 WHERE id % 3 = 0;
             INSERT INTO items SELECT 'sku-' || g, 'item' FROM generate_series(1, 200) g;",
        )
        .await
        .unwrap();
    let opts = DrainOptions {
        claim_rows: 40,
        limits: PackLimits {
            max_changes: 7,
            ..PackLimits::default()
        },
        ..DrainOptions::default()
    };
    let relay = |opts: DrainOptions| {
        let sink = f.sink();
        let db = &f.db;
        async move {
            let mut client = db.client().await;
            let (mut sent, mut messages) = (0, 0);
            for _ in 0..200 {
                let report = drain_all(&mut client, &sink, &opts).await;
                assert_eq!(report.failures().count(), 0, "{report:?}");
                sent += report.rows_sent();
                messages += report.messages();
                let left: i64 = client
                    .query_one("SELECT count(*) FROM sheetsync.outbox", &[])
                    .await
                    .unwrap()
                    .get(0);
                if left == 0 {
                    break;
                }
            }
            (sent, messages)
        }
    };
    let ((a, ma), (b, mb)) = tokio::join!(relay(opts.clone()), relay(opts.clone()));
    assert_eq!(a + b, 600, "each row sent once: {a} + {b}");

    let received = f.receive((ma + mb) as usize).await;
    assert_eq!(received.len() as u64, ma + mb);
    for binding in ["orders", "items"] {
        let seqs: Vec<i64> = changes_of(&received, binding)
            .iter()
            .map(|c| c.seq)
            .collect();
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(seqs, sorted, "{binding}: in order, no repeats");
    }
    assert_eq!(changes_of(&received, "orders").len(), 400);
    assert_eq!(changes_of(&received, "items").len(), 200);
}

/// Sends through the real queue, then fails as if the relay died before
/// deleting its outbox rows (the claim transaction never commits).
struct DiesAfterSend {
    inner: SqsSink,
    sent: Mutex<Vec<OutgoingMessage>>,
}

impl QueueSink for DiesAfterSend {
    async fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> Result<Vec<EntryOutcome>, SinkError> {
        let outcomes = self.inner.send_batch(entries).await?;
        assert!(outcomes.iter().all(|o| *o == EntryOutcome::Accepted));
        self.sent.lock().unwrap().extend_from_slice(entries);
        Err(SinkError("relay died after SendMessageBatch".into()))
    }
}

/// Records what it sends.
struct Recording {
    inner: SqsSink,
    sent: Mutex<Vec<OutgoingMessage>>,
}

impl QueueSink for Recording {
    async fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> Result<Vec<EntryOutcome>, SinkError> {
        self.sent.lock().unwrap().extend_from_slice(entries);
        self.inner.send_batch(entries).await
    }
}

#[tokio::test]
async fn a_relay_dying_after_send_is_resent_with_the_same_ids_and_received_once() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute(
            "INSERT INTO orders SELECT g, repeat('x', 1000), g FROM generate_series(1, 40) g",
        )
        .await
        .unwrap();
    let opts = DrainOptions {
        limits: PackLimits {
            max_changes: 5,
            ..PackLimits::default()
        },
        ..DrainOptions::default()
    };
    let dying = DiesAfterSend {
        inner: f.sink(),
        sent: Mutex::new(Vec::new()),
    };
    let report = drain_all(&mut f.client, &dying, &opts).await;
    let (_, err) = report.failures().next().unwrap();
    assert_eq!(
        err.to_string(),
        "binding 'orders': sending outbox rows 1..=40 failed: relay died after SendMessageBatch"
    );
    assert_eq!(
        f.outbox_seqs("orders").await,
        (1..=40).collect::<Vec<i64>>()
    );

    let again = Recording {
        inner: f.sink(),
        sent: Mutex::new(Vec::new()),
    };
    let report = drain_all(&mut f.client, &again, &opts).await;
    assert_eq!(report.rows_sent(), 40);
    assert!(f.outbox_seqs("orders").await.is_empty());
    let first = dying.sent.into_inner().unwrap();
    let second = again.sent.into_inner().unwrap();
    assert_eq!(first.len(), 8);
    assert_eq!(first, second, "same messages, same deduplication ids");

    let received = f.receive(8).await;
    assert_eq!(received.len(), 8, "the resend was deduplicated");
    let seqs: Vec<i64> = changes_of(&received, "orders")
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>());
    let ids: Vec<String> = received
        .iter()
        .map(|r| r.dedup_id.clone().unwrap())
        .collect();
    let sent_ids: Vec<String> = second.iter().map(|m| m.dedup_id.clone()).collect();
    assert_eq!(ids, sent_ids);
}

#[tokio::test]
async fn an_unreachable_queue_keeps_the_rows_until_it_is_back() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute("INSERT INTO orders VALUES (1, 'a', 1), (2, 'b', 2)")
        .await
        .unwrap();
    let down = SqsSink::new(sqs_client_for(&closed_endpoint()), &f.queue_url);
    let report = drain_all(&mut f.client, &down, &DrainOptions::default()).await;
    let (binding, err) = report.failures().next().unwrap();
    assert_eq!(binding, "orders");
    assert!(
        matches!(
            err,
            OutboxError::Send {
                first_seq: 1,
                last_seq: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "binding 'orders': sending outbox rows 1..=2 failed: SendMessageBatch to "
        ),
        "{text}"
    );
    assert!(text.contains("dispatch failure"), "{text}");
    assert!(err.is_transient());
    assert_eq!(f.outbox_seqs("orders").await, vec![1, 2]);

    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!(report.rows_sent(), 2);
    let received = f.receive(1).await;
    assert_eq!(
        summary(&changes_of(&received, "orders")),
        vec![ins(1, "[1]"), ins(2, "[2]")]
    );
    assert!(f.outbox_seqs("orders").await.is_empty());
}

#[tokio::test]
async fn a_row_larger_than_a_message_is_refused_and_holds_back_its_binding() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute(
            "INSERT INTO orders VALUES (1, 'small', 1);
             INSERT INTO orders VALUES (2, repeat('h', 300000), 2);
             INSERT INTO orders VALUES (3, 'after', 3);
             INSERT INTO items VALUES ('A-1', 'bolt');",
        )
        .await
        .unwrap();
    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 1);
    let (binding, err) = failures[0];
    assert_eq!(binding, "orders");
    match err {
        OutboxError::RowTooLarge {
            seq,
            op,
            bytes,
            limit,
            ..
        } => {
            assert_eq!((*seq, op.as_str(), *limit), (2, "insert", 262_144));
            assert!(*bytes > 300_000, "{bytes}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("stays in the outbox"), "{err}");
    // Row 1 went out; the huge row and the one after it wait; the other
    // binding is unaffected.
    assert_eq!(f.outbox_seqs("orders").await, vec![2, 3]);
    assert!(f.outbox_seqs("items").await.is_empty());
    let received = f.receive(1).await;
    assert_eq!(
        summary(&changes_of(&received, "orders")),
        vec![ins(1, "[1]")]
    );
    assert_eq!(changes_of(&received, "items").len(), 1);

    // Draining again refuses the same row again: nothing is skipped.
    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert!(matches!(
        report.failures().next(),
        Some((_, OutboxError::RowTooLarge { seq: 2, .. }))
    ));
    assert_eq!(f.outbox_seqs("orders").await, vec![2, 3]);

    // The operator's way out (docs/operations.md): remove that outbox row.
    f.client
        .execute("DELETE FROM sheetsync.outbox WHERE seq = 2", &[])
        .await
        .unwrap();
    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!(report.rows_sent(), 1);
    let received = f.receive(1).await;
    assert_eq!(
        summary(&changes_of(&received, "orders")),
        vec![ins(3, "[3]")]
    );
}

#[tokio::test]
async fn a_drain_past_its_deadline_sends_nothing() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute("INSERT INTO orders VALUES (1, 'a', 1)")
        .await
        .unwrap();
    let sink = f.sink();
    let report = drain(
        &mut f.client,
        &sink,
        &Scope::All,
        &DrainOptions::default(),
        Instant::now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        report.bindings[0].outcome,
        BindingOutcome::Deadline
    ));
    assert_eq!(f.outbox_seqs("orders").await, vec![1]);
}

#[tokio::test]
async fn a_binding_another_relay_is_draining_is_skipped() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute(
            "INSERT INTO orders VALUES (1, 'a', 1); INSERT INTO items VALUES ('A-1', 'x')",
        )
        .await
        .unwrap();
    let other = f.db.client().await;
    other
        .batch_execute(&format!(
            "SELECT pg_advisory_lock({}, sheetsync.binding_lock_key('orders'))",
            sheetsync_store::locks::DRAIN
        ))
        .await
        .unwrap();
    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    let outcomes: Vec<(&str, bool)> = report
        .bindings
        .iter()
        .map(|b| {
            (
                b.binding.as_str(),
                matches!(b.outcome, BindingOutcome::OtherRelay),
            )
        })
        .collect();
    assert_eq!(outcomes, vec![("items", false), ("orders", true)]);
    assert_eq!(report.rows_sent(), 1);
    assert_eq!(f.outbox_seqs("orders").await, vec![1]);

    other
        .batch_execute(&format!(
            "SELECT pg_advisory_unlock({}, sheetsync.binding_lock_key('orders'))",
            sheetsync_store::locks::DRAIN
        ))
        .await
        .unwrap();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!(report.rows_sent(), 1);
    assert!(f.outbox_seqs("orders").await.is_empty());
}

/// Refuses the second entry of every request, as SQS may refuse one entry
/// of a batch (throttling, invalid parameters), and sends the rest.
struct RefusesSecond {
    inner: SqsSink,
}

impl QueueSink for RefusesSecond {
    async fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> Result<Vec<EntryOutcome>, SinkError> {
        let mut others: Vec<OutgoingMessage> = entries.to_vec();
        if others.len() > 1 {
            others.remove(1);
        }
        let mut outcomes = self.inner.send_batch(&others).await?;
        if entries.len() > 1 {
            outcomes.insert(
                1,
                EntryOutcome::Failed {
                    code: "ThrottlingException".into(),
                    message: "Rate exceeded".into(),
                },
            );
        }
        Ok(outcomes)
    }
}

#[tokio::test]
async fn a_refused_entry_keeps_its_rows_and_stops_the_binding() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute("INSERT INTO orders SELECT g, 'n', g FROM generate_series(1, 6) g")
        .await
        .unwrap();
    let opts = DrainOptions {
        limits: PackLimits {
            max_changes: 2,
            ..PackLimits::default()
        },
        ..DrainOptions::default()
    };
    let sink = RefusesSecond { inner: f.sink() };
    let report = drain_all(&mut f.client, &sink, &opts).await;
    let (_, err) = report.failures().next().unwrap();
    assert_eq!(
        err.to_string(),
        "binding 'orders': the queue refused the message with outbox rows 3..=4: ThrottlingException: Rate exceeded"
    );
    // Rows of accepted messages are gone; the refused message's rows stay.
    assert_eq!(f.outbox_seqs("orders").await, vec![3, 4]);
    assert_eq!(report.rows_sent(), 4);

    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &opts).await;
    assert_eq!(report.rows_sent(), 2);
    assert!(f.outbox_seqs("orders").await.is_empty());
}

/// Refuses every entry.
struct RefusesAll;

impl QueueSink for RefusesAll {
    async fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> Result<Vec<EntryOutcome>, SinkError> {
        Ok(entries
            .iter()
            .map(|_| EntryOutcome::Failed {
                code: "InvalidParameterValue".into(),
                message: "refused".into(),
            })
            .collect())
    }
}

#[tokio::test]
async fn a_refused_bundle_keeps_the_rows_of_every_binding_it_carries() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute(
            "INSERT INTO orders VALUES (1, 'a', 1);
             INSERT INTO items VALUES ('A-1', 'bolt');",
        )
        .await
        .unwrap();
    let report = drain_all(&mut f.client, &RefusesAll, &DrainOptions::default()).await;
    let mut failures: Vec<String> = report
        .failures()
        .map(|(b, e)| format!("{b}: {e}"))
        .collect();
    failures.sort();
    assert_eq!(
        failures,
        vec![
            "items: binding 'items': the queue refused the message with outbox rows 2..=2: InvalidParameterValue: refused",
            "orders: binding 'orders': the queue refused the message with outbox rows 1..=1: InvalidParameterValue: refused",
        ]
    );
    assert_eq!((report.rows_sent(), report.messages()), (0, 0));
    assert_eq!(f.outbox_seqs("orders").await, vec![1]);
    assert_eq!(f.outbox_seqs("items").await, vec![2]);

    let sink = f.sink();
    let report = drain_all(&mut f.client, &sink, &DrainOptions::default()).await;
    assert_eq!((report.rows_sent(), report.messages()), (2, 1));
    let received = f.receive(1).await;
    assert_eq!(
        summary(&changes_of(&received, "orders")),
        vec![ins(1, "[1]")]
    );
    assert_eq!(
        summary(&changes_of(&received, "items")),
        vec![ins(2, "[\"A-1\"]")]
    );
}

#[tokio::test]
async fn draining_a_binding_takes_along_the_other_tabs_of_its_spreadsheet() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        .await
        .unwrap();
    bind_to(&f.client, "notes", "S2", "Notes").await;
    f.client
        .batch_execute(
            "INSERT INTO orders VALUES (1, 'a', 1);
             INSERT INTO items VALUES ('A-1', 'bolt');
             INSERT INTO notes VALUES (1, 'n');",
        )
        .await
        .unwrap();
    let scope = Scope::Bindings(vec!["orders".into()]);
    let sink = f.sink();
    let report = drain(
        &mut f.client,
        &sink,
        &scope,
        &DrainOptions::default(),
        far(),
    )
    .await
    .unwrap();
    let sent: Vec<(&str, u64, u64)> = report
        .bindings
        .iter()
        .map(|b| (b.binding.as_str(), b.rows_sent, b.messages))
        .collect();
    assert_eq!(sent, vec![("items", 1, 1), ("orders", 1, 1)]);
    assert_eq!(report.messages(), 1);
    let received = f.receive(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].group_id.as_deref(), Some("S1"));
    assert_eq!(batches(&received).len(), 2);
    // The other spreadsheet's binding waits for its own drain.
    assert_eq!(f.outbox_seqs("notes").await, vec![3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_started_before_the_writer_commits_sends_after_the_commit() {
    // What an invoke from a trigger (RDS aws_lambda) sees: the relay runs
    // while the writer's transaction is still open.
    let f = Fixture::new().await;
    let writer = f.db.client().await;
    writer
        .batch_execute("BEGIN; INSERT INTO orders VALUES (1, 'a', 1);")
        .await
        .unwrap();
    let mut config = f.db.config();
    config.application_name("relay-busy-test");
    let (mut relay_client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let sink = f.sink();
    let relay = tokio::spawn(async move {
        sheetsync_outbox::drain::drain_until_idle(
            &mut relay_client,
            &sink,
            &Scope::Bindings(vec!["orders".into()]),
            &DrainOptions::default(),
            Instant::now() + std::time::Duration::from_secs(30),
            std::time::Duration::from_secs(20),
        )
        .await
        .unwrap()
    });
    // Wait until the relay has tried the writers' lock at least once.
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let tried: i64 = f
            .client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE application_name = 'relay-busy-test' AND datname = current_database()
                    AND query LIKE '%advisory_xact_lock%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if tried == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the relay never tried the lock");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(!relay.is_finished());
    writer.batch_execute("COMMIT").await.unwrap();
    let report = relay.await.unwrap();
    assert_eq!(report.rows_sent(), 1);
    // Whether the relay was waiting on the lock or between retries when the
    // writer committed, it sent the row after the commit, within one drain.
    assert!(report.failures().next().is_none(), "{report:?}");
    let received = f.receive(1).await;
    assert_eq!(
        summary(&changes_of(&received, "orders")),
        vec![ins(1, "[1]")]
    );
}

#[tokio::test]
async fn a_binding_with_a_backlog_takes_turns_with_the_others() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute("INSERT INTO items SELECT 'S-' || i, 'x' FROM generate_series(1, 25) i")
        .await
        .unwrap();
    f.client
        .batch_execute("INSERT INTO orders VALUES (1, 'a', 1)")
        .await
        .unwrap();
    let (queue, mut received) = sheetsync_outbox::MemoryQueue::new(100);
    let opts = DrainOptions {
        claim_rows: 10,
        ..DrainOptions::default()
    };
    let report = drain_all(&mut f.client, &queue, &opts).await;
    assert_eq!(report.rows_sent(), 26);
    // One turn is one claim: `orders` is sent with the first ten `items`
    // rows (one message for the spreadsheet), not after all of them; each
    // binding's own order holds.
    let mut order = Vec::new();
    while let Ok(m) = received.try_recv() {
        let message: Vec<_> = sheetsync_queue::decode_batches(&m.body)
            .unwrap()
            .into_iter()
            .map(|batch| {
                let seqs: Vec<i64> = batch.changes.iter().map(|c| c.seq).collect();
                (batch.binding, seqs.first().copied(), seqs.len())
            })
            .collect();
        order.push(message);
    }
    let part = |b: &str, first, n| (b.to_string(), Some(first), n);
    assert_eq!(
        order,
        vec![
            vec![part("items", 1, 10), part("orders", 26, 1)],
            vec![part("items", 11, 10)],
            vec![part("items", 21, 5)],
        ]
    );
    let outcomes: Vec<(&str, u64, bool)> = report
        .bindings
        .iter()
        .map(|b| {
            (
                b.binding.as_str(),
                b.rows_sent,
                matches!(b.outcome, BindingOutcome::Drained),
            )
        })
        .collect();
    assert_eq!(outcomes, vec![("items", 25, true), ("orders", 1, true)]);
    assert!(f.outbox_seqs("items").await.is_empty());
}
