//! The Lambda's only job: an API Gateway (REST v1, HTTP API v2) or Function
//! URL event in, the webhook library's answer out.

use lambda_http::{Body, Error, Request, RequestExt, Response};
use sheetsync_metrics::{Metrics, names};
use sheetsync_webhook::{Webhook, WebhookRequest, WebhookResponse};

/// Handles one event.
pub async fn handle(webhook: &Webhook, event: Request) -> Result<Response<Body>, Error> {
    let request_id = event
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %request_id);
    let _enter = span.enter();
    let answer = webhook.handle(to_webhook_request(&event)).await;
    metrics(&answer).emit();
    to_response(&answer)
}

/// The request's CloudWatch metrics (EMF lines, dimension `[function]`),
/// counted from the rows of the answer the script gets: none for an error.
pub fn metrics(answer: &WebhookResponse) -> Metrics {
    let mut m = Metrics::new("sheet-webhook");
    if let Some(rows) = answer.body.get("rows").and_then(|r| r.as_array()) {
        let with = |status: &str| {
            rows.iter()
                .filter(|r| r.get("status").and_then(|s| s.as_str()) == Some(status))
                .count() as u64
        };
        let deleted = answer
            .body
            .get("deleted")
            .and_then(|d| d.as_u64())
            .unwrap_or(0);
        m.count(names::BATCH_SIZE, rows.len() as u64)
            .count(
                names::ROWS_APPLIED,
                with("inserted") + with("updated") + with("conflict") + deleted,
            )
            .count(names::CONFLICTS, with("conflict"))
            .count(names::REJECTS, with("rejected"));
    }
    m
}

/// lambda_http has already decoded base64 bodies (`isBase64Encoded`).
pub fn to_webhook_request(event: &Request) -> WebhookRequest {
    let headers = event
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
        })
        .collect();
    let body = match event.body() {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.as_bytes().to_vec(),
        Body::Binary(bytes) => bytes.clone(),
        // A future body kind: its bytes as the runtime gives them.
        other => other.as_ref().to_vec(),
    };
    WebhookRequest {
        method: event.method().as_str().to_string(),
        path: event.raw_http_path().to_string(),
        headers,
        body,
    }
}

pub fn to_response(answer: &WebhookResponse) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(answer.status)
        .header("content-type", "application/json")
        .body(Body::Text(answer.body.to_string()))?)
}
