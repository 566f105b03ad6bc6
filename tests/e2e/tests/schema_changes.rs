//! Schema changes, both sides, on the local stack (docs/schema-changes.md):
//! PostgreSQL with the capture and schema triggers, the relay draining into
//! the in-process queue, the writer applying each drain's messages to the
//! Sheets emulator, and the webhook taking signed requests. Each step runs
//! to completion before the next (no background tasks, no sleeps).

mod common;

use std::time::Duration;

use serde_json::{Value as Json, json};
use sheetsync_config::{DbConfig, TableRef};
use sheetsync_reconcile::ConflictPolicy;
use sheetsync_sheets_emulator::Emulator;
use sheetsync_store::{AttachSpec, attach, migrate, recent_schema_changes, sheet_header_issues};
use sheetsync_testkit::TestDb;
use sheetsync_webhook::{Db, Secret, Webhook, WebhookConfig, spreadsheet_key};
use sheetsync_writer::Writer;
use tokio_postgres::Client;

use common::{LocalRelay, signed};

const SECRET: &str = "schema-secret";
const SPREADSHEET: &str = "schema-spreadsheet";
const TAB: &str = "Items";
const BINDING: &str = "items";

struct Stack {
    emu: Emulator,
    _db: TestDb,
    sql: Client,
    relay: LocalRelay,
    writer: Writer,
    webhook: Webhook,
    events: u32,
}

/// `items (id, name, qty)` with rows 1 (Ada, 3) and 2 (Bob, 5), bound to an
/// empty tab and synced: the tab holds the header and both rows.
async fn start() -> Stack {
    let emu = Emulator::start().await;
    emu.add_sheet(SPREADSHEET, TAB);
    let db = TestDb::create().await;
    let sql = db.client().await;
    migrate(&sql).await.unwrap();
    sql.batch_execute("CREATE TABLE items (id bigint PRIMARY KEY, name text, qty integer)")
        .await
        .unwrap();
    attach(
        &sql,
        &AttachSpec {
            name: Some(BINDING.into()),
            table: TableRef::parse("items").unwrap(),
            spreadsheet_id: SPREADSHEET.into(),
            sheet: TAB.into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .unwrap();
    let db_config = DbConfig::from_url(db.url()).unwrap();
    let relay = LocalRelay::connect(&db_config).await;
    let webhook = Webhook::new(
        WebhookConfig::new(Secret::new(SECRET)),
        Db::new(db_config, 1),
    );
    let writer = common::writer(&emu, Duration::from_millis(200)).await;
    let mut stack = Stack {
        emu,
        _db: db,
        sql,
        relay,
        writer,
        webhook,
        events: 0,
    };
    stack
        .exec("INSERT INTO items VALUES (1, 'Ada', 3), (2, 'Bob', 5)")
        .await;
    stack.sync().await;
    assert_eq!(
        stack.tab(),
        vec![
            vec![json!("id"), json!("name"), json!("qty")],
            vec![json!(1.0), json!("Ada"), json!(3.0)],
            vec![json!(2.0), json!("Bob"), json!(5.0)],
        ]
    );
    stack
}

impl Stack {
    async fn exec(&self, statement: &str) {
        self.sql.batch_execute(statement).await.unwrap();
    }

    /// One relay drain, then the writer applies everything it queued, as
    /// one Lambda batch. Returns the Sheets API requests the writer made.
    async fn sync(&mut self) -> u64 {
        let before = self.emu.counters().api_requests;
        let messages = self.relay.drain().await;
        if !messages.is_empty() {
            let outcome = self
                .writer
                .apply(
                    &messages,
                    tokio::time::Instant::now() + Duration::from_secs(30),
                )
                .await;
            assert!(outcome.failed.is_empty(), "{outcome:?}");
        }
        self.emu.counters().api_requests - before
    }

    /// The tab's values, numbers as f64, empty cells as null, trailing
    /// empties dropped.
    fn tab(&self) -> Vec<Vec<Json>> {
        self.emu
            .rows(SPREADSHEET, TAB)
            .into_iter()
            .map(|r| {
                let mut r: Vec<Json> = r
                    .into_iter()
                    .map(|v| match v {
                        Json::Number(n) => json!(n.as_f64().unwrap()),
                        Json::String(s) if s.is_empty() => Json::Null,
                        other => other,
                    })
                    .collect();
                while r.last() == Some(&Json::Null) {
                    r.pop();
                }
                r
            })
            .collect()
    }

    fn note(&self, row: usize, col: usize) -> Option<String> {
        self.emu
            .cell(SPREADSHEET, TAB, row, col)
            .and_then(|c| c.note)
    }

    async fn table(&self) -> Vec<Json> {
        self.sql
            .query("SELECT to_jsonb(i)::text FROM items i ORDER BY 1", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap())
            .collect()
    }

    /// A signed `edit` request as the script sends it for `header` and
    /// `rows` (each `[sheet row, values, edited columns]`).
    async fn edit(&mut self, header: &[&str], rows: Vec<(i64, Json, Vec<&str>)>) -> Json {
        self.events += 1;
        let watermark: i64 = self
            .emu
            .developer_metadata(SPREADSHEET, TAB, "sheetsync.watermark")
            .map_or(0, |w| w.parse().unwrap());
        let body = json!({
            "v": 1,
            "event_id": format!("schema-{}", self.events),
            "spreadsheet_id": SPREADSHEET,
            "sheet": TAB,
            "kind": "edit",
            "edited_at": chrono::Utc::now().to_rfc3339(),
            "watermark": watermark,
            "header": header,
            "rows": rows
                .into_iter()
                .map(|(row, values, edited)| json!({"row": row, "values": values, "edited": edited}))
                .collect::<Vec<_>>(),
        })
        .to_string();
        let key = spreadsheet_key(&Secret::new(SECRET), SPREADSHEET).signing_secret();
        let resp = self
            .webhook
            .handle(signed(&key, "/sync_postgres", &body))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body());
        resp.body()
    }

    async fn changes(&self) -> Vec<(String, String, Option<String>)> {
        let mut out: Vec<_> = recent_schema_changes(&self.sql, Some(BINDING), 100)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.change, c.column_name, c.previous))
            .collect();
        out.reverse();
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_column_appends_the_header_and_fills_every_row_in_one_batch() {
    let mut s = start().await;
    s.edit(&["id", "name", "qty"], vec![]).await;
    // A bare ALTER TABLE, no write after it: the relay's drain notices it.
    s.exec("ALTER TABLE items ADD COLUMN colour text DEFAULT 'red'")
        .await;
    let requests = s.sync().await;
    assert_eq!(
        s.tab(),
        vec![
            vec![json!("id"), json!("name"), json!("qty"), json!("colour")],
            vec![json!(1.0), json!("Ada"), json!(3.0), json!("red")],
            vec![json!(2.0), json!("Bob"), json!(5.0), json!("red")],
        ]
    );
    assert_eq!(requests, 2, "one read and one batchUpdate");
    assert_eq!(
        s.changes().await,
        vec![("added".into(), "colour".into(), None)]
    );

    // Later changes of the new column land in it, and only there.
    s.exec("UPDATE items SET colour = 'blue' WHERE id = 2")
        .await;
    s.sync().await;
    assert_eq!(
        s.tab()[2],
        vec![json!(2.0), json!("Bob"), json!(5.0), json!("blue")]
    );

    // The webhook, which had the binding cached before, takes the new
    // column from the sheet at once.
    let answer = s
        .edit(
            &["id", "name", "qty", "colour"],
            vec![(2, json!([1, "Ada", 3, "green"]), vec!["colour"])],
        )
        .await;
    assert_eq!(answer["rows"][0]["status"], "updated", "{answer}");
    assert!(answer.get("ignored_columns").is_none(), "{answer}");
    assert_eq!(
        s.table().await[0],
        json!({"id": 1, "name": "Ada", "qty": 3, "colour": "green"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_column_on_a_tab_with_other_columns_goes_after_them() {
    let mut s = start().await;
    // A person's own column D (header and values): not the table's.
    s.emu.set_rows(
        SPREADSHEET,
        TAB,
        vec![
            vec![json!("id"), json!("name"), json!("qty"), json!("remark")],
            vec![json!(1), json!("Ada"), json!(3), json!("mine")],
            vec![json!(2), json!("Bob"), json!(5)],
        ],
    );
    s.exec("ALTER TABLE items ADD COLUMN colour text; UPDATE items SET colour = 'c' || id")
        .await;
    s.sync().await;
    assert_eq!(
        s.tab(),
        vec![
            vec![
                json!("id"),
                json!("name"),
                json!("qty"),
                json!("remark"),
                json!("colour")
            ],
            vec![
                json!(1.0),
                json!("Ada"),
                json!(3.0),
                json!("mine"),
                json!("c1")
            ],
            vec![
                json!(2.0),
                json!("Bob"),
                json!(5.0),
                Json::Null,
                json!("c2")
            ],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_column_marks_the_header_and_nothing_is_written_there_again() {
    let mut s = start().await;
    // The webhook reads (and caches) the binding while qty exists.
    let answer = s
        .edit(
            &["id", "name", "qty"],
            vec![(2, json!([1, "Ada", 4]), vec!["qty"])],
        )
        .await;
    assert_eq!(answer["rows"][0]["status"], "updated", "{answer}");
    s.sync().await;

    s.exec("ALTER TABLE items DROP COLUMN qty; UPDATE items SET name = 'Bo' WHERE id = 2")
        .await;
    let requests = s.sync().await;
    assert!(requests <= 2, "{requests} Sheets requests");
    // The stale column keeps its values, its header says why.
    assert_eq!(
        s.tab(),
        vec![
            vec![json!("id"), json!("name"), json!("qty")],
            vec![json!(1.0), json!("Ada"), json!(3.0)],
            vec![json!(2.0), json!("Bo"), json!(5.0)],
        ]
    );
    assert_eq!(
        s.note(0, 2).as_deref(),
        Some("sheetsync: not a column of public.items; not synced")
    );
    assert_eq!(s.note(0, 1), None);
    assert_eq!(
        s.changes().await,
        vec![("dropped".into(), "qty".into(), None)]
    );

    // The webhook's cached binding still had qty: the request neither fails
    // nor writes it; the name edit in the same row applies.
    let answer = s
        .edit(
            &["id", "name", "qty"],
            vec![(3, json!([2, "Bob", 9]), vec!["name", "qty"])],
        )
        .await;
    assert_eq!(answer["rows"][0]["status"], "updated", "{answer}");
    assert_eq!(answer["ignored_columns"], json!(["qty"]), "{answer}");
    assert_eq!(
        s.table().await,
        vec![
            json!({"id": 1, "name": "Ada"}),
            json!({"id": 2, "name": "Bob"})
        ]
    );
    let headers = sheet_header_issues(&s.sql, Some(BINDING)).await.unwrap();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].ignored, vec!["qty".to_string()]);
    assert!(headers[0].missing.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_column_renames_the_header_cell_in_place() {
    let mut s = start().await;
    s.edit(&["id", "name", "qty"], vec![]).await;
    // The rename and a write under the new name in one transaction: the
    // statement trigger queues the header change before the row change.
    s.exec(
        "BEGIN; ALTER TABLE items RENAME COLUMN qty TO quantity;
         UPDATE items SET quantity = 7 WHERE id = 1; COMMIT",
    )
    .await;
    let requests = s.sync().await;
    assert!(requests <= 2, "{requests} Sheets requests");
    assert_eq!(
        s.tab(),
        vec![
            vec![json!("id"), json!("name"), json!("quantity")],
            vec![json!(1.0), json!("Ada"), json!(7.0)],
            vec![json!(2.0), json!("Bob"), json!(5.0)],
        ]
    );
    assert_eq!(
        s.changes().await,
        vec![("renamed".into(), "quantity".into(), Some("qty".into()))]
    );
    // The row state followed the name (per-cell freshness keeps working).
    let seq: Option<i64> = s
        .sql
        .query_one(
            "SELECT (cell_seq ->> 'quantity')::bigint FROM sheetsync.row_state WHERE key = '[1]'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(seq.is_some());

    // An edit under the new header name reaches the renamed column.
    let answer = s
        .edit(
            &["id", "name", "quantity"],
            vec![(3, json!([2, "Bob", 6]), vec!["quantity"])],
        )
        .await;
    assert_eq!(answer["rows"][0]["status"], "updated", "{answer}");
    assert_eq!(
        s.table().await[1],
        json!({"id": 2, "name": "Bob", "quantity": 6})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_column_type_resends_the_column_converted() {
    let mut s = start().await;
    s.exec("ALTER TABLE items ALTER COLUMN qty TYPE text USING (qty * 10)::text || ' pcs'")
        .await;
    let requests = s.sync().await;
    assert_eq!(requests, 2, "one read and one batchUpdate");
    assert_eq!(
        s.tab(),
        vec![
            vec![json!("id"), json!("name"), json!("qty")],
            vec![json!(1.0), json!("Ada"), json!("30 pcs")],
            vec![json!(2.0), json!("Bob"), json!("50 pcs")],
        ]
    );
    assert_eq!(
        s.changes().await,
        vec![("retyped".into(), "qty".into(), Some("integer".into()))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sheet_side_renamed_moved_and_new_columns_write_nothing_into_the_wrong_column() {
    let mut s = start().await;
    // A person moves qty to the front, renames "name" to "Name" and adds a
    // column of their own.
    s.emu.set_rows(
        SPREADSHEET,
        TAB,
        vec![
            vec![json!("qty"), json!("id"), json!("Name"), json!("notes")],
            vec![json!(3), json!(1), json!("Ada"), json!("call her")],
            vec![json!(5), json!(2), json!("Bob")],
        ],
    );
    let header = ["qty", "id", "Name", "notes"];
    let answer = s
        .edit(
            &header,
            vec![(
                2,
                json!([4, 1, "Ada L.", "call her"]),
                vec!["qty", "Name", "notes"],
            )],
        )
        .await;
    assert_eq!(answer["rows"][0]["status"], "updated", "{answer}");
    assert_eq!(
        answer["ignored_columns"],
        json!(["Name", "notes"]),
        "{answer}"
    );
    assert_eq!(answer["missing_columns"], json!(["name"]), "{answer}");
    // qty went to qty by name; the renamed header's edit went nowhere.
    assert_eq!(
        s.table().await,
        vec![
            json!({"id": 1, "name": "Ada", "qty": 4}),
            json!({"id": 2, "name": "Bob", "qty": 5})
        ]
    );
    let headers = sheet_header_issues(&s.sql, Some(BINDING)).await.unwrap();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].ignored, vec!["Name".to_string(), "notes".into()]);
    assert_eq!(headers[0].missing, vec!["name".to_string()]);

    // The table's changes find qty where it moved, and nothing of "name"
    // reaches the sheet: not "Name", not "notes", not a new column.
    s.exec("UPDATE items SET qty = 8, name = 'Robert' WHERE id = 2")
        .await;
    s.sync().await;
    assert_eq!(
        s.tab(),
        vec![
            vec![json!("qty"), json!("id"), json!("Name"), json!("notes")],
            vec![json!(3.0), json!(1.0), json!("Ada"), json!("call her")],
            vec![json!(8.0), json!(2.0), json!("Bob")],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_key_column_stays_the_key_under_its_new_name() {
    let mut s = start().await;
    s.edit(&["id", "name", "qty"], vec![]).await;
    // No statement on the table after the rename: the webhook's next read
    // of the binding runs the schema check itself.
    s.exec("ALTER TABLE items RENAME COLUMN id TO item_id")
        .await;
    let answer = s
        .edit(
            &["item_id", "name", "qty"],
            vec![(3, json!([2, "Bob", 6]), vec!["qty"])],
        )
        .await;
    assert_eq!(answer["rows"][0]["status"], "updated", "{answer}");
    assert_eq!(answer["rows"][0]["key"], json!({"item_id": 2}), "{answer}");
    assert_eq!(
        s.table().await[1],
        json!({"item_id": 2, "name": "Bob", "qty": 6})
    );
    // The header cell follows (the test's edit is not typed into the tab).
    s.sync().await;
    assert_eq!(
        s.tab(),
        vec![
            vec![json!("item_id"), json!("name"), json!("qty")],
            vec![json!(1.0), json!("Ada"), json!(3.0)],
            vec![json!(2.0), json!("Bob"), json!(5.0)],
        ]
    );
    // Changes from the table find their rows by the renamed key.
    s.exec("UPDATE items SET name = 'Ann' WHERE item_id = 1")
        .await;
    s.sync().await;
    assert_eq!(s.tab()[1], vec![json!(1.0), json!("Ann"), json!(3.0)]);
    assert_eq!(
        s.changes().await,
        vec![("renamed".into(), "item_id".into(), Some("id".into()))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_an_added_column_before_its_fill_lands_is_a_recorded_conflict() {
    let mut s = start().await;
    // Row 2 as a row untouched since attach: no row state.
    s.exec("DELETE FROM sheetsync.row_state WHERE key = '[2]'")
        .await;
    s.exec(&format!(
        "ALTER TABLE items ADD COLUMN colour text DEFAULT 'red';
         SELECT sheetsync.check_schema('{BINDING}')"
    ))
    .await;
    // A person types into the new column before the writer filled it: the
    // table's 'red' was never shown, so replacing it is recorded.
    let answer = s
        .edit(
            &["id", "name", "qty", "colour"],
            vec![(3, json!([2, "Bob", 5, "blue"]), vec!["colour"])],
        )
        .await;
    assert_eq!(answer["rows"][0]["status"], "conflict", "{answer}");
    let recorded: Vec<String> = s
        .sql
        .query(
            "SELECT key::text || ' ' || column_name FROM sheetsync.conflicts",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(recorded, vec!["[2] colour".to_string()]);
}
