//! What can go wrong talking to the Sheets API, sorted by what the caller
//! should do about it: retry later, or give up on the message.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SheetsError {
    /// The service-account key could not be loaded or parsed.
    #[error("service-account key: {0}")]
    Key(String),
    /// No access token could be obtained from the token endpoint.
    #[error("access token: {0}")]
    Token(String),
    /// The request did not reach the API or the answer was cut off.
    #[error("connection to the Sheets API: {0}")]
    Transport(String),
    /// 429: the per-minute quota is spent; `retry_after` is the server's hint.
    #[error("Sheets API quota exceeded (429){}", hint(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx: Google's side failed; the request may be retried.
    #[error("Sheets API server error {status}: {message}")]
    Server {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// 404: the spreadsheet does not exist or the service account cannot see it.
    #[error("spreadsheet {spreadsheet_id} not found or not shared with the service account")]
    SpreadsheetNotFound { spreadsheet_id: String },
    /// 401/403: the service account is not allowed (not shared as editor).
    #[error("Sheets API refused access ({status}): {message}")]
    Forbidden { status: u16, message: String },
    /// Any other 4xx: the request itself is wrong and will not succeed again.
    #[error("Sheets API rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// The tab is missing, lacks a key column, or has a time zone sheetsync
    /// does not know.
    #[error(transparent)]
    Tab(#[from] sheetsync_sheet_plan::TabError),
    /// The API answered 2xx with a body we cannot read.
    #[error("unexpected Sheets API response: {0}")]
    Decode(String),
}

fn hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(", retry after {} s", d.as_secs_f64()),
        None => String::new(),
    }
}

impl SheetsError {
    /// Worth trying again after a pause: quota, server errors, the network,
    /// and token fetches (the token endpoint shares Google's availability).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SheetsError::RateLimited { .. }
                | SheetsError::Server { .. }
                | SheetsError::Transport(_)
                | SheetsError::Token(_)
        )
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SheetsError::RateLimited { retry_after } => *retry_after,
            SheetsError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
