//! Nothing secret in the logs: the pipeline (webhook, relay, writer, as the
//! Lambdas run them, the webhook and the relay on the functions' own
//! database role with a password) goes through edits, a database change,
//! a conflict, rejects (by conversion and by a CHECK constraint), refused
//! requests and Sheets API errors, with every log line of every crate
//! captured at TRACE as the functions print them (JSON). None may hold the
//! master secret, the spreadsheet key, the database password, the
//! service-account key, or any cell value.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value as Json, json};
use sheetsync_config::TableRef;
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_sheets_emulator::Emulator;
use sheetsync_store::{AttachSpec, attach_granting, migrate};
use sheetsync_testkit::{TestDb, TestRole};
use sheetsync_webhook::signature::sign;
use sheetsync_webhook::{Db, Secret, Webhook, WebhookConfig, WebhookRequest, spreadsheet_key};
use sheetsync_writer::Writer;

use common::{LocalRelay, signed};

const MASTER: &str = "master-secret-4b1d9e77c0";
const SPREADSHEET: &str = "logs-spreadsheet";
const TAB: &str = "Items";
const HEADER: [&str; 4] = ["id", "name", "qty", "note"];

/// Every cell value the run writes, on either side.
const CELLS: [&str; 9] = [
    "cell-secret-ada-7f3a",
    "note-secret-91c2",
    "db-secret-55e1",
    "conflict-secret-a0b4",
    "reject-secret-3d9e",
    "check-secret-b7d1",
    "badsig-secret-0c6f",
    "malformed-secret-e2a8",
    "writer-secret-6d07",
];

/// The log lines, as the functions' JSON subscriber writes them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every crate at TRACE, spans and their fields included, except the
/// Sheets API emulator (test infrastructure standing in for Google).
fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "trace,sheetsync_sheets_emulator=off",
        ))
        .with_current_span(true)
        .with_span_list(true)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    captured
}

struct Pipeline {
    webhook: Webhook,
    relay: LocalRelay,
    writer: Writer,
    key: Secret,
}

impl Pipeline {
    fn request(&self, key: &Secret, body: &str) -> WebhookRequest {
        signed(key, "/sync_postgres", body)
    }

    async fn post(&self, body: &Json) -> (u16, Json) {
        let resp = self
            .webhook
            .handle(self.request(&self.key, &body.to_string()))
            .await;
        (resp.status, resp.body())
    }

    /// Relay → queue → writer until the outbox is empty; the writer's
    /// failed messages are retried (as the FIFO queue redelivers them).
    async fn deliver(&mut self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut batch = self.relay.drain().await;
        while !batch.is_empty() && std::time::Instant::now() < deadline {
            let outcome = self
                .writer
                .apply(
                    &batch,
                    tokio::time::Instant::now() + Duration::from_secs(10),
                )
                .await;
            batch.retain(|m| outcome.failed.contains(&m.message_id));
        }
        assert!(batch.is_empty(), "the writer applied every message");
    }
}

fn edit(event_id: &str, edited_at: &str, rows: Json) -> Json {
    json!({
        "v": 1, "event_id": event_id, "spreadsheet_id": SPREADSHEET, "sheet": TAB,
        "kind": "edit", "edited_at": edited_at, "header": HEADER, "rows": rows,
    })
}

fn statuses(body: &Json) -> Vec<String> {
    body["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r["status"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_key_password_or_cell_value_is_ever_logged() {
    let logs = capture_logs();

    let emu = Emulator::start().await;
    emu.set_rows(
        SPREADSHEET,
        TAB,
        vec![HEADER.iter().map(|h| json!(h)).collect()],
    );
    let db = TestDb::create().await;
    let admin = db.client().await;
    migrate(&admin).await.expect("migrations");
    admin
        .batch_execute(
            "CREATE TABLE items (
                id   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                name text,
                qty  integer CHECK (qty < 1000),
                note text
            )",
        )
        .await
        .expect("table");
    let role = TestRole::create(&db).await;
    attach_granting(
        &admin,
        &AttachSpec {
            name: Some("items".into()),
            table: TableRef::parse("items").expect("table name"),
            spreadsheet_id: SPREADSHEET.into(),
            sheet: TAB.into(),
            policy: ConflictPolicy::Latest,
        },
        Some(role.name()),
    )
    .await
    .expect("attach");

    let service_account = emu.service_account_key();
    let private_key =
        serde_json::from_str::<Json>(&service_account).expect("key JSON")["private_key"]
            .as_str()
            .expect("a private key")
            .to_string();
    let writer = common::writer(&emu, Duration::from_millis(200)).await;
    let key = spreadsheet_key(&Secret::new(MASTER), SPREADSHEET);
    let mut p = Pipeline {
        webhook: Webhook::new(
            WebhookConfig::new(Secret::new(MASTER)),
            Db::new(role.db_config(&db), 1),
        ),
        relay: LocalRelay::connect(&role.db_config(&db)).await,
        writer,
        key: key.signing_secret(),
    };

    // A new row typed into the sheet, then the database changes it.
    emu.set_rows(
        SPREADSHEET,
        TAB,
        vec![
            HEADER.iter().map(|h| json!(h)).collect(),
            vec![json!(""), json!(CELLS[0]), json!(1), json!(CELLS[1])],
        ],
    );
    let (status, body) = p
        .post(&edit(
            "l-1",
            "2026-11-25T10:00:00Z",
            json!([{"row": 2, "values": ["", CELLS[0], 1, CELLS[1]]}]),
        ))
        .await;
    assert_eq!((status, statuses(&body)), (200, vec!["inserted".into()]));
    // The script writes the key the answer carries into the row.
    emu.set_rows(
        SPREADSHEET,
        TAB,
        vec![
            HEADER.iter().map(|h| json!(h)).collect(),
            vec![
                body["rows"][0]["key"]["id"].clone(),
                json!(CELLS[0]),
                json!(1),
                json!(CELLS[1]),
            ],
        ],
    );
    p.deliver().await;
    admin
        .batch_execute(&format!("UPDATE items SET note = '{}'", CELLS[2]))
        .await
        .expect("update");
    p.deliver().await;

    // A conflict: the sheet edits the note from its old value, before the
    // database's change (latest: the database wins, both are recorded).
    let (status, body) = p
        .post(&edit(
            "l-2",
            "2026-11-25T10:00:01Z",
            json!([{"row": 2, "values": [1, CELLS[0], 1, CELLS[3]], "old": {"note": CELLS[1]}}]),
        ))
        .await;
    assert_eq!((status, statuses(&body)), (200, vec!["conflict".into()]));

    // Rejects: a value that is no number, and a row the CHECK refuses.
    let (status, body) = p
        .post(&edit(
            "l-3",
            "2099-01-01T00:00:00Z",
            json!([
                {"row": 2, "values": [1, CELLS[0], CELLS[4], CELLS[2]], "edited": ["qty"]},
                {"row": 3, "values": ["", CELLS[5], 5000, CELLS[5]]}
            ]),
        ))
        .await;
    assert_eq!(
        (status, statuses(&body)),
        (200, vec!["rejected".into(), "rejected".into()]),
        "{body}"
    );

    // Refused requests: another key, a stale one, a body that is not the
    // contract's shape, a tab no binding names.
    let forged = edit(
        "l-4",
        "2099-01-01T00:00:00Z",
        json!([{"row": 2, "values": [1, CELLS[6], 1, CELLS[6]]}]),
    )
    .to_string();
    let other_key = spreadsheet_key(&Secret::new(MASTER), "another-spreadsheet");
    let resp = p
        .webhook
        .handle(p.request(&other_key.signing_secret(), &forged))
        .await;
    assert_eq!(resp.status, 401);
    let mut stale = p.request(&p.key, &forged);
    stale.headers[0].1 = "1000".into();
    stale.headers[1].1 = sign(&p.key, "1000", forged.as_bytes());
    assert_eq!(p.webhook.handle(stale).await.status, 401);
    let malformed = json!({
        "v": CELLS[7], "event_id": "l-5", "spreadsheet_id": SPREADSHEET, "sheet": TAB,
        "kind": "edit", "rows": [{"row": 2, "values": [CELLS[7]]}],
    });
    assert_eq!(p.post(&malformed).await.0, 400);
    let mut unknown = edit(
        "l-6",
        "2099-01-01T00:00:00Z",
        json!([{"row": 2, "values": [1, CELLS[7], 1, CELLS[7]]}]),
    );
    unknown["sheet"] = json!("Nope");
    assert_eq!(p.post(&unknown).await.0, 404);

    // The Sheets API fails twice (5xx), then takes the database's change.
    emu.faults().fail_next(2, 503);
    admin
        .batch_execute(&format!("UPDATE items SET name = '{}'", CELLS[8]))
        .await
        .expect("update");
    p.deliver().await;
    let rows = emu.rows(SPREADSHEET, TAB);
    assert!(
        rows.iter().flatten().any(|c| c == &json!(CELLS[8])),
        "the writer got through: {rows:?}"
    );

    drop(p);
    let text = logs.text();
    // The capture saw the three parts at work.
    for target in ["sheetsync_webhook", "sheetsync_outbox", "sheetsync_writer"] {
        assert!(
            text.contains(&format!("\"target\":\"{target}")),
            "no log line from {target}"
        );
    }
    let pem_body = private_key
        .lines()
        .find(|l| l.len() > 40 && !l.starts_with("-----"))
        .expect("a line of the key")
        .to_string();
    let mut secrets = vec![
        ("the master secret", MASTER.to_string()),
        ("the spreadsheet key", key.reveal().to_string()),
        ("the database password", role.password().to_string()),
        ("the service-account key", pem_body),
    ];
    secrets.extend(CELLS.iter().map(|c| ("a cell value", c.to_string())));
    let leaks: Vec<String> = secrets
        .iter()
        .filter(|(_, s)| text.contains(s.as_str()))
        .map(|(what, s)| {
            let line = text.lines().find(|l| l.contains(s.as_str())).unwrap_or("");
            format!("{what} ({s}) in: {line}")
        })
        .collect();
    assert!(leaks.is_empty(), "logged:\n{}", leaks.join("\n"));
}
