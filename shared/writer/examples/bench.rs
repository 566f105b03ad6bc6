//! Writer benchmark: Sheets API requests per batch (1 / 100 / 10,000
//! changes), planning time for 10,000 changes, and the writer's peak RSS for
//! a 10,000-row batch. Prints a markdown table.
//!
//! `cargo run --release -p sheetsync-writer --example bench`
//!
//! The emulator runs in this process; each batch is applied by a child
//! process running only the writer (same binary, `--writer` mode), so its
//! VmHWM is the writer's alone. A batch of 10,000 changes arrives as ten
//! SQS messages of 1,000 changes (a FIFO batch holds at most ten).

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use sheetsync_queue::{ChangeBatch, ColumnType, Op, RowChange, VERSION};
use sheetsync_reconcile::PgType;
use sheetsync_sheets::{
    Endpoints, SheetsClient, TabImage, TabRow, auth::parse_key, journaled_plan,
};
use sheetsync_sheets_emulator::Emulator;
use sheetsync_writer::{Message, Writer};

const SPREADSHEET: &str = "bench";

fn columns() -> Vec<ColumnType> {
    [
        ("id", PgType::Int8),
        ("customer", PgType::Text),
        ("qty", PgType::Int4),
        ("shipped", PgType::Bool),
        ("due", PgType::Date),
        ("note", PgType::Text),
    ]
    .into_iter()
    .map(|(n, t)| ColumnType {
        name: n.into(),
        pg_type: t,
    })
    .collect()
}

fn header() -> Vec<Json> {
    columns().into_iter().map(|c| json!(c.name)).collect()
}

/// Change `i` of a batch of `n`: the first half update existing rows (two
/// cells), the second half insert whole rows.
fn change(i: i64, n: usize) -> RowChange {
    let op = if (i as usize) <= n / 2 {
        Op::Update {
            key: vec![json!(i)],
            values: json!({"id": i, "qty": i % 97, "note": format!("updated {i}")})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    } else {
        Op::Insert {
            key: vec![json!(i)],
            values: json!({"id": i, "customer": format!("customer {i}"), "qty": i % 13,
                           "shipped": i % 2 == 0, "due": "2026-12-01", "note": "new"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        }
    };
    RowChange {
        seq: i,
        committed_at: "2026-11-25T13:35:00Z".into(),
        op,
    }
}

/// The batch as messages of at most 1,000 changes.
fn batches(tab: &str, n: usize) -> impl Iterator<Item = ChangeBatch> + '_ {
    (0..n.div_ceil(1000)).map(move |part| ChangeBatch {
        v: VERSION,
        binding: tab.into(),
        spreadsheet_id: SPREADSHEET.into(),
        sheet: tab.into(),
        key_columns: vec!["id".into()],
        columns: columns(),
        changes: (part * 1000 + 1..=((part + 1) * 1000).min(n))
            .map(|i| change(i as i64, n))
            .collect(),
    })
}

fn existing_rows(n: usize) -> Vec<Vec<Json>> {
    let mut rows = vec![header()];
    rows.extend((1..=(n / 2) as i64).map(|i| {
        vec![
            json!(i),
            json!(format!("customer {i}")),
            json!(0),
            json!(false),
            json!(46000),
            json!(""),
        ]
    }));
    rows
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

/// Child mode: apply one batch of `n` changes to `tab`, print VmHWM before and after.
async fn writer_child(root_url: String, key_file: String, tab: String, n: usize) {
    let key = parse_key(&std::fs::read_to_string(key_file).expect("key file")).expect("key");
    let endpoints = Endpoints {
        root_url: Some(root_url),
        token_uri: None,
    };
    let writer = Writer::new(SheetsClient::new(key, &endpoints).await.expect("client"));
    // Bodies as SQS hands them over.
    let messages: Vec<Message> = batches(&tab, n)
        .enumerate()
        .map(|(i, b)| Message {
            message_id: format!("m{i}"),
            group_id: Some(tab.clone()),
            body: b.encode(),
        })
        .collect();
    let before = vm_hwm_kb();
    let out = writer
        .apply(
            &messages,
            tokio::time::Instant::now() + Duration::from_secs(120),
        )
        .await;
    assert!(out.failed.is_empty(), "batch failed: {:?}", out.failed);
    println!(
        "{} {} {} {}",
        before,
        vm_hwm_kb(),
        out.stats.rows_applied(),
        out.stats.sheets_requests
    );
}

fn planning_ms(n: usize) -> f64 {
    let rows = existing_rows(n);
    let tab = TabImage {
        sheet_id: 1,
        title: "plan".into(),
        header: header()
            .iter()
            .map(|h| h.as_str().unwrap_or("").to_string())
            .collect(),
        rows: rows[1..]
            .iter()
            .enumerate()
            .map(|(i, r)| TabRow {
                row_index: i + 1,
                key_cells: vec![r[0].clone()],
                cells: r.clone(),
                formulas: Vec::new(),
            })
            .collect(),
        row_end: rows.len(),
        column_count: rows[0].len(),
        watermark: None,
        key_index: vec![0],
        journal: None,
        zone: sheetsync_reconcile::SheetZone::UTC,
        locale: sheetsync_reconcile::SheetLocale::UNKNOWN,
    };
    let batches: Vec<ChangeBatch> = batches("plan", n).collect();
    let refs: Vec<&ChangeBatch> = batches.iter().collect();
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            let p = journaled_plan(&tab, &refs, "bench".into(), None);
            assert_eq!(p.stats.rows_updated + p.stats.rows_appended, n);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--writer") {
        let n = args[5].parse().expect("change count");
        writer_child(args[2].clone(), args[3].clone(), args[4].clone(), n).await;
        return;
    }
    let emu = Emulator::start().await;
    let key_file =
        std::env::temp_dir().join(format!("sheetsync-bench-key-{}.json", std::process::id()));
    std::fs::write(&key_file, emu.service_account_key()).expect("write key");
    let exe = std::env::current_exe().expect("own path");

    println!(
        "| changes in the batch | Sheets API requests | rows applied | writer VmHWM before → after (MB) |"
    );
    println!("|---:|---:|---:|---:|");
    for n in [1usize, 100, 10_000] {
        let tab = format!("T{n}");
        emu.add_sheet(SPREADSHEET, &tab);
        emu.set_rows(SPREADSHEET, &tab, existing_rows(n));
        emu.reset_log();
        let out = tokio::process::Command::new(&exe)
            .args([
                "--writer",
                &emu.root_url(),
                &key_file.display().to_string(),
                &tab,
                &n.to_string(),
            ])
            .output()
            .await
            .expect("writer child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<u64> = text
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        let requests = emu.counters().api_requests;
        assert_eq!(requests, f[3] as u64);
        println!(
            "| {n} | {requests} | {} | {:.1} → {:.1} |",
            f[2],
            f[0] as f64 / 1024.0,
            f[1] as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_file(&key_file);
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| planning time, 10,000 changes on a 5,000-row tab (median of 7) | {:.1} ms |",
        planning_ms(10_000)
    );
}
