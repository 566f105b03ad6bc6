//! The long-running relay: LISTEN, drain on notification, reconnect after
//! a lost connection, stop on request. Uses the in-process queue the local
//! stack runs with.

mod common;

use std::time::Duration;

use common::*;
use sheetsync_outbox::{ListenOptions, MemoryQueue, listen};
use sheetsync_queue::ChangeBatch;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::NoTls;

const APP: &str = "sheetsync-relay-test";

/// The LISTEN relay in a task; a send on the answered channel stops it.
fn spawn_relay(
    config: tokio_postgres::Config,
    queue: MemoryQueue,
    opts: ListenOptions,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let relay = tokio::spawn(async move {
        listen(&config, NoTls, &queue, &opts, async {
            let _ = stopped.await;
        })
        .await;
    });
    (stop, relay)
}

async fn next_keys(rx: &mut mpsc::Receiver<sheetsync_queue::Message>) -> Vec<String> {
    let message = tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("no message within 15 s")
        .expect("queue closed");
    let batch = ChangeBatch::decode(&message.body).unwrap();
    summary(&batch.changes)
        .into_iter()
        .map(|(_, op, key)| format!("{op} {key}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listen_loop_delivers_changes_reconnects_and_stops() {
    let f = Fixture::new().await;
    let mut config = f.db.config();
    config.application_name(APP);
    let (queue, mut rx) = MemoryQueue::new(100);
    let opts = ListenOptions {
        // Only notifications and reconnects drain in this test.
        safety_interval: Duration::from_secs(3600),
        backoff_min: Duration::from_millis(50),
        ..ListenOptions::default()
    };
    let (stop, relay) = spawn_relay(config, queue, opts);

    f.client
        .batch_execute("INSERT INTO orders VALUES (1, 'a', 1)")
        .await
        .unwrap();
    assert_eq!(next_keys(&mut rx).await, vec!["insert [1]"]);

    // Now certainly listening: this one comes by notification.
    f.client
        .batch_execute("UPDATE orders SET qty = 7 WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(next_keys(&mut rx).await, vec!["update [1]"]);

    // A lost connection: the relay reconnects and catches up.
    let killed: i64 = f
        .client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE application_name = $1 AND datname = current_database()",
            &[&APP],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    f.client
        .batch_execute("INSERT INTO items VALUES ('A-1', 'bolt')")
        .await
        .unwrap();
    assert_eq!(next_keys(&mut rx).await, vec![r#"insert ["A-1"]"#]);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), relay)
        .await
        .expect("the relay did not stop")
        .unwrap();
    assert!(f.outbox_seqs("orders").await.is_empty());
    assert!(f.outbox_seqs("items").await.is_empty());
}

#[tokio::test]
async fn the_timer_drains_what_no_notification_announced() {
    let f = Fixture::new().await;
    let mut config = f.db.config();
    config.application_name(APP);
    let (queue, mut rx) = MemoryQueue::new(100);
    let opts = ListenOptions {
        safety_interval: Duration::from_millis(300),
        ..ListenOptions::default()
    };
    let (stop, relay) = spawn_relay(config, queue, opts);
    // Wait until the relay is idle after a drain that found nothing: it is
    // then waiting for a notification or its timer.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let idle: i64 = f
            .client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE application_name = $1 AND datname = current_database() AND state = 'idle'
                    AND query LIKE 'SELECT b.name FROM sheetsync.bindings%'",
                &[&APP],
            )
            .await
            .unwrap()
            .get(0);
        if idle == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the relay never idled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // An enqueue outside the capture trigger sends no notification.
    f.client
        .batch_execute("SELECT sheetsync.enqueue('orders', 'delete', '[9]', NULL)")
        .await
        .unwrap();
    assert_eq!(next_keys(&mut rx).await, vec!["delete [9]"]);
    stop.send(()).unwrap();
    relay.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_larger_than_one_drain_budget_is_drained_without_waiting_for_the_timer() {
    let f = Fixture::new().await;
    f.client
        .batch_execute("INSERT INTO orders SELECT g, 'n', g FROM generate_series(1, 3000) g")
        .await
        .unwrap();
    let config = f.db.config();
    let (queue, mut rx) = MemoryQueue::new(1000);
    let opts = ListenOptions {
        safety_interval: Duration::from_secs(3600),
        drain_budget: Duration::from_millis(30),
        drain: sheetsync_outbox::DrainOptions {
            claim_rows: 50,
            ..Default::default()
        },
        ..ListenOptions::default()
    };
    let (stop, relay) = spawn_relay(config, queue, opts);
    let mut seqs = Vec::new();
    while seqs.len() < 3000 {
        let message = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the backlog stalled")
            .unwrap();
        let batch = ChangeBatch::decode(&message.body).unwrap();
        seqs.extend(batch.changes.iter().map(|c| c.seq));
    }
    assert_eq!(seqs, (1..=3000).collect::<Vec<i64>>());
    stop.send(()).unwrap();
    relay.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lingering_binding_sends_its_burst_as_one_message_after_the_first() {
    let f = Fixture::new().await;
    let config = f.db.config();
    let (queue, mut rx) = MemoryQueue::new(100);
    let opts = ListenOptions {
        safety_interval: Duration::from_secs(3600),
        // Far longer than the five commits below take.
        linger: Duration::from_secs(3),
        ..ListenOptions::default()
    };
    let (stop, relay) = spawn_relay(config, queue, opts);
    f.client
        .batch_execute("INSERT INTO orders VALUES (1, 'a', 1)")
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("the first change goes at once")
        .unwrap();
    for id in 2..=5 {
        f.client
            .execute("INSERT INTO orders VALUES ($1, 'b', 1)", &[&id])
            .await
            .unwrap();
    }
    let second = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("the burst is sent once the linger is over")
        .unwrap();
    let seqs = |m: &sheetsync_queue::Message| -> Vec<i64> {
        ChangeBatch::decode(&m.body)
            .unwrap()
            .changes
            .iter()
            .map(|c| c.seq)
            .collect()
    };
    assert_eq!(seqs(&first), vec![1]);
    assert_eq!(seqs(&second), vec![2, 3, 4, 5]);
    assert!(rx.try_recv().is_err());
    stop.send(()).unwrap();
    relay.await.unwrap();
}
