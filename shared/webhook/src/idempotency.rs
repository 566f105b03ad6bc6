//! One answer per event id (`sheetsync.processed_events`), written in the
//! same transaction as the request's changes.
//!
//! A request first claims its id with an insert. A second delivery of the
//! same id racing the first waits on that row's unique index until the first
//! commits, then finds the id taken and answers the stored response; if the
//! first rolled back, the second's claim succeeds and it does the work.

use serde_json::Value as Json;

use crate::db::{Conn, TxError};
use crate::errors::WebhookError;

pub const CLAIM_SQL: &str = "INSERT INTO sheetsync.processed_events (event_id, binding, response) \
     VALUES ($1, $2, 'null'::jsonb) ON CONFLICT (event_id) DO NOTHING";

const SAVE_SQL: &str =
    "UPDATE sheetsync.processed_events SET response = $2::text::jsonb WHERE event_id = $1";

const STORED_SQL: &str =
    "SELECT response::text FROM sheetsync.processed_events WHERE event_id = $1";

pub async fn save_statement(conn: &mut Conn) -> Result<tokio_postgres::Statement, TxError> {
    Ok(conn.prepare(SAVE_SQL).await?)
}

/// The first answer of an event already processed (read after the claim
/// found it taken and the transaction was rolled back).
pub async fn stored_response(conn: &mut Conn, event_id: &str) -> Result<Json, TxError> {
    let stmt = conn.prepare(STORED_SQL).await?;
    let row = conn.client.query_opt(&stmt, &[&event_id]).await?;
    let text: String = match row {
        Some(row) => row.try_get(0)?,
        None => {
            return Err(WebhookError::Internal(format!(
                "event {event_id} was claimed but has no stored answer"
            ))
            .into());
        }
    };
    serde_json::from_str(&text)
        .map_err(|e| WebhookError::Internal(format!("stored answer of {event_id}: {e}")).into())
}
