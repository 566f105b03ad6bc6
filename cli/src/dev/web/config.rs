//! `GET /api/config`: what the page needs to act like the Apps Script.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{AppState, json_ok};

pub async fn config(State(state): State<Arc<AppState>>) -> Response {
    let b = &state.binding;
    json_ok(&json!({
        "binding": b.name,
        "table": b.table_display(),
        "spreadsheetId": b.spreadsheet_id,
        "sheet": b.sheet,
        "policy": b.policy.as_str(),
        "keyColumns": b.key_columns,
        "psql": state.psql,
        "columns": b.columns,
        // The page signs its requests as the Apps Script does, with the
        // spreadsheet's key (never the master). A dev-only key, made at
        // start: the server listens on loopback only.
        "key": state.key.reveal(),
    }))
}
