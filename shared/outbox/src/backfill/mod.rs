//! Backfill: the binding's whole table into the outbox, so the sheet
//! converges to the table (docs/contract.md, `POST /sync_gsheet`; also the first
//! sync of an existing table into an empty sheet).
//!
//! Every row is queued as an `insert` (origin `backfill`), in primary key
//! order, followed by `keyset` parts that together cover the whole key
//! space: the writer removes sheet rows whose key the table lacks. Each
//! row's `row_state.last_db_seq` becomes its insert's sequence, as for any
//! change queued for the sheet: a snapshot read before the backfill reaches
//! the sheet cannot undo it, and once the sheet's watermark passes it the
//! sheet is known to hold the row (so deleting it there deletes it here).
//!
//! The backfill must be one consistent picture placed at one point of the
//! binding's sequence: a change committed after the scan but sequenced
//! before the backfill's rows would be overwritten by an older image, and
//! the keyset would remove a row inserted meanwhile. So it runs in one
//! transaction that first takes `LOCK TABLE … IN SHARE MODE` (writers to the
//! table wait until it commits) and then the binding's writer lock
//! exclusively (no other transaction is enqueueing). The table is streamed
//! through a portal `chunk_rows` rows at a time, so memory holds one chunk
//! of rows plus the keys (the keyset needs them sorted).
//!
//! Keyset parts: keys sorted by [`sheetsync_reconcile::Key`] order, in parts of at
//! most `chunk_rows` keys and [`KEYSET_PART_BYTES`]. Part `i` covers
//! `from ..= to` where the first `from` and the last `to` are `None`
//! (unbounded) and each part's `from` is the previous part's `to`; that
//! shared boundary key is listed in both parts, so no sheet key falls
//! between two ranges and no table key is removed by its neighbour's range.

use serde_json::{Value as Json, json};
use sheetsync_reconcile::Key;
use sheetsync_store::{Binding, quote_ident};
use tokio_postgres::Transaction;
use tracing::info;

use crate::OutboxError;
use crate::horizon::WRITER_LOCK_CLASS;
use crate::target::Target;

/// Bytes of keys in one keyset part: small enough for one queue message
/// with any binding header.
pub const KEYSET_PART_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    /// Table rows queued as inserts.
    pub queued_rows: u64,
    /// Keyset outbox rows queued after them.
    pub keyset_parts: u64,
    /// The outbox sequences of the backfill, first and last.
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
}

/// Queues the table of `binding` in `tx`, a READ COMMITTED transaction the
/// caller commits (writers to the table wait until then; relays send the
/// rows after it). `chunk_rows` rows are read per round trip.
pub async fn backfill(
    tx: &Transaction<'_>,
    binding: &Binding,
    chunk_rows: usize,
) -> Result<BackfillReport, OutboxError> {
    let target = &Target::from(binding);
    let chunk_rows = chunk_rows.max(1);
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN SHARE MODE",
        target.qualified_table
    ))
    .await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, sheetsync.binding_lock_key($2))",
        &[&WRITER_LOCK_CLASS, &target.binding],
    )
    .await?;

    let order_by = target
        .key_columns
        .iter()
        .map(|c| format!("t.{}", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let scan = tx
        .prepare(&format!(
            "SELECT k::text, r::text
               FROM (SELECT to_jsonb(t) AS r FROM {} t ORDER BY {order_by}) s,
                    LATERAL (SELECT jsonb_agg(s.r -> c ORDER BY o)
                               FROM unnest($1::text[]) WITH ORDINALITY AS u(c, o)) AS kk(k)",
            target.qualified_table
        ))
        .await?;
    let portal = tx.bind(&scan, &[&target.key_columns]).await?;

    let mut report = BackfillReport {
        queued_rows: 0,
        keyset_parts: 0,
        first_seq: None,
        last_seq: None,
    };
    let mut keys: Vec<(Key, Vec<Json>)> = Vec::new();
    loop {
        let rows = tx.query_portal(&portal, chunk_rows as i32).await?;
        if rows.is_empty() {
            break;
        }
        let mut chunk_keys = Vec::with_capacity(rows.len());
        let mut images = Vec::with_capacity(rows.len());
        for row in &rows {
            let key_text: String = row.get(0);
            let key: Vec<Json> = serde_json::from_str(&key_text).map_err(|e| OutboxError::Key {
                binding: target.binding.clone(),
                key: key_text.clone(),
                reason: e.to_string(),
            })?;
            keys.push((Key::from_json(&key), key));
            chunk_keys.push(key_text);
            images.push(row.get::<_, String>(1));
        }
        let (first, last, n) = enqueue_inserts(tx, &target.binding, &chunk_keys, &images).await?;
        report.first_seq = report.first_seq.or(first);
        report.last_seq = last.or(report.last_seq);
        report.queued_rows += n;
        if rows.len() < chunk_rows {
            break;
        }
    }

    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let sorted: Vec<Vec<Json>> = keys.into_iter().map(|(_, k)| k).collect();
    for part in keyset_parts(&sorted, chunk_rows, KEYSET_PART_BYTES) {
        let seq: i64 = tx
            .query_one(
                "SELECT sheetsync.enqueue($1, 'keyset', '[]'::jsonb, $2::text::jsonb, 'backfill')",
                &[&target.binding, &part.to_string()],
            )
            .await?
            .get(0);
        report.first_seq = report.first_seq.or(Some(seq));
        report.last_seq = Some(seq);
        report.keyset_parts += 1;
    }
    // Wakes listening relays at commit (enqueue itself does not notify).
    tx.execute(
        "SELECT pg_notify('sheetsync_outbox', $1)",
        &[&target.binding],
    )
    .await?;
    info!(
        binding = %target.binding,
        rows = report.queued_rows,
        keyset_parts = report.keyset_parts,
        first_seq = report.first_seq,
        last_seq = report.last_seq,
        "backfill queued"
    );
    Ok(report)
}

async fn enqueue_inserts(
    tx: &Transaction<'_>,
    binding: &str,
    keys: &[String],
    images: &[String],
) -> Result<(Option<i64>, Option<i64>, u64), OutboxError> {
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

/// The keyset row images (`{"keys", "from", "to"}`) for keys sorted by
/// [`Key`] order.
pub fn keyset_parts(sorted: &[Vec<Json>], max_keys: usize, max_bytes: usize) -> Vec<Json> {
    let mut parts = Vec::new();
    let mut from: Option<&Vec<Json>> = None;
    let mut current: Vec<&Vec<Json>> = Vec::new();
    let mut bytes = 0;
    for key in sorted {
        let size = json!(key).to_string().len() + 1;
        if current.len() > 1 && (current.len() >= max_keys || bytes + size > max_bytes) {
            let to = current.last().copied();
            parts.push(json!({"keys": current, "from": from, "to": to}));
            from = to;
            current = to.into_iter().collect();
            bytes = current.iter().map(|k| json!(k).to_string().len() + 1).sum();
        }
        current.push(key);
        bytes += size;
    }
    parts.push(json!({"keys": current, "from": from, "to": Json::Null}));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: i64) -> Vec<Vec<Json>> {
        (1..=n).map(|i| vec![json!(i)]).collect()
    }

    #[test]
    fn an_empty_table_is_one_unbounded_part_without_keys() {
        assert_eq!(
            keyset_parts(&[], 10, 1000),
            vec![json!({"keys": [], "from": null, "to": null})]
        );
    }

    #[test]
    fn parts_share_their_boundary_key_and_cover_everything() {
        let parts = keyset_parts(&keys(7), 3, 1000);
        assert_eq!(
            parts,
            vec![
                json!({"keys": [[1], [2], [3]], "from": null, "to": [3]}),
                json!({"keys": [[3], [4], [5]], "from": [3], "to": [5]}),
                json!({"keys": [[5], [6], [7]], "from": [5], "to": null}),
            ]
        );
    }

    #[test]
    fn parts_are_bounded_by_bytes_too() {
        // Each key `[n]` is 3 bytes plus a separator: 8 bytes hold two.
        let parts = keyset_parts(&keys(4), 100, 8);
        assert_eq!(
            parts,
            vec![
                json!({"keys": [[1], [2]], "from": null, "to": [2]}),
                json!({"keys": [[2], [3]], "from": [2], "to": [3]}),
                json!({"keys": [[3], [4]], "from": [3], "to": null}),
            ]
        );
    }
}
