//! The deployment under test: 10 spreadsheets × 10 tabs, each tab bound to
//! its own table, of mixed sizes; both sides seeded equal before the load
//! (the table before attach, so the seed queues nothing), and compared
//! cell by cell afterwards.

use serde_json::{Value as Json, json};
use sheetsync_config::TableRef;
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_sheets_emulator::Emulator;
use sheetsync_store::{AttachSpec, attach};
use tokio_postgres::Client;

pub const SPREADSHEETS: usize = 10;
pub const TABS_PER_SPREADSHEET: usize = 10;
pub const HEADER: [&str; 4] = ["id", "name", "qty", "note"];

/// One binding: its table, and the tab it syncs with.
#[derive(Debug, Clone)]
pub struct Bound {
    pub name: String,
    pub table: String,
    pub spreadsheet_id: String,
    pub tab: String,
    /// Index of its spreadsheet (which service account writes it).
    pub spreadsheet: usize,
    pub rows: i64,
}

/// Most tabs 100–1,000 rows, three of 10,000.
fn rows_of(index: usize) -> i64 {
    if index % 33 == 7 {
        10_000
    } else {
        100 + (index as i64 * 379) % 901
    }
}

pub fn layout() -> Vec<Bound> {
    let mut out = Vec::new();
    for s in 0..SPREADSHEETS {
        for t in 0..TABS_PER_SPREADSHEET {
            let index = s * TABS_PER_SPREADSHEET + t;
            out.push(Bound {
                name: format!("b{index:03}"),
                table: format!("bench_t{index:03}"),
                spreadsheet_id: format!("bench-ss-{s}"),
                tab: format!("Tab{t}"),
                spreadsheet: s,
                rows: rows_of(index),
            });
        }
    }
    out
}

pub async fn create(sql: &Client, emu: &Emulator, fleet: &[Bound]) -> Result<(), String> {
    for b in fleet {
        sql.batch_execute(&format!(
            "CREATE TABLE {t} (id bigint PRIMARY KEY, name text, qty integer, note text);
             INSERT INTO {t} SELECT i, 'row ' || i, 0, NULL FROM generate_series(1, {n}) i;",
            t = b.table,
            n = b.rows
        ))
        .await
        .map_err(|e| format!("create {}: {e}", b.table))?;
        let table = TableRef::parse(&b.table).map_err(|e| format!("table: {e}"))?;
        attach(
            sql,
            &AttachSpec {
                name: Some(b.name.clone()),
                table,
                spreadsheet_id: b.spreadsheet_id.clone(),
                sheet: b.tab.clone(),
                policy: ConflictPolicy::Latest,
            },
        )
        .await
        .map_err(|e| format!("attach {}: {e}", b.name))?;
        let mut rows = vec![HEADER.iter().map(|h| json!(h)).collect::<Vec<_>>()];
        rows.extend((1..=b.rows).map(|i| vec![json!(i), json!(format!("row {i}")), json!(0)]));
        emu.set_rows(&b.spreadsheet_id, &b.tab, rows);
    }
    Ok(())
}

/// A cell as both sides should hold it: numbers as f64, empty as null.
fn norm(v: &Json) -> Json {
    match v {
        Json::Number(n) => json!(n.as_f64()),
        Json::String(s) if s.is_empty() => Json::Null,
        other => other.clone(),
    }
}

/// Cells where the tab differs from its table (0 when they are equal).
pub async fn differences(sql: &Client, emu: &Emulator, b: &Bound) -> Result<usize, String> {
    let table = sql
        .query(
            &format!(
                "SELECT jsonb_build_array(id, name, qty, note) FROM {} ORDER BY id",
                b.table
            ),
            &[],
        )
        .await
        .map_err(|e| format!("read {}: {e}", b.table))?;
    let want: Vec<Vec<Json>> = table
        .iter()
        .map(|r| {
            let row: Json = r.get(0);
            row.as_array()
                .map(|a| a.iter().map(norm).collect())
                .unwrap_or_default()
        })
        .collect();
    let mut got: Vec<Vec<Json>> = emu
        .rows(&b.spreadsheet_id, &b.tab)
        .into_iter()
        .skip(1)
        .map(|r| {
            let mut r: Vec<Json> = r.iter().take(HEADER.len()).map(norm).collect();
            r.resize(HEADER.len(), Json::Null);
            r
        })
        .collect();
    got.sort_by(|a, b| {
        let key = |r: &Vec<Json>| r.first().and_then(Json::as_f64).unwrap_or(f64::MAX);
        key(a).total_cmp(&key(b))
    });
    let mut wrong = want.len().abs_diff(got.len()) * HEADER.len();
    for (w, g) in want.iter().zip(&got) {
        wrong += w.iter().zip(g).filter(|(a, b)| a != b).count();
    }
    Ok(wrong)
}
