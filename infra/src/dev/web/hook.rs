//! The webhook over local HTTP: the same `sheetsync_webhook::Webhook` the
//! Lambda runs, fed from axum instead of API Gateway events.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use sheetsync_webhook::{WebhookError, WebhookRequest};

use super::{AppState, json_response};
use crate::dev::console::SheetBatch;

pub async fn sync(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    // Read here, not by an axum extractor, so an oversized body gets the
    // contract's `too_large` answer as from the Lambda; reading stops one
    // byte past the limit.
    let limit = state.webhook.config().max_body_bytes;
    let body = match axum::body::to_bytes(body, limit.saturating_add(1)).await {
        Ok(body) => body,
        Err(_) => {
            let err = WebhookError::TooLarge {
                size: limit.saturating_add(1),
                limit,
            };
            return json_response(StatusCode::PAYLOAD_TOO_LARGE, &err.body());
        }
    };
    let request = WebhookRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .filter_map(|(n, v)| Some((n.to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
    };
    let response = state.webhook.handle(request).await;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    state.console.sheet_to_db(&SheetBatch {
        kind: &kind(uri.path(), &body),
        rows: rows(&body),
        outcome: outcome(response.status, &response.body),
        millis: started.elapsed().as_millis(),
    });
    json_response(status, &response.body)
}

/// `edit`, `snapshot`, `keys`, or `push` for `/sync_gsheet`.
fn kind(path: &str, body: &[u8]) -> String {
    if path.ends_with("/sync_gsheet") {
        return "push".into();
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "request".into())
}

fn rows(body: &[u8]) -> usize {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("rows")
                .or_else(|| v.get("keys"))
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .unwrap_or(0)
}

/// `updated 1`, `inserted 1, rejected 1`, `deleted 1`, or the error code.
fn outcome(status: u16, body: &Value) -> String {
    if status != 200 {
        let code = body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("error");
        return format!("→ {status} {code}");
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for row in body
        .get("rows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let status = row.get("status").and_then(Value::as_str).unwrap_or("?");
        match counts.iter_mut().find(|(s, _)| s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((status.to_string(), 1)),
        }
    }
    if let Some(deleted) = body
        .get("deleted")
        .and_then(Value::as_u64)
        .filter(|d| *d > 0)
    {
        counts.push(("deleted".into(), deleted as usize));
    }
    if let Some(queued) = body.get("queued").and_then(Value::as_u64) {
        counts.push(("queued".into(), queued as usize));
    }
    if counts.is_empty() {
        return "→ no change".into();
    }
    let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
    format!("→ {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcome_counts_statuses_in_first_seen_order() {
        let body = json!({"rows": [
            {"row": 2, "status": "updated"}, {"row": 3, "status": "rejected"},
            {"row": 4, "status": "updated"}], "deleted": 1});
        assert_eq!(outcome(200, &body), "→ updated 2, rejected 1, deleted 1");
        assert_eq!(
            outcome(401, &json!({"error": {"code": "bad_signature"}})),
            "→ 401 bad_signature"
        );
        assert_eq!(
            outcome(200, &json!({"rows": [], "deleted": 0})),
            "→ no change"
        );
    }

    #[test]
    fn kind_and_rows_come_from_the_body() {
        let edit = br#"{"kind":"edit","rows":[{"row":2},{"row":3}]}"#;
        assert_eq!(
            (kind("/sync_postgres", edit), rows(edit)),
            ("edit".into(), 2)
        );
        let keys = br#"{"kind":"keys","keys":[{"id":1}]}"#;
        assert_eq!(
            (kind("/sync_postgres", keys), rows(keys)),
            ("keys".into(), 1)
        );
        assert_eq!(kind("/sync_gsheet", b"{}"), "push");
    }
}
