//! `POST /sync_gsheet`: "push everything to the sheet now". The whole table
//! is queued for the sheet with its full key set (the relay's backfill, in
//! short chunks the application's writes interleave with).
//!
//! The chunks commit on a connection of their own while this request's
//! transaction holds the event id's claim and the binding's push slot, and
//! stores the answer once the last chunk is in: a retry of the event waits
//! for it and answers that answer, a push of another event waits and finds
//! the slot taken. If the request dies halfway, both are free again and a
//! retry queues the table again: the chunks already queued are the table's
//! rows as they were, superseded by the newer ones.
//!
//! A binding is pushed at most once per `push_min_interval`: a push asked
//! for sooner answers `"pending": true` and writes nothing (not even its
//! event id), so a loop of signed requests costs one row lock each, not a
//! table scan and a rewrite of the tab.

use sheetsync_outbox::backfill::CHUNK_ROWS;
use sheetsync_outbox::{OutboxError, backfill};

use crate::Webhook;
use crate::contract::{PushRequest, PushResponse, check_envelope};
use crate::db::TxError;
use crate::errors::WebhookError;
use crate::idempotency::{CLAIM_SQL, stored_response};

const SAVE_SQL: &str =
    "UPDATE sheetsync.processed_events SET response = $2::text::jsonb WHERE event_id = $1";

/// Takes the binding's push slot when its last push is at least `$2`
/// seconds old. A concurrent push waits on the row lock, then sees the
/// winner's time and takes nothing.
const SLOT_SQL: &str = "UPDATE sheetsync.bindings SET last_push_at = now()
     WHERE name = $1
       AND (last_push_at IS NULL OR last_push_at <= now() - make_interval(secs => $2))";

/// Seconds until the slot frees.
const WAIT_SQL: &str =
    "SELECT ceil(extract(epoch FROM last_push_at + make_interval(secs => $2) - now()))::bigint
       FROM sheetsync.bindings WHERE name = $1";

pub async fn sync_gsheet(
    webhook: &Webhook,
    req: PushRequest,
) -> Result<PushResponse, WebhookError> {
    check_envelope(req.v, &req.event_id).map_err(WebhookError::Malformed)?;
    let mut lease = webhook.db().lease().await?;
    // A closed connection (the only cause of `unavailable` here) is not
    // returned to the pool when the lease drops.
    let binding = webhook
        .bindings()
        .get(&lease.conn().client, &req.spreadsheet_id, &req.sheet)
        .await?;
    let conn = lease.conn();
    let result: Result<Option<PushResponse>, TxError> = async {
        let tx = conn.client.transaction().await?;
        if tx.execute(CLAIM_SQL, &[&req.event_id, &binding.name]).await? == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let interval = webhook.config().push_min_interval.as_secs_f64();
        if tx.execute(SLOT_SQL, &[&binding.name, &interval]).await? == 0 {
            let wait = tx.query_opt(WAIT_SQL, &[&binding.name, &interval]).await?;
            tx.rollback().await?;
            let retry_after = wait
                .and_then(|r| r.get::<_, Option<i64>>(0))
                .unwrap_or(0)
                .max(1) as u64;
            tracing::info!(event_id = %req.event_id, binding = %binding.name, retry_after_secs = retry_after, "push already queued; nothing more queued");
            return Ok(Some(pending(&req.event_id, retry_after)));
        }
        let mut chunks = webhook.db().connect_unpooled().await?;
        let report = backfill(&mut chunks, &binding, CHUNK_ROWS)
            .await
            .map_err(outbox_error)?;
        let response = PushResponse {
            event_id: req.event_id.clone(),
            queued: report.queued_rows,
            pending: false,
            retry_after_secs: None,
        };
        let body =
            serde_json::to_string(&response).map_err(|e| WebhookError::Internal(e.to_string()))?;
        tx.execute(SAVE_SQL, &[&req.event_id, &body]).await?;
        tx.commit().await?;
        tracing::info!(event_id = %req.event_id, binding = %binding.name, queued = report.queued_rows, "table queued for the sheet");
        Ok(Some(response))
    }
    .await;
    match result {
        Ok(Some(response)) => Ok(response),
        Ok(None) => match stored_response(conn, &req.event_id).await {
            Ok(Some(response)) => Ok(response),
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

fn pending(event_id: &str, retry_after_secs: u64) -> PushResponse {
    PushResponse {
        event_id: event_id.to_string(),
        queued: 0,
        pending: true,
        retry_after_secs: Some(retry_after_secs),
    }
}

fn outbox_error(e: OutboxError) -> TxError {
    match e {
        OutboxError::Db(e) => TxError::Pg(e),
        OutboxError::ConnectionLost => TxError::Webhook(WebhookError::Unavailable(e.to_string())),
        other => TxError::Webhook(WebhookError::Internal(other.to_string())),
    }
}
