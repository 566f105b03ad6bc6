//! The request log and counters tests assert on ("one batch = two API calls").

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

/// Entries kept; counters keep counting past it.
const LOG_CAPACITY: usize = 20_000;

/// One request the emulator answered (Sheets API and token endpoint; not `/_emulator`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    /// The path as sent (percent-encoded).
    pub path: String,
    /// The raw query string, "" when none.
    pub query: String,
    pub status: u16,
    /// Google's method id, e.g. `spreadsheets.batchUpdate`, `spreadsheets.values.get`,
    /// `oauth2.token`; `unknown` for paths the API does not have.
    pub operation: String,
    /// Bytes of the answer's body as sent (gzip-compressed when the client asked).
    pub response_bytes: u64,
    /// Bytes of the answer's JSON (before compression).
    pub json_bytes: u64,
    /// Bytes of the request's body (0 when refused before it was read).
    pub request_bytes: u64,
}

/// Totals since the last reset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Every call under `/v4/` whatever its outcome.
    pub api_requests: u64,
    pub token_requests: u64,
    /// API calls answered 2xx.
    pub succeeded: u64,
    /// API calls answered 429.
    pub rate_limited: u64,
    /// API calls answered 5xx.
    pub server_errors: u64,
    /// API calls per operation id.
    pub by_operation: BTreeMap<String, u64>,
    /// API calls whose body was over the payload limit (`Faults::set_payload_limit`).
    pub oversized: u64,
    /// Bytes of every API answer's body: what clients downloaded.
    pub response_bytes: u64,
    /// The largest API answer's body.
    pub largest_response: u64,
    /// Bytes of every API answer's JSON before compression: what clients parsed.
    pub json_bytes: u64,
    /// The largest API request's body: what a client sent at once.
    pub largest_request: u64,
}

#[derive(Default)]
struct LogState {
    entries: VecDeque<LoggedRequest>,
    counters: Counters,
}

#[derive(Default)]
pub struct RequestLog {
    state: Mutex<LogState>,
}

impl RequestLog {
    fn state(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request body over the payload limit.
    pub fn count_oversized(&self) {
        self.state().counters.oversized += 1;
    }

    pub fn record(&self, entry: LoggedRequest) {
        let mut state = self.state();
        let counters = &mut state.counters;
        if entry.operation == "oauth2.token" {
            counters.token_requests += 1;
        } else {
            counters.api_requests += 1;
            counters.response_bytes += entry.response_bytes;
            counters.json_bytes += entry.json_bytes;
            counters.largest_response = counters.largest_response.max(entry.response_bytes);
            counters.largest_request = counters.largest_request.max(entry.request_bytes);
            match entry.status {
                200..=299 => counters.succeeded += 1,
                429 => counters.rate_limited += 1,
                500..=599 => counters.server_errors += 1,
                _ => {}
            }
            *counters
                .by_operation
                .entry(entry.operation.clone())
                .or_default() += 1;
        }
        if state.entries.len() == LOG_CAPACITY {
            state.entries.pop_front();
        }
        state.entries.push_back(entry);
    }

    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.state().entries.iter().cloned().collect()
    }

    pub fn counters(&self) -> Counters {
        self.state().counters.clone()
    }

    pub fn reset(&self) {
        *self.state() = LogState::default();
    }
}
