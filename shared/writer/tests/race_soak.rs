//! Many batches, each raced by people moving rows before every write the
//! writer makes (its repairs included): seeded, checked against an oracle
//! of what the tab must hold. `SHEETSYNC_RACE_ROUNDS` sets the batches.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{Value as Json, json};
use sheetsync_queue::Op;
use sheetsync_sheets_emulator::Cell;

/// A person's move of rows (content kept): sort by a column, or a drag.
fn person(seed: u64) -> impl FnOnce(&mut Vec<Vec<Cell>>) + Send + 'static {
    move |rows: &mut Vec<Vec<Cell>>| {
        let mut rng = Rng(seed);
        let data = rows.len().saturating_sub(1);
        if data < 2 {
            return;
        }
        match rng.below(3) {
            0 => {
                let col = rng.below(3);
                rows[1..].sort_by_key(|r| r.get(col).map(|c| format!("{:?}", c.value)));
            }
            1 => rows[1..].reverse(),
            _ => {
                let from = 1 + rng.below(data);
                let row = rows.remove(from);
                let to = 1 + rng.below(data);
                rows.insert(to.min(rows.len()), row);
            }
        }
    }
}

/// `SHEETSYNC_RACE_ROUNDS` batches (40) from `SHEETSYNC_SEED` (5).
fn soak_settings() -> (usize, u64) {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    (
        var("SHEETSYNC_RACE_ROUNDS").map_or(40, |n: u64| n as usize),
        var("SHEETSYNC_SEED").unwrap_or(5),
    )
}

#[tokio::test]
async fn batches_raced_by_row_moves_land_every_change_on_its_row() {
    let (rounds, seed) = soak_settings();
    let mut rng = Rng(seed);
    let env = setup().await;
    // The oracle: key → (name, qty). Row 0 of the tab is the header.
    let mut want = Oracle::new();
    let mut rows = vec![header()];
    for id in 1..=30 {
        want.insert(id, (format!("n{id}"), id));
        rows.push(vec![json!(id), json!(format!("n{id}")), json!(id)]);
    }
    // A row a person typed without a key: never touched by the writer.
    rows.push(vec![Json::Null, json!("typed"), json!(-1)]);
    env.seed(rows);
    let mut seq = 0;
    let mut next_id = 100;
    let writes = Arc::new(Mutex::new(0usize));
    for round in 0..rounds {
        let mut changes: Vec<(i64, Op)> = Vec::new();
        for _ in 0..1 + rng.below(8) {
            seq += 1;
            changes.push((seq, random_change(&mut rng, &mut want, seq, &mut next_id)));
        }
        // People move rows before each of the next few writes.
        for _ in 0..rng.below(4) {
            env.emu
                .before_next_write(SPREADSHEET, TAB, person(rng.next()));
        }
        let out = env
            .apply(&[message(&format!("m{round}"), &batch(changes))])
            .await;
        *writes.lock().unwrap() += out.stats.sheets_requests;
        assert_eq!(out.failed, Vec::<String>::new(), "round {round}");
        let got = tab_as_oracle(&env, TAB, round);
        assert_eq!(got, want, "round {round} (seed {seed})");
    }
}

/// The tab's keyed rows as the oracle holds them; the typed row once.
fn tab_as_oracle(env: &Env, tab: &str, round: usize) -> Oracle {
    let mut got = Oracle::new();
    let mut typed = 0;
    for r in &env.rows_of(tab)[1..] {
        if r.is_empty() {
            continue;
        }
        match r[0].as_f64() {
            Some(id) => {
                let prev = got.insert(
                    id as i64,
                    (
                        r[1].as_str().unwrap_or("").to_string(),
                        r[2].as_f64().unwrap_or(f64::NAN) as i64,
                    ),
                );
                assert!(prev.is_none(), "round {round}, {tab}: key {id} twice");
            }
            None => {
                assert_eq!(r[1..3], [json!("typed"), json!(-1.0)], "round {round}");
                typed += 1;
            }
        }
    }
    assert_eq!(typed, 1, "round {round}, {tab}: the typed row");
    got
}

/// As above, with three tabs of one spreadsheet in each batch (grouped by
/// spreadsheet, as the relay sends them): their messages interleave, each
/// tab's in order, and people move rows of any of them before any write,
/// so a shared write may land on some tabs and miss on others.
#[tokio::test]
async fn a_spreadsheets_tabs_raced_by_row_moves_land_every_change_on_its_row() {
    const TABS: [&str; 3] = ["Orders", "Returns", "Stock"];
    let (rounds, seed) = soak_settings();
    let mut rng = Rng(seed ^ 0x7ab5);
    let env = setup().await;
    let mut wants: Vec<Oracle> = Vec::new();
    for tab in TABS {
        let mut want = Oracle::new();
        let mut rows = vec![header()];
        for id in 1..=20 {
            want.insert(id, (format!("{tab}{id}"), id));
            rows.push(vec![json!(id), json!(format!("{tab}{id}")), json!(id)]);
        }
        rows.push(vec![Json::Null, json!("typed"), json!(-1)]);
        env.seed_tab(tab, rows);
        wants.push(want);
    }
    let mut seqs = [0i64; 3];
    let mut next_ids = [100i64; 3];
    for round in 0..rounds {
        let mut messages = Vec::new();
        for m in 0..1 + rng.below(6) {
            let t = rng.below(TABS.len());
            let mut changes: Vec<(i64, Op)> = Vec::new();
            for _ in 0..1 + rng.below(4) {
                seqs[t] += 1;
                let op = random_change(&mut rng, &mut wants[t], seqs[t], &mut next_ids[t]);
                changes.push((seqs[t], op));
            }
            messages.push(grouped(
                &format!("r{round}m{m}"),
                &batch_for(TABS[t], changes),
            ));
        }
        for _ in 0..rng.below(4) {
            let tab = TABS[rng.below(TABS.len())];
            env.emu
                .before_next_write(SPREADSHEET, tab, person(rng.next()));
        }
        let out = env.apply(&messages).await;
        assert_eq!(out.failed, Vec::<String>::new(), "round {round}");
        for (t, tab) in TABS.iter().enumerate() {
            assert_eq!(
                tab_as_oracle(&env, tab, round),
                wants[t],
                "round {round}, {tab} (seed {seed})"
            );
        }
    }
}
