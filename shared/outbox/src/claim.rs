//! Claiming outbox rows of one binding for one drain.
//!
//! The claim runs in the drain's transaction, which first takes the
//! binding's drain lock (`sheetsync_store::locks::DRAIN`): a second
//! relay skips a binding another relay is draining, so the two can never
//! interleave one binding's messages. `FOR UPDATE SKIP LOCKED` keeps the
//! rows locked until the transaction deletes them and commits.

use tokio_postgres::Transaction;

use crate::OutboxError;

/// The advisory lock class of the per-binding drain lock.
pub const DRAIN_LOCK_CLASS: i32 = sheetsync_store::locks::DRAIN;

/// One row of `sheetsync.outbox`, JSON kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub seq: i64,
    pub op: String,
    /// JSON array of the key columns' values.
    pub key: String,
    /// JSON object, absent for a delete.
    pub row_image: Option<String>,
    /// RFC 3339, UTC.
    pub committed_at: String,
}

/// Takes the binding's drain lock for this transaction; false when another
/// relay is draining the binding.
pub async fn try_drain_lock(tx: &Transaction<'_>, binding: &str) -> Result<bool, OutboxError> {
    let row = tx
        .query_one(
            "SELECT pg_try_advisory_xact_lock($1, sheetsync.binding_lock_key($2))",
            &[&DRAIN_LOCK_CLASS, &binding],
        )
        .await?;
    Ok(row.get(0))
}

/// Locks and reads up to `limit` rows of the binding with
/// `after < seq <= horizon`, in sequence order. `after` is the last row a
/// drain already handled: the index scan then starts past the rows it
/// deleted, which stay in the index as dead entries until vacuum (without
/// it, draining a large backlog grows quadratic).
pub async fn claim(
    tx: &Transaction<'_>,
    binding: &str,
    after: i64,
    horizon: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>, OutboxError> {
    // Right after a burst the planner's statistics still say the outbox is
    // nearly empty, and it would read the whole backlog with a bitmap scan
    // and sort it for every claim (quadratic over a large backlog). The
    // (binding, seq) index already yields the order: make it the plan.
    tx.batch_execute("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
        .await?;
    let rows = tx
        .query(
            r#"SELECT seq, op, key::text, row_image::text,
                      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                 FROM sheetsync.outbox
                WHERE binding = $1 AND seq > $2 AND seq <= $3
                ORDER BY seq
                LIMIT $4
                FOR UPDATE SKIP LOCKED"#,
            &[&binding, &after, &horizon, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| OutboxRow {
            seq: r.get(0),
            op: r.get(1),
            key: r.get(2),
            row_image: r.get(3),
            committed_at: r.get(4),
        })
        .collect())
}

/// Deletes the rows whose messages the queue accepted.
pub async fn delete(tx: &Transaction<'_>, binding: &str, seqs: &[i64]) -> Result<u64, OutboxError> {
    if seqs.is_empty() {
        return Ok(0);
    }
    Ok(tx
        .execute(
            "DELETE FROM sheetsync.outbox WHERE binding = $1 AND seq = ANY($2)",
            &[&binding, &seqs],
        )
        .await?)
}
