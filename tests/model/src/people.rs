//! People on both sides, and what the Apps Script queues for each sheet
//! action. Each step of a scenario's script happens once, in any order the
//! checker chooses (among those where it is possible).

use crate::capture;
use crate::world::{PersonWrite, Post, Reading, Rid, TabRow, Val, WIDTH, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// A person types `value` into one cell (`old` sent; a row without a
    /// key yet is sent whole).
    SheetEdit {
        rid: Rid,
        column: usize,
        value: i8,
    },
    /// A person pastes over both data cells of a keyed row (`edited` sent).
    SheetPaste {
        rid: Rid,
        values: [Val; WIDTH],
    },
    /// A person types a new row (no key).
    SheetInsert {
        rid: Rid,
        values: [Val; WIDTH],
    },
    /// A person deletes a row: the script sends the keys left.
    SheetDelete {
        rid: Rid,
    },
    /// A person sorts the tab (reverses its rows).
    SheetSort,
    SqlInsert {
        rid: Rid,
        values: [Val; WIDTH],
    },
    SqlUpdate {
        rid: Rid,
        column: usize,
        value: i8,
    },
    SqlDelete {
        rid: Rid,
    },
    /// The script's snapshot of the tab (its timer), once its queue drained.
    Snapshot,
}

fn reading(world: &World) -> Reading {
    Reading {
        watermark: world.tab_watermark,
        at: world.now,
    }
}

/// The world after `step`, or `None` when it cannot happen now.
pub fn act(world: &World, step: Step) -> Option<World> {
    let mut next = world.clone();
    next.now += 1;
    match step {
        Step::SheetEdit { rid, column, value } => {
            let read = reading(&next);
            let row = next.tab.iter_mut().find(|r| r.rid == rid)?;
            let before = row.cells[column];
            if before == Some(value) {
                return None;
            }
            row.cells[column] = Some(value);
            let (key, cells) = (row.key, row.cells);
            // payload.js: a row without a key is sent whole (a new row);
            // a keyed row's single cell carries its base as `old`.
            let (applied, old) = match key {
                None => (None, [None; WIDTH]),
                Some(_) => {
                    let mut applied = [false; WIDTH];
                    applied[column] = true;
                    let mut old = [None; WIDTH];
                    old[column] = Some(before);
                    (Some(applied), old)
                }
            };
            next.client.push(Post::Edit {
                rid,
                key,
                cells,
                applied,
                old,
                read,
            });
            written(&mut next, rid, column, Some(value), Some(before));
        }
        Step::SheetPaste { rid, values } => {
            let read = reading(&next);
            let row = next.tab.iter_mut().find(|r| r.rid == rid)?;
            let key = row.key?;
            let before = row.cells;
            row.cells = values;
            next.client.push(Post::Edit {
                rid,
                key: Some(key),
                cells: values,
                applied: Some([true; WIDTH]),
                old: [None; WIDTH],
                read,
            });
            for c in 0..WIDTH {
                written(&mut next, rid, c, values[c], Some(before[c]));
            }
        }
        Step::SheetInsert { rid, values } => {
            let read = reading(&next);
            next.tab.push(TabRow {
                rid,
                key: None,
                cells: values,
            });
            next.client.push(Post::Edit {
                rid,
                key: None,
                cells: values,
                applied: None,
                old: [None; WIDTH],
                read,
            });
            for (c, &v) in values.iter().enumerate() {
                written(&mut next, rid, c, v, None);
            }
        }
        Step::SheetDelete { rid } => {
            next.tab_row(rid)?;
            next.tab.retain(|r| r.rid != rid);
            let read = reading(&next);
            let keys = next.tab.iter().filter_map(|r| r.key).collect();
            next.client.push(Post::Keys { keys, read });
            next.ghost.deleted.insert(rid);
        }
        Step::SheetSort => {
            if next.tab.len() < 2 {
                return None;
            }
            next.tab.reverse();
        }
        Step::SqlInsert { rid, values } => {
            next.next_key += 1;
            let k = next.next_key;
            capture::insert(&mut next, k, values);
            next.ghost.keys.insert(rid, k);
            for (c, &v) in values.iter().enumerate() {
                written(&mut next, rid, c, v, None);
            }
        }
        Step::SqlUpdate { rid, column, value } => {
            let k = *next.ghost.keys.get(&rid)?;
            let before = next.table.get(&k)?[column];
            if before == Some(value) {
                return None;
            }
            capture::update(&mut next, k, column, Some(value));
            written(&mut next, rid, column, Some(value), Some(before));
        }
        Step::SqlDelete { rid } => {
            let k = *next.ghost.keys.get(&rid)?;
            next.table.get(&k)?;
            capture::delete(&mut next, k);
            next.ghost.deleted.insert(rid);
        }
        Step::Snapshot => {
            // trigger.js: the queue first; a snapshot only once it drained,
            // read afresh and sent at once (never queued behind requests).
            if !next.client.is_empty() {
                return None;
            }
            snapshot(&mut next);
        }
    }
    Some(next)
}

/// The script reads the whole tab and queues it as a snapshot.
pub fn snapshot(world: &mut World) {
    let read = reading(world);
    world.client.push(Post::Snapshot {
        rows: world.tab.clone(),
        read,
    });
}

fn written(world: &mut World, rid: Rid, column: usize, value: Val, replaced: Option<Val>) {
    world.ghost.writes.push(PersonWrite {
        rid,
        column,
        value,
        replaced,
    });
}
