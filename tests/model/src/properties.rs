//! The four properties, judged on one state (see docs/model-checking.md).
//! "Quiescent": every request answered, every change delivered, no
//! snapshot owed, no batch in flight.

use crate::world::{PersonWrite, World};

/// (1) Once quiescent, the tab equals the table cell by cell: every tab row
/// keyed, no key twice, the same keys, the same values.
pub fn converged(world: &World) -> bool {
    if !world.quiescent() {
        return true;
    }
    let mut keys = Vec::new();
    for row in &world.tab {
        let Some(k) = row.key else { return false };
        if keys.contains(&k) || world.table.get(&k) != Some(&row.cells) {
            return false;
        }
        keys.push(k);
    }
    keys.len() == world.table.len()
}

/// (2) Once quiescent, every value a person wrote is the table's value, or
/// was seen by a later write that replaced it, or is in the conflict log,
/// or its row was deleted by a person (a delete wins: docs/contract.md).
pub fn nothing_lost(world: &World) -> bool {
    !world.quiescent() || world.ghost.writes.iter().all(|w| kept(world, w))
}

/// The first value a person wrote that is lost, for reports.
pub fn lost(world: &World) -> Option<&PersonWrite> {
    world.ghost.writes.iter().find(|w| !kept(world, w))
}

fn kept(world: &World, write: &PersonWrite) -> bool {
    if world.ghost.deleted.contains(&write.rid) {
        return true;
    }
    let Some(&k) = world.ghost.keys.get(&write.rid) else {
        return false;
    };
    let is_final = world
        .table
        .get(&k)
        .is_some_and(|cells| cells[write.column] == write.value);
    let seen = world.ghost.writes.iter().any(|later| {
        later.rid == write.rid
            && later.column == write.column
            && later.replaced == Some(write.value)
    });
    let recorded = world.conflicts.iter().any(|c| {
        c.key == k
            && c.column == write.column
            && (c.sheet_value == write.value || c.db_value == Some(write.value))
    });
    is_final || seen || recorded
}

/// (3) A table row goes only if a person deleted it; once quiescent, every
/// row nobody deleted is in the tab too.
pub fn no_phantom_delete(world: &World) -> bool {
    let ghost = &world.ghost;
    let table_ok = ghost
        .keys
        .iter()
        .all(|(rid, k)| world.table.contains_key(k) || ghost.deleted.contains(rid));
    let tab_ok = !world.quiescent()
        || ghost
            .keys
            .keys()
            .all(|rid| ghost.deleted.contains(rid) || world.tab_row(*rid).is_some());
    table_ok && tab_ok
}

/// (4) A row a person deleted, once gone from the table, never comes back
/// there; once quiescent it is in neither the table nor the tab.
pub fn no_resurrection(world: &World) -> bool {
    let ghost = &world.ghost;
    let table_ok = ghost.gone.iter().all(|rid| {
        ghost
            .keys
            .get(rid)
            .is_none_or(|k| !world.table.contains_key(k))
    });
    let settled_ok = !world.quiescent()
        || ghost.deleted.iter().all(|rid| {
            world.tab_row(*rid).is_none()
                && ghost
                    .keys
                    .get(rid)
                    .is_none_or(|k| !world.table.contains_key(k))
        });
    table_ok && settled_ok
}
