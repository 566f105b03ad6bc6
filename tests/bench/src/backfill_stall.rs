//! The application's longest write stall during a backfill: a table of
//! `ROWS` rows is backfilled (`sheetsync_outbox::backfill`, default chunk
//! size) while another connection runs single-row `UPDATE`s of it in a
//! loop, each statement timed; the samples taken while the backfill ran
//! give the longest stall and the p99.
//!
//! A stall is lock waiting (the `UPDATE` held by a lock the backfill
//! holds) or the machine (CPU scheduling, the disk), so the section tells
//! them apart: the same loop runs alone first for [`ALONE`], for the
//! stalls the machine makes without a backfill; and the `UPDATE`'s
//! connection has PostgreSQL report each of its lock waits longer than
//! 1 ms (`log_lock_waits` with a 1 ms `deadlock_timeout`, sent to the
//! client as `LOG` messages: the server's own measure of the wait). The
//! load average is read before and after.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sheetsync_config::TableRef;
use sheetsync_outbox::backfill;
use sheetsync_outbox::backfill::CHUNK_ROWS;
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_store::{AttachSpec, Binding, StoredBinding, attach, migrate};
use sheetsync_testkit::TestDb;
use tokio_postgres::{AsyncMessage, Client, NoTls};

pub const ROWS: i64 = 1_000_000;
const GOAL: Duration = Duration::from_millis(50);
/// How long the `UPDATE` loop runs with no backfill, first.
pub const ALONE: Duration = Duration::from_secs(20);

/// One timed `UPDATE`, and the lock waits PostgreSQL reported for it.
#[derive(Debug, Clone)]
struct Sample {
    took: Duration,
    /// Each wait, and what it waited for (`ShareLock on advisory lock
    /// [...]`).
    waits: Vec<(Duration, String)>,
}

impl Sample {
    fn waited(&self) -> Duration {
        self.waits.iter().map(|(d, _)| *d).sum()
    }
}

pub struct Stall {
    rows: i64,
    chunks: u64,
    backfill: Duration,
    /// Each `UPDATE`, for those that started during the backfill.
    updates: Vec<Sample>,
    /// The same loop with no backfill running.
    alone: Vec<Sample>,
    load_before: String,
    load_after: String,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn max_p99(samples: &[Sample]) -> (Duration, Duration) {
    let mut sorted: Vec<Duration> = samples.iter().map(|s| s.took).collect();
    sorted.sort();
    let max = sorted.last().copied().unwrap_or_default();
    let p99 = sorted
        .get(((sorted.len() as f64 * 0.99).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    (max, p99)
}

impl Stall {
    pub fn section(&self) -> String {
        let (max, p99) = max_p99(&self.updates);
        let (alone_max, alone_p99) = max_p99(&self.alone);
        let met = if max < GOAL { "met" } else { "MISSED" };
        let longest = self.updates.iter().max_by_key(|s| s.took);
        let longest_waited = longest.map(Sample::waited).unwrap_or_default();
        let waits: Vec<&(Duration, String)> =
            self.updates.iter().flat_map(|s| s.waits.iter()).collect();
        // Per kind of lock: how many waits, the longest.
        let mut kinds: Vec<(String, usize, Duration)> = Vec::new();
        for (d, what) in &waits {
            let k = kind(what);
            match kinds.iter_mut().find(|(name, _, _)| *name == k) {
                Some((_, n, longest)) => {
                    *n += 1;
                    *longest = (*longest).max(*d);
                }
                None => kinds.push((k, 1, *d)),
            }
        }
        kinds.sort_by_key(|k| std::cmp::Reverse(k.2));
        let longest_wait = if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds
                .iter()
                .map(|(k, n, d)| format!("{k}: {n}, longest {}", ms(*d)))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let alone_waits = self.alone.iter().filter(|s| !s.waits.is_empty()).count();
        format!(
            "| measurement | value | goal |\n|---|---:|---|\n\
             | backfill of {} rows ({} transactions of at most {} rows) | {:.1} s | |\n\
             | single-row `UPDATE`s committed during it (one connection, in a loop) | {} | |\n\
             | longest `UPDATE` during the backfill (of which waiting for a lock) | {} ({}) | < {}: {met} |\n\
             | `UPDATE` p99 during the backfill | {} | |\n\
             | lock waits over 1 ms during the backfill ({} in all), per lock: count, longest | {} | |\n\
             | the same loop alone for {} s, no backfill: `UPDATE`s, longest, p99 (with a lock wait) | {}, {}, {} ({}) | |\n\
             | load average (1, 5, 15 min) before, after | {}; {} | |\n",
            self.rows,
            self.chunks,
            CHUNK_ROWS,
            self.backfill.as_secs_f64(),
            self.updates.len(),
            ms(max),
            ms(longest_waited),
            ms(GOAL),
            ms(p99),
            waits.len(),
            longest_wait,
            ALONE.as_secs(),
            self.alone.len(),
            ms(alone_max),
            ms(alone_p99),
            alone_waits,
            self.load_before,
            self.load_after,
        )
    }
}

/// What a wait was for, without the lock's own numbers: `ShareLock on
/// advisory lock`, `ShareLock on transaction`.
fn kind(what: &str) -> String {
    let what = what.split(" [").next().unwrap_or(what);
    match what.split_once(" on transaction ") {
        Some((mode, _)) => format!("{mode} on transaction"),
        None => what.to_string(),
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// A lock wait PostgreSQL reports once it ends: `process 12 acquired
/// ShareLock on advisory lock [16384,21331,7,2] after 12.345 ms`.
fn acquired(message: &str) -> Option<(Duration, String)> {
    let rest = message.split_once(" acquired ")?.1;
    let (what, after) = rest.rsplit_once(" after ")?;
    let ms: f64 = after.strip_suffix(" ms")?.parse().ok()?;
    Some((Duration::from_secs_f64(ms / 1000.0), what.to_string()))
}

/// The application's connection: every lock wait over 1 ms it makes is
/// reported to it, and collected in the returned list as it arrives (before
/// the statement's answer, which the server sends after).
async fn app_connection(
    db: &TestDb,
) -> Result<(Client, Arc<Mutex<Vec<(Duration, String)>>>), String> {
    let (client, mut conn) = db
        .config()
        .connect(NoTls)
        .await
        .map_err(err("connect the application"))?;
    let waits = Arc::new(Mutex::new(Vec::new()));
    let sink = waits.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            if let AsyncMessage::Notice(notice) = message
                && let Some(wait) = acquired(notice.message())
                && let Ok(mut waits) = sink.lock()
            {
                waits.push(wait);
            }
        }
    });
    client
        .batch_execute(
            "SET deadlock_timeout = '1ms'; SET log_lock_waits = on; SET client_min_messages = log",
        )
        .await
        .map_err(err("lock wait reports"))?;
    Ok((client, waits))
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

    let (app, waits) = app_connection(&db).await?;
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
            let mut alone = Vec::new();
            let mut id: i64 = 0;
            let alone_until = Instant::now() + ALONE;
            while running.load(Ordering::Relaxed) {
                // Spread over the table: rows read already, and rows not yet.
                id = (id + 7919) % rows + 1;
                let counted = during.load(Ordering::Relaxed);
                let started = Instant::now();
                app.execute(&update, &[&id]).await.map_err(err("update"))?;
                let took = started.elapsed();
                let waits = match waits.lock() {
                    Ok(mut w) => std::mem::take(&mut *w),
                    Err(_) => return Err("the lock wait list was poisoned".to_string()),
                };
                let sample = Sample { took, waits };
                if counted {
                    samples.push(sample);
                } else if started < alone_until {
                    alone.push(sample);
                }
            }
            Ok::<_, String>((samples, alone))
        })
    };

    // The loop alone first: what the machine does to it without a backfill.
    let load_before = load_average();
    tokio::time::sleep(ALONE).await;
    during.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let report = backfill(&mut client, &binding, CHUNK_ROWS).await;
    let elapsed = started.elapsed();
    during.store(false, Ordering::Relaxed);
    running.store(false, Ordering::Relaxed);
    let load_after = load_average();
    let (updates, alone) = writer.await.map_err(|e| format!("update loop: {e}"))??;
    let report = report.map_err(|e| format!("backfill: {e}"))?;
    Ok(Stall {
        rows,
        chunks: report.chunks,
        backfill: elapsed,
        updates,
        alone,
        load_before,
        load_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reported_lock_wait_is_read_with_its_lock() {
        assert_eq!(
            acquired(
                "process 25674 acquired ShareLock on advisory lock [5,5,5,2] after 190.459 ms"
            ),
            Some((
                Duration::from_secs_f64(0.190459),
                "ShareLock on advisory lock [5,5,5,2]".to_string()
            ))
        );
        assert_eq!(
            acquired(
                "process 25674 still waiting for ShareLock on advisory lock [5,5,5,2] after 1.126 ms"
            ),
            None
        );
    }
}
