//! The dev stack's HTTP server on 127.0.0.1: the grid page, the webhook
//! (`/sync_postgres`, `/sync_gsheet`, the same handler the Lambda runs),
//! a small JSON API for the page, and — with the emulator — the emulator's
//! own API (`/_emulator/...`, `/v4/...`), so the page reads and writes the
//! tab and follows its change feed from the same origin.

mod activity;
mod assets;
mod config;
mod events;
mod hook;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sheetsync_config::DbConfig;
use sheetsync_sheets_emulator::Emulator;
use sheetsync_store::Binding;
use sheetsync_webhook::{Db, Secret, SpreadsheetKey, Webhook, WebhookConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::DevError;
use super::console::Console;
use super::stop::Stop;

/// Connections the webhook may hold.
const WEBHOOK_CONNECTIONS: usize = 4;
/// Open event streams (the page's live feed) never end by themselves:
/// after this long they are cut.
const DRAIN_WITHIN: Duration = Duration::from_secs(2);

pub struct Setup {
    /// The psql command the banner suggests, shown in the page too.
    pub psql: String,
    pub database: DbConfig,
    pub binding: Binding,
    /// The webhook's master secret.
    pub master: String,
    /// The binding's spreadsheet key (what the page signs with).
    pub key: SpreadsheetKey,
    pub emulator: Option<Emulator>,
    pub console: Arc<Console>,
    pub stop: Stop,
}

/// What the handlers share.
pub(crate) struct AppState {
    pub(crate) webhook: Webhook,
    pub(crate) binding: Binding,
    pub(crate) key: SpreadsheetKey,
    pub(crate) psql: String,
    pub(crate) activity: activity::Source,
    pub(crate) console: Arc<Console>,
    pub(crate) emulator: Option<Emulator>,
    pub(crate) stop: Stop,
}

pub struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// Takes the port first, so a busy port is reported before anything starts.
    pub async fn bind(port: u16) -> Result<TcpListener, DevError> {
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(|e| {
                DevError::io(
                    format!("cannot listen on 127.0.0.1:{port} (choose another port with --port)"),
                    e,
                )
            })
    }

    pub async fn start(listener: TcpListener, setup: Setup) -> Result<Server, DevError> {
        let addr = listener
            .local_addr()
            .map_err(|e| DevError::io("listening address", e))?;
        let webhook_config = WebhookConfig::new(Secret::new(setup.master.as_bytes()));
        let body_limit = webhook_config.max_body_bytes + 1;
        let state = Arc::new(AppState {
            webhook: Webhook::new(
                webhook_config,
                Db::new(setup.database.clone(), WEBHOOK_CONNECTIONS),
            ),
            binding: setup.binding,
            key: setup.key,
            psql: setup.psql,
            activity: activity::Source::new(setup.database),
            console: setup.console,
            emulator: setup.emulator.clone(),
            stop: setup.stop.clone(),
        });
        let app = router(state, setup.emulator.as_ref()).layer(DefaultBodyLimit::max(body_limit));
        let stop = setup.stop;
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                stop.wait().await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "dev web server stopped");
            }
        });
        Ok(Server { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits for the server to finish after the stop fired.
    pub async fn join(self) {
        let abort = self.task.abort_handle();
        if tokio::time::timeout(DRAIN_WITHIN, self.task).await.is_err() {
            abort.abort();
        }
    }
}

/// A JSON answer (axum's `json` feature is not built).
pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn json_ok(body: &serde_json::Value) -> Response {
    json_response(StatusCode::OK, body)
}

fn router(state: Arc<AppState>, emulator: Option<&Emulator>) -> Router {
    let hook = Router::new()
        .route("/sync_postgres", post(hook::sync))
        .route("/sync_gsheet", post(hook::sync));
    match emulator {
        Some(emulator) => hook
            .route("/", get(assets::page))
            .route("/grid.js", get(assets::script))
            .route("/grid.css", get(assets::style))
            .route("/api/config", get(config::config))
            .route("/api/activity", get(activity::activity))
            .route("/api/events", get(events::events))
            .with_state(state)
            .merge(emulator.router()),
        None => hook
            .route("/", get(assets::no_grid))
            .route("/api/activity", get(activity::activity))
            .with_state(state),
    }
}
