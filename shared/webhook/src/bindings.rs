//! Bindings by spreadsheet and tab, read from the catalog and kept for a
//! while: the hot path then costs no catalog query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sheetsync_store::{Binding, StoredBinding};
use tokio_postgres::Client;

use crate::errors::WebhookError;

/// Spreadsheet id and tab name.
type TabId = (String, String);

pub struct BindingCache {
    ttl: Duration,
    entries: Mutex<HashMap<TabId, (Arc<Binding>, Instant)>>,
}

impl BindingCache {
    pub fn new(ttl: Duration) -> BindingCache {
        BindingCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The binding of a tab; `unknown_sheet` when there is none. Misses are
    /// not remembered, so a binding attached a moment ago is found at once.
    pub async fn get(
        &self,
        client: &Client,
        spreadsheet_id: &str,
        sheet: &str,
    ) -> Result<Arc<Binding>, WebhookError> {
        let id = (spreadsheet_id.to_string(), sheet.to_string());
        if let Ok(entries) = self.entries.lock()
            && let Some((binding, at)) = entries.get(&id)
            && at.elapsed() < self.ttl
        {
            return Ok(binding.clone());
        }
        let found = Binding::find(client, spreadsheet_id, sheet)
            .await
            .map_err(|e| {
                if client.is_closed() {
                    WebhookError::Unavailable(e.to_string())
                } else {
                    WebhookError::Internal(e.to_string())
                }
            })?;
        let Some(binding) = found else {
            return Err(WebhookError::UnknownSheet {
                spreadsheet_id: spreadsheet_id.to_string(),
                sheet: sheet.to_string(),
            });
        };
        let binding = Arc::new(binding);
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(id, (binding.clone(), Instant::now()));
        }
        Ok(binding)
    }

    /// Reads a tab's binding again from the catalog: the one kept was read
    /// before its table changed.
    pub async fn reload(
        &self,
        client: &Client,
        spreadsheet_id: &str,
        sheet: &str,
    ) -> Result<Arc<Binding>, WebhookError> {
        self.forget(spreadsheet_id, sheet);
        self.get(client, spreadsheet_id, sheet).await
    }

    /// Drops a binding read before its table changed (a failed statement
    /// may mean a column was added or dropped).
    pub fn forget(&self, spreadsheet_id: &str, sheet: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(spreadsheet_id.to_string(), sheet.to_string()));
        }
    }
}
