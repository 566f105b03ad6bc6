//! The writer under quota, server errors, lost responses and poison messages.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sheetsync_writer::Message;

fn orders() -> Vec<Vec<serde_json::Value>> {
    vec![header(), vec![json!(1), json!("Ada"), json!(1)]]
}

#[tokio::test]
async fn a_429_storm_ends_with_every_change_applied_once() {
    let env = setup().await;
    env.seed_five_tabs();
    // Five tabs need ten requests; the quota allows three per second.
    env.emu.faults().set_quota(3, Duration::from_secs(1));
    env.emu.reset_log();
    let out = env.apply(&messages_for_five_tabs()).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert!(out.stats.rate_limited > 0, "{:?}", out.stats);
    assert!(env.emu.counters().rate_limited > 0);
    env.assert_five_tabs_applied();
}

#[tokio::test]
async fn a_5xx_burst_is_retried() {
    let env = setup().await;
    env.seed(orders());
    env.emu.faults().fail_next(3, 503);
    let b = batch(vec![(1, ins(2, json!({"id": 2, "name": "new"})))]);
    let out = env.apply(&[message("m1", &b)]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 1],
            [2, "new"]
        ]))
    );
    // three 503s, then the first batch's two reads (no journal yet) and its write
    assert_eq!(out.stats.sheets_requests, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_response_does_not_append_twice() {
    let env = std::sync::Arc::new(setup().await);
    env.seed(orders());
    // The tab's journal exists, so the batch's first read is its only one.
    let first = batch(vec![(1, upd(1, json!({"name": "Ada"})))]);
    assert!(env.apply(&[message("m0", &first)]).await.failed.is_empty());
    env.emu.reset_log();
    // Every call waits 300 ms in the emulator; once the read has been
    // answered, the batchUpdate is in that wait when its fault is armed: it
    // lands, but its answer is a 502.
    env.emu.faults().set_latency(Duration::from_millis(300));
    let b = batch(vec![(2, ins(2, json!({"id": 2, "name": "new"})))]);
    let task = {
        let env = env.clone();
        tokio::spawn(async move { env.apply(&[message("m1", &b)]).await })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !env
        .emu
        .requests()
        .iter()
        .any(|r| r.operation == "spreadsheets.get")
    {
        assert!(tokio::time::Instant::now() < deadline, "no read seen");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    env.emu.faults().fail_next_after_apply(1, 502);
    let out = task.await.unwrap();
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 1],
            [2, "new"]
        ]))
    );
    // The retry read the watermark the lost write had stamped, and wrote nothing.
    assert_eq!((out.stats.stale, out.stats.sheets_requests), (1, 3));
    assert_eq!(env.emu.counters().server_errors, 1);
}

#[tokio::test]
async fn a_poison_message_and_every_later_one_of_its_group_are_reported() {
    let env = setup().await;
    env.seed(orders());
    env.seed_tab("Other", orders());
    let m1 = message("m1", &batch(vec![(1, upd(1, json!({"qty": 2})))]));
    let poison = Message {
        message_id: "m2".into(),
        group_id: m1.group_id.clone(),
        body: "{not json".into(),
    };
    let m3 = message("m3", &batch(vec![(3, upd(1, json!({"qty": 3})))]));
    let mut v2 = batch(vec![(4, upd(1, json!({"qty": 4})))]);
    v2.v = 2;
    let m4 = message("m4", &v2);
    let other = message(
        "o1",
        &batch_for("Other", vec![(1, upd(1, json!({"qty": 9})))]),
    );
    let out = env.apply(&[m1, poison, m3, other, m4]).await;
    assert_eq!(out.failed, vec!["m2", "m3", "m4"]);
    assert_eq!(env.rows()[1], expect(json!([[1, "Ada", 2]]))[0]);
    assert_eq!(env.rows_of("Other")[1], expect(json!([[1, "Ada", 9]]))[0]);
    assert_eq!(env.watermark().as_deref(), Some("1"));
}

#[tokio::test]
async fn a_wrong_version_first_holds_back_its_group() {
    let env = setup().await;
    env.seed(orders());
    let mut v2 = batch(vec![(1, upd(1, json!({"qty": 4})))]);
    v2.v = 2;
    let ok = message("m2", &batch(vec![(2, upd(1, json!({"qty": 5})))]));
    let out = env.apply(&[message("m1", &v2), ok]).await;
    assert_eq!(out.failed, vec!["m1", "m2"]);
    assert_eq!(env.rows()[1], expect(json!([[1, "Ada", 1]]))[0]);
}

#[tokio::test]
async fn unknown_spreadsheet_or_tab_fails_without_retrying() {
    let env = setup().await;
    env.seed(orders());
    let mut lost = batch(vec![(1, upd(1, json!({"qty": 2})))]);
    lost.spreadsheet_id = "no-such-sheet".into();
    let mut lost_tab = batch_for("Nope", vec![(1, upd(1, json!({"qty": 2})))]);
    lost_tab.binding = "other".into();
    env.emu.reset_log();
    let out = env
        .apply(&[message("m1", &lost), message("m2", &lost_tab)])
        .await;
    assert_eq!(out.failed, vec!["m1", "m2"]);
    // 404 for the spreadsheet; for the tab, the read with its journal and
    // the read of the tab alone both answer 400, once each.
    assert_eq!(env.api_requests(), 3);
}

#[tokio::test]
async fn retries_stop_at_the_deadline() {
    let env = setup().await;
    env.seed(orders());
    env.emu.faults().fail_next(1000, 500);
    let b = batch(vec![(1, upd(1, json!({"qty": 2})))]);
    let started = tokio::time::Instant::now();
    let out = env
        .writer
        .apply(&[message("m1", &b)], started + Duration::from_millis(300))
        .await;
    assert_eq!(out.failed, vec!["m1"]);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(out.stats.sheets_requests > 1);
}

#[tokio::test]
async fn a_hung_request_is_abandoned_at_the_deadline_and_its_group_stops() {
    let env = setup().await;
    env.seed(orders());
    env.seed_tab("Other", orders());
    env.emu.faults().set_latency(Duration::from_secs(5));
    let first = message("m1", &batch(vec![(1, upd(1, json!({"qty": 2})))]));
    // Same group, another tab of the spreadsheet: read and written
    // together with the first, so the hung request stops both.
    let mut other = batch_for("Other", vec![(2, upd(1, json!({"qty": 2})))]);
    other.binding = first.group_id.clone().unwrap();
    let second = message("m2", &other);
    let started = tokio::time::Instant::now();
    let out = env
        .writer
        .apply(&[first, second], started + Duration::from_millis(300))
        .await;
    assert_eq!(out.failed, vec!["m1", "m2"]);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.stats.tabs, 2);
}

#[tokio::test]
async fn groups_are_applied_concurrently() {
    let env = setup().await;
    let tabs = ["T1", "T2", "T3", "T4"];
    for tab in tabs {
        env.seed_tab(tab, orders());
    }
    env.emu.faults().set_latency(Duration::from_millis(300));
    let messages: Vec<Message> = tabs
        .iter()
        .map(|tab| message(tab, &batch_for(tab, vec![(1, upd(1, json!({"qty": 5})))])))
        .collect();
    let started = tokio::time::Instant::now();
    let out = env.apply(&messages).await;
    assert!(out.failed.is_empty());
    // Concurrently: a token, a read and a write, about 900 ms. Four tabs
    // one after another would take at least 4 x 2 x 300 ms.
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
    for tab in tabs {
        assert_eq!(env.rows_of(tab)[1], expect(json!([[1, "Ada", 5]]))[0]);
    }
}

#[tokio::test]
async fn a_poison_message_without_a_group_holds_back_everything_after_it() {
    let env = setup().await;
    env.seed(orders());
    env.seed_tab("Other", orders());
    let ungrouped = |id: &str, b: &sheetsync_queue::ChangeBatch| Message {
        group_id: None,
        ..message(id, b)
    };
    // Without the attribute, a decodable message's group is its binding.
    let m1 = ungrouped("m1", &batch(vec![(1, upd(1, json!({"qty": 2})))]));
    let poison = Message {
        message_id: "p".into(),
        group_id: None,
        body: String::new(),
    };
    let m2 = ungrouped("m2", &batch(vec![(2, upd(1, json!({"qty": 3})))]));
    let o1 = ungrouped(
        "o1",
        &batch_for("Other", vec![(1, upd(1, json!({"qty": 9})))]),
    );
    let out = env.apply(&[m1, poison, m2, o1]).await;
    assert_eq!(out.failed, vec!["p", "m2", "o1"]);
    assert_eq!(env.rows()[1], expect(json!([[1, "Ada", 2]]))[0]);
    assert_eq!(env.rows_of("Other")[1], expect(json!([[1, "Ada", 1]]))[0]);
}
