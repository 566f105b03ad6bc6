//! Backfill: the binding's whole table into the outbox, so the sheet
//! converges to the table (docs/contract.md, `POST /sync_gsheet`; also the
//! first sync of an existing table into an empty sheet), while the
//! application keeps writing.
//!
//! Every row is queued as an `insert` (origin `backfill`), with `keyset`
//! parts that together cover the whole key space: the writer removes sheet
//! rows whose key the table lacks. Each row's `row_state.last_db_seq`
//! becomes its insert's sequence, as for any change queued for the sheet:
//! a snapshot read before the backfill reaches the sheet cannot undo it,
//! and once the sheet's watermark passes it the sheet is known to hold the
//! row (so deleting it there deletes it here).
//!
//! The table is read in chunks, interleaved with the application's changes
//! (as Netflix's DBLog and Debezium's incremental snapshots do). Each chunk
//! is one short transaction. It holds the binding's writer lock in shared
//! mode, like any writer, until it commits, and exclusively only for its
//! *window*: while it reads its rows and draws their outbox sequences, one
//! statement, in a savepoint it then rolls back (which lets the exclusive
//! lock go and keeps the rest). The window waits for every transaction
//! that has enqueued a change of the binding (and for the webhook's, which
//! take the lock first), and every later one enqueues after it. Its read
//! therefore sees exactly the changes sequenced before its rows: a change
//! committed later has a higher sequence and supersedes them at the sheet,
//! a row inserted later into a range already read arrives as its own
//! insert, one deleted later as its own delete, and a key changed later as
//! a delete and an insert. The chunk then writes its inserts at the
//! sequences it drew, in one statement, while the application goes on
//! writing: a row state a later change has written already keeps that
//! change's sequence. An application write waits for a window at most
//! (the time to read `chunk_rows` rows, plus at most [`LOCK_WAIT`] queued
//! behind the chunk's lock), never for a chunk's writes, and never for the
//! whole table.
//!
//! A chunk reads the next `chunk_rows` rows after the previous chunk's last
//! key (fewer when their keys would fill more than half a keyset part: its
//! keyset is then always one part, whose sequence the window draws), by a
//! row comparison on the key columns (the primary key index,
//! never OFFSET). Its keyset says "the table's keys from the previous
//! chunk's last key to mine are exactly these", at its place in the
//! sequence: the first chunk's range is open below, the last's above, each
//! other `from` is the previous chunk's `to`, and that boundary key is kept
//! when the table still has it (and removed from the sheet when it does
//! not), so no key falls between two ranges and none is removed by a
//! neighbour's. The writer compares ranges in [`sheetsync_reconcile::Key`]
//! order, so this holds only when the index orders the key the same way
//! ([`order`]: integers, `uuid`, `boolean`, text under collation `C`).
//! For any other key the chunks queue the rows only, and one last
//! transaction reads every key, sorts them as the writer does and queues
//! keysets over the whole key space: correct whatever the orders; its
//! window holds writers for the time to read and sort the keys (not the
//! rows).

mod chunk;
mod keyset;
pub mod order;

use std::time::Duration;

use sheetsync_store::Binding;
use tokio_postgres::Client;
use tracing::{debug, info};

use crate::OutboxError;
use crate::target::Target;
use chunk::{Cursor, Scan, is_busy};
pub use keyset::{KEYSET_PART_BYTES, keyset_parts};
use order::KeyColumns;

/// Rows per chunk. The window reads them by the primary key index and
/// draws a sequence each (writers wait for it: about a millisecond for
/// 100 rows); the chunk's writes, after the window, hold back no writer
/// but one changing a row of the chunk in that moment, and the relay's
/// horizon. Benchmarks: docs/benchmarks.md, Backfill.
pub const CHUNK_ROWS: usize = 100;

/// The longest a chunk waits for the writer lock before it lets the
/// writers queued behind it through and tries again.
pub const LOCK_WAIT: Duration = Duration::from_millis(20);

/// Between a chunk that could not have the lock and its next try: the
/// writers queued behind it go first.
const BUSY_PAUSE: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    /// Table rows queued as inserts.
    pub queued_rows: u64,
    /// Keyset outbox rows queued.
    pub keyset_parts: u64,
    /// Transactions that queued them.
    pub chunks: u64,
    /// The backfill's first and last outbox sequences (other changes of
    /// the binding lie between them).
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
}

/// Whether a backfill has more to queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    More,
    Done,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// The next chunk of rows starts after this key (the first: `None`).
    Rows(Option<Cursor>),
    /// Every row is queued; the key set is not (index order not the
    /// writer's).
    KeySet,
    Done,
}

/// A backfill in progress, one chunk per [`Backfill::step`].
pub struct Backfill {
    target: Target,
    key: KeyColumns,
    /// `sheetsync.binding_lock_key(binding)`, spelled into the chunk's lock
    /// statements.
    lock_key: i32,
    chunk_rows: usize,
    lock_wait: Duration,
    phase: Phase,
    report: BackfillReport,
}

impl Backfill {
    /// Reads the key's columns and order; queues nothing yet.
    pub async fn new(
        client: &Client,
        binding: &Binding,
        chunk_rows: usize,
    ) -> Result<Backfill, OutboxError> {
        let lock_key: i32 = client
            .query_one("SELECT sheetsync.binding_lock_key($1)", &[&binding.name])
            .await?
            .get(0);
        Ok(Backfill {
            target: Target::from(binding),
            key: order::key_columns(client, binding).await?,
            lock_key,
            chunk_rows: chunk_rows.max(1),
            lock_wait: LOCK_WAIT,
            phase: Phase::Rows(None),
            report: BackfillReport {
                queued_rows: 0,
                keyset_parts: 0,
                chunks: 0,
                first_seq: None,
                last_seq: None,
            },
        })
    }

    /// How long a chunk waits for a lock before it gives way ([`LOCK_WAIT`]
    /// unless set here).
    pub fn with_lock_wait(mut self, wait: Duration) -> Backfill {
        self.lock_wait = wait;
        self
    }

    /// Whether each chunk queues its own keyset (the index orders the key
    /// as the writer does).
    pub fn keysets_per_chunk(&self) -> bool {
        self.key.key_order
    }

    /// One transaction: the next chunk (or the key set), committed. When
    /// writers hold the lock for longer than [`LOCK_WAIT`], the transaction
    /// gives way and is tried again.
    pub async fn step(&mut self, client: &mut Client) -> Result<Progress, OutboxError> {
        let mut tries: u64 = 0;
        loop {
            tries += 1;
            match self.try_step(client).await {
                Err(e) if is_busy(&e) => {
                    debug!(binding = %self.target.binding, tries, "writers held the lock; the chunk gives way");
                    tokio::time::sleep(BUSY_PAUSE).await;
                }
                other => return other,
            }
        }
    }

    async fn try_step(&mut self, client: &mut Client) -> Result<Progress, OutboxError> {
        let scan = Scan {
            target: &self.target,
            key: &self.key,
            lock_key: self.lock_key,
            rows: self.chunk_rows,
            lock_wait: self.lock_wait,
        };
        let queued = match &self.phase {
            Phase::Rows(from) => {
                let chunk = scan
                    .chunk(client, from.as_ref(), self.key.key_order)
                    .await?;
                self.phase = match chunk.next {
                    Some(next) => Phase::Rows(Some(next)),
                    None if self.key.key_order => Phase::Done,
                    None => Phase::KeySet,
                };
                chunk.queued
            }
            Phase::KeySet => {
                let queued = scan.whole_keyset(client).await?;
                self.phase = Phase::Done;
                queued
            }
            Phase::Done => return Ok(Progress::Done),
        };
        let r = &mut self.report;
        r.chunks += 1;
        r.queued_rows += queued.rows;
        r.keyset_parts += queued.keyset_parts;
        r.first_seq = r.first_seq.or(queued.first_seq);
        r.last_seq = queued.last_seq.or(r.last_seq);
        debug!(
            binding = %self.target.binding,
            rows = queued.rows,
            keyset_parts = queued.keyset_parts,
            first_seq = queued.first_seq,
            last_seq = queued.last_seq,
            "backfill chunk queued"
        );
        Ok(match self.phase {
            Phase::Done => Progress::Done,
            _ => Progress::More,
        })
    }

    /// The last key read: the next chunk starts after it (`None` before the
    /// first chunk and once every row is read).
    pub fn last_key(&self) -> Option<&[serde_json::Value]> {
        match &self.phase {
            Phase::Rows(Some(cursor)) => Some(&cursor.key),
            _ => None,
        }
    }

    pub fn report(&self) -> &BackfillReport {
        &self.report
    }
}

/// Queues the table of `binding`, `chunk_rows` rows per transaction
/// ([`CHUNK_ROWS`] is a good default), each committed on `client` as it
/// goes: the relays send the first chunks while later ones are read.
pub async fn backfill(
    client: &mut Client,
    binding: &Binding,
    chunk_rows: usize,
) -> Result<BackfillReport, OutboxError> {
    let mut backfill = Backfill::new(client, binding, chunk_rows).await?;
    while backfill.step(client).await? == Progress::More {}
    let report = backfill.report().clone();
    info!(
        binding = %binding.name,
        rows = report.queued_rows,
        keyset_parts = report.keyset_parts,
        chunks = report.chunks,
        keysets_per_chunk = backfill.keysets_per_chunk(),
        first_seq = report.first_seq,
        last_seq = report.last_seq,
        "backfill queued"
    );
    Ok(report)
}
