//! The capture trigger (`sheetsync.capture()`, migration 0002): a person's
//! SQL change queued for the sheet, and `row_state` kept. Statement
//! semantics only: the trigger decides nothing the model could call.

use crate::world::{Change, ChangeOp, Val, WIDTH, World};

pub fn insert(world: &mut World, k: i64, cells: [Val; WIDTH]) {
    let seq = world.seq();
    world.table.insert(k, cells);
    world.outbox.push(Change {
        seq,
        key: k,
        op: ChangeOp::Insert(cells),
    });
    let now = world.now;
    let state = world.states.entry(k).or_default();
    state.last_db_seq = Some(seq);
    state.cell_changed_at = [Some(now); WIDTH + 1];
    state.cell_seq = [Some(seq); WIDTH + 1];
    state.tombstone_seq = None;
    state.sheet_held = false;
    state.sheet_inserted_at = None;
}

/// Sets data column `column`; an update that changes nothing fires nothing.
pub fn update(world: &mut World, k: i64, column: usize, value: Val) {
    let Some(cells) = world.table.get_mut(&k) else {
        return;
    };
    if cells[column] == value {
        return;
    }
    cells[column] = value;
    let seq = world.seq();
    let mut values = [None; WIDTH];
    values[column] = Some(value);
    world.outbox.push(Change {
        seq,
        key: k,
        op: ChangeOp::Update(values),
    });
    let now = world.now;
    let state = world.states.entry(k).or_default();
    state.last_db_seq = Some(seq);
    state.cell_changed_at[column + 1] = Some(now);
    state.cell_seq[column + 1] = Some(seq);
}

pub fn delete(world: &mut World, k: i64) {
    if world.table.remove(&k).is_none() {
        return;
    }
    let seq = world.seq();
    world.outbox.push(Change {
        seq,
        key: k,
        op: ChangeOp::Delete,
    });
    let state = world.states.entry(k).or_default();
    state.last_db_seq = Some(seq);
    state.tombstone_seq = Some(seq);
}
