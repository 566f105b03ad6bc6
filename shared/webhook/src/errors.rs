//! Every error of docs/contract.md's table, answered as
//! `{"error": {"code": "…", "message": "…"}}`. None of them writes anything.

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("request body is not a v1 sheetsync request: {0}")]
    Malformed(String),
    #[error("request signature is not valid: {0}")]
    BadSignature(&'static str),
    #[error(
        "request timestamp is {age_secs} s away from the server's clock (allowed: {window_secs} s)"
    )]
    Stale { age_secs: i64, window_secs: i64 },
    #[error("no binding for spreadsheet '{spreadsheet_id}' tab '{sheet}'")]
    UnknownSheet {
        spreadsheet_id: String,
        sheet: String,
    },
    #[error("request body is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the header lacks the table's key column '{0}'")]
    UnknownKeyColumn(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("no endpoint {method} {path}")]
    NotFound { method: String, path: String },
    #[error("{method} is not allowed here; use POST")]
    MethodNotAllowed { method: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebhookError {
    pub fn status(&self) -> u16 {
        match self {
            WebhookError::Malformed(_) => 400,
            WebhookError::BadSignature(_) | WebhookError::Stale { .. } => 401,
            WebhookError::UnknownSheet { .. } | WebhookError::NotFound { .. } => 404,
            WebhookError::MethodNotAllowed { .. } => 405,
            WebhookError::TooLarge { .. } => 413,
            WebhookError::UnknownKeyColumn(_) => 422,
            WebhookError::Internal(_) => 500,
            WebhookError::Unavailable(_) => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::Malformed(_) => "malformed",
            WebhookError::BadSignature(_) => "bad_signature",
            WebhookError::Stale { .. } => "stale",
            WebhookError::UnknownSheet { .. } => "unknown_sheet",
            WebhookError::TooLarge { .. } => "too_large",
            WebhookError::UnknownKeyColumn(_) => "unknown_key_column",
            WebhookError::Unavailable(_) => "unavailable",
            WebhookError::NotFound { .. } => "not_found",
            WebhookError::MethodNotAllowed { .. } => "method_not_allowed",
            WebhookError::Internal(_) => "internal",
        }
    }

    /// The message sent to the client. Database details stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            WebhookError::Unavailable(_) => {
                "the database is unreachable; keep the event and retry".to_string()
            }
            WebhookError::Internal(_) => "the server failed to process the request".to_string(),
            other => other.to_string(),
        }
    }

    /// The error as logged: its message with anything in double quotes
    /// left out. What is quoted there is a value the request or the database
    /// echoed (serde's `invalid type: string "…"`, PostgreSQL's `invalid
    /// input syntax for type integer: "…"`): cell data, which stays out of
    /// the logs. The answer to the script keeps it, since the script sent it.
    pub fn log_text(&self) -> String {
        redact_quoted(&self.to_string())
    }
}

/// `a "b" c` → `a "…" c`; an unclosed quote hides the rest.
fn redact_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let mut inside = true;
    for part in parts {
        if inside {
            out.push_str("\"…\"");
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

impl From<sheetsync_plan::PlanError> for WebhookError {
    fn from(e: sheetsync_plan::PlanError) -> WebhookError {
        match e {
            sheetsync_plan::PlanError::UnknownKeyColumn(column) => {
                WebhookError::UnknownKeyColumn(column)
            }
            unreadable @ sheetsync_plan::PlanError::UnreadableRow { .. } => {
                WebhookError::Internal(unreadable.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_error_has_its_status_and_code() {
        let cases = [
            (WebhookError::Malformed("x".into()), 400, "malformed"),
            (WebhookError::BadSignature("x"), 401, "bad_signature"),
            (
                WebhookError::Stale {
                    age_secs: 400,
                    window_secs: 300,
                },
                401,
                "stale",
            ),
            (
                WebhookError::UnknownSheet {
                    spreadsheet_id: "S".into(),
                    sheet: "T".into(),
                },
                404,
                "unknown_sheet",
            ),
            (
                WebhookError::TooLarge { size: 2, limit: 1 },
                413,
                "too_large",
            ),
            (
                WebhookError::UnknownKeyColumn("id".into()),
                422,
                "unknown_key_column",
            ),
            (
                WebhookError::Unavailable("refused".into()),
                503,
                "unavailable",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!((err.status(), err.code()), (status, code));
            assert_eq!(
                crate::WebhookResponse::error(&err).body()["error"]["code"],
                code
            );
        }
    }

    #[test]
    fn logged_errors_leave_echoed_values_out() {
        let serde = serde_json::from_str::<u32>(r#""my-salary-90000""#).unwrap_err();
        let err = WebhookError::Malformed(serde.to_string());
        assert_eq!(
            err.log_text(),
            "request body is not a v1 sheetsync request: invalid type: string \"…\", expected u32 at line 1 column 17"
        );
        assert!(
            crate::WebhookResponse::error(&err).body()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("my-salary-90000")
        );
        let db = WebhookError::Internal(
            r#"invalid input syntax for type integer: "abc" (22P02)"#.into(),
        );
        assert_eq!(
            db.log_text(),
            "internal error: invalid input syntax for type integer: \"…\" (22P02)"
        );
        assert_eq!(redact_quoted(r#"a "b" c "d"#), r#"a "…" c "…""#);
    }

    #[test]
    fn database_details_are_not_sent() {
        let body = crate::WebhookResponse::error(&WebhookError::Unavailable(
            "password authentication failed for user x".into(),
        ))
        .body();
        assert_eq!(
            body["error"]["message"],
            "the database is unreachable; keep the event and retry"
        );
    }
}
