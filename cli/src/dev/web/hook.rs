//! The webhook over local HTTP: the same `sheetsync_webhook::Webhook` the
//! Lambda runs, fed from axum instead of API Gateway events.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::Value;
use sheetsync_webhook::http::read;
use sheetsync_webhook::{Answer, WebhookResponse};

use super::AppState;
use crate::dev::console::SheetBatch;

pub async fn sync(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    // Read by the webhook's own reader, not an axum extractor, so an
    // oversized body gets the contract's `too_large` answer as from the
    // Lambda.
    let request = match read(request, state.webhook.config().max_body_bytes).await {
        Ok(request) => request,
        Err(refused) => return refused.to_http::<String>().map(Body::from),
    };
    let body = serde_json::from_slice::<Value>(&request.body).ok();
    let kind = kind(&request.path, body.as_ref());
    let rows = rows(body.as_ref());
    let response = state.webhook.handle(request).await;
    state.console.sheet_to_db(&SheetBatch {
        kind: &kind,
        rows,
        outcome: outcome(&response),
        millis: started.elapsed().as_millis(),
    });
    response.to_http::<String>().map(Body::from)
}

/// `edit`, `snapshot`, `keys`, or `push` for `/sync_gsheet`.
fn kind(path: &str, body: Option<&Value>) -> String {
    if path.ends_with("/sync_gsheet") {
        return "push".into();
    }
    body.and_then(|v| v.get("kind").and_then(Value::as_str))
        .unwrap_or("request")
        .to_owned()
}

fn rows(body: Option<&Value>) -> usize {
    body.and_then(|v| v.get("rows").or_else(|| v.get("keys")))
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// `updated 1`, `inserted 1, rejected 1`, `deleted 1`, or the error code.
fn outcome(response: &WebhookResponse) -> String {
    let mut counts: Vec<(&str, u64)> = Vec::new();
    let mut count = |what: &'static str, n: u64| match counts.iter_mut().find(|(s, _)| *s == what) {
        Some((_, total)) => *total += n,
        None => counts.push((what, n)),
    };
    match &response.answer {
        Answer::Refused { code, .. } => return format!("→ {} {code}", response.status),
        Answer::Synced(synced) => {
            for row in &synced.rows {
                count(row.status.as_str(), 1);
            }
            if synced.deleted > 0 {
                count("deleted", synced.deleted);
            }
        }
        Answer::Pushed(pushed) => count("queued", pushed.queued),
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

    fn synced(body: Value) -> WebhookResponse {
        WebhookResponse::ok(Answer::Synced(serde_json::from_value(body).unwrap()))
    }

    #[test]
    fn outcome_counts_statuses_in_first_seen_order() {
        let body = json!({"event_id": "e", "rows": [
            {"row": 2, "status": "updated"}, {"row": 3, "status": "rejected"},
            {"row": 4, "status": "updated"}], "deleted": 1});
        assert_eq!(outcome(&synced(body)), "→ updated 2, rejected 1, deleted 1");
        let refused = WebhookResponse {
            status: 401,
            answer: Answer::Refused {
                code: "bad_signature",
                message: String::new(),
            },
        };
        assert_eq!(outcome(&refused), "→ 401 bad_signature");
        assert_eq!(
            outcome(&synced(json!({"event_id": "e", "rows": [], "deleted": 0}))),
            "→ no change"
        );
    }

    #[test]
    fn kind_and_rows_come_from_the_body() {
        let edit = json!({"kind": "edit", "rows": [{"row": 2}, {"row": 3}]});
        assert_eq!(
            (kind("/sync_postgres", Some(&edit)), rows(Some(&edit))),
            ("edit".into(), 2)
        );
        let keys = json!({"kind": "keys", "keys": [{"id": 1}]});
        assert_eq!(
            (kind("/sync_postgres", Some(&keys)), rows(Some(&keys))),
            ("keys".into(), 1)
        );
        assert_eq!(kind("/sync_gsheet", Some(&json!({}))), "push");
        assert_eq!(
            (kind("/sync_postgres", None), rows(None)),
            ("request".into(), 0)
        );
    }
}
