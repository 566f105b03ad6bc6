//! A writer paced under the quota spends no request on a 429: the same
//! five-tab batch that a 429 storm hits (faults.rs) lands with none.

mod common;

use std::time::Duration;

use common::*;
use sheetsync_sheets::{Budget, Endpoints, Pace, SheetsClient, auth::parse_key};
use sheetsync_writer::Writer;
use tokio::time::Instant;

#[tokio::test]
async fn a_paced_writer_is_never_refused_and_applies_everything() {
    let env = setup().await;
    env.seed_five_tabs();
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
    let out = writer
        .apply(
            &messages_for_five_tabs(),
            Instant::now() + Duration::from_secs(60),
        )
        .await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(out.stats.rate_limited, 0, "{:?}", out.stats);
    assert_eq!(env.emu.counters().rate_limited, 0);
    assert_eq!(
        env.emu.counters().api_requests,
        out.stats.sheets_requests as u64
    );
    env.assert_five_tabs_applied();
}
