//! The queue message: one SQS FIFO message carries an ordered run of row
//! changes of one binding, with everything the writer needs to apply them
//! (it has no database connection and no configuration but its credentials),
//! or a bundle of such runs, one per binding, of one spreadsheet.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sheetsync_reconcile::PgType;

/// Message format version of one binding's [`ChangeBatch`].
pub const VERSION: u32 = 1;

/// Message format version of a [`Bundle`]. A writer that knows only
/// [`VERSION`] refuses it by name ("message version 2 is not supported"),
/// so writers are upgraded before relays (docs/operations.md).
pub const BUNDLE_VERSION: u32 = 2;

/// SQS's limit on one message body and on one SendMessageBatch request.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// One message as a consumer receives it: the envelope around a
/// [`ChangeBatch`] body. Every way a message reaches the writer (the Lambda's
/// SQS event, an SQS receive on the local stack, the in-process queue) ends
/// as this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique per message: what a batch item failure names.
    pub message_id: String,
    /// The FIFO `MessageGroupId` (the binding).
    pub group_id: Option<String>,
    pub body: String,
}

/// One SQS message body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeBatch {
    pub v: u32,
    pub binding: String,
    pub spreadsheet_id: String,
    /// The tab name.
    pub sheet: String,
    /// Primary key column names, in key order.
    pub key_columns: Vec<String>,
    /// Every mapped column of the table with its type, so the writer can
    /// turn values into typed cells.
    pub columns: Vec<ColumnType>,
    /// Ordered by `seq`.
    pub changes: Vec<RowChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnType {
    pub name: String,
    pub pg_type: PgType,
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowChange {
    /// Outbox sequence number; the writer stamps the highest one applied on
    /// the tab as developer metadata `sheetsync.watermark`.
    pub seq: i64,
    /// When the change was committed (RFC 3339), for commit → sheet lag.
    pub committed_at: String,
    #[serde(flatten)]
    pub op: Op,
}

/// Keys are JSON arrays of the key columns' values in key order, exactly as
/// PostgreSQL's `to_jsonb` renders them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The whole row: appended when the sheet lacks the key, else its cells set.
    Insert {
        key: Vec<Json>,
        values: Map<String, Json>,
    },
    /// Only the changed columns: skipped when the sheet lacks the key.
    Update {
        key: Vec<Json>,
        values: Map<String, Json>,
    },
    /// A no-op when the sheet lacks the key.
    Delete { key: Vec<Json> },
    /// Part of a backfill's full key set. Every sheet row whose non-empty key
    /// lies in `from ..= to` (ordered by [`sheetsync_reconcile::Key`]; `None` is
    /// unbounded) and is not in `keys` is removed. Rows with an empty key
    /// are left alone.
    Keyset {
        keys: Vec<Vec<Json>>,
        from: Option<Vec<Json>>,
        to: Option<Vec<Json>>,
    },
    /// The table's columns changed (`ALTER TABLE`): the header follows.
    /// Changes before it name the old columns, changes after it the new
    /// ones; the added and retyped columns' values follow as updates.
    Schema(SchemaChange),
}

/// What one `ALTER TABLE` (or several, seen at once) did to the columns,
/// by name; columns are told apart by attnum, so a rename is not a drop
/// and an add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaChange {
    /// `schema.table`, for the note on a dropped column's header.
    #[serde(default)]
    pub table: String,
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub dropped: Vec<String>,
    #[serde(default)]
    pub renamed: Vec<Renamed>,
    #[serde(default)]
    pub retyped: Vec<Retyped>,
    /// Every column after the change, in table order.
    #[serde(default)]
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retyped {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// Several bindings' batches in one message: a FIFO consumer takes at most
/// ten messages of a group per turn, so the relay packs every tab of a
/// spreadsheet that has changes into one message (docs/scale.md,
/// "Messages"). Each binding appears at most once per bundle, and a
/// binding's batches keep their order across bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub v: u32,
    pub batches: Vec<ChangeBatch>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("message is not a sheetsync change batch: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("message version {0} is not supported (expected {VERSION} or {BUNDLE_VERSION})")]
    Version(u32),
    #[error("message is a bundle of no batches")]
    EmptyBundle,
}

/// The batches a message body carries, in order: one for a [`ChangeBatch`],
/// each of a [`Bundle`]'s.
pub fn decode_batches(body: &str) -> Result<Vec<ChangeBatch>, DecodeError> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    match serde_json::from_str::<Version>(body)?.v {
        VERSION => Ok(vec![ChangeBatch::decode(body)?]),
        BUNDLE_VERSION => {
            let bundle: Bundle = serde_json::from_str(body)?;
            if bundle.batches.is_empty() {
                return Err(DecodeError::EmptyBundle);
            }
            match bundle.batches.iter().find(|b| b.v != VERSION) {
                Some(b) => Err(DecodeError::Version(b.v)),
                None => Ok(bundle.batches),
            }
        }
        other => Err(DecodeError::Version(other)),
    }
}

impl ChangeBatch {
    pub fn decode(body: &str) -> Result<ChangeBatch, DecodeError> {
        let batch: ChangeBatch = serde_json::from_str(body)?;
        if batch.v != VERSION {
            return Err(DecodeError::Version(batch.v));
        }
        Ok(batch)
    }

    pub fn encode(&self) -> String {
        // Serialising plain data structures cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn first_seq(&self) -> Option<i64> {
        self.changes.first().map(|c| c.seq)
    }

    pub fn last_seq(&self) -> Option<i64> {
        self.changes.last().map(|c| c.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_rejects_other_versions() {
        let batch = ChangeBatch {
            v: VERSION,
            binding: "orders".into(),
            spreadsheet_id: "S1".into(),
            sheet: "Orders".into(),
            key_columns: vec!["id".into()],
            columns: vec![ColumnType {
                name: "id".into(),
                pg_type: PgType::Int4,
            }],
            changes: vec![RowChange {
                seq: 7,
                committed_at: "2026-11-25T13:35:00Z".into(),
                op: Op::Update {
                    key: vec![json!(42)],
                    values: json!({"id": 42, "qty": 3})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                },
            }],
        };
        let text = batch.encode();
        assert!(text.contains(r#""op":"update""#), "{text}");
        assert_eq!(ChangeBatch::decode(&text).unwrap(), batch);
        let other = text.replace(r#""v":1"#, r#""v":2"#);
        assert_eq!(
            ChangeBatch::decode(&other).unwrap_err().to_string(),
            "message version 2 is not supported (expected 1 or 2)"
        );
    }

    fn batch(binding: &str, sheet: &str, seq: i64) -> ChangeBatch {
        ChangeBatch {
            v: VERSION,
            binding: binding.into(),
            spreadsheet_id: "S1".into(),
            sheet: sheet.into(),
            key_columns: vec!["id".into()],
            columns: Vec::new(),
            changes: vec![RowChange {
                seq,
                committed_at: "2026-12-05T10:00:00Z".into(),
                op: Op::Delete {
                    key: vec![json!(seq)],
                },
            }],
        }
    }

    #[test]
    fn a_body_decodes_as_one_batch_or_a_bundle_of_them() {
        let one = batch("orders", "Orders", 3);
        assert_eq!(decode_batches(&one.encode()).unwrap(), vec![one.clone()]);
        let other = batch("stock", "Stock", 9);
        let bundle = Bundle {
            v: BUNDLE_VERSION,
            batches: vec![one.clone(), other.clone()],
        };
        let text = serde_json::to_string(&bundle).unwrap();
        assert_eq!(decode_batches(&text).unwrap(), vec![one, other]);
    }

    #[test]
    fn bodies_that_are_no_batch_are_refused_by_name() {
        let cases = [
            (
                r#"{"v":2,"batches":[]}"#,
                "message is a bundle of no batches",
            ),
            (
                r#"{"v":3,"batches":[]}"#,
                "message version 3 is not supported (expected 1 or 2)",
            ),
            (
                r#"{"batches":[]}"#,
                "message is not a sheetsync change batch: missing field `v` at line 1 column 14",
            ),
            (
                r#"{"v":2,"batches":[{"v":2}]}"#,
                "message is not a sheetsync change batch: missing field `binding` at line 1 column 25",
            ),
        ];
        for (body, error) in cases {
            assert_eq!(
                decode_batches(body).unwrap_err().to_string(),
                error,
                "{body}"
            );
        }
    }
}
