//! Outbox rows into queue messages.
//!
//! Packing is greedy in sequence order and depends only on the rows, so a
//! relay that resends after a crash builds the same messages with the same
//! deduplication ids (SQS drops the copies within its five-minute window;
//! the writer's watermark skips any later one). A message closes when the
//! next change would take it past the byte limit or the change limit.
//!
//! A single change larger than a message is refused, not split: the Sheets
//! API takes at most 50,000 characters per cell, so such a row cannot reach
//! a sheet anyway, and a split change would need the writer to hold its
//! watermark across messages. The row stays in the outbox and the binding
//! stops there (see [`OutboxError::RowTooLarge`]).

use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use sheetsync_queue::{Op, RowChange};

use crate::OutboxError;
use crate::claim::OutboxRow;
use crate::target::Target;

/// Bounds on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackLimits {
    /// Body bytes of one message (and of one send request's bodies).
    pub max_message_bytes: usize,
    /// Changes in one message: bounds the writer's work per message.
    pub max_changes: usize,
}

impl Default for PackLimits {
    fn default() -> Self {
        PackLimits {
            max_message_bytes: sheetsync_queue::MAX_MESSAGE_BYTES,
            max_changes: 500,
        }
    }
}

/// One queue message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedMessage {
    /// The outbox sequences it carries, ascending.
    pub seqs: Vec<i64>,
    pub body: String,
}

impl PackedMessage {
    pub fn first_seq(&self) -> i64 {
        self.seqs.first().copied().unwrap_or_default()
    }

    pub fn last_seq(&self) -> i64 {
        self.seqs.last().copied().unwrap_or_default()
    }
}

/// The messages for a run of rows, and why packing stopped early, if it did.
#[derive(Debug)]
pub struct Packed {
    pub messages: Vec<PackedMessage>,
    /// Set when a row could not be packed: every message before it is
    /// still sent; that row and every later one stay in the outbox.
    pub stopped: Option<OutboxError>,
}

/// Packs `rows` (ascending `seq`, one binding) into messages.
pub fn pack(target: &Target, rows: &[OutboxRow], limits: PackLimits) -> Packed {
    let base = sqs_safe(&target.empty_batch().encode());
    // The body is the empty batch with the changes spliced into its
    // trailing `"changes":[]`: the field is last, so no re-encoding.
    let Some(prefix) = base.strip_suffix("[]}") else {
        return Packed {
            messages: Vec::new(),
            stopped: Some(OutboxError::Malformed {
                binding: target.binding.clone(),
                seq: rows.first().map_or(0, |r| r.seq),
                reason: "the message header does not end with its changes".into(),
            }),
        };
    };
    let mut messages = Vec::new();
    let mut seqs: Vec<i64> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let mut size = base.len();
    let close = |seqs: &mut Vec<i64>, parts: &mut Vec<String>, out: &mut Vec<PackedMessage>| {
        if seqs.is_empty() {
            return;
        }
        let body = format!("{prefix}[{}]}}", parts.join(","));
        out.push(PackedMessage {
            seqs: std::mem::take(seqs),
            body,
        });
        parts.clear();
    };
    for row in rows {
        let change = match row_change(&target.binding, row) {
            Ok(c) => c,
            Err(e) => {
                close(&mut seqs, &mut parts, &mut messages);
                return Packed {
                    messages,
                    stopped: Some(e),
                };
            }
        };
        let text = sqs_safe(&serde_json::to_string(&change).unwrap_or_default());
        let alone = base.len() + text.len();
        if alone > limits.max_message_bytes {
            close(&mut seqs, &mut parts, &mut messages);
            return Packed {
                messages,
                stopped: Some(OutboxError::RowTooLarge {
                    binding: target.binding.clone(),
                    seq: row.seq,
                    op: row.op.clone(),
                    bytes: alone,
                    limit: limits.max_message_bytes,
                }),
            };
        }
        let grown = size + text.len() + usize::from(!parts.is_empty());
        if !parts.is_empty()
            && (grown > limits.max_message_bytes || parts.len() >= limits.max_changes)
        {
            close(&mut seqs, &mut parts, &mut messages);
            size = base.len();
        }
        size += text.len() + usize::from(!parts.is_empty());
        seqs.push(row.seq);
        parts.push(text);
    }
    close(&mut seqs, &mut parts, &mut messages);
    Packed {
        messages,
        stopped: None,
    }
}

/// Consecutive runs of messages (given by their body sizes) that fit one
/// send request: at most `max_entries` messages and `max_bytes` of bodies.
pub fn requests(
    sizes: &[usize],
    max_entries: usize,
    max_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, size) in sizes.iter().enumerate() {
        if i > start && (i - start >= max_entries || bytes + size > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// One outbox row as the writer's change.
pub fn row_change(binding: &str, row: &OutboxRow) -> Result<RowChange, OutboxError> {
    let malformed = |reason: String| OutboxError::Malformed {
        binding: binding.to_owned(),
        seq: row.seq,
        reason,
    };
    let key: Vec<Json> = serde_json::from_str(&row.key)
        .map_err(|e| malformed(format!("key is not a JSON array: {e}")))?;
    let image = || -> Result<Map<String, Json>, OutboxError> {
        let text = row
            .row_image
            .as_deref()
            .ok_or_else(|| malformed(format!("{} without a row image", row.op)))?;
        serde_json::from_str(text)
            .map_err(|e| malformed(format!("row image is not a JSON object: {e}")))
    };
    let op = match row.op.as_str() {
        "insert" => Op::Insert {
            key,
            values: image()?,
        },
        "update" => Op::Update {
            key,
            values: image()?,
        },
        "delete" => Op::Delete { key },
        "keyset" => {
            let mut part = image()?;
            let mut take = |name: &str| part.remove(name).unwrap_or(Json::Null);
            let keys = serde_json::from_value(take("keys"))
                .map_err(|e| malformed(format!("keyset keys: {e}")))?;
            let from = serde_json::from_value(take("from"))
                .map_err(|e| malformed(format!("keyset from: {e}")))?;
            let to = serde_json::from_value(take("to"))
                .map_err(|e| malformed(format!("keyset to: {e}")))?;
            Op::Keyset { keys, from, to }
        }
        "schema" => Op::Schema(
            serde_json::from_value(Json::Object(image()?))
                .map_err(|e| malformed(format!("schema change: {e}")))?,
        ),
        other => return Err(malformed(format!("unknown op '{other}'"))),
    };
    Ok(RowChange {
        seq: row.seq,
        committed_at: row.committed_at.clone(),
        op,
    })
}

/// SQS accepts only XML characters: JSON already escapes control
/// characters, which leaves the two non-characters U+FFFE and U+FFFF (only
/// ever inside JSON strings, where `\uXXXX` means the same).
fn sqs_safe(json: &str) -> String {
    if !json.contains(['\u{fffe}', '\u{ffff}']) {
        return json.to_owned();
    }
    json.replace('\u{fffe}', "\\ufffe")
        .replace('\u{ffff}', "\\uffff")
}

/// `MessageGroupId`: the spreadsheet, so that one batch holds all of its
/// tabs' changes and the writer applies them with one read and one write
/// (docs/scale.md); each tab's changes keep their order within the group.
/// A spreadsheet id is always valid as one (1–128 printable ASCII
/// characters); anything else becomes a stable digest of it.
pub fn group_id(spreadsheet_id: &str) -> String {
    let valid = (1..=128).contains(&spreadsheet_id.len())
        && spreadsheet_id.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        spreadsheet_id.to_owned()
    } else {
        format!("spreadsheet-{}", digest(spreadsheet_id))
    }
}

/// `MessageDeduplicationId`: the binding (as a digest, since deduplication
/// is queue-wide) and the message's sequence range.
pub fn dedup_id(binding: &str, message: &PackedMessage) -> String {
    format!(
        "{}:{}-{}",
        digest(binding),
        message.first_seq(),
        message.last_seq()
    )
}

fn digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

#[cfg(test)]
mod tests;
