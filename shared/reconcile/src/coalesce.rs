//! Coalescing an ordered run of row changes to one change per key, so a
//! batch that touched a row ten times costs the sheet one write.
//!
//! Folding rules (earlier ∘ later):
//!
//! | earlier | later  | result                               |
//! |---------|--------|--------------------------------------|
//! | insert  | update | insert, the update's values merged in |
//! | insert  | delete | nothing                              |
//! | update  | update | update, merged (later values win)    |
//! | update  | delete | delete                               |
//! | delete  | insert | insert (the whole new row)           |
//! | any     | insert | insert (an insert carries the whole row) |
//! | delete  | update | delete (an update of a missing key does nothing) |
//! | delete  | delete | delete                               |
//!
//! `insert + delete → nothing` holds when the run began with that insert (an
//! insert means the key was not in the table before). When the run began
//! with an update or delete, the key was in the table, and the sheet may
//! hold it: then `delete, insert, delete` is a delete, not nothing. Keys keep the position of their first appearance;
//! each result carries the highest `seq` folded into it.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::fasthash::BuildKeyHasher;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// `values` is the whole row.
    Insert,
    /// `values` are the changed columns.
    Update,
    /// `values` is empty.
    Delete,
}

/// One row change. Generic over the key (a [`Key`](crate::Key), or
/// whatever identifies the row to the caller) and the cell payload (typed
/// `Value`s, or the outbox's JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Change<K, V> {
    pub key: K,
    pub op: ChangeOp,
    pub values: BTreeMap<String, V>,
    pub seq: i64,
}

/// Folds `changes` (in sequence order) to at most one change per key, in
/// the order keys first appear.
pub fn coalesce<K, V>(changes: impl IntoIterator<Item = Change<K, V>>) -> Vec<Change<K, V>>
where
    K: Eq + Hash + Clone,
{
    let changes = changes.into_iter();
    let mut slots: Vec<Slot<K, V>> = Vec::with_capacity(changes.size_hint().0);
    let mut index: HashMap<K, usize, BuildKeyHasher> =
        HashMap::with_capacity_and_hasher(changes.size_hint().0, BuildKeyHasher::default());
    for change in changes {
        match index.get(&change.key) {
            Some(&at) => slots[at].fold(change),
            None => {
                index.insert(change.key.clone(), slots.len());
                slots.push(Slot {
                    seq: change.seq,
                    existed: change.op != ChangeOp::Insert,
                    key: change.key,
                    pending: Some((change.op, change.values)),
                });
            }
        }
    }
    slots
        .into_iter()
        .filter_map(|slot| {
            let (op, values) = slot.pending?;
            Some(Change {
                key: slot.key,
                op,
                values,
                seq: slot.seq,
            })
        })
        .collect()
}

struct Slot<K, V> {
    key: K,
    /// `None` when everything so far cancelled out (insert + delete).
    pending: Option<(ChangeOp, BTreeMap<String, V>)>,
    seq: i64,
    /// The key was in the table before the run (it began with an update or
    /// a delete).
    existed: bool,
}

impl<K, V> Slot<K, V> {
    fn fold(&mut self, later: Change<K, V>) {
        use ChangeOp::*;
        self.seq = self.seq.max(later.seq);
        self.pending = match (self.pending.take(), later.op) {
            (None, op) | (Some(_), op @ Insert) => Some((op, later.values)),
            (Some((Insert, _)), Delete) if !self.existed => None,
            (Some((Insert, _)), Delete) => Some((Delete, BTreeMap::new())),
            (Some((earlier @ (Insert | Update), mut values)), Update) => {
                values.extend(later.values);
                Some((earlier, values))
            }
            (Some((Update, _)), Delete) => Some((Delete, BTreeMap::new())),
            (Some((Delete, values)), Update | Delete) => Some((Delete, values)),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn change(key: u8, op: ChangeOp, values: &[(&str, i32)], seq: i64) -> Change<u8, i32> {
        Change {
            key,
            op,
            values: values.iter().map(|(c, v)| (c.to_string(), *v)).collect(),
            seq,
        }
    }

    use ChangeOp::*;

    #[test]
    fn folds_per_key_in_first_appearance_order() {
        let changes = vec![
            change(1, Insert, &[("a", 1), ("b", 1)], 10),
            change(2, Update, &[("a", 2)], 11),
            change(3, Insert, &[("a", 3)], 12),
            change(1, Update, &[("b", 9)], 13),
            change(2, Update, &[("a", 5), ("b", 5)], 14),
            change(3, Delete, &[], 15),
            change(4, Delete, &[], 16),
            change(4, Insert, &[("a", 4)], 17),
            change(5, Update, &[("a", 1)], 18),
            change(5, Delete, &[], 19),
        ];
        assert_eq!(
            coalesce(changes),
            vec![
                change(1, Insert, &[("a", 1), ("b", 9)], 13),
                change(2, Update, &[("a", 5), ("b", 5)], 14),
                change(4, Insert, &[("a", 4)], 17),
                change(5, Delete, &[], 19),
            ]
        );
    }

    #[test]
    fn a_row_deleted_replaced_and_deleted_again_is_a_delete() {
        let changes = vec![
            change(1, Delete, &[], 1),
            change(1, Insert, &[("a", 1)], 2),
            change(1, Delete, &[], 3),
        ];
        assert_eq!(coalesce(changes), vec![change(1, Delete, &[], 3)]);
    }

    #[test]
    fn a_key_cancelled_out_and_inserted_again_keeps_its_place() {
        let changes = vec![
            change(7, Insert, &[("a", 1)], 1),
            change(8, Update, &[("a", 1)], 2),
            change(7, Delete, &[], 3),
            change(7, Insert, &[("a", 2)], 4),
        ];
        assert_eq!(
            coalesce(changes),
            vec![
                change(7, Insert, &[("a", 2)], 4),
                change(8, Update, &[("a", 1)], 2)
            ]
        );
    }

    type Table = BTreeMap<u8, BTreeMap<String, i32>>;

    /// What the sheet does with a change (DESIGN.md): an insert sets the
    /// whole row, an update of a missing key does nothing, a delete of a
    /// missing key does nothing.
    fn apply(table: &mut Table, change: &Change<u8, i32>) {
        match change.op {
            Insert => {
                table.insert(change.key, change.values.clone());
            }
            Update => {
                if let Some(row) = table.get_mut(&change.key) {
                    row.extend(change.values.clone());
                }
            }
            Delete => {
                table.remove(&change.key);
            }
        }
    }

    /// Makes an arbitrary op sequence one a table can produce: inserts only
    /// of absent keys, updates and deletes only of present ones.
    type RawOps = Vec<(u8, u8, Vec<(u8, i32)>)>;

    fn as_table_would(initial: &Table, raw: RawOps) -> Vec<Change<u8, i32>> {
        let mut present: std::collections::BTreeSet<u8> = initial.keys().copied().collect();
        raw.into_iter()
            .enumerate()
            .map(|(seq, (key, op, cells))| {
                let wanted = [Insert, Update, Delete][usize::from(op % 3)];
                let op = match (present.contains(&key), wanted) {
                    (false, _) => Insert,
                    (true, Insert) => Update,
                    (true, other) => other,
                };
                match op {
                    Insert => present.insert(key),
                    Delete => present.remove(&key),
                    Update => true,
                };
                let values = match op {
                    Delete => BTreeMap::new(),
                    _ => cells
                        .into_iter()
                        .map(|(c, v)| (format!("c{}", c % 4), v))
                        .collect(),
                };
                Change {
                    key,
                    op,
                    values,
                    seq: seq as i64 + 1,
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn coalesced_changes_apply_like_the_sequence(
            initial in prop::collection::btree_map(0u8..6, prop::collection::btree_map("c[0-3]", any::<i32>(), 0..4), 0..6),
            raw in prop::collection::vec((0u8..6, any::<u8>(), prop::collection::vec((any::<u8>(), any::<i32>()), 0..4)), 0..40),
        ) {
            let changes = as_table_would(&initial, raw);
            let mut sequential = initial.clone();
            for change in &changes {
                apply(&mut sequential, change);
            }
            let coalesced = coalesce(changes.clone());
            let mut folded = initial.clone();
            for change in &coalesced {
                apply(&mut folded, change);
            }
            prop_assert_eq!(&folded, &sequential);

            // One change per key, keys in first-appearance order, each with
            // the highest seq of its key.
            let mut first_seen = Vec::new();
            for change in &changes {
                if !first_seen.contains(&change.key) {
                    first_seen.push(change.key);
                }
            }
            let keys: Vec<u8> = coalesced.iter().map(|c| c.key).collect();
            let expected: Vec<u8> = first_seen.iter().copied().filter(|k| keys.contains(k)).collect();
            prop_assert_eq!(keys, expected);
            for change in &coalesced {
                let highest = changes.iter().filter(|c| c.key == change.key).map(|c| c.seq).max();
                prop_assert_eq!(Some(change.seq), highest);
            }
        }
    }
}
