//! Randomized convergence of the whole pipeline under faults.
//!
//! A seeded stream of operations on both sides (sheet single-cell edits
//! with `old`, pastes with `edited`, keyless row inserts with key
//! write-back, row deletes with a `keys` request, sorts, snapshots; SQL
//! inserts, updates, deletes; the same cell and different cells of one row
//! changed on both sides at once) runs while the relay, the queue and the
//! writer work in the background, with faults injected: Sheets 429 and 5xx
//! bursts and lost responses, the relay dying between send and outbox
//! delete, the writer not acknowledging what it applied, duplicate
//! deliveries, and the webhook's database connection killed mid-request.
//! After quiescence and a final snapshot round-trip the sheet must equal
//! the table, no value may be gone without a conflict record, and no row
//! may be deleted that the sheet never held.
//!
//! `SHEETSYNC_SEED=<u64>` replays a run; `SHEETSYNC_SOAK_OPS=<n>` runs
//! `n` operations (default 1000). A failure prints the seed and the last
//! operations.

#[path = "../common/mod.rs"]
mod common;
mod ledger;
mod rng;
mod sheet;
mod stack;

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use ledger::{Ledger, Side};
use rng::Rng;
use serde_json::{Value as Json, json};
use sheet::{SheetModel, SheetRow, cell_json, json_cell, key_of, now_iso};
use sheetsync_reconcile::convert::{from_pg_value, from_sheet};
use stack::{HEADER, SPREADSHEET, Stack, TAB};
use tokio::time::Instant;

const DEFAULT_OPS: usize = 1000;
const TRACE_LEN: usize = 60;
const SEED_ROWS: usize = 20;

/// The last operations, printed with the seed when the test fails.
struct Trace {
    seed: u64,
    ops: usize,
    lines: RefCell<VecDeque<String>>,
    /// Every line, for the history of the keys a failure names.
    all: RefCell<Vec<String>>,
    /// Keys the failure is about.
    keys: RefCell<Vec<i64>>,
}

impl Trace {
    fn push(&self, line: String) {
        self.all.borrow_mut().push(line.clone());
        let mut lines = self.lines.borrow_mut();
        if lines.len() == TRACE_LEN {
            lines.pop_front();
        }
        lines.push_back(line);
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "\n=== convergence FAILED: reproduce with SHEETSYNC_SEED={} SHEETSYNC_SOAK_OPS={} cargo nextest run -p sheetsync-e2e --test convergence",
                self.seed, self.ops
            );
            eprintln!("=== last {} operations:", self.lines.borrow().len());
            for line in self.lines.borrow().iter() {
                eprintln!("  {line}");
            }
            for key in self.keys.borrow().iter().take(6) {
                let needle = format!("key {key} ");
                let mention = format!("{key}:");
                eprintln!("=== history of key {key}:");
                for line in self.all.borrow().iter() {
                    if line.contains(&needle)
                        || line.contains(&format!("key {key};"))
                        || line.contains(&mention)
                        || line.ends_with(&format!("key {key}"))
                    {
                        eprintln!("  {line}");
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    SheetEdit,
    SheetPaste,
    SheetInsert,
    SheetDelete,
    SheetSort,
    Snapshot,
    SqlInsert,
    SqlUpdate,
    SqlDelete,
    SameCell,
    SameRow,
    DroppedConnection,
}

const WEIGHTS: [(Op, usize); 12] = [
    (Op::SheetEdit, 18),
    (Op::SheetPaste, 8),
    (Op::SheetInsert, 8),
    (Op::SheetDelete, 4),
    (Op::SheetSort, 3),
    (Op::Snapshot, 3),
    (Op::SqlInsert, 9),
    (Op::SqlUpdate, 18),
    (Op::SqlDelete, 4),
    (Op::SameCell, 6),
    (Op::SameRow, 6),
    (Op::DroppedConnection, 2),
];

fn choose(rng: &mut Rng) -> Op {
    let total: usize = WEIGHTS.iter().map(|w| w.1).sum();
    let mut n = rng.below(total);
    for (op, w) in WEIGHTS {
        if n < w {
            return op;
        }
        n -= w;
    }
    Op::SheetEdit
}

/// A value no other write uses (so each write can be traced).
fn fresh_value(rng: &mut Rng, col: usize, op: usize, sub: usize, side: Side) -> Json {
    let s = match side {
        Side::Sheet => "s",
        Side::Sql => "d",
    };
    match col {
        1 => json!(format!("{s}{op}.{sub}")),
        2 => json!((op * 100 + sub * 2 + usize::from(side == Side::Sql)) as i64),
        3 => json!(format!("{s}n{op}.{sub}")),
        _ => json!(rng.chance(500)),
    }
}

fn sql_type(col: usize) -> &'static str {
    match col {
        2 => "integer",
        4 => "boolean",
        _ => "text",
    }
}

fn pg_text(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

struct Driver<'a> {
    stack: &'a Stack,
    model: SheetModel<'a>,
    rng: Rng,
    ledger: Ledger,
    trace: &'a Trace,
    lock_client: tokio_postgres::Client,
    quota_until: Option<usize>,
    stats: BTreeMap<&'static str, usize>,
}

impl Driver<'_> {
    fn count(&mut self, what: &'static str) {
        *self.stats.entry(what).or_default() += 1;
    }

    async fn table_keys(&self) -> Vec<i64> {
        self.stack
            .sql
            .query("SELECT id FROM items ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    fn inject_faults(&mut self, op: usize) {
        let faults = &self.stack.faults;
        let emu = self.stack.emu.faults();
        if self.quota_until.is_some_and(|until| op >= until) {
            emu.clear_quota();
            self.quota_until = None;
            self.trace.push(format!("#{op} fault: quota cleared"));
        }
        let r = self.rng.below(1000);
        let (what, line) = match r {
            0..=9 if self.quota_until.is_none() => {
                emu.set_quota(3, Duration::from_secs(1));
                self.quota_until = Some(op + 15);
                ("sheets 429 burst", "quota 3 requests/s for 15 ops")
            }
            10..=19 => {
                let n = 1 + self.rng.below(4) as u32;
                emu.fail_next(n, [500, 502, 503][self.rng.below(3)]);
                ("sheets 5xx burst", "next Sheets calls fail")
            }
            20..=27 => {
                emu.fail_next_after_apply(1, 503);
                (
                    "sheets lost response",
                    "next Sheets call applied, answered 503",
                )
            }
            28..=37 => {
                faults
                    .relay_dies
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                ("relay dies after send", "relay dies after its next send")
            }
            38..=47 => {
                faults
                    .writer_no_ack
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (
                    "writer no ack",
                    "writer applies its next batch, acks nothing",
                )
            }
            58..=79 => {
                // A person sorts or drags rows exactly inside the writer's
                // next read → write window.
                let col = 1 + self.rng.below(4);
                let drag = self.rng.chance(500);
                let (from, to) = (self.rng.below(1000), self.rng.below(1000));
                self.stack
                    .emu
                    .before_next_write(SPREADSHEET, TAB, move |rows| {
                        let data = rows.len().saturating_sub(1);
                        if data < 2 {
                            return;
                        }
                        if drag {
                            let row = rows.remove(1 + from % data);
                            rows.insert(1 + to % data, row);
                        } else {
                            rows[1..].sort_by_key(|r| {
                                let empty = r.iter().all(SheetModel::is_empty);
                                (
                                    empty,
                                    r.get(col).map(cell_json).unwrap_or_default().to_string(),
                                )
                            });
                        }
                    });
                (
                    "rows moved inside a writer's read → write window",
                    if drag {
                        "drag before the next write"
                    } else {
                        "sort before the next write"
                    },
                )
            }
            48..=57 => {
                faults
                    .duplicate
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (
                    "duplicate delivery",
                    "next batch applied twice, one message sent again",
                )
            }
            _ => return,
        };
        self.count(what);
        self.trace.push(format!("#{op} fault: {line}"));
    }

    async fn step(&mut self, op: usize) {
        self.inject_faults(op);
        match choose(&mut self.rng) {
            Op::SheetEdit => {
                if let Some(row) = self.pick_sheet_row() {
                    let col = 1 + self.rng.below(4);
                    let body = self.sheet_edit(op, 0, &row, col);
                    if !body.is_null() {
                        self.model.post(&body).await;
                    }
                }
            }
            Op::SheetPaste => self.sheet_paste(op).await,
            Op::SheetInsert => self.sheet_insert(op).await,
            Op::SheetDelete => self.sheet_delete(op).await,
            Op::SheetSort => {
                let col = 1 + self.rng.below(4);
                self.model.edit(|rows| {
                    let sort_key = |r: &Vec<sheetsync_sheets_emulator::Cell>| {
                        let empty = r.iter().all(SheetModel::is_empty);
                        (empty, cell_json(&r[col]).to_string())
                    };
                    rows[1..].sort_by_key(sort_key);
                });
                self.count("sheet sort");
                self.trace
                    .push(format!("#{op} sheet: sort by {}", HEADER[col]));
            }
            Op::Snapshot => {
                self.snapshot(op).await;
            }
            Op::SqlInsert => self.sql_insert(op).await,
            Op::SqlUpdate => {
                let keys = self.table_keys().await;
                if let Some(key) = self.rng.pick(&keys) {
                    let col = 1 + self.rng.below(4);
                    self.sql_update(op, 0, key, col).await;
                }
            }
            Op::SqlDelete => {
                let keys = self.table_keys().await;
                if let Some(key) = self.rng.pick(&keys) {
                    self.stack
                        .sql
                        .execute("DELETE FROM items WHERE id = $1", &[&key])
                        .await
                        .unwrap();
                    self.ledger.deleted_by_sql.insert(key);
                    self.count("sql delete");
                    self.trace.push(format!("#{op} sql: delete {key}"));
                }
            }
            Op::SameCell | Op::SameRow => {
                let same = matches!(self.rng.below(2), 0);
                if let Some(row) = self.pick_sheet_row() {
                    let key = key_of(&row.values).unwrap_or_default();
                    let sheet_col = 1 + self.rng.below(4);
                    let sql_col = if same {
                        sheet_col
                    } else {
                        1 + (sheet_col + self.rng.below(3)) % 4
                    };
                    self.count(if same {
                        "both sides, same cell"
                    } else {
                        "both sides, same row"
                    });
                    let body = self.sheet_edit(op, 0, &row, sheet_col);
                    let model = &self.model;
                    let (_, written) = tokio::join!(
                        async {
                            if !body.is_null() {
                                model.post(&body).await;
                            }
                        },
                        sql_update_cell(self.stack, &mut self.rng, op, 1, key, sql_col)
                    );
                    self.record_sql_update(op, key, sql_col, written);
                }
            }
            Op::DroppedConnection => self.dropped_connection(op).await,
        }
    }

    fn pick_sheet_row(&mut self) -> Option<SheetRow> {
        let rows = self.model.keyed_rows();
        (!rows.is_empty()).then(|| rows[self.rng.below(rows.len())].clone())
    }

    /// Types a fresh value into one cell of `row` and builds the script's
    /// request for it: `old` when the cell held a value, else `edited`.
    fn sheet_edit(&mut self, op: usize, sub: usize, row: &SheetRow, col: usize) -> Json {
        let key = key_of(&row.values).unwrap_or_default();
        let value = fresh_value(&mut self.rng, col, op, sub, Side::Sheet);
        let watermark = self.model.watermark();
        let edited_at = now_iso();
        let new_cell = json_cell(&value);
        // As the script does: the journal read around the edit says whether
        // the tab may have shown another row's values (unsettled).
        let (found, unsettled) = self.model.settled_read(|| {
            self.model.edit(|rows| {
                let i = rows
                    .iter()
                    .position(|r| key_of(&[cell_json(&r[0])]) == Some(key))?;
                let old = cell_json(&rows[i][col]);
                rows[i][col] = new_cell;
                let values: Vec<Json> = rows[i].iter().take(HEADER.len()).map(cell_json).collect();
                Some((i + 1, old, values))
            })
        });
        let Some((sheet_row, old, values)) = found else {
            // The writer removed the row meanwhile: nothing was typed.
            return Json::Null;
        };
        let mut sent = json!({ "row": sheet_row, "values": values });
        if old == json!("") {
            sent["edited"] = json!([HEADER[col]]);
            self.ledger.write_without_base(op, key, col, &value, &old);
        } else {
            sent["old"] = json!({ HEADER[col]: old });
            self.ledger.write(op, Side::Sheet, key, col, &value, &old);
        }
        self.count("sheet edit");
        self.trace.push(format!(
            "#{op} sheet: row {sheet_row} key {key} {} {old} -> {value} (W={watermark:?})",
            HEADER[col]
        ));
        let mut body = self.model.request("edit", &edited_at, watermark);
        body["rows"] = json!([sent]);
        if unsettled {
            body["unsettled"] = json!(true);
        }
        body
    }

    async fn sheet_paste(&mut self, op: usize) {
        let rows = self.model.keyed_rows();
        if rows.is_empty() {
            return;
        }
        let first = self.rng.below(rows.len());
        let count = (1 + self.rng.below(3)).min(rows.len() - first);
        let left = 1 + self.rng.below(4);
        let width = (1 + self.rng.below(2)).min(5 - left);
        let cols: Vec<usize> = (left..left + width).collect();
        let keys: Vec<i64> = rows[first..first + count]
            .iter()
            .filter_map(|r| key_of(&r.values))
            .collect();
        let mut values = Vec::new();
        for (n, _) in keys.iter().enumerate() {
            let row: Vec<Json> = cols
                .iter()
                .map(|&c| fresh_value(&mut self.rng, c, op, n * 4 + c, Side::Sheet))
                .collect();
            values.push(row);
        }
        let watermark = self.model.watermark();
        let edited_at = now_iso();
        let cols_in = cols.clone();
        let (pasted, unsettled) = self.model.settled_read(|| {
            self.model.edit(|grid| {
                let mut out = Vec::new();
                for (n, key) in keys.iter().enumerate() {
                    let Some(i) = grid
                        .iter()
                        .position(|r| key_of(&[cell_json(&r[0])]) == Some(*key))
                    else {
                        continue;
                    };
                    let mut olds = Vec::new();
                    for (j, &c) in cols_in.iter().enumerate() {
                        olds.push(cell_json(&grid[i][c]));
                        grid[i][c] = json_cell(&values[n][j]);
                    }
                    let row: Vec<Json> = grid[i].iter().take(HEADER.len()).map(cell_json).collect();
                    out.push((i + 1, *key, olds, values[n].clone(), row));
                }
                out
            })
        });
        if pasted.is_empty() {
            return;
        }
        let edited: Vec<&str> = cols.iter().map(|&c| HEADER[c]).collect();
        let mut sent = Vec::new();
        for (sheet_row, key, olds, new, row) in &pasted {
            for (j, &c) in cols.iter().enumerate() {
                self.ledger
                    .write_without_base(op, *key, c, &new[j], &olds[j]);
            }
            sent.push(json!({ "row": sheet_row, "values": row, "edited": edited }));
        }
        self.count("sheet paste");
        self.trace.push(format!(
            "#{op} sheet: paste {edited:?} (W={watermark:?}) {}",
            pasted
                .iter()
                .map(|p| format!("[row {} key {} {:?} -> {:?}]", p.0, p.1, p.2, p.3))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        let mut body = self.model.request("edit", &edited_at, watermark);
        body["rows"] = json!(sent);
        if unsettled {
            body["unsettled"] = json!(true);
        }
        self.model.post(&body).await;
    }

    async fn sheet_insert(&mut self, op: usize) {
        let values: Vec<Json> = (0..HEADER.len())
            .map(|c| {
                if c == 0 {
                    json!("")
                } else {
                    fresh_value(&mut self.rng, c, op, 0, Side::Sheet)
                }
            })
            .collect();
        let watermark = self.model.watermark();
        let edited_at = now_iso();
        let at = self.rng.below(1000);
        let cells: Vec<sheetsync_sheets_emulator::Cell> = values.iter().map(json_cell).collect();
        let sheet_row = self.model.edit(|grid| {
            let data = grid
                .iter()
                .rposition(|r| !r.iter().all(SheetModel::is_empty))
                .unwrap_or(0);
            // Between two data rows, or just below the last one.
            let i = 1 + at % data.max(1).min(data + 1);
            grid.insert(i.min(data + 1), cells);
            i.min(data + 1) + 1
        });
        let sent = SheetRow {
            row: sheet_row,
            values: values.clone(),
        };
        let mut body = self.model.request("edit", &edited_at, watermark);
        body["rows"] = json!([{ "row": sheet_row, "values": values }]);
        let response = self.model.post(&body).await;
        let keys = self.model.write_back_keys(&[sent], &response);
        assert_eq!(keys.len(), 1, "insert answered {response}");
        let key = keys[0];
        self.ledger.created.insert(key);
        for (c, v) in values.iter().enumerate().skip(1) {
            self.ledger.write_without_base(op, key, c, v, &Json::Null);
        }
        self.count("sheet insert");
        self.trace
            .push(format!("#{op} sheet: insert row {sheet_row} -> key {key}"));
    }

    async fn sheet_delete(&mut self, op: usize) {
        let Some(row) = self.pick_sheet_row() else {
            return;
        };
        let key = key_of(&row.values).unwrap_or_default();
        let watermark = self.model.watermark();
        let edited_at = now_iso();
        let removed = self.model.edit(|grid| {
            let i = grid
                .iter()
                .position(|r| key_of(&[cell_json(&r[0])]) == Some(key))?;
            grid.remove(i);
            Some(i + 1)
        });
        let Some(sheet_row) = removed else {
            return;
        };
        self.ledger.deleted_on_sheet.insert(key, op);
        let ((watermark, keys), unsettled) = self.model.settled_read(|| {
            let keys: Vec<Json> = self
                .model
                .keyed_rows()
                .iter()
                .filter_map(|r| key_of(&r.values))
                .map(|k| json!({ "id": k }))
                .collect();
            (watermark, keys)
        });
        let mut body = self.model.request("keys", &edited_at, watermark);
        body["keys"] = json!(keys);
        if unsettled {
            body["unsettled"] = json!(true);
        }
        let response = self.model.post(&body).await;
        self.count(if unsettled {
            "sheet delete (keys deferred: tab unsettled)"
        } else {
            "sheet delete"
        });
        self.trace.push(format!(
            "#{op} sheet: delete row {sheet_row} key {key}; keys request deleted {} (W={watermark:?}{})",
            response["deleted"],
            if unsettled { ", unsettled" } else { "" }
        ));
    }

    async fn snapshot(&mut self, op: usize) -> Json {
        let edited_at = now_iso();
        let ((watermark, rows), unsettled) = self
            .model
            .settled_read(|| (self.model.watermark(), self.model.rows()));
        let sent: Vec<Json> = rows
            .iter()
            .map(|r| json!({ "row": r.row, "values": r.values }))
            .collect();
        let mut body = self.model.request("snapshot", &edited_at, watermark);
        body["rows"] = json!(sent);
        if unsettled {
            body["unsettled"] = json!(true);
        }
        let response = self.model.post(&body).await;
        // As the script does with every answer: keys into keyless rows.
        self.model.write_back_keys(&rows, &response);
        let changed = response["rows"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| r["status"] != json!("unchanged"))
                    .map(|r| format!("{}:{}", r["key"]["id"], r["status"].as_str().unwrap_or("?")))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        self.count("snapshot");
        self.trace.push(format!(
            "#{op} sheet: snapshot of {} rows (W={watermark:?}{}): changed {changed:?}, deleted {}, resent {}",
            rows.len(),
            if unsettled { ", unsettled" } else { "" },
            response["deleted"],
            response["resent"]
        ));
        response
    }

    async fn sql_insert(&mut self, op: usize) {
        let values: Vec<Json> = (1..HEADER.len())
            .map(|c| fresh_value(&mut self.rng, c, op, 0, Side::Sql))
            .collect();
        let texts: Vec<Option<String>> = values.iter().map(pg_text).collect();
        let row = self
            .stack
            .sql
            .query_one(
                "INSERT INTO items (name, qty, note, done)
                 VALUES ($1::text, $2::text::integer, $3::text, $4::text::boolean) RETURNING id",
                &[&texts[0], &texts[1], &texts[2], &texts[3]],
            )
            .await
            .unwrap();
        let key: i64 = row.get(0);
        self.ledger.created.insert(key);
        for (i, v) in values.iter().enumerate() {
            self.ledger.write(op, Side::Sql, key, i + 1, v, &Json::Null);
        }
        self.count("sql insert");
        self.trace.push(format!("#{op} sql: insert key {key}"));
    }

    async fn sql_update(&mut self, op: usize, sub: usize, key: i64, col: usize) {
        let written = sql_update_cell(self.stack, &mut self.rng, op, sub, key, col).await;
        self.record_sql_update(op, key, col, written);
    }

    fn record_sql_update(
        &mut self,
        op: usize,
        key: i64,
        col: usize,
        written: Option<(Json, Json)>,
    ) {
        if let Some((value, old)) = written {
            self.ledger.sql_updated.insert(key, op);
            self.ledger.write(op, Side::Sql, key, col, &value, &old);
            self.count("sql update");
            self.trace.push(format!(
                "#{op} sql: key {key} {} {old} -> {value}",
                HEADER[col]
            ));
        }
    }

    /// A sheet edit whose webhook connection is killed while it waits for
    /// the row's lock; the script retries the same event.
    async fn dropped_connection(&mut self, op: usize) {
        let Some(row) = self.pick_sheet_row() else {
            return;
        };
        let key = key_of(&row.values).unwrap_or_default();
        let col = 1 + self.rng.below(4);
        self.lock_client.batch_execute("BEGIN").await.unwrap();
        self.lock_client
            .execute("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", &[&key])
            .await
            .unwrap();
        let body = self.sheet_edit(op, 0, &row, col);
        if body.is_null() {
            self.lock_client.batch_execute("ROLLBACK").await.unwrap();
            return;
        }
        let request = self.stack.signed(&body.to_string());
        let lock_client = &self.lock_client;
        let killer = async {
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut killed = None;
            while Instant::now() < deadline {
                let waiting = lock_client
                    .query(
                        "SELECT pid FROM pg_stat_activity
                          WHERE datname = current_database() AND wait_event_type = 'Lock'
                            AND pid <> pg_backend_pid()",
                        &[],
                    )
                    .await
                    .unwrap();
                if let Some(r) = waiting.first() {
                    let pid: i32 = r.get(0);
                    lock_client
                        .execute("SELECT pg_terminate_backend($1)", &[&pid])
                        .await
                        .unwrap();
                    killed = Some(pid);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            lock_client.batch_execute("ROLLBACK").await.unwrap();
            killed
        };
        let (first, killed) = tokio::join!(self.stack.webhook.handle(request), killer);
        // The webhook may rerun the aborted transaction on a new connection
        // itself (200), or answer 503 for the script to retry.
        self.count(match (killed.is_some(), first.status) {
            (true, 200) => "webhook connection killed mid-request (webhook retried)",
            (true, _) => "webhook connection killed mid-request (script retried)",
            (false, _) => "webhook connection kill missed (no lock wait)",
        });
        self.trace.push(format!(
            "#{op} fault: webhook connection {killed:?} killed mid-request: answered {}",
            first.status
        ));
        if first.status != 200 {
            self.model.post(&body).await;
        }
    }
}

/// `UPDATE` one cell to a fresh value; returns (new, old) unless the row is gone.
async fn sql_update_cell(
    stack: &Stack,
    rng: &mut Rng,
    op: usize,
    sub: usize,
    key: i64,
    col: usize,
) -> Option<(Json, Json)> {
    let value = fresh_value(rng, col, op, sub, Side::Sql);
    let name = HEADER[col];
    let sql = format!(
        "WITH old AS (SELECT id, to_jsonb({name}) AS v FROM items WHERE id = $1 FOR UPDATE)
         UPDATE items t SET {name} = $2::text::{ty} FROM old WHERE t.id = old.id
         RETURNING old.v::text",
        ty = sql_type(col)
    );
    let row = stack
        .sql
        .query_opt(&sql, &[&key, &pg_text(&value)])
        .await
        .unwrap()?;
    let old: Json = serde_json::from_str(row.get::<_, &str>(0)).unwrap();
    Some((value, old))
}

async fn json_rows(stack: &Stack, sql: &str) -> Vec<Json> {
    stack
        .sql
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap())
        .collect()
}

/// The sheet equals the table, compared as typed values through reconcile.
fn compare(stack: &Stack, sheet: &[SheetRow], table: &BTreeMap<i64, Json>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeMap::new();
    for row in sheet {
        let Some(key) = key_of(&row.values) else {
            problems.push(format!(
                "sheet row {} has no key: {:?}",
                row.row, row.values
            ));
            continue;
        };
        if let Some(other) = seen.insert(key, row.row) {
            problems.push(format!("key {key} on sheet rows {other} and {}", row.row));
        }
        let Some(db) = table.get(&key) else {
            problems.push(format!(
                "sheet row {} key {key} is not in the table: {:?}",
                row.row, row.values
            ));
            continue;
        };
        for column in &stack.binding.columns {
            let c = HEADER.iter().position(|h| *h == column.name).unwrap();
            let on_sheet = from_sheet(&row.values[c], column);
            let in_db = from_pg_value(&db[&column.name], column.pg_type);
            match (on_sheet, in_db) {
                (Ok(a), Ok(b)) if a == b => {}
                (a, b) => problems.push(format!(
                    "key {key} {}: sheet {:?} ({}) vs table {:?}",
                    column.name, a, row.values[c], b
                )),
            }
        }
    }
    for key in table.keys() {
        if !seen.contains_key(key) {
            problems.push(format!(
                "table row {key} is missing from the sheet: {}",
                table[key]
            ));
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pipeline_converges_under_faults() {
    let seed = rng::seed_from_env();
    let ops: usize = std::env::var("SHEETSYNC_SOAK_OPS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_OPS);
    eprintln!("convergence: SHEETSYNC_SEED={seed} SHEETSYNC_SOAK_OPS={ops}");
    // RUST_LOG=sheetsync_writer=info shows what the pipeline did.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    let trace = Trace {
        seed,
        ops,
        lines: RefCell::new(VecDeque::new()),
        all: RefCell::new(Vec::new()),
        keys: RefCell::new(Vec::new()),
    };
    let stack = stack::start().await;
    let lock_client = stack.db.client().await;
    let mut driver = Driver {
        stack: &stack,
        model: SheetModel::new(&stack),
        rng: Rng::new(seed),
        ledger: Ledger::default(),
        trace: &trace,
        lock_client,
        quota_until: None,
        stats: BTreeMap::new(),
    };
    for i in 0..SEED_ROWS {
        driver.sql_insert(i).await;
    }
    let started = std::time::Instant::now();
    for op in SEED_ROWS..SEED_ROWS + ops {
        driver.step(op).await;
        // A soak runs for tens of minutes: say how far it is.
        let done = op + 1 - SEED_ROWS;
        if done.is_multiple_of(5000) && done < ops {
            eprintln!(
                "convergence: {done} operations in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let ran_for = started.elapsed();

    // Quiescence: no more faults, everything delivered, then the script's
    // periodic snapshot and its effects delivered too.
    stack.emu.faults().clear();
    stack.quiesce(Duration::from_secs(120)).await;
    let end = SEED_ROWS + ops;
    // A snapshot read while the journal is unsettled is deferred: the
    // script sends it again once the writer has repaired the tab.
    let deadline = Instant::now() + Duration::from_secs(60);
    let response = loop {
        let response = driver.snapshot(end).await;
        if response["deferred"] != json!(true) {
            break response;
        }
        assert!(Instant::now() < deadline, "the tab never settled");
        stack.quiesce(Duration::from_secs(60)).await;
    };
    let rejected: Vec<&Json> = response["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] == json!("rejected"))
        .collect();
    trace
        .keys
        .borrow_mut()
        .extend(rejected.iter().filter_map(|r| r["key"]["id"].as_i64()));
    assert!(
        rejected.is_empty(),
        "final snapshot rejected rows: {rejected:?}"
    );
    stack.quiesce(Duration::from_secs(60)).await;

    let table: BTreeMap<i64, Json> = json_rows(&stack, "SELECT to_jsonb(t)::text FROM items t")
        .await
        .into_iter()
        .map(|r| (r["id"].as_i64().unwrap(), r))
        .collect();
    let sheet = driver.model.rows();
    let mut conflicts: BTreeMap<(i64, String), Vec<Json>> = BTreeMap::new();
    for c in json_rows(
        &stack,
        "SELECT jsonb_build_array(key, column_name, sheet_value, db_value)::text FROM sheetsync.conflicts",
    )
    .await
    {
        let key = c[0][0].as_i64().unwrap();
        let entry = conflicts.entry((key, c[1].as_str().unwrap().to_string())).or_default();
        entry.push(c[2].clone());
        entry.push(c[3].clone());
    }
    let rejects = json_rows(
        &stack,
        "SELECT jsonb_build_array(event_id, key, column_name, value, reason)::text FROM sheetsync.rejects",
    )
    .await;

    let ledger = &driver.ledger;
    eprintln!(
        "convergence: {ops} operations in {:.1} s; {} table rows, {} sheet rows, {} values written, {} conflicts recorded; faults: relay deaths {}, unacked batches {}, duplicates {}; messages redelivered {}; slowest batch {} ms",
        ran_for.as_secs_f64(),
        table.len(),
        sheet.len(),
        ledger.writes.len(),
        conflicts.values().map(|v| v.len() / 2).sum::<usize>(),
        stack
            .faults
            .injected_relay_deaths
            .load(std::sync::atomic::Ordering::SeqCst),
        stack
            .faults
            .injected_no_acks
            .load(std::sync::atomic::Ordering::SeqCst),
        stack
            .faults
            .injected_duplicates
            .load(std::sync::atomic::Ordering::SeqCst),
        stack
            .faults
            .redelivered
            .load(std::sync::atomic::Ordering::SeqCst),
        stack
            .faults
            .slowest_batch_ms
            .load(std::sync::atomic::Ordering::SeqCst),
    );
    eprintln!("convergence: operations and faults: {:?}", driver.stats);

    let mut failures = Vec::new();
    failures.extend(compare(&stack, &sheet, &table));
    for lost in ledger.lost(&table, &conflicts, &HEADER) {
        let w = lost.write;
        let recorded = conflicts.get(&(w.key, HEADER[w.col].to_string()));
        let line = format!(
            "lost without a conflict record: #{} {:?} wrote {} = {} over {} on key {}; first overwritten by {}; final {}; conflicts recorded for the cell: {recorded:?}",
            w.op,
            w.side,
            HEADER[w.col],
            w.value,
            w.base,
            w.key,
            lost.overwriter
                .map_or("an untracked write".to_string(), |o| format!(
                    "#{} {:?}{} = {}",
                    o.op,
                    o.side,
                    if o.without_base { " without old" } else { "" },
                    o.value
                )),
            lost.final_value
        );
        trace.keys.borrow_mut().push(w.key);
        failures.push(line);
    }
    for key in &ledger.created {
        if !table.contains_key(key)
            && !ledger.deleted_by_sql.contains(key)
            && !ledger.deleted_on_sheet.contains_key(key)
        {
            failures.push(format!("row {key} deleted though nobody deleted it"));
        }
    }
    for key in ledger.resurrected(&table) {
        trace.keys.borrow_mut().push(key);
        failures.push(format!(
            "row {key} is back in the table after a person deleted it, and nobody wrote it since"
        ));
    }
    if !rejects.is_empty() {
        failures.push(format!("rows rejected: {rejects:?}"));
    }
    assert_eq!(stack.outbox_len().await, 0, "outbox not empty");
    assert_eq!(stack.queue_len().await, (0, 0), "queue not empty");
    stack.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} problems:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
