//! The application's longest write stall during a backfill: a table of
//! `ROWS` rows is backfilled (`sheetsync_outbox::backfill`, default chunk
//! size) while another connection runs single-row `UPDATE`s of it in a
//! loop, each statement timed; the samples taken while the backfill ran
//! give the longest stall and the p99.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sheetsync_config::TableRef;
use sheetsync_outbox::backfill;
use sheetsync_outbox::backfill::CHUNK_ROWS;
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_store::{AttachSpec, Binding, StoredBinding, attach, migrate};
use sheetsync_testkit::TestDb;

pub const ROWS: i64 = 1_000_000;
const GOAL: Duration = Duration::from_millis(50);

pub struct Stall {
    rows: i64,
    chunks: u64,
    backfill: Duration,
    /// Each `UPDATE`'s latency, for those that started during the backfill.
    updates: Vec<Duration>,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

impl Stall {
    pub fn section(&self) -> String {
        let mut sorted = self.updates.clone();
        sorted.sort();
        let max = sorted.last().copied().unwrap_or_default();
        let p99 = sorted
            .get(((sorted.len() as f64 * 0.99).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default();
        let met = if max < GOAL { "met" } else { "MISSED" };
        format!(
            "| measurement | value | goal |\n|---|---:|---|\n\
             | backfill of {} rows ({} transactions of at most {} rows) | {:.1} s | |\n\
             | single-row `UPDATE`s committed during it (one connection, in a loop) | {} | |\n\
             | longest `UPDATE` during the backfill | {} | < {}: {met} |\n\
             | `UPDATE` p99 during the backfill | {} | |\n",
            self.rows,
            self.chunks,
            CHUNK_ROWS,
            self.backfill.as_secs_f64(),
            sorted.len(),
            ms(max),
            ms(GOAL),
            ms(p99),
        )
    }
}

fn err(what: &'static str) -> impl Fn(tokio_postgres::Error) -> String {
    move |e| match e.as_db_error() {
        Some(db) => format!("{what}: {}", db.message()),
        None => format!("{what}: {e}"),
    }
}

pub async fn measure(rows: i64) -> Result<Stall, String> {
    let db = TestDb::create().await;
    let mut client = db.client().await;
    migrate(&client)
        .await
        .map_err(|e| format!("migrate: {e}"))?;
    client
        .batch_execute(
            "CREATE TABLE bench_backfill (id bigint PRIMARY KEY, note text, qty int, at timestamptz)",
        )
        .await
        .map_err(err("create table"))?;
    let table = TableRef::parse("bench_backfill").map_err(|e| format!("table: {e}"))?;
    attach(
        &client,
        &AttachSpec {
            name: Some("bench_backfill".into()),
            table,
            spreadsheet_id: "bench-backfill".into(),
            sheet: "Rows".into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .map_err(|e| format!("attach: {e}"))?;
    // Written as the webhook writes (nothing queued): the table is there
    // before the sheet is.
    client
        .batch_execute(&format!(
            "BEGIN; SET LOCAL sheetsync.origin = 'sheet';
             INSERT INTO bench_backfill
             SELECT g, md5(g::text) || md5((g + 1)::text), 0, now() FROM generate_series(1, {rows}) g;
             COMMIT;"
        ))
        .await
        .map_err(err("seed rows"))?;
    client
        .batch_execute("VACUUM ANALYZE bench_backfill")
        .await
        .map_err(err("vacuum"))?;
    let binding = Binding::load(&client, "bench_backfill")
        .await
        .map_err(|e| format!("binding: {e}"))?;

    let app = db.client().await;
    let running = Arc::new(AtomicBool::new(true));
    let during = Arc::new(AtomicBool::new(false));
    let writer = {
        let (running, during) = (running.clone(), during.clone());
        tokio::spawn(async move {
            let update = app
                .prepare("UPDATE bench_backfill SET qty = qty + 1 WHERE id = $1")
                .await
                .map_err(err("prepare update"))?;
            let mut samples = Vec::new();
            let mut id: i64 = 0;
            while running.load(Ordering::Relaxed) {
                // Spread over the table: rows read already, and rows not yet.
                id = (id + 7919) % rows + 1;
                let counted = during.load(Ordering::Relaxed);
                let started = Instant::now();
                app.execute(&update, &[&id]).await.map_err(err("update"))?;
                if counted {
                    samples.push(started.elapsed());
                }
            }
            Ok::<_, String>(samples)
        })
    };

    during.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let report = backfill(&mut client, &binding, CHUNK_ROWS).await;
    let elapsed = started.elapsed();
    during.store(false, Ordering::Relaxed);
    running.store(false, Ordering::Relaxed);
    let updates = writer.await.map_err(|e| format!("update loop: {e}"))??;
    let report = report.map_err(|e| format!("backfill: {e}"))?;
    Ok(Stall {
        rows,
        chunks: report.chunks,
        backfill: elapsed,
        updates,
    })
}
