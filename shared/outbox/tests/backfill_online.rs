//! A backfill while the application writes: chunks interleaved with
//! inserts, updates, deletes and key changes (between chunks, step by
//! step), then everything replayed into a model of the sheet in sequence
//! order: the sheet equals the table. And an application write is never
//! held for the whole backfill.

mod common;

use std::time::{Duration, Instant};

use common::sheet::{Sheet, drained_changes};
use common::*;
use serde_json::{Value as Json, json};
use sheetsync_outbox::{Backfill, Progress};
use sheetsync_store::{Binding, StoredBinding};
use tokio_postgres::Client;

/// A bound table and how its keys are spelled.
struct Case {
    table: &'static str,
    create: &'static str,
    /// Key columns, in key order.
    key: &'static [&'static str],
    /// The SQL values of the key numbered `i` (`5`, `'r2', 5`).
    values: fn(i64) -> String,
    /// The same key as the outbox spells it.
    json: fn(i64) -> Vec<Json>,
    keysets_per_chunk: bool,
}

const INTEGERS: Case = Case {
    table: "online_int",
    create: "CREATE TABLE online_int (id int PRIMARY KEY, qty int, note text)",
    key: &["id"],
    values: |i| i.to_string(),
    json: |i| vec![json!(i)],
    keysets_per_chunk: true,
};

/// Composite, text compared by bytes: `Key` order is the index's.
const COMPOSITE: Case = Case {
    table: "online_pair",
    create: "CREATE TABLE online_pair (region text COLLATE \"C\", n int, qty int, note text,
                                       PRIMARY KEY (region, n))",
    key: &["region", "n"],
    values: |i| format!("'{}', {}", region(i), i / 4),
    json: |i| vec![json!(region(i)), json!(i / 4)],
    keysets_per_chunk: true,
};

fn region(i: i64) -> &'static str {
    ["EU", "eu", "us", "Us"][(i % 4) as usize]
}

/// `numeric`: the index puts 1.5 between 1 and 2, `Key` puts it after every
/// whole number, so the key set is queued at the end, whole.
const NUMERIC: Case = Case {
    table: "online_num",
    create: "CREATE TABLE online_num (id numeric PRIMARY KEY, qty int, note text)",
    key: &["id"],
    values: |i| format!("{}", i as f64 / 2.0),
    json: |i| {
        if i % 2 == 0 {
            vec![json!(i / 2)]
        } else {
            vec![json!(i as f64 / 2.0)]
        }
    },
    keysets_per_chunk: false,
};

/// Rows 0..ROWS (every third one missing), keys numbered up to 3 × ROWS.
const ROWS: i64 = 60;

/// A small deterministic generator: the same writes on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as i64
    }
}

impl Case {
    fn key_json(&self) -> String {
        let parts: Vec<String> = self.key.iter().map(|c| format!("to_jsonb({c})")).collect();
        format!("jsonb_build_array({})", parts.join(", "))
    }

    fn cols(&self) -> String {
        self.key.join(", ")
    }

    async fn setup(&self, f: &Fixture) {
        f.client.batch_execute(self.create).await.unwrap();
        bind(&f.client, self.table, self.table).await;
        // Written as the webhook writes: nothing queued.
        let mut sql = String::from("BEGIN; SET LOCAL sheetsync.origin = 'sheet';");
        for i in (0..ROWS).filter(|i| i % 3 != 1) {
            sql.push_str(&format!(
                "INSERT INTO {} ({}, qty, note) VALUES ({}, {i}, 'seed');",
                self.table,
                self.cols(),
                (self.values)(i)
            ));
        }
        sql.push_str("COMMIT;");
        f.client.batch_execute(&sql).await.unwrap();
    }

    /// The tab before the backfill: some rows stale, some missing, and keys
    /// the table lacks all over the key space.
    async fn sheet_before(&self, client: &Client) -> Sheet {
        let mut sheet = Sheet::of_table(client, self.table, self.key).await;
        let keys: Vec<_> = sheet.rows.keys().cloned().collect();
        for (n, key) in keys.iter().enumerate() {
            match n % 4 {
                0 => {
                    sheet.rows.remove(key);
                }
                1 => {
                    if let Some(row) = sheet.rows.get_mut(key) {
                        row.insert("qty".into(), json!(-1));
                    }
                }
                _ => {}
            }
        }
        for i in (0..3 * ROWS).filter(|i| i % 3 == 1) {
            sheet.put(
                (self.json)(i),
                json!({"qty": -2, "note": "only on the sheet"}),
            );
        }
        sheet
    }

    async fn keys(&self, client: &Client) -> Vec<String> {
        client
            .query(
                &format!(
                    "SELECT {}::text FROM {} ORDER BY 1",
                    self.key_json(),
                    self.table
                ),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Application writes, captured by the trigger, each committed.
    async fn write(&self, client: &Client, step: usize, cursor: Option<String>, rng: &mut Lcg) {
        let (t, cols, kj) = (self.table, self.cols(), self.key_json());
        let mut statements = Vec::new();
        // At the scan cursor: the boundary key goes, or moves ahead.
        if let Some(cursor) = &cursor {
            match step % 3 {
                0 => statements.push(format!("DELETE FROM {t} WHERE {kj} = '{cursor}'")),
                1 => statements.push(self.move_sql(&format!("{kj} = '{cursor}'"), rng)),
                _ => statements.push(format!(
                    "UPDATE {t} SET qty = qty + 1000 WHERE {kj} = '{cursor}'"
                )),
            }
        }
        let keys = self.keys(client).await;
        for _ in 0..4 {
            let existing = &keys[rng.below(keys.len() as i64) as usize];
            let at = format!("{kj} = '{existing}'");
            statements.push(match rng.below(5) {
                0 => format!("UPDATE {t} SET qty = qty + 1, note = 'step {step}' WHERE {at}"),
                1 => format!("DELETE FROM {t} WHERE {at}"),
                2 => self.move_sql(&at, rng),
                _ => format!(
                    "INSERT INTO {t} ({cols}, qty, note) VALUES ({}, {step}, 'new at {step}')
                     ON CONFLICT DO NOTHING",
                    (self.values)(rng.below(3 * ROWS))
                ),
            });
        }
        for sql in statements {
            client.batch_execute(&sql).await.unwrap();
        }
    }

    /// A key change (a delete and an insert), unless the new key is taken.
    fn move_sql(&self, at: &str, rng: &mut Lcg) -> String {
        let (t, cols) = (self.table, self.cols());
        let to = (self.values)(rng.below(3 * ROWS));
        format!(
            "UPDATE {t} SET ({cols}) = ROW({to}) WHERE {at}
               AND NOT EXISTS (SELECT 1 FROM {t} WHERE ({cols}) = ({to}))"
        )
    }
}

async fn interleaved(case: &Case, seed: u64) {
    let mut f = Fixture::new().await;
    case.setup(&f).await;
    let mut sheet = case.sheet_before(&f.client).await;
    let app = f.db.client().await;
    let binding = Binding::load(&f.client, case.table).await.unwrap();
    let mut backfill = Backfill::new(&f.client, &binding, 4).await.unwrap();
    assert_eq!(backfill.keysets_per_chunk(), case.keysets_per_chunk);

    let mut rng = Lcg(seed);
    let mut step = 0;
    case.write(&app, step, None, &mut rng).await;
    while backfill.step(&mut f.client).await.unwrap() == Progress::More {
        step += 1;
        let cursor = backfill
            .last_key()
            .map(|k| serde_json::to_string(k).unwrap());
        case.write(&app, step, cursor, &mut rng).await;
    }
    let report = backfill.report().clone();
    assert!(report.chunks >= 10, "{report:?}");
    case.write(&app, step + 1, None, &mut rng).await;

    let changes = drained_changes(&mut f.client, case.table).await;
    // The backfill's rows and the application's changes interleave.
    let origins: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert!(origins.windows(2).all(|w| w[0] < w[1]), "sent in order");
    sheet.apply(&changes);
    let table = Sheet::of_table(&f.client, case.table, case.key).await;
    assert_eq!(
        sheet.rows.keys().collect::<Vec<_>>(),
        table.rows.keys().collect::<Vec<_>>(),
        "keys ({report:?})"
    );
    assert_eq!(sheet, table, "values ({report:?})");
}

#[tokio::test]
async fn integer_key_chunks_interleaved_with_writes_converge() {
    for seed in [1, 2, 3] {
        interleaved(&INTEGERS, seed).await;
    }
}

#[tokio::test]
async fn composite_key_chunks_interleaved_with_writes_converge() {
    for seed in [4, 5] {
        interleaved(&COMPOSITE, seed).await;
    }
}

#[tokio::test]
async fn a_key_the_index_orders_otherwise_converges_through_the_key_set_at_the_end() {
    for seed in [6, 7] {
        interleaved(&NUMERIC, seed).await;
    }
}

/// A writer in flight holds a chunk off; meanwhile another writer's update
/// commits (the chunk gives way rather than keep writers queued behind
/// it), and after the first writer commits the chunk goes on, sequenced
/// after both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_are_not_held_behind_a_waiting_chunk_nor_between_chunks() {
    let mut f = Fixture::new().await;
    INTEGERS.setup(&f).await;
    let binding = Binding::load(&f.client, INTEGERS.table).await.unwrap();
    let mut backfill = Backfill::new(&f.client, &binding, 10).await.unwrap();
    assert_eq!(backfill.step(&mut f.client).await.unwrap(), Progress::More);
    let first_chunk = backfill.report().clone();

    // Between chunks: an update commits at once.
    let app = f.db.client().await;
    app.execute("UPDATE online_int SET qty = 7 WHERE id = 59", &[])
        .await
        .unwrap();

    // A transaction that has enqueued a change and not committed.
    let mut open = f.db.client().await;
    let tx = open.transaction().await.unwrap();
    tx.execute("UPDATE online_int SET qty = 8 WHERE id = 57", &[])
        .await
        .unwrap();
    let mut db = f.db.client().await;
    let chunk = tokio::spawn(async move {
        let progress = backfill.step(&mut db).await.unwrap();
        (progress, backfill)
    });
    // The chunk waits for the open transaction: poll until it is seen
    // waiting on the advisory lock at least once.
    let watcher = f.db.client().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                  WHERE a.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the chunk never waited");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Another writer is not stuck behind the waiting chunk.
    app.execute("UPDATE online_int SET qty = 9 WHERE id = 56", &[])
        .await
        .unwrap();
    assert!(
        !chunk.is_finished(),
        "the open transaction holds the chunk off"
    );
    tx.commit().await.unwrap();
    let (progress, backfill) = chunk.await.unwrap();
    assert_eq!(progress, Progress::More);

    let seq_of = |id: i64| {
        let client = &f.client;
        async move {
            let seq: i64 = client
                .query_one(
                    "SELECT max(seq) FROM sheetsync.outbox WHERE key = jsonb_build_array($1::int)",
                    &[&(id as i32)],
                )
                .await
                .unwrap()
                .get(0);
            seq
        }
    };
    let second_first = first_chunk.last_seq.unwrap() + 1;
    let (s59, s57, s56) = (seq_of(59).await, seq_of(57).await, seq_of(56).await);
    assert_eq!(s59, second_first, "the update between chunks comes next");
    assert!(s57 > s59 && s56 > s59);
    let chunk_two_first = f
        .client
        .query_one(
            "SELECT min(seq) FROM sheetsync.outbox WHERE origin = 'backfill' AND seq > $1",
            &[&first_chunk.last_seq.unwrap()],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert!(
        chunk_two_first > s57.max(s56),
        "the second chunk comes after both writers"
    );
    assert_eq!(backfill.report().chunks, 2);
}

/// Polls until a backend of this database waits for a lock of `locktype`.
async fn until_waiting(f: &Fixture, locktype: &str) {
    let watcher = f.db.client().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                  WHERE a.datname = current_database() AND l.locktype = $1 AND NOT l.granted",
                &[&locktype],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nobody waited on a {locktype} lock"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A chunk holds the writers off only while it reads: once it has read a
/// row, an application transaction updates that row and commits while the
/// chunk is still open (here held between its read and its writes by the
/// row's state, which the application's transaction locked first). The
/// update comes after the chunk's insert of the row, with its old value,
/// and the row's state keeps the update's sequence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_of_a_row_a_running_chunk_read_commits_and_supersedes_it() {
    let mut f = Fixture::new().await;
    INTEGERS.setup(&f).await;
    f.client
        .batch_execute(
            "INSERT INTO sheetsync.row_state (binding, key) VALUES ('online_int', '[5]')",
        )
        .await
        .unwrap();
    let binding = Binding::load(&f.client, INTEGERS.table).await.unwrap();

    let mut app = f.db.client().await;
    let tx = app.transaction().await.unwrap();
    tx.execute(
        "SELECT 1 FROM sheetsync.row_state WHERE binding = 'online_int' AND key = '[5]' FOR UPDATE",
        &[],
    )
    .await
    .unwrap();

    let mut db = f.db.client().await;
    let backfill = Backfill::new(&db, &binding, 100)
        .await
        .unwrap()
        .with_lock_wait(Duration::from_secs(60));
    let chunk = tokio::spawn(async move {
        let mut backfill = backfill;
        let progress = backfill.step(&mut db).await.unwrap();
        (progress, backfill)
    });
    // The chunk has read the table and waits to write row 5's state.
    until_waiting(&f, "transactionid").await;

    tx.execute("UPDATE online_int SET qty = 555 WHERE id = 5", &[])
        .await
        .unwrap();
    let update_seq: i64 = tx
        .query_one(
            "SELECT seq FROM sheetsync.outbox WHERE op = 'update' AND key = '[5]'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!chunk.is_finished(), "the chunk waits for row 5's state");
    tx.commit().await.unwrap();
    let (progress, backfill) = chunk.await.unwrap();
    assert_eq!(progress, Progress::Done);
    let report = backfill.report().clone();

    let row = f
        .client
        .query_one(
            "SELECT seq, row_image ->> 'qty' FROM sheetsync.outbox
              WHERE origin = 'backfill' AND op = 'insert' AND key = '[5]'",
            &[],
        )
        .await
        .unwrap();
    let (insert_seq, qty): (i64, String) = (row.get(0), row.get(1));
    assert_eq!(qty, "5", "the chunk read the row before the update");
    assert!(
        insert_seq < update_seq,
        "{report:?}, update at {update_seq}"
    );
    assert!(report.last_seq.unwrap() < update_seq, "{report:?}");
    let state: i64 = f
        .client
        .query_one(
            "SELECT last_db_seq FROM sheetsync.row_state WHERE binding = 'online_int' AND key = '[5]'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, update_seq, "the later change's sequence stays");

    let mut sheet = Sheet::default();
    sheet.apply(&drained_changes(&mut f.client, INTEGERS.table).await);
    assert_eq!(
        sheet,
        Sheet::of_table(&f.client, INTEGERS.table, INTEGERS.key).await
    );
}

/// Keys of 20,000 bytes: a chunk takes fewer rows than `chunk_rows` (its
/// first whatever its size, then none past half a keyset part), so each
/// chunk's keyset is one part, and the ranges still cover every key.
#[tokio::test]
async fn chunks_of_large_keys_queue_one_keyset_part_each() {
    let mut f = Fixture::new().await;
    f.client
        .batch_execute("CREATE TABLE wide_keys (k text COLLATE \"C\" PRIMARY KEY, n int);")
        .await
        .unwrap();
    bind(&f.client, "wide_keys", "wide_keys").await;
    f.client
        .batch_execute(
            "BEGIN; SET LOCAL sheetsync.origin = 'sheet';
             INSERT INTO wide_keys SELECT repeat(chr(96 + g), 20000), g FROM generate_series(1, 6) g;
             COMMIT;",
        )
        .await
        .unwrap();
    let binding = Binding::load(&f.client, "wide_keys").await.unwrap();
    let mut backfill = Backfill::new(&f.client, &binding, 100).await.unwrap();
    assert!(backfill.keysets_per_chunk());
    while backfill.step(&mut f.client).await.unwrap() == Progress::More {}
    let report = backfill.report().clone();
    assert_eq!(
        (report.queued_rows, report.chunks, report.keyset_parts),
        (6, 6, 6),
        "one row per chunk: {report:?}"
    );

    // Before: a key between two of the table's, and one past the last.
    let mut sheet = Sheet::default();
    sheet.put(vec![json!("b")], json!({"n": -1}));
    sheet.put(vec![json!("z")], json!({"n": -1}));
    sheet.apply(&drained_changes(&mut f.client, "wide_keys").await);
    assert_eq!(sheet, Sheet::of_table(&f.client, "wide_keys", &["k"]).await);
}
