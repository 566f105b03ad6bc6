//! Keeping each write under Google's payload guidance (about 2 MB per
//! request). Pure.
//!
//! A batch whose cells would make a larger `batchUpdate` body is applied as
//! several consecutive batches, split between changes in `seq` order: each
//! part is read, planned, journaled and verified as any batch, and stamps
//! the watermark of its own last change. So a part that fails leaves the
//! tab at a watermark every earlier change is below, and a redelivery skips
//! what landed.
//!
//! The planned body is measured before it is sent: one over the guidance
//! is not sent, and its changes are split ([`split_to_fit`]) in proportion
//! to the size their cells take in a body. A part whose body is still too
//! large is split again. Each split costs the read of the batch it
//! replaces, and happens only to batches over 2 MB.

use sheetsync_queue::{ChangeBatch, Op};

/// Google's guidance for a request body, "2 MB", read as 2,000,000 bytes
/// (the stricter reading, and the emulator's `PayloadLimit::GUIDANCE_BYTES`).
pub const PAYLOAD_GUIDANCE: usize = 2_000_000;

/// Bytes a body spends on one cell beside its value: the `CellData`
/// object, `userEnteredValue` and its kind, and a date's number format.
const CELL_OVERHEAD: usize = 96;
/// Bytes a body spends on one row beside its cells (`RowData`, an
/// `updateCells` request with its range and field mask).
const ROW_OVERHEAD: usize = 160;

/// The bytes a change's cells take in a `batchUpdate` body, at most.
pub fn body_bytes(op: &Op) -> usize {
    match op {
        Op::Insert { values, .. } | Op::Update { values, .. } => {
            ROW_OVERHEAD
                + values
                    .values()
                    .map(|v| CELL_OVERHEAD + v.to_string().len())
                    .sum::<usize>()
        }
        Op::Delete { .. } => ROW_OVERHEAD,
        // A keyset writes nothing; it removes rows.
        Op::Keyset { .. } => 0,
        Op::Schema(schema) => ROW_OVERHEAD * (1 + schema.columns.len()),
    }
}

/// `batches` split into parts whose cells [`body_bytes`] fit `budget`, in
/// `seq` order; `None` when they fit in one. A single change larger than
/// the budget is a part of its own.
fn split(batches: &[&ChangeBatch], budget: usize) -> Option<Vec<ChangeBatch>> {
    let total: usize = batches
        .iter()
        .flat_map(|b| b.changes.iter())
        .map(|c| body_bytes(&c.op))
        .sum();
    if total <= budget {
        return None;
    }
    let mut parts: Vec<ChangeBatch> = Vec::new();
    let mut used = 0;
    for batch in batches {
        for change in &batch.changes {
            let size = body_bytes(&change.op);
            let fits = parts.last().is_some_and(|p| {
                used + size <= budget
                    && p.binding == batch.binding
                    && p.spreadsheet_id == batch.spreadsheet_id
                    && p.sheet == batch.sheet
                    && p.columns == batch.columns
                    && p.key_columns == batch.key_columns
            });
            if !fits {
                parts.push(without_changes(batch));
                used = 0;
            }
            used += size;
            if let Some(part) = parts.last_mut() {
                part.changes.push(change.clone());
            }
        }
    }
    Some(parts)
}

/// `batches`, whose planned body took `bytes`, split into enough parts
/// (at least two) for each to take about 80% of the guidance. Parts
/// are cut by the cells' estimated size, or by count where changes carry no
/// cells (keysets); a single change cannot be split.
pub fn split_to_fit(batches: &[&ChangeBatch], bytes: usize) -> Vec<ChangeBatch> {
    let parts = bytes.div_ceil(PAYLOAD_GUIDANCE * 4 / 5).max(2);
    let estimated: usize = batches
        .iter()
        .flat_map(|b| b.changes.iter())
        .map(|c| body_bytes(&c.op))
        .sum();
    if let Some(split) = split(batches, estimated.div_ceil(parts))
        && split.len() >= 2
    {
        return split;
    }
    let count: usize = batches.iter().map(|b| b.changes.len()).sum();
    let per_part = count.div_ceil(parts).max(1);
    let mut out: Vec<ChangeBatch> = Vec::new();
    for batch in batches {
        for changes in batch.changes.chunks(per_part) {
            let mut part = without_changes(batch);
            part.changes = changes.to_vec();
            out.push(part);
        }
    }
    out
}

/// `batch` with no changes: a part's binding, tab and columns.
fn without_changes(batch: &ChangeBatch) -> ChangeBatch {
    ChangeBatch {
        v: batch.v,
        binding: batch.binding.clone(),
        spreadsheet_id: batch.spreadsheet_id.clone(),
        sheet: batch.sheet.clone(),
        key_columns: batch.key_columns.clone(),
        columns: batch.columns.clone(),
        changes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan_tests::batch;
    use serde_json::json;
    use sheetsync_queue::RowChange;

    fn insert(seq: i64, text_len: usize) -> RowChange {
        RowChange {
            seq,
            committed_at: "2026-12-04T12:00:00Z".into(),
            op: Op::Insert {
                key: vec![json!(seq)],
                values: json!({"id": seq, "name": "x".repeat(text_len)})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            },
        }
    }

    #[test]
    fn a_body_over_the_guidance_is_split_in_seq_order_in_proportion_to_its_cells() {
        // Same-sized changes (four-digit keys) over two messages.
        let mut first = batch(Vec::new());
        first.changes = (1_000..2_000).map(|s| insert(s, 1_000)).collect();
        let mut second = batch(Vec::new());
        second.changes = (2_000..2_500).map(|s| insert(s, 1_000)).collect();
        // A 5 MB body: four parts, of at most 1.6 MB each.
        let parts = split_to_fit(&[&first, &second], 5 * 1024 * 1024);
        let sizes: Vec<usize> = parts.iter().map(|p| p.changes.len()).collect();
        assert_eq!(sizes, vec![375, 375, 375, 375]);
        let seqs: Vec<i64> = parts
            .iter()
            .flat_map(|p| p.changes.iter().map(|c| c.seq))
            .collect();
        assert_eq!(seqs, (1_000..2_500).collect::<Vec<_>>());
    }

    #[test]
    fn a_body_just_over_is_split_in_two_and_a_big_change_stands_alone() {
        let mut b = batch(Vec::new());
        b.changes = vec![insert(1, 10), insert(2, 2_000_000), insert(3, 10)];
        let parts = split_to_fit(&[&b], PAYLOAD_GUIDANCE + 1);
        let seqs: Vec<Vec<i64>> = parts
            .iter()
            .map(|p| p.changes.iter().map(|c| c.seq).collect())
            .collect();
        assert_eq!(seqs, vec![vec![1], vec![2], vec![3]]);
    }

    #[test]
    fn changes_without_cells_are_split_by_count() {
        let keyset = |seq: i64| RowChange {
            seq,
            committed_at: "2026-12-04T12:00:00Z".into(),
            op: Op::Keyset {
                keys: vec![vec![json!(seq)]],
                from: None,
                to: None,
            },
        };
        let mut b = batch(Vec::new());
        b.changes = (1..=5).map(keyset).collect();
        let parts = split_to_fit(&[&b], 3 * 1024 * 1024);
        let seqs: Vec<Vec<i64>> = parts
            .iter()
            .map(|p| p.changes.iter().map(|c| c.seq).collect())
            .collect();
        assert_eq!(seqs, vec![vec![1, 2, 3], vec![4, 5]]);
    }
}
