//! A scenario as a `stateright` model: its initial world, the steps people
//! take, the faults allowed, and every component's next move.

use std::collections::{BTreeMap, BTreeSet};

use sheetsync_reconcile::ConflictPolicy;
use stateright::{Model, Property};

use crate::people::{self, Step};
use crate::properties;
use crate::webhook::{self, Rules};
use crate::world::{Faults, Ghost, RowState, Val, WIDTH, World};
use crate::writer;

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    /// Rows in both the tab and the table at the start, synced.
    pub rows: Vec<[Val; WIDTH]>,
    /// The rows are older than the binding: no `row_state`, no watermark
    /// (the tab was filled before sheetsync ran).
    pub legacy: bool,
    pub steps: Vec<Step>,
    pub faults: Faults,
    pub rules: Rules,
    pub policy: ConflictPolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Script step `i` happens.
    Person(usize),
    /// The webhook answers the script's next request.
    Webhook,
    /// The script sends the snapshot an answer asked for.
    OwedSnapshot,
    /// The relay sends the outbox rows it has not sent.
    RelaySend,
    /// The relay deletes the rows it sent.
    RelayDelete,
    /// The relay dies between sending and deleting.
    RelayDies,
    /// The queue delivers its head message twice.
    Duplicate,
    /// The writer reads the tab and plans the queue's head messages.
    WriterRead,
    /// The writer's batch lands and its messages are acknowledged.
    WriterLand,
    /// The batch lands but the writer fails before acknowledging.
    WriterLandFails,
}

impl Scenario {
    pub fn initial(&self) -> World {
        let mut world = World {
            now: 0,
            tab: Vec::new(),
            tab_watermark: 0,
            client: Vec::new(),
            snapshot_due: false,
            table: BTreeMap::new(),
            states: BTreeMap::new(),
            next_key: 0,
            next_seq: 0,
            outbox: Vec::new(),
            relay_sent: 0,
            queue: Vec::new(),
            writer: None,
            conflicts: BTreeSet::new(),
            done: 0,
            faults: self.faults,
            ghost: Ghost::default(),
        };
        // Each row inserted in SQL long ago and received by the sheet.
        for (i, cells) in self.rows.iter().enumerate() {
            let (rid, k) = (u8::try_from(i + 1).unwrap_or(u8::MAX), i as i64 + 1);
            world.table.insert(k, *cells);
            world.ghost.keys.insert(rid, k);
            world.next_key = k;
            world.tab.push(crate::world::TabRow {
                rid,
                key: Some(k),
                cells: *cells,
            });
            if self.legacy {
                continue;
            }
            let seq = world.seq();
            world.states.insert(
                k,
                RowState {
                    last_db_seq: Some(seq),
                    cell_changed_at: [Some(0); WIDTH + 1],
                    cell_seq: [Some(seq); WIDTH + 1],
                    sheet_held: true,
                    tombstone_seq: None,
                    sheet_inserted_at: None,
                },
            );
        }
        world.tab_watermark = world.next_seq;
        world
    }

    fn step(&self, world: &World, action: Action) -> Option<World> {
        match action {
            Action::Person(i) => {
                if world.done & (1 << i) != 0 {
                    return None;
                }
                let mut next = people::act(world, *self.steps.get(i)?)?;
                next.done |= 1 << i;
                Some(next)
            }
            Action::Webhook => webhook::process(world, self.rules, self.policy),
            Action::OwedSnapshot => {
                let mut next = world.clone();
                next.snapshot_due = false;
                next.now += 1;
                people::snapshot(&mut next);
                Some(next)
            }
            Action::RelaySend => {
                let mut next = world.clone();
                let unsent = next.outbox[next.relay_sent..].to_vec();
                next.queue.extend(unsent);
                next.relay_sent = next.outbox.len();
                Some(next)
            }
            Action::RelayDelete => {
                let mut next = world.clone();
                next.outbox.drain(..next.relay_sent);
                next.relay_sent = 0;
                Some(next)
            }
            Action::RelayDies => {
                let mut next = world.clone();
                next.relay_sent = 0;
                next.faults.relay_deaths -= 1;
                Some(next)
            }
            Action::Duplicate => {
                let mut next = world.clone();
                let head = next.queue.first()?.clone();
                next.queue.insert(1, head);
                next.faults.duplicates -= 1;
                Some(next)
            }
            Action::WriterRead => {
                let mut next = world.clone();
                next.writer = Some(writer::read_and_plan(world));
                Some(next)
            }
            Action::WriterLand | Action::WriterLandFails => {
                let mut next = world.clone();
                let batch = next.writer.take()?;
                writer::land(&mut next, &batch);
                if action == Action::WriterLand {
                    next.queue.drain(..batch.messages);
                } else {
                    next.faults.writer_failures -= 1;
                }
                Some(next)
            }
        }
    }
}

/// Deleted rows the table has lost, for the resurrection property.
fn note_gone(world: &mut World) {
    let gone: Vec<u8> = world
        .ghost
        .deleted
        .iter()
        .filter(|rid| {
            world
                .ghost
                .keys
                .get(rid)
                .is_some_and(|k| !world.table.contains_key(k))
        })
        .copied()
        .collect();
    world.ghost.gone.extend(gone);
}

impl Model for Scenario {
    type State = World;
    type Action = Action;

    fn init_states(&self) -> Vec<World> {
        vec![self.initial()]
    }

    fn actions(&self, world: &World, actions: &mut Vec<Action>) {
        for i in 0..self.steps.len() {
            if world.done & (1 << i) == 0 {
                actions.push(Action::Person(i));
            }
        }
        if !world.client.is_empty() {
            actions.push(Action::Webhook);
        }
        if world.snapshot_due && world.client.is_empty() {
            actions.push(Action::OwedSnapshot);
        }
        if world.relay_sent < world.outbox.len() {
            actions.push(Action::RelaySend);
        }
        if world.relay_sent > 0 {
            actions.push(Action::RelayDelete);
            if world.faults.relay_deaths > 0 {
                actions.push(Action::RelayDies);
            }
        }
        match &world.writer {
            None if !world.queue.is_empty() => {
                actions.push(Action::WriterRead);
                if world.faults.duplicates > 0 {
                    actions.push(Action::Duplicate);
                }
            }
            None => {}
            Some(_) => {
                actions.push(Action::WriterLand);
                if world.faults.writer_failures > 0 {
                    actions.push(Action::WriterLandFails);
                }
            }
        }
    }

    fn next_state(&self, world: &World, action: Action) -> Option<World> {
        let mut next = self.step(world, action)?;
        note_gone(&mut next);
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("convergence", |_, w| properties::converged(w)),
            Property::always("no silent loss", |_, w| properties::nothing_lost(w)),
            Property::always("no phantom delete", |_, w| properties::no_phantom_delete(w)),
            Property::always("no resurrection", |_, w| properties::no_resurrection(w)),
            Property::sometimes("every step done and settled", |m: &Scenario, w: &World| {
                w.quiescent() && w.done.count_ones() as usize == m.steps.len()
            }),
        ]
    }
}
