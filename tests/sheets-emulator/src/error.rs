//! Google's JSON error shape: `{"error": {"code", "message", "status"}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An API error as Google reports it; `status` is the canonical gRPC code name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {status}: {message}")]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (quota errors).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(code: u16, status: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", message)
    }

    pub fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "Requested entity was not found.")
    }

    pub fn not_found_message(message: impl Into<String>) -> Self {
        Self::new(404, "NOT_FOUND", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(401, "UNAUTHENTICATED", message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(403, "PERMISSION_DENIED", message)
    }

    pub fn resource_exhausted(message: impl Into<String>, retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(429, "RESOURCE_EXHAUSTED", message)
        }
    }

    pub fn method_not_allowed() -> Self {
        Self::new(405, "METHOD_NOT_ALLOWED", "Method not allowed.")
    }

    /// The error Google's front end gives for a server-side failure with this status.
    pub fn server_error(code: u16) -> Self {
        match code {
            502 => Self::new(502, "UNAVAILABLE", "Bad Gateway"),
            503 => Self::new(503, "UNAVAILABLE", "The service is currently unavailable."),
            504 => Self::new(504, "DEADLINE_EXCEEDED", "The request timed out."),
            other => Self::new(other, "INTERNAL", "Internal error encountered."),
        }
    }

    /// A `requests[i]` failure inside `spreadsheets.batchUpdate`, prefixed as Google does.
    pub fn in_request(index: usize, kind: &str, message: &str) -> Self {
        Self::invalid_argument(format!("Invalid requests[{index}].{kind}: {message}"))
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message, "status": self.status}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, crate::http::json_body(&self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.code == 401 {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""),
            );
        }
        response
    }
}
