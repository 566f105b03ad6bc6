//! The webhook transaction: the script's next request planned by the
//! product's planners (`plan_edit`, `plan_snapshot`, `plan_keys`, which
//! call `sheetsync_reconcile::merge::merge_row` and `sheetsync_reconcile::diff::diff`) and
//! `repair_columns`, then written to the table and `row_state` as
//! `rows.rs` and `effects.rs` do in SQL (modelled in [`crate::effects`]).
//! One request is one atomic step, as it is one transaction.

use std::collections::HashSet;

use sheetsync_plan::contract::RowStatus;
use sheetsync_plan::edit::{EventTime, plan_edit};
use sheetsync_plan::plan::{Conflict, Plan, WriteKind};
use sheetsync_plan::repair::repair_columns;
use sheetsync_plan::snapshot::{Image, SnapshotKind, plan_keys, plan_snapshot};
use sheetsync_reconcile::{Key, SheetZone};

use crate::effects;
use crate::product::{self, binding, key_int, table_row, val_of_json, val_of_text};
use crate::world::{ConflictRecord, Post, Reading, Rid, WIDTH, World};

/// Which rules decide: the product's, or a deliberately broken variant
/// that bypasses one of its checks (to show the checker catches it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rules {
    Product,
    /// Edits are judged as if the sheet had received every change: the
    /// per-cell freshness check (`cell_seq > W`) never fires.
    EditIgnoresFreshness,
    /// Snapshots and `keys` requests are judged as if the sheet had
    /// received every change: the watermark protects nothing.
    SnapshotIgnoresWatermark,
}

/// Processes the script's next request. `None` when there is none.
pub fn process(
    world: &World,
    rules: Rules,
    policy: sheetsync_reconcile::ConflictPolicy,
) -> Option<World> {
    let mut next = world.clone();
    let post = next.client.first()?.clone();
    next.client.remove(0);
    let binding = binding(policy);
    let table = product::table_rows(&next);
    let states = product::row_states(&next);
    let at = |read: &Reading, broken: bool| EventTime {
        edited_at: product::instant(read.at),
        // The broken variants' lie: everything was received.
        watermark: if broken { i64::MAX / 2 } else { read.watermark },
        zone: SheetZone::UTC,
    };
    // Request row index → the tab row (person's identity) it came from.
    let mut rids: Vec<Rid> = Vec::new();
    let (plan, read) = match &post {
        Post::Edit {
            rid,
            key,
            cells,
            applied,
            old,
            read,
        } => {
            rids.push(*rid);
            let rows = vec![Ok(product::incoming(0, *key, cells, *applied, old))];
            let time = at(read, rules == Rules::EditIgnoresFreshness);
            (
                plan_edit(&binding, &rows, &table, &states, time, false),
                read,
            )
        }
        Post::Snapshot { rows, read } => {
            let incoming = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    rids.push(r.rid);
                    Ok(product::incoming(i, r.key, &r.cells, None, &[None; WIDTH]))
                })
                .collect::<Vec<_>>();
            let image = Image::new(&binding, &table, &states);
            let kind = SnapshotKind {
                partial: false,
                unsettled: false,
            };
            let time = at(read, rules == Rules::SnapshotIgnoresWatermark);
            let sheet_columns = [true; WIDTH + 1];
            let plan = plan_snapshot(&binding, &incoming, &image, &sheet_columns, time, kind);
            (plan, read)
        }
        Post::Keys { keys, read } => {
            let image = Image::new(&binding, &table, &states);
            let keys: HashSet<Key> = keys.iter().map(|&k| product::key(k)).collect();
            let time = at(read, rules == Rules::SnapshotIgnoresWatermark);
            (plan_keys(&image, &binding, &keys, time, false), read)
        }
    };
    apply(&mut next, &binding, &plan, read.at, &rids);
    Some(next)
}

/// Writes the plan, as `process::execute` does.
fn apply(
    world: &mut World,
    binding: &sheetsync_reconcile::Binding,
    plan: &Plan,
    at: u8,
    rids: &[Rid],
) {
    let held_columns: HashSet<usize> = (0..=WIDTH).collect();
    for write in &plan.writes {
        // rows::apply_writes: the insert takes the database's key when the
        // sheet gave none; an update sets the cells the sheet won.
        let k = match (write.kind, write.key.as_ref().and_then(key_int)) {
            (_, Some(k)) => k,
            (WriteKind::Insert, None) => {
                world.next_key += 1;
                world.next_key
            }
            (WriteKind::Update, None) => continue,
        };
        let mut cells = world.table.get(&k).copied().unwrap_or([None; WIDTH]);
        for (c, v) in &write.cells {
            if *c > 0 {
                cells[c - 1] = product::val_of_value(v);
            }
        }
        world.table.insert(k, cells);
        let stored = table_row(k, &cells);
        let written: Vec<usize> = write.cells.iter().map(|(c, _)| *c).collect();
        let keyless_insert = write.kind == WriteKind::Insert && write.key.is_none();
        if !written.is_empty() || !write.already_held {
            effects::hold(world, k, &written, write.reports_key, keyless_insert, at);
        }
        if keyless_insert && let Some(&rid) = rids.get(write.index) {
            world.ghost.keys.insert(rid, k);
            answered(world, rid, k);
        }
        for conflict in &write.conflicts {
            let sheet_won = conflict.winner == sheetsync_plan::plan::Winner::Sheet;
            world.conflicts.insert(record(k, conflict, sheet_won));
        }
        let repair = repair_columns(binding, &held_columns, write, &stored, SheetZone::UTC);
        if !repair.is_empty() {
            effects::repair_update(world, k, &repair);
        }
    }
    for skip in &plan.skips {
        if skip.status == RowStatus::Deferred {
            world.snapshot_due = true;
        }
        if let Some(k) = key_int(&skip.key)
            && skip.key_json.is_some()
        {
            for conflict in &skip.conflicts {
                world.conflicts.insert(record(k, conflict, false));
            }
        }
        // A keyless row matched to a row the sheet inserted: answered with
        // its key, which the script writes back.
        if skip.status == RowStatus::Unchanged
            && !skip.key_object.is_empty()
            && let (Some(k), Some(&rid)) = (key_int(&skip.key), rids.get(skip.index))
        {
            answered(world, rid, k);
        }
    }
    for held in &plan.held {
        if let Some(k) = world
            .states
            .keys()
            .copied()
            .find(|k| product::key_json(*k) == *held)
        {
            effects::hold(world, k, &[], true, false, at);
        }
    }
    for row in &plan.deletes {
        let Some(k) = key_int(&row.key) else { continue };
        world.table.remove(&k);
        effects::forget(world, k);
        if plan.queued_deletes.contains(&row.key) {
            effects::queue_delete(world, k);
        }
    }
    for row in &plan.resends {
        if let Some(k) = key_int(&row.key) {
            effects::resend(world, k);
        }
    }
    if plan.deferred {
        world.snapshot_due = true;
    }
}

/// A row sent without a key answered with one (apply.js, queue.js): the
/// script writes the key into the row if it is still there and keyless,
/// and gives it to the later queued requests that carry the same row still
/// without a key (`patchLaterKeys_`), so they update the row instead of
/// inserting it again. The script finds "the same row" by its row number;
/// the model by the row's identity (no row moves between the two).
fn answered(world: &mut World, rid: Rid, k: i64) {
    if let Some(row) = world.tab.iter_mut().find(|r| r.rid == rid)
        && row.key.is_none()
    {
        row.key = Some(k);
    }
    for post in &mut world.client {
        match post {
            Post::Edit { rid: r, key, .. } if *r == rid && key.is_none() => *key = Some(k),
            Post::Snapshot { rows, .. } => {
                for row in rows
                    .iter_mut()
                    .filter(|row| row.rid == rid && row.key.is_none())
                {
                    row.key = Some(k);
                }
            }
            _ => {}
        }
    }
}

/// A conflict the product's plan reported, as `sheetsync.conflicts` keeps it.
fn record(key: i64, conflict: &Conflict, sheet_won: bool) -> ConflictRecord {
    ConflictRecord {
        key,
        column: conflict.column - 1,
        sheet_value: val_of_json(&conflict.sheet_value),
        db_value: conflict.db_value.as_deref().map(val_of_text),
        sheet_won,
    }
}
