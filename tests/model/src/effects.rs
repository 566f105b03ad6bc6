//! What the webhook records besides table rows, as `effects.rs`'s SQL
//! (`HOLD_SQL`, `FORGET_SQL`, `ENQUEUE_SQL`) does it to `row_state` and the
//! outbox. Statement semantics only: no decision is made here.

use crate::world::{Change, ChangeOp, Val, WIDTH, World};

/// `HOLD_SQL`: the sheet wrote `written` cells (binding columns) at `at`;
/// `reported`: it sent the key; `inserted`: a row typed without a key. A
/// state left by a deleted row (tombstone) starts over.
pub fn hold(world: &mut World, k: i64, written: &[usize], reported: bool, inserted: bool, at: u8) {
    let mut times = [None; WIDTH + 1];
    for &c in written {
        times[c] = Some(at);
    }
    let inserted_at = inserted.then_some(at);
    let state = world.states.entry(k).or_default();
    if state.tombstone_seq.is_some() {
        state.cell_changed_at = times;
        state.cell_seq = [None; WIDTH + 1];
        state.sheet_held = reported;
        state.sheet_inserted_at = inserted_at;
        state.tombstone_seq = None;
    } else {
        for (changed_at, time) in state.cell_changed_at.iter_mut().zip(times) {
            if time.is_some() {
                *changed_at = time;
            }
        }
        state.sheet_held |= reported;
        state.sheet_inserted_at = state.sheet_inserted_at.or(inserted_at);
    }
}

/// `FORGET_SQL`: a row the sheet deleted.
pub fn forget(world: &mut World, k: i64) {
    if let Some(state) = world.states.get_mut(&k) {
        state.sheet_held = false;
        state.sheet_inserted_at = None;
        state.cell_seq = [None; WIDTH + 1];
    }
}

/// `repair_update`: the stored row's `columns` (binding columns) queued.
pub fn repair_update(world: &mut World, k: i64, columns: &std::collections::BTreeSet<usize>) {
    let Some(cells) = world.table.get(&k).copied() else {
        return;
    };
    let mut values: [Option<Val>; WIDTH] = [None; WIDTH];
    for &c in columns {
        if c > 0 {
            values[c - 1] = Some(cells[c - 1]);
        }
    }
    let unseen: Vec<usize> = columns.iter().copied().collect();
    enqueue(world, k, ChangeOp::Update(values), &unseen);
}

/// `resend`: the whole row queued again (every non-key column unseen).
pub fn resend(world: &mut World, k: i64) {
    let Some(cells) = world.table.get(&k).copied() else {
        return;
    };
    let unseen: Vec<usize> = (1..=WIDTH).collect();
    enqueue(world, k, ChangeOp::Insert(cells), &unseen);
}

/// `queue_delete`: the sheet's delete queued after a change in flight.
pub fn queue_delete(world: &mut World, k: i64) {
    enqueue(world, k, ChangeOp::Delete, &[]);
}

/// `ENQUEUE_SQL`: the change takes the next outbox sequence; a re-send
/// (insert) leaves `last_db_seq`; a delete leaves a tombstone.
fn enqueue(world: &mut World, k: i64, op: ChangeOp, unseen: &[usize]) {
    let seq = world.seq();
    let is_insert = matches!(op, ChangeOp::Insert(_));
    let is_delete = matches!(op, ChangeOp::Delete);
    world.outbox.push(Change { seq, key: k, op });
    let existed = world.states.contains_key(&k);
    let state = world.states.entry(k).or_default();
    state.last_db_seq = if existed && is_insert {
        state.last_db_seq.or(Some(seq))
    } else {
        Some(seq)
    };
    for &c in unseen {
        state.cell_seq[c] = Some(seq);
    }
    if is_delete {
        state.tombstone_seq = Some(seq);
    }
}
