//! `POST /sync_gsheet`: "push everything to the sheet now". The whole table
//! is queued for the sheet with its full key set (the relay's backfill), in
//! one transaction with the event id's claim, so a retried request queues
//! nothing twice.

use serde_json::Value as Json;
use sheetsync_outbox::{OutboxError, backfill};

use crate::Webhook;
use crate::contract::{PushRequest, PushResponse, VERSION};
use crate::db::TxError;
use crate::errors::WebhookError;
use crate::idempotency::{CLAIM_SQL, stored_response};

/// Rows read and queued per round trip.
const CHUNK_ROWS: usize = 1000;

const SAVE_SQL: &str =
    "UPDATE sheetsync.processed_events SET response = $2::text::jsonb WHERE event_id = $1";

pub async fn sync_gsheet(webhook: &Webhook, req: PushRequest) -> Result<Json, WebhookError> {
    if req.v != VERSION {
        return Err(WebhookError::Malformed(format!(
            "version {} is not 1",
            req.v
        )));
    }
    if req.event_id.trim().is_empty() {
        return Err(WebhookError::Malformed("event_id is empty".into()));
    }
    let mut lease = webhook.db().lease().await?;
    // A closed connection (the only cause of `unavailable` here) is not
    // returned to the pool when the lease drops.
    let binding = webhook
        .bindings()
        .get(&lease.conn().client, &req.spreadsheet_id, &req.sheet)
        .await?;
    let conn = lease.conn();
    let result: Result<Option<Json>, TxError> = async {
        let tx = conn.client.transaction().await?;
        if tx.execute(CLAIM_SQL, &[&req.event_id, &binding.name]).await? == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let report = backfill(&tx, &binding, CHUNK_ROWS).await.map_err(outbox_error)?;
        let body = serde_json::to_value(PushResponse {
            event_id: req.event_id.clone(),
            queued: report.queued_rows,
        })
        .map_err(|e| WebhookError::Internal(e.to_string()))?;
        tx.execute(SAVE_SQL, &[&req.event_id, &body.to_string()]).await?;
        tx.commit().await?;
        tracing::info!(event_id = %req.event_id, binding = %binding.name, queued = report.queued_rows, "table queued for the sheet");
        Ok(Some(body))
    }
    .await;
    match result {
        Ok(Some(body)) => Ok(body),
        Ok(None) => match stored_response(conn, &req.event_id).await {
            Ok(Some(body)) => Ok(body),
            Ok(None) => Err(WebhookError::Internal("the event's answer vanished".into())),
            Err(e) => Err(e.into_webhook()),
        },
        Err(e) => {
            let err = e.into_webhook();
            if matches!(err, WebhookError::Unavailable(_)) {
                lease.discard();
            }
            Err(err)
        }
    }
}

fn outbox_error(e: OutboxError) -> TxError {
    match e {
        OutboxError::Db(e) => TxError::Pg(e),
        OutboxError::ConnectionLost => TxError::Webhook(WebhookError::Unavailable(e.to_string())),
        other => TxError::Webhook(WebhookError::Internal(other.to_string())),
    }
}
