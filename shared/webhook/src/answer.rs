//! The webhook's answer, typed: the contract's body for each outcome, and
//! the counts that metrics and the local console report, read from the
//! types rather than from the JSON.

use serde_json::{Value as Json, json};

use crate::contract::{PushResponse, RowStatus, SyncResponse};
use crate::errors::WebhookError;

/// What a request became.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `/sync_postgres` applied (or answered again for a replayed event).
    Synced(SyncResponse),
    /// `/sync_gsheet` queued the table (or found a push already queued).
    Pushed(PushResponse),
    /// Refused before or while applying: the contract's error code and the
    /// message the caller may see.
    Refused { code: &'static str, message: String },
}

/// The answer with its HTTP status; sent as `application/json`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookResponse {
    pub status: u16,
    pub answer: Answer,
}

/// What an answer did, per kind of row outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerCounts {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub conflicts: u64,
    pub rejected: u64,
    pub deferred: u64,
    pub deleted: u64,
    /// Rows the table sent to the sheet (a snapshot's resends, a push).
    pub queued: u64,
}

impl AnswerCounts {
    /// The counts of a `/sync_postgres` answer.
    pub fn of_sync(response: &SyncResponse) -> AnswerCounts {
        let mut counts = AnswerCounts {
            rows: response.rows.len() as u64,
            deleted: response.deleted,
            queued: response.resent,
            ..AnswerCounts::default()
        };
        for row in &response.rows {
            let n = match row.status {
                RowStatus::Inserted => &mut counts.inserted,
                RowStatus::Updated => &mut counts.updated,
                RowStatus::Unchanged => &mut counts.unchanged,
                RowStatus::Conflict => &mut counts.conflicts,
                RowStatus::Rejected => &mut counts.rejected,
                RowStatus::Deferred => &mut counts.deferred,
            };
            *n += 1;
        }
        counts
    }

    /// Rows whose table image this request changed.
    pub fn applied(&self) -> u64 {
        self.inserted + self.updated + self.conflicts + self.deleted
    }
}

impl WebhookResponse {
    pub fn ok(answer: Answer) -> WebhookResponse {
        WebhookResponse {
            status: 200,
            answer,
        }
    }

    pub fn error(err: &WebhookError) -> WebhookResponse {
        WebhookResponse {
            status: err.status(),
            answer: Answer::Refused {
                code: err.code(),
                message: err.public_message(),
            },
        }
    }

    /// The body as the contract writes it.
    pub fn body(&self) -> Json {
        let body = match &self.answer {
            Answer::Synced(response) => serde_json::to_value(response),
            Answer::Pushed(response) => serde_json::to_value(response),
            Answer::Refused { code, message } => {
                return json!({"error": {"code": code, "message": message}});
            }
        };
        // The contract types serialize infallibly (string keys, no floats
        // that JSON cannot hold); an error here is a bug, answered as one.
        body.unwrap_or_else(|e| {
            tracing::error!(error = %e, "answer did not serialize");
            json!({"error": {"code": "internal", "message": "the server failed to process the request"}})
        })
    }

    pub fn counts(&self) -> AnswerCounts {
        match &self.answer {
            Answer::Synced(response) => AnswerCounts::of_sync(response),
            Answer::Pushed(response) => AnswerCounts {
                queued: response.queued,
                ..AnswerCounts::default()
            },
            Answer::Refused { .. } => AnswerCounts::default(),
        }
    }

    /// As an `http` response, for every front end (API Gateway through
    /// lambda_http, the local stack, the benchmark's server).
    pub fn to_http<B: From<String>>(&self) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.body().to_string()));
        *response.status_mut() = http::StatusCode::from_u16(self.status)
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::RowOutcome;

    fn row(status: RowStatus) -> RowOutcome {
        RowOutcome {
            row: Some(2),
            key: None,
            status,
            detail: None,
            reason: None,
            column: None,
        }
    }

    #[test]
    fn counts_come_from_the_row_outcomes() {
        let answer = WebhookResponse::ok(Answer::Synced(SyncResponse {
            event_id: "e".into(),
            rows: vec![
                row(RowStatus::Updated),
                row(RowStatus::Conflict),
                row(RowStatus::Rejected),
                row(RowStatus::Updated),
            ],
            deleted: 2,
            resent: 1,
            ignored_columns: vec![],
            missing_columns: vec![],
            deferred: false,
        }));
        let counts = answer.counts();
        assert_eq!(
            counts,
            AnswerCounts {
                rows: 4,
                updated: 2,
                conflicts: 1,
                rejected: 1,
                deleted: 2,
                queued: 1,
                ..AnswerCounts::default()
            }
        );
        assert_eq!(counts.applied(), 5);
    }

    #[test]
    fn a_refusal_is_the_contract_error_body() {
        let answer = WebhookResponse::error(&WebhookError::TooLarge {
            size: 11,
            limit: 10,
        });
        assert_eq!(answer.status, 413);
        assert!(
            matches!(
                answer.answer,
                Answer::Refused {
                    code: "too_large",
                    ..
                }
            ),
            "{answer:?}"
        );
        assert_eq!(answer.body()["error"]["code"], "too_large");
        assert_eq!(answer.counts(), AnswerCounts::default());
        let http: http::Response<String> = answer.to_http();
        assert_eq!(http.status(), 413);
        assert_eq!(http.headers()["content-type"], "application/json");
        assert_eq!(http.body(), &answer.body().to_string());
    }
}
