//! The Lambda's only job: an API Gateway (REST v1, HTTP API v2) or Function
//! URL event in, the webhook library's answer out.

use lambda_http::{Body, Error, Request, RequestExt, Response};
use sheetsync_metrics::{Metrics, names};
use sheetsync_webhook::{Answer, Webhook, WebhookRequest, WebhookResponse};

/// Handles one event.
pub async fn handle(webhook: &Webhook, event: Request) -> Result<Response<Body>, Error> {
    let request_id = event
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %request_id);
    let _enter = span.enter();
    let answer = webhook.handle(to_webhook_request(event)).await;
    metrics(&answer).emit();
    Ok(to_response(&answer))
}

/// The request's CloudWatch metrics (EMF lines, dimension `[function]`),
/// counted from the answer the script gets: none for an error.
pub fn metrics(answer: &WebhookResponse) -> Metrics {
    let mut m = Metrics::new("sheet-webhook");
    if let Answer::Synced(_) = answer.answer {
        let counts = answer.counts();
        m.count(names::BATCH_SIZE, counts.rows)
            .count(names::ROWS_APPLIED, counts.applied())
            .count(names::CONFLICTS, counts.conflicts)
            .count(names::REJECTS, counts.rejected);
    }
    m
}

/// lambda_http has already decoded base64 bodies (`isBase64Encoded`).
pub fn to_webhook_request(event: Request) -> WebhookRequest {
    // As API Gateway received it, stage included (the webhook matches the
    // path's end); a request built without that extension keeps its URI's.
    let raw_path = Some(event.raw_http_path().to_string()).filter(|p| !p.is_empty());
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.into_bytes(),
        Body::Binary(bytes) => bytes,
        // A future body kind: its bytes as the runtime gives them.
        other => other.as_ref().to_vec(),
    };
    let request = WebhookRequest::from_http(&parts, body);
    match raw_path {
        Some(path) => WebhookRequest { path, ..request },
        None => request,
    }
}

pub fn to_response(answer: &WebhookResponse) -> Response<Body> {
    answer.to_http::<String>().map(Body::Text)
}
