//! The sheet webhook, independent of how requests arrive (Lambda events, or
//! plain HTTP for the local stack): `POST /sync_postgres` takes signed Apps
//! Script requests (docs/contract.md) into the bound table, `POST /sync_gsheet`
//! queues the whole table for the sheet.
//!
//! * [`contract`]: the wire format; [`answer`]: the typed answer; [`signature`]: HMAC verification;
//!   [`keys`]: each spreadsheet's key, derived from the master secrets;
//!   [`authenticate`]: a request checked against its spreadsheet's key;
//!   [`errors`]: the contract's error answers; [`secret`]: where the
//!   master secrets come from.
//! * [`db`]: the container's connections; [`process`]: one transaction per
//!   request (idempotent per event id), planned by [`edit`] and
//!   [`snapshot`], written by [`rows`].

pub mod answer;
// The pure planning layer, under the paths the webhook has always used.
pub use sheetsync_plan::{contract, edit, header, incoming, plan, repair, snapshot, table};
pub mod authenticate;
pub mod bindings;
pub mod config;
pub mod db;
pub mod effects;
pub mod errors;
#[cfg(feature = "http")]
pub mod http;

pub mod idempotency;
pub mod keys;
pub mod process;
pub mod push;
pub mod request;
pub mod rows;
pub mod secret;
pub mod signature;
pub mod sql;

use std::time::{SystemTime, UNIX_EPOCH};

pub use answer::{Answer, AnswerCounts, WebhookResponse};
pub use config::{Clock, ConfigError, WebhookConfig};
pub use db::Db;
pub use errors::WebhookError;
pub use keys::{MasterSecrets, SpreadsheetKey, spreadsheet_key};
pub use signature::Secret;

use bindings::BindingCache;

/// One HTTP request, as any front end hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequest {
    pub method: String,
    pub path: String,
    /// Header names in any case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WebhookRequest {
    /// An `http` request whose body was read whole (each front end reads it
    /// its own way: lambda_http has it decoded, a server streams it).
    pub fn from_http(parts: &::http::request::Parts, body: Vec<u8>) -> WebhookRequest {
        WebhookRequest {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            headers: parts
                .headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    SyncPostgres,
    SyncGsheet,
}

impl Endpoint {
    /// Matched on the path's end: API Gateway may prefix a stage
    /// (`/prod/sync_postgres`) and a custom domain a base path.
    fn of(path: &str) -> Option<Endpoint> {
        let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
        if path.ends_with("/sync_postgres") {
            Some(Endpoint::SyncPostgres)
        } else if path.ends_with("/sync_gsheet") {
            Some(Endpoint::SyncGsheet)
        } else {
            None
        }
    }
}

pub struct Webhook {
    config: WebhookConfig,
    db: Db,
    bindings: BindingCache,
}

impl Webhook {
    pub fn new(config: WebhookConfig, db: Db) -> Webhook {
        let bindings = BindingCache::new(config.binding_ttl);
        Webhook {
            config,
            db,
            bindings,
        }
    }

    /// Everything from the environment: the master secrets (fetched once, here),
    /// the database settings and the limits. `max_connections` is 1 in a
    /// Lambda container.
    pub async fn from_env(max_connections: usize) -> Result<Webhook, ConfigError> {
        let config = WebhookConfig::from_env().await?;
        let mut db_config = sheetsync_config::DbConfig::from_env()
            .map_err(|e| ConfigError::Database(e.to_string()))?;
        let password_arn = std::env::var(secret::DB_PASSWORD_SECRET_ARN_ENV).ok();
        secret::resolve_db_password(&mut db_config, password_arn.as_deref(), None).await?;
        Ok(Webhook::new(config, Db::new(db_config, max_connections)))
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    pub async fn handle(&self, req: WebhookRequest) -> WebhookResponse {
        match self.try_handle(&req).await {
            Ok(answer) => WebhookResponse::ok(answer),
            Err(err) => {
                if err.status() >= 500 {
                    tracing::error!(code = err.code(), error = %err.log_text(), "request failed");
                } else {
                    tracing::warn!(code = err.code(), error = %err.log_text(), "request refused");
                }
                WebhookResponse::error(&err)
            }
        }
    }

    async fn try_handle(&self, req: &WebhookRequest) -> Result<Answer, WebhookError> {
        let Some(endpoint) = Endpoint::of(&req.path) else {
            return Err(WebhookError::NotFound {
                method: req.method.clone(),
                path: req.path.clone(),
            });
        };
        if !req.method.eq_ignore_ascii_case("POST") {
            return Err(WebhookError::MethodNotAllowed {
                method: req.method.clone(),
            });
        }
        let limit = self.config.max_body_bytes;
        if req.body.len() > limit {
            return Err(WebhookError::TooLarge {
                size: req.body.len(),
                limit,
            });
        }
        let (spreadsheet_id, generation) = authenticate::authenticate(
            &self.config.masters,
            req,
            self.now_unix(),
            self.config.window_secs,
        )?;
        if generation == keys::Generation::Previous {
            // Rotation is done when this line stops appearing.
            tracing::warn!(
                spreadsheet_id = %spreadsheet_id,
                "request signed with a key of the previous master secret; give this spreadsheet's script its current key"
            );
        }
        match endpoint {
            Endpoint::SyncPostgres => {
                let request: contract::SyncRequest = parse(&req.body)?;
                process::sync_postgres(self, request)
                    .await
                    .map(Answer::Synced)
            }
            Endpoint::SyncGsheet => {
                let request: contract::PushRequest = parse(&req.body)?;
                push::sync_gsheet(self, request).await.map(Answer::Pushed)
            }
        }
    }

    fn now_unix(&self) -> i64 {
        match self.config.clock {
            Clock::Fixed(t) => t,
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default(),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn bindings(&self) -> &BindingCache {
        &self.bindings
    }
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_with_or_without_a_stage() {
        assert_eq!(Endpoint::of("/sync_postgres"), Some(Endpoint::SyncPostgres));
        assert_eq!(
            Endpoint::of("/prod/sync_postgres/"),
            Some(Endpoint::SyncPostgres)
        );
        assert_eq!(Endpoint::of("/sync_gsheet?x=1"), Some(Endpoint::SyncGsheet));
        assert_eq!(Endpoint::of("/sync_postgresx"), None);
        assert_eq!(Endpoint::of("/"), None);
    }
}
