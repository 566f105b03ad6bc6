//! A model of a sheet tab that applies row changes in sequence order with
//! the writer's rules (`sheetsync_sheet_plan`'s planner): an insert sets
//! the row's cells or appends it, an update sets the cells of a row the tab
//! has, a delete removes the row, a keyset removes the rows inside
//! `from ..= to` (in `Key` order) whose key it does not list.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use sheetsync_outbox::{MemoryQueue, Scope, drain};
use sheetsync_queue::{ChangeBatch, Op, RowChange};
use sheetsync_reconcile::Key;
use tokio_postgres::Client;

use super::far;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sheet {
    pub rows: BTreeMap<Key, Map<String, Json>>,
}

impl Sheet {
    pub fn key(key: &[Json]) -> Key {
        Key::from_json(key)
    }

    /// A row the tab holds before anything is applied.
    pub fn put(&mut self, key: Vec<Json>, values: Json) {
        let Json::Object(values) = values else {
            panic!("a row is an object")
        };
        self.rows.insert(Key::from_json(&key), values);
    }

    /// Applies `changes` in `seq` order.
    pub fn apply(&mut self, changes: &[RowChange]) {
        let mut ordered: Vec<&RowChange> = changes.iter().collect();
        ordered.sort_by_key(|c| c.seq);
        for change in ordered {
            match &change.op {
                Op::Insert { key, values } => {
                    let row = self.rows.entry(Key::from_json(key)).or_default();
                    row.extend(values.clone());
                }
                Op::Update { key, values } => {
                    if let Some(row) = self.rows.get_mut(&Key::from_json(key)) {
                        row.extend(values.clone());
                    }
                }
                Op::Delete { key } => {
                    self.rows.remove(&Key::from_json(key));
                }
                Op::Keyset { keys, from, to } => {
                    let keep: Vec<Key> = keys.iter().map(|k| Key::from_json(k)).collect();
                    let from = from.as_deref().map(Key::from_json);
                    let to = to.as_deref().map(Key::from_json);
                    self.rows.retain(|k, _| {
                        let inside = from.as_ref().is_none_or(|f| k >= f)
                            && to.as_ref().is_none_or(|t| k <= t);
                        !inside || keep.contains(k)
                    });
                }
                Op::Schema(_) => {}
            }
        }
    }

    /// The table as the sheet should show it: every row's `to_jsonb`.
    pub async fn of_table(client: &Client, table: &str, key_columns: &[&str]) -> Sheet {
        let key = key_columns
            .iter()
            .map(|c| format!("to_jsonb(t.{c})"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = client
            .query(
                &format!("SELECT jsonb_build_array({key})::text, to_jsonb(t)::text FROM {table} t"),
                &[],
            )
            .await
            .unwrap();
        let mut sheet = Sheet::default();
        for row in rows {
            let key: Vec<Json> = serde_json::from_str(row.get(0)).unwrap();
            sheet.put(key, serde_json::from_str(row.get(1)).unwrap());
        }
        sheet
    }
}

/// Drains every committed outbox row of `binding` through the relay into an
/// in-process queue and returns its changes.
pub async fn drained_changes(client: &mut Client, binding: &str) -> Vec<RowChange> {
    let (queue, mut rx) = MemoryQueue::new(1 << 16);
    loop {
        let report = drain(client, &queue, &Scope::All, &Default::default(), far())
            .await
            .unwrap();
        assert_eq!(report.failures().count(), 0, "{report:?}");
        if report.rows_sent() == 0 {
            break;
        }
    }
    drop(queue);
    let mut changes = Vec::new();
    while let Some(message) = rx.recv().await {
        let batch = ChangeBatch::decode(&message.body).unwrap();
        if batch.binding == binding {
            changes.extend(batch.changes);
        }
    }
    changes
}
