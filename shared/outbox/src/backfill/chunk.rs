//! One chunk of a backfill: one short transaction under the binding's
//! writer lock, which reads the next rows in primary key order after the
//! previous chunk's last key and queues them (and, where the index order
//! is the writer's key order, the keyset of the range it read).

use std::time::Duration;

use serde_json::Value as Json;
use sheetsync_reconcile::Key;
use tokio_postgres::{Client, Transaction};

use super::keyset::{KEYSET_PART_BYTES, keyset_parts};
use super::order::KeyColumns;
use crate::OutboxError;
use crate::horizon::WRITER_LOCK_CLASS;
use crate::target::Target;

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
    pub rows: usize,
    pub lock_wait: Duration,
}

impl Scan<'_> {
    /// The rows after `from` (the table's first rows when `None`), at most
    /// `self.rows`, queued as inserts; with the keyset of `from ..= last
    /// row read` (`..` open at the end of the table) when `with_keyset`.
    pub async fn chunk(
        &self,
        client: &mut Client,
        from: Option<&Cursor>,
        with_keyset: bool,
    ) -> Result<Chunk, OutboxError> {
        let tx = client.transaction().await?;
        lock_writers(&tx, &self.target.binding, self.lock_wait).await?;
        let limit = self.rows as i64 + 1;
        let rows = match from {
            None => {
                tx.query(&scan_sql(self.target, self.key, false), &[&limit])
                    .await?
            }
            Some(c) => {
                tx.query(&scan_sql(self.target, self.key, true), &[&c.text, &limit])
                    .await?
            }
        };
        // The row at the cursor, when it is still there, is the previous
        // chunk's: queued then, but inside this chunk's range.
        let at_cursor = rows.first().is_some_and(|r| r.get::<_, bool>(3));
        let read = &rows[usize::from(at_cursor)..];
        let read = &read[..read.len().min(self.rows)];

        let mut keys = Vec::with_capacity(read.len() + 1);
        if at_cursor && let Some(c) = from {
            keys.push(c.key.clone());
        }
        let mut key_texts = Vec::with_capacity(read.len());
        let mut images = Vec::with_capacity(read.len());
        for row in read {
            let text: String = row.get(0);
            keys.push(parse_key(&self.target.binding, &text)?);
            key_texts.push(text);
            images.push(row.get::<_, String>(2));
        }
        let next = match read.last() {
            Some(last) if read.len() == self.rows => Some(Cursor {
                key: keys.last().cloned().unwrap_or_default(),
                text: last.get(1),
            }),
            _ => None,
        };

        let mut queued = Queued::default();
        let (first, last, n) =
            enqueue_inserts(&tx, &self.target.binding, &key_texts, &images).await?;
        queued.seq(first, last);
        queued.rows = n;
        if with_keyset {
            let to = next.as_ref().map(|c| &c.key);
            let parts = keyset_parts(
                from.map(|c| &c.key),
                &keys,
                to,
                // The cursor's key and a full chunk: one part.
                self.rows + 1,
                KEYSET_PART_BYTES,
            );
            enqueue_keysets(&tx, &self.target.binding, &parts, &mut queued).await?;
        }
        notify(&tx, &self.target.binding).await?;
        tx.commit().await?;
        Ok(Chunk { queued, next })
    }

    /// Every key of the table, sorted as the writer sorts them, as keyset
    /// parts covering the whole key space: one transaction, for tables
    /// whose index order is not the writer's.
    pub async fn whole_keyset(&self, client: &mut Client) -> Result<Queued, OutboxError> {
        let tx = client.transaction().await?;
        lock_writers(&tx, &self.target.binding, self.lock_wait).await?;
        let rows = tx.query(&keys_sql(self.target, self.key), &[]).await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let key = parse_key(&self.target.binding, row.get(0))?;
            keys.push((Key::from_json(&key), key));
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let sorted: Vec<Vec<Json>> = keys.into_iter().map(|(_, k)| k).collect();
        let parts = keyset_parts(None, &sorted, None, self.rows.max(2), KEYSET_PART_BYTES);
        let mut queued = Queued::default();
        enqueue_keysets(&tx, &self.target.binding, &parts, &mut queued).await?;
        notify(&tx, &self.target.binding).await?;
        tx.commit().await?;
        Ok(queued)
    }
}

/// The binding's writer lock, exclusively: waits for the transactions
/// that enqueued a change of the binding (and the webhook's, which take it
/// first) to end, and makes later ones enqueue after this commits. Waits
/// at most `wait` (writers queue behind a waiting lock): then this and
/// every other lock wait of the transaction fails with `lock_not_available`
/// ([`is_busy`]), and the chunk is tried again.
async fn lock_writers(
    tx: &Transaction<'_>,
    binding: &str,
    wait: Duration,
) -> Result<(), OutboxError> {
    let ms = wait.as_millis().max(1);
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{ms}ms'"))
        .await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, sheetsync.binding_lock_key($2))",
        &[&WRITER_LOCK_CLASS, &binding],
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

/// Per row: the key as the capture trigger spells it, each key column's
/// text, the row image, and whether the row is the one at the cursor
/// (`$1`, the cursor's texts; the last parameter, the limit). The row
/// comparison on the key columns walks the primary key index.
fn scan_sql(target: &Target, key: &KeyColumns, after_cursor: bool) -> String {
    let cols = join(key, |c| format!("t.{}", c.ident));
    let json = join(key, |c| format!("to_jsonb(t.{})", c.ident));
    let text = join(key, |c| format!("t.{}::text", c.ident));
    let table = &target.qualified_table;
    if after_cursor {
        let cursor = key
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("($1::text[])[{}]::{}", i + 1, c.sql_type))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT jsonb_build_array({json})::text, ARRAY[{text}], to_jsonb(t)::text, ({cols}) = ({cursor})
               FROM {table} t WHERE ({cols}) >= ({cursor}) ORDER BY {cols} LIMIT $2"
        )
    } else {
        format!(
            "SELECT jsonb_build_array({json})::text, ARRAY[{text}], to_jsonb(t)::text, false
               FROM {table} t ORDER BY {cols} LIMIT $1"
        )
    }
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

/// Each row's insert, and its `row_state.last_db_seq` (as any change queued
/// for the sheet: a snapshot read before it lands cannot undo it).
async fn enqueue_inserts(
    tx: &Transaction<'_>,
    binding: &str,
    keys: &[String],
    images: &[String],
) -> Result<(Option<i64>, Option<i64>, u64), OutboxError> {
    if keys.is_empty() {
        return Ok((None, None, 0));
    }
    let row = tx
        .query_one(
            "WITH q AS MATERIALIZED (
                 SELECT k, sheetsync.enqueue($1, 'insert', k, r, 'backfill') AS s
                   FROM unnest($2::text[]::jsonb[], $3::text[]::jsonb[])
                        WITH ORDINALITY AS u(k, r, o)
                  ORDER BY o),
             state AS (
                 INSERT INTO sheetsync.row_state AS rs (binding, key, last_db_seq)
                 SELECT $1, k, s FROM q
                 ON CONFLICT (binding, key) DO UPDATE SET last_db_seq = EXCLUDED.last_db_seq)
             SELECT min(s), max(s), count(*) FROM q",
            &[&binding, &keys, &images],
        )
        .await?;
    let n: i64 = row.get(2);
    Ok((row.get(0), row.get(1), n as u64))
}

async fn enqueue_keysets(
    tx: &Transaction<'_>,
    binding: &str,
    parts: &[Json],
    queued: &mut Queued,
) -> Result<(), OutboxError> {
    for part in parts {
        let seq: i64 = tx
            .query_one(
                "SELECT sheetsync.enqueue($1, 'keyset', '[]'::jsonb, $2::text::jsonb, 'backfill')",
                &[&binding, &part.to_string()],
            )
            .await?
            .get(0);
        queued.seq(Some(seq), Some(seq));
        queued.keyset_parts += 1;
    }
    Ok(())
}

/// Wakes listening relays at commit (enqueue itself does not notify).
async fn notify(tx: &Transaction<'_>, binding: &str) -> Result<(), OutboxError> {
    tx.execute("SELECT pg_notify('sheetsync_outbox', $1)", &[&binding])
        .await?;
    Ok(())
}
