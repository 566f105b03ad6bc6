//! `cargo bench -p sheetsync-reconcile`: prints a markdown table of the hot paths at
//! the sizes the design targets (goal: the 100,000-row diff under 150 ms on
//! one core). Single-threaded; each figure is the median of several runs.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value as Json, json};
use sheetsync_reconcile::coalesce::{Change, ChangeOp, coalesce};
use sheetsync_reconcile::convert::from_sheet;
use sheetsync_reconcile::diff::{
    DiffInput, SheetInput, SnapshotRow, TableImage, TableRow, Tombstones, diff,
};
use sheetsync_reconcile::merge::{CellInput, MergeContext, merge_row};
use sheetsync_reconcile::{Column, ConflictPolicy, Key, PgType, Value};

const ROWS: usize = 100_000;
const RUNS: usize = 9;

fn main() {
    let results = [
        diff_bench(),
        coalesce_bench(),
        convert_bench(),
        merge_bench(),
    ];
    println!("| operation | size | median | min | max |");
    println!("|---|---|---:|---:|---:|");
    for (name, size, times) in results {
        println!(
            "| {name} | {size} | {} | {} | {} |",
            ms(median(&times)),
            ms(times[0]),
            ms(times[times.len() - 1])
        );
    }
}

fn time(mut run: impl FnMut()) -> Vec<Duration> {
    time_with_input(|| (), |()| run())
}

/// Times `run` on a fresh input from `setup` (untimed) each run.
fn time_with_input<T>(mut setup: impl FnMut() -> T, mut run: impl FnMut(T)) -> Vec<Duration> {
    run(setup()); // warm-up
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let input = setup();
            let start = Instant::now();
            run(input);
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn median(times: &[Duration]) -> Duration {
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_000_000 + second, 0).unwrap()
}

fn columns() -> Vec<Column> {
    let mut id = Column::new("id", PgType::Int8);
    id.key_position = Some(0);
    vec![
        id,
        Column::new("customer", PgType::Text),
        Column::new("qty", PgType::Int4),
        Column::new("price", PgType::Numeric),
        Column::new("shipped", PgType::Bool),
        Column::new("due", PgType::Date),
        Column::new("updated_at", PgType::Timestamptz),
    ]
}

fn row_values(i: usize) -> Vec<Value> {
    vec![
        Value::Int(i as i64),
        Value::Text(format!("customer {i}")),
        Value::Int((i % 50) as i64),
        Value::Numeric(format!("{}.{:02}", i % 1000, i % 100)),
        Value::Bool(i.is_multiple_of(3)),
        Value::Date(
            chrono::NaiveDate::from_ymd_opt(2026, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
                .unwrap(),
        ),
        Value::TimestampTz(at(i as i64)),
    ]
}

/// 100,000 table rows against a snapshot with 1% changes: 0.5% of rows
/// with an edited cell, 0.25% removed from the sheet, 0.25% new rows.
fn diff_bench() -> (&'static str, String, Vec<Duration>) {
    let columns = columns();
    let table: TableImage = (0..ROWS)
        .map(|i| {
            let row = TableRow {
                values: row_values(i),
                last_db_seq: Some(i as i64),
                sheet_held: true,
                cell_changed_at: vec![Some(at(0)); columns.len()],
                cell_seq: Vec::new(),
                sheet_inserted_at: None,
            };
            (Key::from_values(&[Value::Int(i as i64)]), row)
        })
        .collect();
    let mut rows: Vec<SnapshotRow> = Vec::with_capacity(ROWS);
    for i in 0..ROWS {
        if i % 400 == 1 {
            continue; // removed in the sheet
        }
        let mut values = row_values(i);
        if i % 200 == 0 {
            values[2] = Value::Int(999);
        }
        rows.push(SnapshotRow {
            key: Some(Key::from_values(&[Value::Int(i as i64)])),
            values,
        });
    }
    for i in 0..ROWS / 400 {
        let mut values = row_values(ROWS + i);
        values[0] = Value::Null;
        rows.push(SnapshotRow { key: None, values });
    }
    let sheet_columns = vec![true; columns.len()];
    let tombstones = Tombstones::default();
    let input = DiffInput {
        columns: &columns,
        sheet_columns: &sheet_columns,
        policy: ConflictPolicy::Latest,
        table: &table,
        tombstones: &tombstones,
        watermark: ROWS as i64,
        edited_at: at(1_000_000),
        unsettled: false,
        zone: Default::default(),
        sheet: SheetInput::Snapshot {
            rows: &rows,
            partial: false,
            rejected_keys: &[],
            rejected_keyless: false,
        },
    };
    let plan = diff(&input);
    assert_eq!(
        (plan.inserts.len(), plan.updates.len(), plan.deletes.len()),
        (ROWS / 400, ROWS / 200, ROWS / 400)
    );
    let times = time(|| {
        black_box(diff(black_box(&input)));
    });
    (
        "diff snapshot vs table image (1% changes)",
        format!("{ROWS} × {ROWS} rows"),
        times,
    )
}

/// 100,000 changes over 20,000 keys: inserts, updates of one or two
/// columns, deletes.
fn coalesce_bench() -> (&'static str, String, Vec<Duration>) {
    let changes: Vec<Change<Key, Value>> = (0..ROWS)
        .map(|i| {
            let id = (i * 7919) % 20_000;
            let op = match i % 10 {
                0 => ChangeOp::Insert,
                9 => ChangeOp::Delete,
                _ => ChangeOp::Update,
            };
            let values: BTreeMap<String, Value> = match op {
                ChangeOp::Insert => columns()
                    .iter()
                    .zip(row_values(id))
                    .map(|(c, v)| (c.name.clone(), v))
                    .collect(),
                ChangeOp::Update => [("qty".to_owned(), Value::Int(i as i64))]
                    .into_iter()
                    .collect(),
                ChangeOp::Delete => BTreeMap::new(),
            };
            Change {
                key: Key::from_values(&[Value::Int(id as i64)]),
                op,
                values,
                seq: i as i64,
            }
        })
        .collect();
    let times = time_with_input(
        || changes.clone(),
        |input| {
            black_box(coalesce(black_box(input)));
        },
    );
    (
        "coalesce row changes",
        format!("{ROWS} changes, 20000 keys"),
        times,
    )
}

/// 100,000 sheet rows of seven cells as the script sends them → typed
/// values and keys.
fn convert_bench() -> (&'static str, String, Vec<Duration>) {
    let columns = columns();
    let rows: Vec<Vec<Json>> = (0..ROWS)
        .map(|i| {
            vec![
                json!(i),
                json!(format!("customer {i}")),
                json!(i % 50),
                json!(format!("{}.{:02}", i % 1000, i % 100)),
                json!(i % 3 == 0),
                json!(format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28)),
                json!("2026-11-25T14:10:03.232Z"),
            ]
        })
        .collect();
    let times = time(|| {
        for row in &rows {
            let values: Vec<Value> = row
                .iter()
                .zip(&columns)
                .map(|(cell, column)| from_sheet(cell, column).unwrap_or(Value::Null))
                .collect();
            black_box(Key::from_values(&values[..1]));
            black_box(values);
        }
    });
    (
        "convert sheet rows to typed values + key",
        format!("{ROWS} rows × 7 cells"),
        times,
    )
}

/// 100,000 edited rows of three cells each, merged under `latest`.
fn merge_bench() -> (&'static str, String, Vec<Duration>) {
    let sheet = [Value::Int(3), Value::Text("Ada".into()), Value::Bool(true)];
    let base = [Value::Int(2), Value::Text("Ad".into()), Value::Bool(true)];
    let db = [Value::Int(5), Value::Text("Ad".into()), Value::Bool(false)];
    let names = ["qty", "customer", "shipped"];
    let context = MergeContext {
        policy: ConflictPolicy::Latest,
        edited_at: at(100),
        watermark: 50,
        row_in_flight: true,
        unsettled: false,
        zone: Default::default(),
    };
    let times = time(|| {
        for i in 0..ROWS {
            let cells: Vec<CellInput> = (0..3)
                .map(|c| CellInput {
                    column: names[c],
                    sheet: &sheet[c],
                    base: Some(&base[c]),
                    db: &db[c],
                    db_changed_at: Some(at((i % 200) as i64)),
                    db_seq: Some((i % 100) as i64),
                })
                .collect();
            black_box(merge_row(&context, &cells));
        }
    });
    (
        "merge edited rows (3 cells, latest)",
        format!("{ROWS} rows"),
        times,
    )
}
