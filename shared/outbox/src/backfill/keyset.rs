//! The `keyset` row images a backfill queues: the table's whole say over a
//! range of keys, in [`sheetsync_reconcile::Key`] order, the order the
//! writer compares with (`from ..= to`, both ends included, `null` open).
//!
//! A range too big for one part is split at keys of the range: each part's
//! `from` is the previous part's `to`, and that boundary key is listed in
//! both parts, so no key falls between two parts and no listed key is
//! removed by its neighbour's range.

use serde_json::{Value as Json, json};

/// Bytes of keys in one keyset part: small enough for one queue message
/// with any binding header.
pub const KEYSET_PART_BYTES: usize = 64 * 1024;

/// The parts covering `from ..= to` that keep exactly `sorted` (keys in
/// [`sheetsync_reconcile::Key`] order, every one inside the range).
pub fn keyset_parts(
    from: Option<&Vec<Json>>,
    sorted: &[Vec<Json>],
    to: Option<&Vec<Json>>,
    max_keys: usize,
    max_bytes: usize,
) -> Vec<Json> {
    let mut parts = Vec::new();
    let mut from = from;
    let mut current: Vec<&Vec<Json>> = Vec::new();
    let mut bytes = 0;
    for key in sorted {
        let size = json!(key).to_string().len() + 1;
        if current.len() > 1 && (current.len() >= max_keys || bytes + size > max_bytes) {
            let split = current.last().copied();
            parts.push(json!({"keys": current, "from": from, "to": split}));
            from = split;
            current = split.into_iter().collect();
            bytes = current.iter().map(|k| json!(k).to_string().len() + 1).sum();
        }
        current.push(key);
        bytes += size;
    }
    parts.push(json!({"keys": current, "from": from, "to": to}));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(range: std::ops::RangeInclusive<i64>) -> Vec<Vec<Json>> {
        range.map(|i| vec![json!(i)]).collect()
    }

    #[test]
    fn an_empty_table_is_one_unbounded_part_without_keys() {
        assert_eq!(
            keyset_parts(None, &[], None, 10, 1000),
            vec![json!({"keys": [], "from": null, "to": null})]
        );
    }

    #[test]
    fn parts_share_their_boundary_key_and_cover_everything() {
        let parts = keyset_parts(None, &keys(1..=7), None, 3, 1000);
        assert_eq!(
            parts,
            vec![
                json!({"keys": [[1], [2], [3]], "from": null, "to": [3]}),
                json!({"keys": [[3], [4], [5]], "from": [3], "to": [5]}),
                json!({"keys": [[5], [6], [7]], "from": [5], "to": null}),
            ]
        );
    }

    #[test]
    fn parts_are_bounded_by_bytes_too() {
        // Each key `[n]` is 3 bytes plus a separator: 8 bytes hold two.
        let parts = keyset_parts(None, &keys(1..=4), None, 100, 8);
        assert_eq!(
            parts,
            vec![
                json!({"keys": [[1], [2]], "from": null, "to": [2]}),
                json!({"keys": [[2], [3]], "from": [2], "to": [3]}),
                json!({"keys": [[3], [4]], "from": [3], "to": null}),
            ]
        );
    }

    #[test]
    fn a_bounded_range_keeps_its_bounds_at_both_ends() {
        // A chunk whose lower bound (the previous chunk's last key) is gone
        // from the table: the range still starts there, and the key is not
        // kept, so the sheet loses it too.
        let from = vec![json!(4)];
        let to = vec![json!(9)];
        let parts = keyset_parts(Some(&from), &keys(5..=9), Some(&to), 3, 1000);
        assert_eq!(
            parts,
            vec![
                json!({"keys": [[5], [6], [7]], "from": [4], "to": [7]}),
                json!({"keys": [[7], [8], [9]], "from": [7], "to": [9]}),
            ]
        );
    }
}
