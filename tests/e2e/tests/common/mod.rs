//! Parts the end-to-end tests assemble: a request signed as the Apps Script
//! signs it, the production writer pointed at the emulator, and the relay
//! draining into the in-process queue.
#![allow(dead_code)] // each test binary uses its own share

use std::time::Duration;

use sheetsync_config::DbConfig;
use sheetsync_outbox::{DrainOptions, MemoryQueue, Scope, drain};
use sheetsync_sheets::{Endpoints, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::Emulator;
use sheetsync_webhook::signature::sign;
use sheetsync_webhook::{Secret, WebhookRequest};
use sheetsync_writer::{Message, RetryPolicy, Writer};
use tokio::sync::mpsc::Receiver;

/// A `POST` to `path` signed now with `key`, as the Apps Script signs it.
pub fn signed(key: &Secret, path: &str, body: &str) -> WebhookRequest {
    let at = chrono::Utc::now().timestamp().to_string();
    WebhookRequest {
        method: "POST".into(),
        path: path.into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Sheetsync-Timestamp".into(), at.clone()),
            (
                "X-Sheetsync-Signature".into(),
                sign(key, &at, body.as_bytes()),
            ),
        ],
        body: body.as_bytes().to_vec(),
    }
}

/// The production writer against the emulator, with backoff shortened to
/// `cap` so a test's 429s and 5xx pass quickly.
pub async fn writer(emu: &Emulator, cap: Duration) -> Writer {
    let key = parse_key(&emu.service_account_key()).expect("the emulator's key");
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    Writer::new(
        SheetsClient::new(key, &endpoints)
            .await
            .expect("a Sheets client"),
    )
    .with_retry(RetryPolicy {
        base: Duration::from_millis(20),
        cap,
    })
}

/// The relay on its own connection, sending into an in-process FIFO queue.
pub struct LocalRelay {
    client: tokio_postgres::Client,
    queue: MemoryQueue,
    received: Receiver<Message>,
}

impl LocalRelay {
    pub async fn connect(config: &DbConfig) -> LocalRelay {
        let client = sheetsync_store::connect(config)
            .await
            .expect("the relay connects");
        let (queue, received) = MemoryQueue::new(10_000);
        LocalRelay {
            client,
            queue,
            received,
        }
    }

    /// One drain of every binding; the messages it queued, in order.
    pub async fn drain(&mut self) -> Vec<Message> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let report = drain(
            &mut self.client,
            &self.queue,
            &Scope::All,
            &DrainOptions::default(),
            deadline,
        )
        .await
        .expect("the relay drains");
        assert!(report.failures().next().is_none(), "{report:?}");
        let mut messages = Vec::new();
        while let Ok(m) = self.received.try_recv() {
            messages.push(m);
        }
        messages
    }
}
