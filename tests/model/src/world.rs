//! The model's state: everything that exists at one instant, from the tab a
//! person sees to the table's `row_state`, plus the ghost record the
//! properties judge against.
//!
//! Values are small integers (`None`: an empty cell, SQL `NULL`); a table
//! has a key column `id` and two data columns `a`, `b`. Every person's
//! value in a scenario is distinct, so a value names the write that made it.

use std::collections::{BTreeMap, BTreeSet};

/// A cell: `None` is an empty cell / SQL `NULL`.
pub type Val = Option<i8>;

/// Data columns per row (`a`, `b`); the key column `id` is apart.
pub const WIDTH: usize = 2;

/// A row as a person knows it, whatever key it has (or has not yet): the
/// ghost identity that lets the properties follow a row typed without a
/// key, and a row appended to the tab by the writer.
pub type Rid = u8;

/// One data row of the tab, as a person sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TabRow {
    pub rid: Rid,
    /// The key cell; `None` until the script writes the key back.
    pub key: Option<i64>,
    pub cells: [Val; WIDTH],
}

/// A request the Apps Script queued, built when the person acted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Post {
    Edit {
        rid: Rid,
        key: Option<i64>,
        cells: [Val; WIDTH],
        /// The columns the person changed (`old`/`edited`); `None`: the
        /// whole row (a new row).
        applied: Option<[bool; WIDTH]>,
        /// `old` of a single-cell edit.
        old: [Option<Val>; WIDTH],
        read: Reading,
    },
    Snapshot {
        rows: Vec<TabRow>,
        read: Reading,
    },
    Keys {
        keys: Vec<i64>,
        read: Reading,
    },
}

/// When the script read the tab, and the watermark it saw then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reading {
    pub watermark: i64,
    pub at: u8,
}

/// One outbox row (a capture-trigger change or a webhook repair).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Change {
    pub seq: i64,
    pub key: i64,
    pub op: ChangeOp,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChangeOp {
    /// The whole row.
    Insert([Val; WIDTH]),
    /// The changed columns only.
    Update([Option<Val>; WIDTH]),
    Delete,
}

/// `sheetsync.row_state` of one key. Column 0 is the key `id`, 1.. the
/// data columns (the binding's column order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RowState {
    pub last_db_seq: Option<i64>,
    pub cell_changed_at: [Option<u8>; WIDTH + 1],
    pub cell_seq: [Option<i64>; WIDTH + 1],
    pub sheet_held: bool,
    pub tombstone_seq: Option<i64>,
    pub sheet_inserted_at: Option<u8>,
}

/// A `sheetsync.conflicts` record: the losing value is kept here.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConflictRecord {
    pub key: i64,
    /// Data column (0 = `a`).
    pub column: usize,
    pub sheet_value: Val,
    /// `None` when the row was deleted.
    pub db_value: Option<Val>,
    pub sheet_won: bool,
}

/// What the writer read and planned, before its `batchUpdate` lands.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WriterBatch {
    /// Queue messages the batch covers (the head of the queue).
    pub messages: usize,
    pub ops: Vec<TabOp>,
    /// The watermark the batch stamps (`None`: every change was stale).
    pub stamp: Option<i64>,
}

/// One effect of the planned `batchUpdate` on a row, located by the row's
/// identity (see `writer`: the journal's guarantee).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TabOp {
    Set {
        rid: Rid,
        cells: [Option<Val>; WIDTH],
    },
    Remove {
        rid: Rid,
    },
    Append {
        key: i64,
        cells: [Val; WIDTH],
    },
}

/// A value a person wrote, and the value it replaced where they saw it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PersonWrite {
    pub rid: Rid,
    pub column: usize,
    pub value: Val,
    /// What the cell showed the person when they wrote (`None`: a new row).
    pub replaced: Option<Val>,
}

/// What the properties judge against; no rule reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    pub writes: Vec<PersonWrite>,
    /// Rows a person deleted (in the sheet or in SQL).
    pub deleted: BTreeSet<Rid>,
    /// The key each row got.
    pub keys: BTreeMap<Rid, i64>,
    /// Deleted rows the table has lost since.
    pub gone: BTreeSet<Rid>,
}

impl Ghost {
    pub fn rid_of(&self, key: i64) -> Option<Rid> {
        self.keys.iter().find(|(_, k)| **k == key).map(|(r, _)| *r)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World {
    /// Logical clock: one tick per person action or tab read.
    pub now: u8,
    pub tab: Vec<TabRow>,
    /// The tab's `sheetsync.watermark`.
    pub tab_watermark: i64,
    /// The script's queued requests, sent in order.
    pub client: Vec<Post>,
    /// An answer said `deferred`: the script sends a snapshot once its
    /// queue drained.
    pub snapshot_due: bool,
    pub table: BTreeMap<i64, [Val; WIDTH]>,
    pub states: BTreeMap<i64, RowState>,
    pub next_key: i64,
    pub next_seq: i64,
    pub outbox: Vec<Change>,
    /// Outbox rows at the head the relay has sent and not yet deleted.
    pub relay_sent: usize,
    /// The FIFO queue of the binding.
    pub queue: Vec<Change>,
    pub writer: Option<WriterBatch>,
    pub conflicts: BTreeSet<ConflictRecord>,
    /// Script steps done (bit per step).
    pub done: u32,
    pub faults: Faults,
    pub ghost: Ghost,
}

/// Faults still allowed in this run (each spent once used).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Faults {
    /// The relay dies after sending, before deleting: it sends again.
    pub relay_deaths: u8,
    /// The writer's batch lands but its messages are not acknowledged:
    /// the queue delivers them again.
    pub writer_failures: u8,
    /// The queue delivers its head message twice.
    pub duplicates: u8,
}

impl World {
    pub fn tab_row(&self, rid: Rid) -> Option<&TabRow> {
        self.tab.iter().find(|r| r.rid == rid)
    }

    /// Everything delivered and nothing left to do but what people start.
    pub fn quiescent(&self) -> bool {
        self.client.is_empty()
            && !self.snapshot_due
            && self.outbox.is_empty()
            && self.queue.is_empty()
            && self.writer.is_none()
    }

    pub fn seq(&mut self) -> i64 {
        self.next_seq += 1;
        self.next_seq
    }
}
