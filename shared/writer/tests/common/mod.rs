//! Shared setup: an in-process emulator and a writer talking to it through
//! the real OAuth flow (service-account JWT grant at the emulator's token URI).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value as Json, json};
use sheetsync_queue::{ChangeBatch, ColumnType, Op, RowChange, VERSION};
use sheetsync_reconcile::PgType;
use sheetsync_sheets::{Endpoints, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::Emulator;
use sheetsync_writer::{Message, RetryPolicy, Writer};
use tokio::time::Instant;

pub const SPREADSHEET: &str = "S1";
pub const TAB: &str = "Orders";

pub struct Env {
    pub emu: Emulator,
    pub writer: Writer,
}

pub async fn setup() -> Env {
    let emu = Emulator::start().await;
    Env {
        writer: writer_for(&emu).await,
        emu,
    }
}

/// A second writer (another Lambda container) on the same emulator.
pub async fn setup_on(emu: &Emulator) -> Writer {
    writer_for(emu).await
}

pub fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

async fn writer_for(emu: &Emulator) -> Writer {
    let key = parse_key(&emu.service_account_key()).unwrap();
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    let client = SheetsClient::new(key, &endpoints).await.unwrap();
    Writer::new(client).with_retry(RetryPolicy {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(200),
    })
}

impl Env {
    pub fn seed(&self, rows: Vec<Vec<Json>>) {
        self.emu.add_sheet(SPREADSHEET, TAB);
        self.emu.set_rows(SPREADSHEET, TAB, rows);
    }

    pub fn seed_tab(&self, tab: &str, rows: Vec<Vec<Json>>) {
        self.emu.add_sheet(SPREADSHEET, tab);
        self.emu.set_rows(SPREADSHEET, tab, rows);
    }

    /// The tab's values with numbers as f64 and empty cells as null, trailing empties dropped.
    pub fn rows(&self) -> Vec<Vec<Json>> {
        self.rows_of(TAB)
    }

    pub fn rows_of(&self, tab: &str) -> Vec<Vec<Json>> {
        norm(self.emu.rows(SPREADSHEET, tab))
    }

    pub fn watermark(&self) -> Option<String> {
        self.emu
            .developer_metadata(SPREADSHEET, TAB, "sheetsync.watermark")
    }

    pub async fn apply(&self, messages: &[Message]) -> sheetsync_writer::Outcome {
        self.writer
            .apply(messages, Instant::now() + Duration::from_secs(60))
            .await
    }

    /// Sheets API requests (token requests excluded) since the last reset.
    pub fn api_requests(&self) -> u64 {
        self.emu.counters().api_requests
    }
}

pub fn norm(rows: Vec<Vec<Json>>) -> Vec<Vec<Json>> {
    rows.into_iter()
        .map(|r| {
            let mut r: Vec<Json> = r
                .into_iter()
                .map(|v| match v {
                    Json::Number(n) => json!(n.as_f64().unwrap()),
                    Json::String(s) if s.is_empty() => Json::Null,
                    other => other,
                })
                .collect();
            while r.last() == Some(&Json::Null) {
                r.pop();
            }
            r
        })
        .collect()
}

/// Shorthand for expected rows: integers become f64 as the sheet holds them.
pub fn expect(rows: Json) -> Vec<Vec<Json>> {
    norm(serde_json::from_value(rows).unwrap())
}

pub fn columns() -> Vec<ColumnType> {
    [
        ("id", PgType::Int8),
        ("name", PgType::Text),
        ("qty", PgType::Int4),
        ("due", PgType::Date),
        ("paid", PgType::Bool),
        ("at", PgType::Timestamptz),
    ]
    .into_iter()
    .map(|(n, t)| ColumnType {
        name: n.into(),
        pg_type: t,
    })
    .collect()
}

pub fn batch_for(tab: &str, changes: Vec<(i64, Op)>) -> ChangeBatch {
    ChangeBatch {
        v: VERSION,
        binding: format!("b-{tab}"),
        spreadsheet_id: SPREADSHEET.into(),
        sheet: tab.into(),
        key_columns: vec!["id".into()],
        columns: columns(),
        changes: changes
            .into_iter()
            .map(|(seq, op)| RowChange {
                seq,
                committed_at: "2026-11-25T13:35:00Z".into(),
                op,
            })
            .collect(),
    }
}

pub fn batch(changes: Vec<(i64, Op)>) -> ChangeBatch {
    batch_for(TAB, changes)
}

pub fn message(id: &str, batch: &ChangeBatch) -> Message {
    Message {
        message_id: id.into(),
        group_id: Some(batch.binding.clone()),
        body: batch.encode(),
    }
}

/// As the relay sends it: grouped by spreadsheet, so one batch may hold
/// several tabs' messages.
pub fn grouped(id: &str, batch: &ChangeBatch) -> Message {
    Message {
        message_id: id.into(),
        group_id: Some(batch.spreadsheet_id.clone()),
        body: batch.encode(),
    }
}

/// Several tabs' batches in one message, as the relay bundles a
/// spreadsheet's bindings.
pub fn bundled(id: &str, batches: &[ChangeBatch]) -> Message {
    let bundle = sheetsync_queue::Bundle {
        v: sheetsync_queue::BUNDLE_VERSION,
        batches: batches.to_vec(),
    };
    Message {
        message_id: id.into(),
        group_id: Some(batches[0].spreadsheet_id.clone()),
        body: serde_json::to_string(&bundle).unwrap(),
    }
}

/// Five tabs of one order each: a batch touching all of them needs ten
/// requests (faults.rs storms them with 429s, pacing.rs paces them).
pub const FIVE_TABS: [&str; 5] = ["T1", "T2", "T3", "T4", "T5"];

impl Env {
    pub fn seed_five_tabs(&self) {
        for tab in FIVE_TABS {
            self.seed_tab(tab, vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
        }
    }

    /// Each of the five tabs as [`messages_for_five_tabs`] leaves it.
    pub fn assert_five_tabs_applied(&self) {
        for (i, tab) in FIVE_TABS.iter().enumerate() {
            assert_eq!(
                self.rows_of(tab),
                expect(json!([
                    ["id", "name", "qty", "due"],
                    [1, "Ada", i + 10],
                    [2, "new"]
                ])),
                "{tab}"
            );
        }
    }
}

/// One message per tab of [`FIVE_TABS`]: order 1's qty set to 10 + the
/// tab's index, and a new order 2.
pub fn messages_for_five_tabs() -> Vec<Message> {
    FIVE_TABS
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
        .collect()
}

fn obj(v: Json) -> serde_json::Map<String, Json> {
    v.as_object().unwrap().clone()
}

pub fn ins(id: i64, v: Json) -> Op {
    Op::Insert {
        key: vec![json!(id)],
        values: obj(v),
    }
}

pub fn upd(id: i64, v: Json) -> Op {
    Op::Update {
        key: vec![json!(id)],
        values: obj(v),
    }
}

pub fn del(id: i64) -> Op {
    Op::Delete {
        key: vec![json!(id)],
    }
}

pub fn header() -> Vec<Json> {
    vec![json!("id"), json!("name"), json!("qty"), json!("due")]
}

/// A seeded generator (splitmix64): the soaks replay a seed exactly.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What the soaks expect the tab to hold: key → (name, qty).
pub type Oracle = BTreeMap<i64, (String, i64)>;

/// One random table change at `seq` (an insert of `next_id`, a delete, or
/// an update of a name or a qty), recorded in `want`.
pub fn random_change(rng: &mut Rng, want: &mut Oracle, seq: i64, next_id: &mut i64) -> Op {
    let keys: Vec<i64> = want.keys().copied().collect();
    match rng.below(10) {
        0 => {
            *next_id += 1;
            let id = *next_id;
            let v = (format!("i{seq}"), seq);
            let op = ins(id, json!({"id": id, "name": v.0, "qty": v.1}));
            want.insert(id, v);
            op
        }
        1 if keys.len() > 5 => {
            let k = keys[rng.below(keys.len())];
            want.remove(&k);
            del(k)
        }
        _ => {
            let k = keys[rng.below(keys.len())];
            let e = want.get_mut(&k).unwrap();
            if rng.below(2) == 0 {
                e.0 = format!("u{seq}");
                upd(k, json!({"id": k, "name": e.0}))
            } else {
                e.1 = seq;
                upd(k, json!({"id": k, "qty": e.1}))
            }
        }
    }
}
