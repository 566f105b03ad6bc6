//! A writer paced under the quota spends no request on a 429: the same
//! five-tab batch that a 429 storm hits (faults.rs) lands with none.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sheetsync_sheets::{Budget, Endpoints, Pace, SheetsClient, auth::parse_key};
use sheetsync_writer::{Message, Writer};
use tokio::time::Instant;

#[tokio::test]
async fn a_paced_writer_is_never_refused_and_applies_everything() {
    let env = setup().await;
    let tabs = ["T1", "T2", "T3", "T4", "T5"];
    for tab in tabs {
        env.seed_tab(tab, vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
    }
    // At most 10 requests in any second; paced at one read and one write
    // every 250 ms, a second holds at most 5 of each, however the window
    // falls between them.
    env.emu.faults().set_quota(10, Duration::from_secs(1));
    let key = parse_key(&env.emu.service_account_key()).unwrap();
    let endpoints = Endpoints {
        root_url: Some(env.emu.root_url()),
        token_uri: None,
    };
    let budget = Budget {
        reads_per_minute: Some(240),
        writes_per_minute: Some(240),
    };
    let writer = Writer::new(
        SheetsClient::new(key, &endpoints)
            .await
            .unwrap()
            .with_pace(Pace::new(budget)),
    );
    env.emu.reset_log();
    let messages: Vec<Message> = tabs
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let b = batch_for(
                tab,
                vec![
                    (1, upd(1, json!({"qty": i + 10}))),
                    (2, ins(2, json!({"id": 2, "name": "new"}))),
                ],
            );
            message(&format!("m{i}"), &b)
        })
        .collect();
    let out = writer
        .apply(&messages, Instant::now() + Duration::from_secs(60))
        .await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(out.stats.rate_limited, 0, "{:?}", out.stats);
    assert_eq!(env.emu.counters().rate_limited, 0);
    assert_eq!(
        env.emu.counters().api_requests,
        out.stats.sheets_requests as u64
    );
    for (i, tab) in tabs.iter().enumerate() {
        assert_eq!(
            env.rows_of(tab),
            expect(json!([
                ["id", "name", "qty", "due"],
                [1, "Ada", i + 10],
                [2, "new"]
            ])),
            "{tab}"
        );
    }
}
