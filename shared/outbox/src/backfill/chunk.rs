//! One chunk of a backfill: one short transaction that reads the next rows
//! in primary key order after the previous chunk's last key and queues
//! them (and, where the index order is the writer's key order, the keyset
//! of the range it read).
//!
//! The binding's writer lock is held exclusively only while the chunk reads
//! its rows and draws their outbox sequences, in a savepoint rolled back
//! right after (which lets the lock go and keeps the transaction): one
//! pipelined round trip, so the server never waits on this process with
//! the lock held. The inserts and the row states are written after, under
//! the lock in shared mode like any writer's, so the application's writes
//! go on meanwhile (docs/operations.md, "Backfill").

use std::time::Duration;

use futures_util::future::try_join4;
use serde_json::Value as Json;
use sheetsync_reconcile::Key;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Transaction};

use super::keyset::{KEYSET_PART_BYTES, keyset_parts};
use super::order::KeyColumns;
use crate::OutboxError;
use crate::horizon::WRITER_LOCK_CLASS;
use crate::target::Target;

/// The chunk's keys, as PostgreSQL spells them (one byte per key added),
/// may fill at most this much of a keyset part, so the chunk's keyset is
/// one part and one sequence drawn with its rows. PostgreSQL's `jsonb`
/// text spells every key at least as long as the writer's JSON does (it
/// puts a space after each comma), so half a part leaves room to spare.
/// A chunk's first row is read whatever its key's size: two keys (the
/// cursor's and one) never split.
const CHUNK_KEY_BYTES: usize = KEYSET_PART_BYTES / 2;

/// Where the previous chunk stopped: its last key, as the outbox spells it
/// (for the keyset) and as each column's text (cast back to the column's
/// type for the comparison, which is exact for every type).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub key: Vec<Json>,
    pub text: Vec<String>,
}

/// What one chunk queued.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Queued {
    pub rows: u64,
    pub keyset_parts: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
}

impl Queued {
    fn seq(&mut self, first: Option<i64>, last: Option<i64>) {
        self.first_seq = self.first_seq.or(first);
        self.last_seq = last.or(self.last_seq);
    }
}

/// A chunk's outcome: what it queued, and where the next one starts
/// (`None`: the scan reached the end of the table).
pub struct Chunk {
    pub queued: Queued,
    pub next: Option<Cursor>,
}

pub struct Scan<'a> {
    pub target: &'a Target,
    pub key: &'a KeyColumns,
    /// `sheetsync.binding_lock_key(binding)`.
    pub lock_key: i32,
    pub rows: usize,
    pub lock_wait: Duration,
}

impl Scan<'_> {
    /// The rows after `from` (the table's first rows when `None`), at most
    /// `self.rows` and at most [`CHUNK_KEY_BYTES`] of keys, queued as
    /// inserts; with the keyset of `from ..= last row read` (`..` open at
    /// the end of the table) when `with_keyset`.
    pub async fn chunk(
        &self,
        client: &mut Client,
        from: Option<&Cursor>,
        with_keyset: bool,
    ) -> Result<Chunk, OutboxError> {
        let tx = client.transaction().await?;
        let limit = self.rows as i64 + 1;
        let sql = scan_sql(self.target, self.key, from.is_some());
        let no_cursor = Vec::new();
        let cursor = from.map_or(&no_cursor, |c| &c.text);
        let (chunk_rows, key_bytes) = (self.rows as i64, CHUNK_KEY_BYTES as i64);
        let params: [(&(dyn ToSql + Sync), Type); 4] = [
            (cursor, Type::TEXT_ARRAY),
            (&limit, Type::INT8),
            (&chunk_rows, Type::INT8),
            (&key_bytes, Type::INT8),
        ];
        let read = tx.query_typed(&sql, &params);
        let keyset_seq = async {
            if with_keyset {
                Ok(Some(
                    tx.query_typed_one(NEXT_SEQ_SQL, &[])
                        .await?
                        .get::<_, i64>(0),
                ))
            } else {
                Ok::<_, tokio_postgres::Error>(None)
            }
        };
        let (_, rows, keyset_seq, _) = try_join4(
            self.lock_window(&tx),
            read,
            keyset_seq,
            tx.batch_execute(END_WINDOW_SQL),
        )
        .await?;

        // The row at the cursor, when it is still there, is the previous
        // chunk's: queued then, but inside this chunk's range.
        let at_cursor = rows.first().is_some_and(|r| r.get::<_, bool>(3));
        let mut keys = Vec::with_capacity(rows.len());
        if at_cursor && let Some(c) = from {
            keys.push(c.key.clone());
        }
        let mut seqs = Vec::with_capacity(rows.len());
        let mut key_texts = Vec::with_capacity(rows.len());
        let mut images = Vec::with_capacity(rows.len());
        let mut last: Option<&Row> = None;
        // Rows past the chunk's bounds are read to learn there are more.
        let mut more = rows.len() as i64 == limit;
        for row in &rows[usize::from(at_cursor)..] {
            let Some(seq) = row.get::<_, Option<i64>>(4) else {
                more = true;
                break;
            };
            let text: String = row.get(0);
            keys.push(parse_key(&self.target.binding, &text)?);
            key_texts.push(text);
            images.push(row.get::<_, String>(2));
            seqs.push(seq);
            last = Some(row);
        }
        let next = match last {
            Some(last) if more => Some(Cursor {
                key: keys.last().cloned().unwrap_or_default(),
                text: last.get(1),
            }),
            _ => None,
        };

        let mut queued = Queued {
            rows: seqs.len() as u64,
            ..Queued::default()
        };
        queued.seq(seqs.first().copied(), seqs.last().copied());
        let mut keyset = None;
        if let Some(seq) = keyset_seq {
            let to = next.as_ref().map(|c| &c.key);
            let parts = keyset_parts(
                from.map(|c| &c.key),
                &keys,
                to,
                // The cursor's key and a full chunk: one part.
                self.rows + 1,
                KEYSET_PART_BYTES,
            );
            let [part] =
                <[Json; 1]>::try_from(parts).map_err(|parts| OutboxError::ChunkKeyset {
                    binding: self.target.binding.clone(),
                    parts: parts.len(),
                })?;
            queued.seq(Some(seq), Some(seq));
            queued.keyset_parts = 1;
            keyset = Some((seq, part.to_string()));
        }
        let (keyset_seq, keyset_part) = keyset.unzip();
        tx.query_typed(
            WRITE_SQL,
            &[
                (&self.target.binding, Type::TEXT),
                (&seqs, Type::INT8_ARRAY),
                (&key_texts, Type::TEXT_ARRAY),
                (&images, Type::TEXT_ARRAY),
                (&keyset_seq, Type::INT8),
                (&keyset_part, Type::TEXT),
            ],
        )
        .await?;
        tx.commit().await?;
        notify(client, &self.target.binding).await?;
        Ok(Chunk { queued, next })
    }

    /// Every key of the table, sorted as the writer sorts them, as keyset
    /// parts covering the whole key space: one transaction, for tables
    /// whose index order is not the writer's. The writers wait while the
    /// keys are read and sorted (the parts' number, and so their
    /// sequences, are known only then).
    pub async fn whole_keyset(&self, client: &mut Client) -> Result<Queued, OutboxError> {
        let tx = client.transaction().await?;
        let (_, rows) = futures_util::future::try_join(
            self.lock_window(&tx),
            tx.query_typed(&keys_sql(self.target, self.key), &[]),
        )
        .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let key = parse_key(&self.target.binding, row.get(0))?;
            keys.push((Key::from_json(&key), key));
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let sorted: Vec<Vec<Json>> = keys.into_iter().map(|(_, k)| k).collect();
        let parts = keyset_parts(None, &sorted, None, self.rows.max(2), KEYSET_PART_BYTES);
        let (seqs, _) = futures_util::future::try_join(
            tx.query_typed(
                "SELECT nextval('sheetsync.outbox_seq_seq') FROM generate_series(1, $1)",
                &[(&(parts.len() as i64), Type::INT8)],
            ),
            tx.batch_execute(END_WINDOW_SQL),
        )
        .await?;
        let mut queued = Queued::default();
        for (part, seq) in parts.iter().zip(&seqs) {
            let seq: i64 = seq.get(0);
            tx.query_typed(
                WRITE_SQL,
                &[
                    (&self.target.binding, Type::TEXT),
                    (&Vec::<i64>::new(), Type::INT8_ARRAY),
                    (&Vec::<String>::new(), Type::TEXT_ARRAY),
                    (&Vec::<String>::new(), Type::TEXT_ARRAY),
                    (&Some(seq), Type::INT8),
                    (&Some(part.to_string()), Type::TEXT),
                ],
            )
            .await?;
            queued.seq(Some(seq), Some(seq));
            queued.keyset_parts += 1;
        }
        tx.commit().await?;
        notify(client, &self.target.binding).await?;
        Ok(queued)
    }

    /// Opens the window in which the chunk reads: the backfill lock (one
    /// chunk of the binding at a time), the writer lock in shared mode for
    /// the whole transaction (the relay's horizon stays below the chunk's
    /// sequences until it commits), then, in a savepoint, exclusively. That
    /// waits for every transaction that has enqueued a change of the
    /// binding (and the webhook's, which take the lock first) to end, and
    /// holds off later ones until the window ends: the chunk's read
    /// therefore sees every change sequenced before its own sequences and
    /// none after. Waits at most `lock_wait` (writers queue behind a
    /// waiting lock): then this and every other lock wait of the
    /// transaction fails with `lock_not_available` ([`is_busy`]), and the
    /// chunk is tried again.
    async fn lock_window(&self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        let ms = self.lock_wait.as_millis().max(1);
        let (backfill, writers, key) = (
            sheetsync_store::locks::BACKFILL,
            WRITER_LOCK_CLASS,
            self.lock_key,
        );
        tx.batch_execute(&format!(
            "SET LOCAL lock_timeout = '{ms}ms';
             SELECT pg_advisory_xact_lock({backfill}, {key});
             SELECT pg_advisory_xact_lock_shared({writers}, {key});
             SAVEPOINT backfill_window;
             SELECT pg_advisory_xact_lock({writers}, {key});"
        ))
        .await
    }
}

/// Ends the window: rolling the savepoint back lets the exclusive lock go
/// (the shared one, taken before it, stays). What the window read has been
/// returned already, and the sequences it drew stay drawn.
const END_WINDOW_SQL: &str = "ROLLBACK TO SAVEPOINT backfill_window";

const NEXT_SEQ_SQL: &str = "SELECT nextval('sheetsync.outbox_seq_seq')";

/// The chunk's inserts and keyset at the sequences drawn in the window, in
/// one statement. Each row's `row_state.last_db_seq` becomes its insert's
/// sequence (as for any change queued for the sheet: a snapshot read
/// before it lands cannot undo it), unless a change the window did not see
/// has committed since with a later one. The row states are written in
/// key order, and a row state a writer holds makes the chunk wait at most
/// the lock wait, then give way.
const WRITE_SQL: &str = "WITH rows AS (
         INSERT INTO sheetsync.outbox (seq, binding, op, key, row_image, origin)
         SELECT s, $1, 'insert', k::jsonb, r::jsonb, 'backfill'
           FROM unnest($2::int8[], $3::text[], $4::text[]) AS u(s, k, r)),
     keyset AS (
         INSERT INTO sheetsync.outbox (seq, binding, op, key, row_image, origin)
         SELECT $5, $1, 'keyset', '[]'::jsonb, $6::jsonb, 'backfill' WHERE $5 IS NOT NULL),
     state AS (
         INSERT INTO sheetsync.row_state AS rs (binding, key, last_db_seq)
         SELECT $1, k::jsonb, s FROM unnest($2::int8[], $3::text[]) AS u(s, k) ORDER BY s
         ON CONFLICT (binding, key) DO UPDATE
            SET last_db_seq = greatest(rs.last_db_seq, EXCLUDED.last_db_seq))
     SELECT 1";

/// Wakes listening relays once the chunk has committed (its inserts bypass
/// the capture trigger, which notifies). Not in the chunk's transaction: a
/// transaction that notifies holds the server's one notification queue
/// lock from its commit until its commit record is flushed, and every
/// other notifying commit in the cluster (each captured `UPDATE`'s) waits
/// for it; the chunk's commit flushes a chunk of rows. Alone, the notify
/// writes nothing to flush. Lost if the process stops in between: the
/// relay's timer drains what no notification announced.
async fn notify(client: &Client, binding: &str) -> Result<(), OutboxError> {
    client
        .query_typed(
            "SELECT pg_notify('sheetsync_outbox', $1)",
            &[(&binding, Type::TEXT)],
        )
        .await?;
    Ok(())
}

/// A chunk that waited longer than its lock wait: nothing was queued.
pub fn is_busy(e: &OutboxError) -> bool {
    matches!(e, OutboxError::Db(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE))
}

fn parse_key(binding: &str, text: &str) -> Result<Vec<Json>, OutboxError> {
    serde_json::from_str(text).map_err(|e| OutboxError::Key {
        binding: binding.to_string(),
        key: text.to_string(),
        reason: e.to_string(),
    })
}

/// Per row, in key order: the key as the capture trigger spells it, each
/// key column's text, the row image, whether the row is the one at the
/// cursor, and its insert's sequence when the chunk queues it (`NULL`
/// past the chunk's bounds). Parameters: the cursor's texts, the rows to
/// read (the chunk's and one more), the chunk's rows, its key bytes. The
/// row comparison on the key columns walks the primary key index; the
/// sequences are drawn after the sort (PostgreSQL evaluates a volatile
/// output column above the ORDER BY), so they follow key order.
fn scan_sql(target: &Target, key: &KeyColumns, after_cursor: bool) -> String {
    let cols = join(key, |c| format!("t.{}", c.ident));
    let json = join(key, |c| format!("to_jsonb(t.{})", c.ident));
    let text = join(key, |c| format!("t.{}::text", c.ident));
    let table = &target.qualified_table;
    let (at_cursor, after) = if after_cursor {
        let cursor = key
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("($1::text[])[{}]::{}", i + 1, c.sql_type))
            .collect::<Vec<_>>()
            .join(", ");
        (
            format!("({cols}) = ({cursor})"),
            format!("WHERE ({cols}) >= ({cursor})"),
        )
    } else {
        // $1 is sent (empty) all the same: one parameter list for both.
        ("$1::text[] IS NULL".to_string(), String::new())
    };
    format!(
        "WITH r AS MATERIALIZED (
             SELECT jsonb_build_array({json})::text AS k, ARRAY[{text}] AS kt,
                    to_jsonb(t)::text AS img, {at_cursor} AS at_cursor,
                    row_number() OVER (ORDER BY {cols}) AS o
               FROM {table} t {after} ORDER BY {cols} LIMIT $2),
         b AS (
             SELECT r.*,
                    count(*) FILTER (WHERE NOT at_cursor) OVER w AS n,
                    sum(octet_length(k) + 1) OVER w AS bytes
               FROM r WINDOW w AS (ORDER BY o))
         SELECT k, kt, img, at_cursor,
                CASE WHEN NOT at_cursor AND n <= $3 AND (n = 1 OR bytes <= $4)
                     THEN nextval('sheetsync.outbox_seq_seq') END
           FROM b ORDER BY o"
    )
}

fn keys_sql(target: &Target, key: &KeyColumns) -> String {
    let json = join(key, |c| format!("to_jsonb(t.{})", c.ident));
    format!(
        "SELECT jsonb_build_array({json})::text FROM {} t",
        target.qualified_table
    )
}

fn join(key: &KeyColumns, f: impl Fn(&super::order::KeyColumn) -> String) -> String {
    key.columns.iter().map(f).collect::<Vec<_>>().join(", ")
}
