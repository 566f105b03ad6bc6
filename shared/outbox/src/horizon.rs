//! The horizon: the highest outbox sequence of a binding below which every
//! writer has committed or rolled back.
//!
//! Writers enqueue under the binding's advisory lock (`sheetsync_store::locks::WRITERS`) in
//! shared mode until they commit; holding it exclusively for an instant
//! proves none is in flight, so every row up to `max(seq)` is final. Sending
//! past the horizon could put a change ahead of an older one that commits
//! later, and the writer's watermark would then skip the older one.
//!
//! The relay first tries the lock; when writers hold it, it waits at most
//! `wait` (a `lock_timeout`), so writers queue behind the relay for no
//! longer than that, and the binding is retried on the next drain.

use std::time::Duration;

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::OutboxError;

/// The advisory lock class writers hold (see `sheetsync.enqueue`).
pub const WRITER_LOCK_CLASS: i32 = sheetsync_store::locks::WRITERS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Horizon {
    /// Every row of the binding up to this sequence is final.
    At(i64),
    /// The binding has no outbox rows.
    Empty,
    /// Writers held the lock for longer than the relay waits.
    Busy,
}

pub async fn horizon(
    client: &mut Client,
    binding: &str,
    wait: Duration,
) -> Result<Horizon, OutboxError> {
    let tx = client.transaction().await?;
    let got: bool = tx
        .query_one(
            "SELECT pg_try_advisory_xact_lock($1, sheetsync.binding_lock_key($2))",
            &[&WRITER_LOCK_CLASS, &binding],
        )
        .await?
        .get(0);
    if !got {
        if wait.is_zero() {
            return Ok(Horizon::Busy);
        }
        let ms = wait.as_millis().max(1);
        tx.batch_execute(&format!("SET LOCAL lock_timeout = '{ms}ms'"))
            .await?;
        let waited = tx
            .execute(
                "SELECT pg_advisory_xact_lock($1, sheetsync.binding_lock_key($2))",
                &[&WRITER_LOCK_CLASS, &binding],
            )
            .await;
        match waited {
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => return Ok(Horizon::Busy),
            Err(e) => return Err(e.into()),
        }
    }
    let max: Option<i64> = tx
        .query_one(
            "SELECT max(seq) FROM sheetsync.outbox WHERE binding = $1",
            &[&binding],
        )
        .await?
        .get(0);
    tx.commit().await?;
    Ok(max.map_or(Horizon::Empty, Horizon::At))
}
