//! Several service accounts: each spreadsheet is written by one of them,
//! so their per-user quotas add up; and a batch's minimum interval.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sheetsync_sheets::{Endpoints, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::{GoogleQuotas, TEST_PROJECT_ACCOUNTS};
use sheetsync_writer::{Writer, account_for};
use tokio::time::Instant;

/// Two spreadsheets that [`account_for`] gives to different accounts of two.
const SHEETS: [&str; 2] = ["S-alpha", "S-gamma"];

async fn client(env: &Env, account: usize) -> SheetsClient {
    let mut key: serde_json::Value = serde_json::from_str(&env.emu.service_account_key()).unwrap();
    if account > 0 {
        key["client_email"] = format!("writer-{account}{TEST_PROJECT_ACCOUNTS}").into();
    }
    let endpoints = Endpoints {
        root_url: Some(env.emu.root_url()),
        token_uri: None,
    };
    SheetsClient::new(parse_key(&key.to_string()).unwrap(), &endpoints)
        .await
        .unwrap()
}

/// One message per spreadsheet, in a group of its own.
fn messages() -> Vec<sheetsync_writer::Message> {
    SHEETS
        .iter()
        .map(|s| {
            let mut b = batch(vec![(1, upd(1, json!({"qty": 9})))]);
            b.spreadsheet_id = s.to_string();
            grouped(s, &b)
        })
        .collect()
}

async fn seeded() -> Env {
    let env = setup().await;
    for s in SHEETS {
        env.emu.add_sheet(s, TAB);
        env.emu.set_rows(
            s,
            TAB,
            vec![header(), vec![json!(1), json!("Ada"), json!(1)]],
        );
    }
    // Two reads and one write a minute per account: one spreadsheet's
    // batch (a refused journal read, a key read, a row read, a write) is
    // already over it, two are far over.
    env.emu.faults().set_google_quotas(Some(GoogleQuotas {
        read_per_user: 3,
        read_per_project: 300,
        write_per_user: 1,
        write_per_project: 300,
    }));
    env
}

#[test]
fn the_account_of_a_spreadsheet_is_stable_and_spread() {
    assert_ne!(account_for(SHEETS[0], 2), account_for(SHEETS[1], 2));
    assert_eq!(account_for("S-alpha", 1), 0);
    assert_eq!(account_for("", 0), 0);
    // A hundred spreadsheets over five accounts: each gets a fair share.
    let mut used = [0; 5];
    for s in 0..100 {
        used[account_for(&format!("sheet-{s}"), 5)] += 1;
    }
    assert!(used.iter().all(|&n| (10..=30).contains(&n)), "{used:?}");
}

#[tokio::test]
async fn each_account_writes_its_own_spreadsheets_within_its_quota() {
    let env = seeded().await;
    let writer = Writer::new(client(&env, 0).await).with_account(client(&env, 1).await);
    let out = writer
        .apply(&messages(), Instant::now() + Duration::from_secs(5))
        .await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(env.emu.counters().rate_limited, 0);
    for s in SHEETS {
        assert_eq!(
            norm(env.emu.rows(s, TAB)),
            expect(json!([["id", "name", "qty", "due"], [1, "Ada", 9]])),
            "{s}"
        );
    }
}

#[tokio::test]
async fn one_account_for_both_runs_over_its_quota() {
    let env = seeded().await;
    let writer = Writer::new(client(&env, 0).await);
    let out = writer
        .apply(&messages(), Instant::now() + Duration::from_millis(500))
        .await;
    assert!(env.emu.counters().rate_limited > 0);
    assert!(!out.failed.is_empty());
}

#[tokio::test]
async fn a_batch_that_wrote_lasts_at_least_its_minimum_interval() {
    let env = setup().await;
    env.seed(vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
    let writer =
        Writer::new(client(&env, 0).await).with_min_batch_interval(Duration::from_millis(700));
    let m = message("m1", &batch(vec![(1, upd(1, json!({"qty": 3})))]));
    let started = Instant::now();
    let out = writer.apply(&[m], started + Duration::from_secs(30)).await;
    assert!(out.failed.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(700));
    // Nothing to apply, no request made: no wait.
    let started = Instant::now();
    writer.apply(&[], started + Duration::from_secs(30)).await;
    assert!(started.elapsed() < Duration::from_millis(700));
}
