//! A person who keeps sorting a large tab while the writer applies batch
//! after batch: the sorts land at any moment, inside the writer's read →
//! write windows or not. Every change must end on its own row and the
//! journal must settle; what a batch costs is printed.
//! `SHEETSYNC_SORT_ROWS`, `SHEETSYNC_SORT_EVERY_MS` and
//! `SHEETSYNC_SORT_BATCHES` scale it.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use serde_json::{Value as Json, json};
use sheetsync_queue::Op;
use sheetsync_sheets_emulator::Cell;
use tokio::time::Instant;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sort_key(cell: Option<&Cell>) -> String {
    cell.map(|c| format!("{:?}", c.value)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sorting_all_along_loses_no_change() {
    let rows = env_or("SHEETSYNC_SORT_ROWS", 300) as i64;
    let every = Duration::from_millis(env_or("SHEETSYNC_SORT_EVERY_MS", 100));
    let batches = env_or("SHEETSYNC_SORT_BATCHES", 30) as usize;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let env = setup().await;
    let mut want = Oracle::new();
    let mut tab = vec![header()];
    for id in 1..=rows {
        want.insert(id, (format!("n{id}"), id));
        tab.push(vec![json!(id), json!(format!("n{id}")), json!(id)]);
    }
    // Rows a person typed without a key: never touched by the writer.
    for n in 0..3 {
        tab.push(vec![Json::Null, json!(format!("typed{n}")), json!(-1)]);
    }
    env.seed(tab);
    let stop = AtomicBool::new(false);
    let sorts = AtomicUsize::new(0);
    let sorter = async {
        let mut rng = Rng(7);
        while !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(every).await;
            let col = rng.below(4);
            env.emu.edit_rows(SPREADSHEET, TAB, |rows| match col {
                3 => rows[1..].reverse(),
                col => rows[1..].sort_by_key(|r| sort_key(r.get(col))),
            });
            sorts.fetch_add(1, Ordering::SeqCst);
        }
    };
    let writer = async {
        let mut rng = Rng(11);
        let mut seq = 0;
        let mut redelivered = 0;
        let mut next_id = rows + 1000;
        println!("batch  misplaced  restored  requests     ms  deliveries");
        for n in 0..batches {
            let mut changes: Vec<(i64, Op)> = Vec::new();
            for _ in 0..10 {
                seq += 1;
                changes.push((seq, random_change(&mut rng, &mut want, seq, &mut next_id)));
            }
            let started = Instant::now();
            let message = message(&format!("m{n}"), &batch(changes));
            // A batch reported failed is redelivered, as SQS does.
            let mut deliveries = 0;
            let mut stats = Vec::new();
            loop {
                deliveries += 1;
                let out = env.apply(std::slice::from_ref(&message)).await;
                stats.push((
                    out.stats.misplaced,
                    out.stats.rows_restored,
                    out.stats.sheets_requests,
                ));
                if out.failed.is_empty() {
                    break;
                }
                assert!(deliveries < 20, "batch {n} failed {deliveries} times");
            }
            redelivered += deliveries - 1;
            let (misplaced, restored, requests) = stats
                .iter()
                .fold((0, 0, 0), |a, s| (a.0 + s.0, a.1 + s.1, a.2 + s.2));
            println!(
                "{n:>5}  {misplaced:>9}  {restored:>8}  {requests:>8}  {:>5}  {}",
                started.elapsed().as_millis(),
                deliveries
            );
        }
        stop.store(true, Ordering::SeqCst);
        println!("{redelivered} redeliveries");
    };
    tokio::join!(sorter, writer);
    println!("{} sorts", sorts.load(Ordering::SeqCst));
    let mut got = Oracle::new();
    let mut typed = Vec::new();
    for r in &env.rows()[1..] {
        let Some(id) = r[0].as_f64() else {
            typed.push(r.clone());
            continue;
        };
        let id = id as i64;
        let name = r[1].as_str().unwrap_or("").to_string();
        let qty = r[2].as_f64().unwrap_or(f64::NAN) as i64;
        assert!(got.insert(id, (name, qty)).is_none(), "key {id} twice");
    }
    assert_eq!(got, want);
    typed.sort_by_key(|r| r[1].to_string());
    let typed_want: Vec<Vec<Json>> = (0..3)
        .map(|n| vec![Json::Null, json!(format!("typed{n}")), json!(-1.0)])
        .collect();
    assert_eq!(typed, typed_want);
}
