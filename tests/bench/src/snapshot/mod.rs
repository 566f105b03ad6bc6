//! A 100,000-row × 20-column tab's snapshot into its table, sent as the
//! Apps Script sends a tab that large ([`script`]: `partial` snapshots of
//! ≤ 1 MB, then one `keys` request), signed, over HTTP on loopback, one
//! request at a time, to the webhook in its own process ([`server`]) on a
//! fresh test database. Four cases on the same table: into an empty
//! table, nothing changed, 1 % of rows changed, 1 % of rows deleted from
//! the tab. Each case is timed from the first request sent to the last
//! answer; the table is then checked against the tab ([`verify`]), so a
//! fast wrong answer fails the run.

mod script;
pub mod server;
mod tab;
mod verify;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value as Json;
use sheetsync_config::TableRef;
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_store::{AttachSpec, attach, migrate};
use sheetsync_testkit::TestDb;
use sheetsync_webhook::Secret;
use sheetsync_webhook::signature::sign;

use script::{Read, SHEET, SPREADSHEET};
use server::{SECRET, WebhookProcess};
use tab::Variant;

pub const ROWS: i64 = 100_000;
/// Overrides [`ROWS`] (a quicker run while looking into something).
const ROWS_ENV: &str = "SHEETSYNC_BENCH_SNAPSHOT_ROWS";
/// Issue 18's goal for a snapshot that changes nothing or 1 % of rows.
const GOAL: Duration = Duration::from_secs(5);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Case {
    name: &'static str,
    variant: Variant,
    /// Held to [`GOAL`].
    goal: bool,
}

const CASES: [Case; 4] = [
    Case {
        name: "into an empty table",
        variant: Variant::Original,
        goal: false,
    },
    Case {
        name: "nothing changed",
        variant: Variant::Original,
        goal: true,
    },
    Case {
        name: "1 % of rows changed (2 cells each)",
        variant: Variant::OnePercentChanged,
        goal: true,
    },
    Case {
        name: "1 % of rows deleted from the tab",
        variant: Variant::OnePercentDeleted,
        goal: false,
    },
];

/// What one case measured.
struct Run {
    case: &'static Case,
    requests: usize,
    largest_part: usize,
    keys_body: usize,
    elapsed: Duration,
    /// Per request, in order sent (the last is the `keys` request).
    each: Vec<Duration>,
    peak_kb: u64,
    /// Rows answered per status, and rows deleted.
    answered: Vec<(String, u64)>,
    deleted: u64,
}

impl Run {
    fn row(&self) -> String {
        let slowest_part = self.each[..self.each.len().saturating_sub(1)]
            .iter()
            .max()
            .copied()
            .unwrap_or_default();
        let keys = self.each.last().copied().unwrap_or_default();
        let mut answers: Vec<String> = self
            .answered
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        answers.push(format!("{} deleted", self.deleted));
        let goal = if !self.case.goal {
            String::new()
        } else if self.elapsed < GOAL {
            format!("< {} s: met", GOAL.as_secs())
        } else {
            format!("< {} s: MISSED", GOAL.as_secs())
        };
        format!(
            "| {} | {:.2} s | {} ({} parts + keys) | {:.2} MB / {:.2} MB | {:.0} ms | {:.0} ms | {:.1} MB | {} | {goal} |\n",
            self.case.name,
            self.elapsed.as_secs_f64(),
            self.requests,
            self.requests - 1,
            self.largest_part as f64 / 1e6,
            self.keys_body as f64 / 1e6,
            slowest_part.as_secs_f64() * 1000.0,
            keys.as_secs_f64() * 1000.0,
            self.peak_kb as f64 / 1024.0,
            answers.join(", "),
        )
    }
}

pub struct Report {
    runs: Vec<Run>,
    idle_kb: u64,
}

impl Report {
    pub fn section(&self) -> String {
        let mut out = format!(
            "| {}-row × 20-column tab → table | end to end | requests | largest part / `keys` body | slowest part | `keys` request | webhook peak RSS | answered | goal |\n\
             |---|---:|---:|---:|---:|---:|---:|---|---|\n",
            rows_in_tab()
        );
        for run in &self.runs {
            out.push_str(&run.row());
        }
        out.push_str(&format!(
            "\nEach case: the script's requests one after another (the next once the previous is answered), first sent → last answered; \
             then the table was checked against the tab (row count and a SHA-256 of every cell): equal in every case. \
             Webhook peak RSS is its process's VmHWM during the case (idle before the first: {:.1} MB).\n",
            self.idle_kb as f64 / 1024.0
        ));
        out
    }
}

fn err(what: &'static str) -> impl Fn(tokio_postgres::Error) -> String {
    move |e| match e.as_db_error() {
        Some(db) => format!("{what}: {}", db.message()),
        None => format!("{what}: {e}"),
    }
}

fn rows_in_tab() -> i64 {
    std::env::var(ROWS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROWS)
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Sends one request as `deliver_` (apps-script/transport.js) does.
async fn post(http: &HttpClient, port: u16, body: String) -> Result<Json, String> {
    let ts = now_unix().to_string();
    let key = sheetsync_webhook::spreadsheet_key(&Secret::new(SECRET), SPREADSHEET);
    let signature = sign(&key.signing_secret(), &ts, body.as_bytes());
    let request = hyper::Request::post(format!("http://127.0.0.1:{port}/sync_postgres"))
        .header("content-type", "application/json")
        .header("x-sheetsync-timestamp", ts)
        .header("x-sheetsync-signature", signature)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    let response = http
        .request(request)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("answer: {e}"))?
        .to_bytes();
    let answer: Json =
        serde_json::from_slice(&bytes).map_err(|e| format!("answer ({status}): {e}"))?;
    if status != 200 {
        return Err(format!("answered {status}: {answer}"));
    }
    Ok(answer)
}

async fn prepare(db: &TestDb) -> Result<tokio_postgres::Client, String> {
    let client = db.client().await;
    migrate(&client)
        .await
        .map_err(|e| format!("migrate: {e}"))?;
    client
        .batch_execute(tab::CREATE_TABLE)
        .await
        .map_err(err("create table"))?;
    attach(
        &client,
        &AttachSpec {
            name: Some(tab::TABLE.into()),
            table: TableRef::parse(tab::TABLE).map_err(|e| format!("table: {e}"))?,
            spreadsheet_id: SPREADSHEET.into(),
            sheet: SHEET.into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .map_err(|e| format!("attach: {e}"))?;
    Ok(client)
}

async fn run_case(
    case: &'static Case,
    client: &tokio_postgres::Client,
    webhook: &WebhookProcess,
    http: &HttpClient,
) -> Result<Run, String> {
    let rows = tab::rows(rows_in_tab(), case.variant);
    let watermark: i64 = client
        .query_one("SELECT last_value FROM sheetsync.outbox_seq_seq", &[])
        .await
        .map_err(err("watermark"))?
        .get(0);
    let read = Read {
        case: case.name,
        edited_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        watermark,
        rows: &rows,
    };
    let bodies = script::snapshot_requests(&read);
    let requests = bodies.len();
    let (keys_body, parts) = match bodies.split_last() {
        Some((keys, parts)) => (keys.len(), parts),
        None => (0, &[][..]),
    };
    let largest_part = parts.iter().map(String::len).max().unwrap_or_default();
    webhook.reset_peak()?;

    let mut each = Vec::with_capacity(requests);
    let mut answered: std::collections::BTreeMap<String, u64> = Default::default();
    let mut deleted = 0;
    let started = Instant::now();
    for body in bodies {
        let sent = Instant::now();
        let answer = post(http, webhook.port, body).await?;
        each.push(sent.elapsed());
        for row in answer["rows"].as_array().into_iter().flatten() {
            let status = row["status"].as_str().unwrap_or("?").to_string();
            *answered.entry(status).or_default() += 1;
        }
        deleted += answer["deleted"].as_u64().unwrap_or_default();
    }
    let elapsed = started.elapsed();
    let peak_kb = webhook.peak_kb()?;
    eprintln!(
        "bench: snapshot, {}: {:.2} s; per request (ms): {}",
        case.name,
        elapsed.as_secs_f64(),
        each.iter()
            .map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let expected = verify::expected(&rows);
    let actual = verify::actual(client).await?;
    if actual != expected {
        let first = verify::first_difference(client, &rows).await?;
        return Err(format!(
            "{}: the table ({} rows, {}) is not the tab ({} rows, {}): {first}",
            case.name, actual.0, actual.1, expected.0, expected.1
        ));
    }
    Ok(Run {
        case,
        requests,
        largest_part,
        keys_body,
        elapsed,
        each,
        peak_kb,
        answered: answered.into_iter().collect(),
        deleted,
    })
}

pub async fn measure() -> Result<Report, String> {
    let db = TestDb::create().await;
    let client = prepare(&db).await?;
    let webhook = WebhookProcess::start(db.url()).await?;
    let idle_kb = webhook.peak_kb()?;
    let http: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut runs = Vec::new();
    for case in &CASES {
        runs.push(run_case(case, &client, &webhook, &http).await?);
    }
    Ok(Report { runs, idle_kb })
}
