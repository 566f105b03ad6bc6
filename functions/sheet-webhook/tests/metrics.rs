//! The webhook's EMF metrics, counted from the answer's rows.

use serde_json::json;
use sheet_webhook::metrics;
use sheetsync_webhook::{Answer, WebhookResponse};

#[test]
fn rows_by_outcome() {
    let answer = WebhookResponse::ok(Answer::Synced(
        serde_json::from_value(json!({
            "event_id": "e1",
            "rows": [
                {"row": 2, "key": {"id": 1}, "status": "updated"},
                {"row": 3, "key": {"id": 2}, "status": "inserted"},
                {"row": 4, "key": {"id": 3}, "status": "conflict", "detail": "qty"},
                {"row": 5, "key": {"id": 4}, "status": "rejected", "reason": "qty: 'x' is not a whole number", "column": "qty"},
                {"row": 6, "key": {"id": 5}, "status": "unchanged"}
            ],
            "deleted": 2
        }))
        .unwrap(),
    ));
    let lines = metrics(&answer).to_lines(1_764_000_000_000);
    let ns = std::env::var(sheetsync_metrics::NAMESPACE_ENV).unwrap_or_else(|_| "sheetsync".into());
    assert_eq!(
        lines,
        vec![format!(
            concat!(
                r#"{{"_aws":{{"Timestamp":1764000000000,"CloudWatchMetrics":[{{"Namespace":"{}","#,
                r#""Dimensions":[["function"]],"Metrics":[{{"Name":"BatchSize","Unit":"Count"}},"#,
                r#"{{"Name":"RowsApplied","Unit":"Count"}},{{"Name":"Conflicts","Unit":"Count"}},"#,
                r#"{{"Name":"Rejects","Unit":"Count"}}]}}]}},"function":"sheet-webhook","#,
                r#""BatchSize":5,"RowsApplied":5,"Conflicts":1,"Rejects":1}}"#
            ),
            ns
        )]
    );
}

#[test]
fn an_error_answer_has_no_metrics() {
    let answer = WebhookResponse {
        status: 401,
        answer: Answer::Refused {
            code: "bad_signature",
            message: "signature missing or wrong".into(),
        },
    };
    assert!(metrics(&answer).is_empty());
}
