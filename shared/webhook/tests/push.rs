//! `POST /sync_gsheet` at most once per binding per interval: a second push
//! inside the interval answers `pending` and queues nothing.

mod common;

use std::time::Duration;

use serde_json::json;
use sheetsync_reconcile::ConflictPolicy;

use common::{Env, SHEET, SPREADSHEET, setup_with, signed};

async fn env_with_interval(secs: u64) -> Env {
    setup_with(ConflictPolicy::Latest, |mut config| {
        config.push_min_interval = Duration::from_secs(secs);
        config
    })
    .await
}

fn push(event_id: &str) -> String {
    json!({"v": 1, "event_id": event_id, "spreadsheet_id": SPREADSHEET, "sheet": SHEET}).to_string()
}

const OUTBOX: &str = "SELECT count(*) FROM sheetsync.outbox";

#[tokio::test]
async fn a_second_push_inside_the_interval_is_pending_and_queues_nothing() {
    let env = env_with_interval(60).await;
    let first = env
        .webhook
        .handle(signed("/sync_gsheet", &push("p-1")))
        .await;
    assert_eq!(
        (first.status, &first.body()),
        (200, &json!({"event_id": "p-1", "queued": 5}))
    );
    assert_eq!(env.count(OUTBOX).await, 6);

    let second = env
        .webhook
        .handle(signed("/sync_gsheet", &push("p-2")))
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body()["event_id"], "p-2");
    assert_eq!(second.body()["queued"], 0);
    assert_eq!(second.body()["pending"], true);
    let wait = second.body()["retry_after_secs"].as_u64().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(env.count(OUTBOX).await, 6);
    // Not recorded: the same event asked again later is a new try.
    assert_eq!(
        env.count("SELECT count(*) FROM sheetsync.processed_events WHERE event_id = 'p-2'")
            .await,
        0
    );
    // A retry of the first event still answers its own first answer.
    let again = env
        .webhook
        .handle(signed("/sync_gsheet", &push("p-1")))
        .await;
    assert_eq!(again.body(), first.body());

    // Once the interval has passed (moved back in time rather than waited
    // for), the next push queues again.
    env.client
        .batch_execute(
            "UPDATE sheetsync.bindings SET last_push_at = last_push_at - interval '61 seconds'",
        )
        .await
        .unwrap();
    let third = env
        .webhook
        .handle(signed("/sync_gsheet", &push("p-3")))
        .await;
    assert_eq!(
        (third.status, &third.body()),
        (200, &json!({"event_id": "p-3", "queued": 5}))
    );
    assert_eq!(env.count(OUTBOX).await, 12);
}

#[tokio::test]
async fn pushes_at_once_queue_the_table_once() {
    let env = env_with_interval(60).await;
    let (a, b) = tokio::join!(
        env.webhook.handle(signed("/sync_gsheet", &push("c-1"))),
        env.webhook.handle(signed("/sync_gsheet", &push("c-2"))),
    );
    let mut queued = [a.body()["queued"].as_u64(), b.body()["queued"].as_u64()];
    queued.sort();
    assert_eq!(queued, [Some(0), Some(5)], "{} {}", a.body(), b.body());
    assert_eq!(env.count(OUTBOX).await, 6);
}

#[tokio::test]
async fn an_interval_of_zero_is_no_limit() {
    let env = env_with_interval(0).await;
    for id in ["z-1", "z-2"] {
        let resp = env.webhook.handle(signed("/sync_gsheet", &push(id))).await;
        assert_eq!(resp.body()["queued"], 5, "{}", resp.body());
    }
    assert_eq!(env.count(OUTBOX).await, 12);
}
