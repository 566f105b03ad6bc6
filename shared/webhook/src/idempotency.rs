//! One answer per event id (`sheetsync.processed_events`), written in the
//! same transaction as the request's changes.
//!
//! `/sync_postgres` looks the id up when its transaction starts and inserts
//! its answer just before COMMIT (one statement, no update). A second
//! delivery racing the first blocks on that insert's unique index until the
//! first commits, then fails with a unique violation, rolls back everything
//! it did and answers the stored response; if the first rolled back, the
//! second's insert succeeds. `/sync_gsheet` claims the id first (its work is
//! one long statement sequence) and stores the answer at the end.

use crate::db::{Conn, TxError};
use crate::errors::WebhookError;

pub const CLAIM_SQL: &str = "INSERT INTO sheetsync.processed_events (event_id, binding, response) \
     VALUES ($1, $2, 'null'::jsonb) ON CONFLICT (event_id) DO NOTHING";

/// `/sync_postgres`: the answer, inserted last (a unique violation means
/// another delivery won).
pub const ANSWER_SQL: &str = "INSERT INTO sheetsync.processed_events (event_id, binding, response) \
     VALUES ($1, $2, $3::text::jsonb)";

pub const STORED_SQL: &str =
    "SELECT response::text FROM sheetsync.processed_events WHERE event_id = $1";

/// The stored answer of an event, if it was processed.
pub async fn stored_response<T: serde::de::DeserializeOwned>(
    conn: &mut Conn,
    event_id: &str,
) -> Result<Option<T>, TxError> {
    let stmt = conn.prepare(STORED_SQL).await?;
    let Some(row) = conn.client.query_opt(&stmt, &[&event_id]).await? else {
        return Ok(None);
    };
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| WebhookError::Internal(format!("stored answer of {event_id}: {e}")).into())
}
