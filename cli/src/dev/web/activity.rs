//! `GET /api/activity`: the binding's recent conflicts and rejects, for the
//! page's side panel.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sheetsync_config::DbConfig;
use tokio::sync::Mutex;
use tokio_postgres::Client;

use super::{AppState, json_ok, json_response};

/// Entries of each kind the panel lists.
const RECENT: i64 = 25;

/// One connection, made on first use and again after it broke.
pub struct Source {
    config: DbConfig,
    client: Mutex<Option<Client>>,
}

impl Source {
    pub fn new(config: DbConfig) -> Source {
        Source {
            config,
            client: Mutex::new(None),
        }
    }

    async fn read(&self, binding: &str) -> Result<Value, sheetsync_store::StoreError> {
        let mut slot = self.client.lock().await;
        if slot.as_ref().is_none_or(Client::is_closed) {
            *slot = Some(sheetsync_store::connect(&self.config).await?);
        }
        let Some(client) = slot.as_ref() else {
            unreachable!("connected just above")
        };
        let conflicts = sheetsync_store::recent_conflicts(client, Some(binding), RECENT).await?;
        let rejects = sheetsync_store::recent_rejects(client, Some(binding), RECENT).await?;
        Ok(json!({
            "conflicts": conflicts.iter().map(|c| json!({
                "id": c.id,
                "key": c.key,
                "column": c.column_name,
                "sheetValue": c.sheet_value,
                "dbValue": c.db_value,
                "winner": c.winner,
                "policy": c.policy,
                "at": c.recorded_at.to_rfc3339(),
            })).collect::<Vec<_>>(),
            "rejects": rejects.iter().map(|r| json!({
                "id": r.id,
                "row": r.sheet_row,
                "key": r.key,
                "column": r.column_name,
                "value": r.value,
                "reason": r.reason,
                "at": r.recorded_at.to_rfc3339(),
            })).collect::<Vec<_>>(),
        }))
    }
}

pub async fn activity(State(state): State<Arc<AppState>>) -> Response {
    match state.activity.read(&state.binding.name).await {
        Ok(body) => json_ok(&body),
        Err(e) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": {"code": "unavailable", "message": e.to_string()}}),
        ),
    }
}
