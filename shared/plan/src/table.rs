//! What the database holds for a row: its current image (as `to_jsonb`
//! renders it) and its sync state (`sheetsync.row_state`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sheetsync_reconcile::Binding;
use sheetsync_reconcile::convert::from_pg_json;
use sheetsync_reconcile::{Key, Value};

use crate::PlanError;

/// One table row as the database rendered it.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub key: Key,
    /// The key as `jsonb_build_array` renders it: `row_state`'s key.
    pub key_json: String,
    /// Per column: the raw `to_jsonb` value (`None` if the row lacks it).
    pub raw: Vec<Option<Box<RawValue>>>,
    pub values: Vec<Value>,
}

impl TableRow {
    pub fn parse(
        binding: &Binding,
        key_json: String,
        row_json: &str,
    ) -> Result<TableRow, PlanError> {
        let bad = |reason: String| PlanError::UnreadableRow {
            binding: binding.name.clone(),
            reason,
        };
        let mut object: HashMap<String, Box<RawValue>> =
            serde_json::from_str(row_json).map_err(|e| bad(e.to_string()))?;
        let mut raw = Vec::with_capacity(binding.columns.len());
        let mut values = Vec::with_capacity(binding.columns.len());
        for column in &binding.columns {
            let cell = object.remove(&column.name);
            let value = match &cell {
                Some(cell) => {
                    from_pg_json(cell.get(), column.pg_type).map_err(|e| bad(e.to_string()))?
                }
                None => Value::Null,
            };
            raw.push(cell);
            values.push(value);
        }
        let key = Key::from_values(
            &binding
                .key_indices()
                .into_iter()
                .map(|c| values[c].clone())
                .collect::<Vec<_>>(),
        );
        Ok(TableRow {
            key,
            key_json,
            raw,
            values,
        })
    }

    /// The key as the response shows it: `{"id": 42}`.
    pub fn key_object(&self, binding: &Binding) -> serde_json::Map<String, serde_json::Value> {
        binding
            .key_indices()
            .into_iter()
            .map(|c| {
                let json = self.raw[c]
                    .as_ref()
                    .and_then(|raw| serde_json::from_str(raw.get()).ok())
                    .unwrap_or(serde_json::Value::Null);
                (binding.columns[c].name.clone(), json)
            })
            .collect()
    }

    pub fn raw_text(&self, column: usize) -> &str {
        self.raw[column].as_ref().map_or("null", |r| r.get())
    }
}

/// `sheetsync.row_state` of one key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowState {
    pub key_json: String,
    pub last_db_seq: Option<i64>,
    pub cell_changed_at: HashMap<String, DateTime<Utc>>,
    pub sheet_held: bool,
    pub tombstone_seq: Option<i64>,
    /// Per column: the outbox sequence of the last change queued for the
    /// sheet carrying the cell (migration 0002); absent when none is recorded.
    pub cell_seq: HashMap<String, i64>,
    /// The row was inserted from a keyless sheet row typed at this time.
    pub sheet_inserted_at: Option<DateTime<Utc>>,
}

impl RowState {
    /// The key this state belongs to, in canonical form.
    pub fn key(&self, binding: &Binding) -> Option<Key> {
        let parts: Vec<&RawValue> = serde_json::from_str(&self.key_json).ok()?;
        let columns = binding.key_indices();
        if parts.len() != columns.len() {
            return None;
        }
        let values: Option<Vec<Value>> = parts
            .iter()
            .zip(columns)
            .map(|(raw, c)| from_pg_json(raw.get(), binding.columns[c].pg_type).ok())
            .collect();
        Some(Key::from_values(&values?))
    }

    /// A change queued for the sheet that it had not received when the
    /// script read it: a change of the row, or a re-send of it (which moves
    /// only `cell_seq`).
    pub fn unseen_db_change(&self, watermark: i64) -> bool {
        self.last_db_seq.is_some_and(|seq| seq > watermark)
            || self.cell_seq.values().any(|&seq| seq > watermark)
    }

    /// The last queued change carrying `column`.
    pub fn cell_seq(&self, column: &str) -> Option<i64> {
        self.cell_seq.get(column).copied()
    }

    /// A delete still on its way to the sheet.
    pub fn unseen_delete(&self, watermark: i64) -> bool {
        self.tombstone_seq.is_some_and(|seq| seq > watermark)
    }
}
