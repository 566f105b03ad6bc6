//! Writer benchmark on a large tab: a 10-change batch on a 100,000-row ×
//! 20-column tab, with the emulator holding Google's per-minute quotas and
//! counting bodies over the 2 MB payload guidance. Prints a markdown table:
//! Sheets API requests, bytes downloaded, time, and the writer's peak RSS,
//! for the writer's first batch on the tab and for a later one.
//!
//! `cargo run --release -p sheetsync-writer --example large_tab`
//!
//! The emulator runs in this process and the writer in a child (this same
//! binary, `--writer`), so the child's VmHWM is the writer's alone. The
//! child applies its batches one at a time when told to, and the emulator's
//! counters are reset before each, so they count that batch alone.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use sheetsync_queue::{ChangeBatch, ColumnType, Op, RowChange, VERSION};
use sheetsync_reconcile::PgType;
use sheetsync_sheets::{Endpoints, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::{Emulator, GoogleQuotas, PayloadLimit};
use sheetsync_writer::{Message, Writer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SPREADSHEET: &str = "large";
const TAB: &str = "Big";
const ROWS: i64 = 100_000;
const COLUMNS: usize = 20;

fn columns() -> Vec<ColumnType> {
    let mut columns = vec![ColumnType {
        name: "id".into(),
        pg_type: PgType::Int8,
    }];
    columns.extend((1..COLUMNS).map(|c| ColumnType {
        name: format!("c{c}"),
        pg_type: PgType::Text,
    }));
    columns
}

fn rows() -> Vec<Vec<Json>> {
    let mut rows = vec![columns().into_iter().map(|c| json!(c.name)).collect()];
    rows.extend((1..=ROWS).map(|id| {
        let mut row = vec![json!(id)];
        row.extend((1..COLUMNS).map(|c| json!(format!("r{id} c{c}"))));
        row
    }));
    rows
}

/// Ten changes spread over the tab: six updates of two cells, two new
/// rows, two rows removed. `round` makes each batch's keys and values its own.
fn batch(round: i64) -> ChangeBatch {
    let seq0 = round * 100;
    let mut changes = Vec::new();
    for i in 0..6 {
        let id = 1 + (i * 16_661 + round * 7) % ROWS;
        changes.push(Op::Update {
            key: vec![json!(id)],
            values: json!({"c3": format!("updated {round}"), "c7": format!("{id}-{round}")})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        });
    }
    for i in 0..2 {
        let id = ROWS + 1 + round * 2 + i;
        let mut values = serde_json::Map::new();
        values.insert("id".into(), json!(id));
        for c in 1..COLUMNS {
            values.insert(format!("c{c}"), json!(format!("new {id} c{c}")));
        }
        changes.push(Op::Insert {
            key: vec![json!(id)],
            values,
        });
    }
    for i in 0..2 {
        changes.push(Op::Delete {
            key: vec![json!(50_000 + round * 10 + i)],
        });
    }
    ChangeBatch {
        v: VERSION,
        binding: TAB.into(),
        spreadsheet_id: SPREADSHEET.into(),
        sheet: TAB.into(),
        key_columns: vec!["id".into()],
        columns: columns(),
        changes: changes
            .into_iter()
            .enumerate()
            .map(|(i, op)| RowChange {
                seq: seq0 + i as i64 + 1,
                committed_at: "2026-12-04T12:00:00Z".into(),
                op,
            })
            .collect(),
    }
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time this process has used (user + system), in ms: what of a
/// batch's time is the writer's own, the rest being the emulator's.
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks: f64 =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks * 10.0)
        })
        .unwrap_or(0.0)
}

/// Child mode: for each line on stdin, apply the next batch and answer
/// `requests elapsed_ms vm_hwm_kb cpu_ms`.
async fn writer_child(root_url: String, key_file: String) {
    let key = parse_key(&std::fs::read_to_string(key_file).expect("key file")).expect("key");
    let endpoints = Endpoints {
        root_url: Some(root_url),
        token_uri: None,
    };
    let writer = Writer::new(SheetsClient::new(key, &endpoints).await.expect("client"));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut round = 1;
    while let Ok(Some(_)) = lines.next_line().await {
        let message = Message {
            message_id: format!("m{round}"),
            group_id: Some(TAB.into()),
            body: batch(round).encode(),
        };
        let started = Instant::now();
        let cpu_before = cpu_ms();
        let out = writer
            .apply(
                &[message],
                tokio::time::Instant::now() + Duration::from_secs(120),
            )
            .await;
        assert!(out.failed.is_empty(), "batch failed: {:?}", out.failed);
        println!(
            "{} {:.0} {} {:.0}",
            out.stats.sheets_requests,
            started.elapsed().as_secs_f64() * 1000.0,
            vm_hwm_kb(),
            cpu_ms() - cpu_before
        );
        round += 1;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--writer") {
        // The runtime functions/sheet-writer runs on.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(writer_child(args[2].clone(), args[3].clone()));
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(emulator_and_measures());
}

async fn emulator_and_measures() {
    let emu = Emulator::start().await;
    emu.add_sheet(SPREADSHEET, TAB);
    emu.set_rows(SPREADSHEET, TAB, rows());
    emu.faults().set_google_quotas(Some(GoogleQuotas::GOOGLE));
    emu.faults().set_payload_limit(Some(PayloadLimit {
        bytes: PayloadLimit::GUIDANCE_BYTES,
        refuse: false,
    }));
    let key_file = std::env::temp_dir().join(format!(
        "sheetsync-large-tab-key-{}.json",
        std::process::id()
    ));
    std::fs::write(&key_file, emu.service_account_key()).expect("write key");

    // What every batch read before key reads: the whole tab, once.
    let key = parse_key(&emu.service_account_key()).expect("key");
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    let client = SheetsClient::new(key, &endpoints).await.expect("client");
    let before = emu.counters();
    client
        .read_tab(SPREADSHEET, TAB, &["id".into()])
        .await
        .expect("whole read");
    let after = emu.counters();
    let whole_read = (
        after.response_bytes - before.response_bytes,
        after.json_bytes - before.json_bytes,
    );

    let mut child = tokio::process::Command::new(std::env::current_exe().expect("own path"))
        .args(["--writer", &emu.root_url(), &key_file.display().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("writer child");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut answers = BufReader::new(child.stdout.take().expect("stdout")).lines();

    println!(
        "| 10-change batch on a {ROWS}-row × {COLUMNS}-column tab | Sheets API requests | bytes downloaded (gzip) | JSON parsed | largest answer | bodies over 2 MB | time | writer CPU | writer VmHWM |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for name in [
        "the writer's first batch (creates the journal)",
        "second batch",
        "third batch",
    ] {
        emu.reset_log();
        stdin.write_all(b"go\n").await.expect("tell the child");
        let line = answers
            .next_line()
            .await
            .expect("child answer")
            .expect("child line");
        let c = emu.counters();
        let f: Vec<f64> = line
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0.0))
            .collect();
        assert_eq!(c.api_requests, f[0] as u64);
        assert_eq!(c.rate_limited, 0, "over Google's quota");
        println!(
            "| {name} | {} | {:.0} KB | {:.0} KB | {:.0} KB | {} | {:.0} ms | {:.0} ms | {:.1} MB |",
            f[0],
            c.response_bytes as f64 / 1024.0,
            c.json_bytes as f64 / 1024.0,
            c.largest_response as f64 / 1024.0,
            c.oversized,
            f[1],
            f[3],
            f[2] / 1024.0
        );
    }
    drop(stdin);
    let _ = child.wait().await;
    let _ = std::fs::remove_file(&key_file);
    println!();
    println!(
        "For comparison, one whole-tab read (what every batch read before): {:.1} MB gzipped, {:.1} MB of JSON.",
        whole_read.0 as f64 / (1024.0 * 1024.0),
        whole_read.1 as f64 / (1024.0 * 1024.0)
    );
}
