//! A snapshot from a spreadsheet not in UTC, with no edit, over a table with
//! every column type sheetsync converts (and values the sheet cannot hold
//! exactly): the sheet shows what the writer writes there, the script reads
//! it as `sheetsync_reconcile::script` models (checked against the real script by the
//! shared round-trip fixture), and the webhook changes nothing.

mod common;

use common::{NOW, SECRET, SHEET, SPREADSHEET, max_seq, signed};
use serde_json::{Value as Json, json};
use sheetsync_config::{DbConfig, TableRef};
use sheetsync_reconcile::convert::row_from_pg_json;
use sheetsync_reconcile::script::script_reading;
use sheetsync_reconcile::{Column, ConflictPolicy, PgType, SheetZone};
use sheetsync_store::{AttachSpec, attach, migrate};
use sheetsync_testkit::TestDb;
use sheetsync_webhook::{Clock, Db, Secret, Webhook, WebhookConfig};

const COLUMNS: [(&str, PgType, &str); 13] = [
    ("id", PgType::Int8, "bigint PRIMARY KEY"),
    ("n", PgType::Int4, "integer"),
    ("f", PgType::Float8, "double precision"),
    ("amount", PgType::Numeric, "numeric"),
    ("note", PgType::Text, "text"),
    ("ok", PgType::Bool, "boolean"),
    ("due", PgType::Date, "date"),
    ("local", PgType::Timestamp, "timestamp"),
    ("at", PgType::Timestamptz, "timestamptz"),
    ("opens", PgType::Text, "time"),
    ("ref", PgType::Uuid, "uuid"),
    ("doc", PgType::Jsonb, "jsonb"),
    ("big", PgType::Int8, "bigint"),
];

async fn table_rows(client: &tokio_postgres::Client) -> Vec<String> {
    client
        .query(
            "SELECT to_jsonb(t)::text FROM everything t ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A fresh database with the `everything` table bound and filled; the
/// outbox's last sequence is the sheet's watermark.
async fn everything() -> (TestDb, tokio_postgres::Client, i64) {
    let db = TestDb::create().await;
    let client = db.client().await;
    migrate(&client).await.unwrap();
    let definition: Vec<String> = COLUMNS
        .iter()
        .map(|(name, _, sql)| format!("{name} {sql}"))
        .collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE everything ({}); SET TIME ZONE 'UTC';",
            definition.join(", ")
        ))
        .await
        .unwrap();
    attach(
        &client,
        &AttachSpec {
            name: Some("everything".into()),
            table: TableRef::parse("everything").unwrap(),
            spreadsheet_id: SPREADSHEET.into(),
            sheet: SHEET.into(),
            policy: ConflictPolicy::Latest,
        },
    )
    .await
    .unwrap();
    // Keys beyond 2^53, microseconds, a `timestamptz` in the hour Berlin's
    // clock is set back (its second 02:30) and a `timestamp` in the hour it
    // skips, a numeric beyond a double, text beyond a cell.
    client
        .batch_execute(&format!(
            "INSERT INTO everything VALUES
              (9007199254740993, 42, 0.1, 12345678901234567890.123456789, 'Ada', true,
               '2026-03-29', '2026-03-29 02:30:00.123456', '2026-10-25 01:30:00.654321+00',
               '23:59:59.999999', '0b6f6b3e-6a3e-4a53-9a7e-4d1f5f2c2a10', '{{\"a\": [1, 2]}}',
               -9223372036854775808),
              (2, -7, 1e300, 1.5, '{long}', false,
               '2026-10-25', '2026-10-25 02:30:00', '2026-01-01 00:01:07.123456+00',
               '09:30', NULL, '\"[1]\"', 9007199254740992),
              (3, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
            long = "x".repeat(60_000)
        ))
        .await
        .unwrap();
    let watermark = max_seq(&client).await;
    (db, client, watermark)
}

#[tokio::test]
async fn a_no_edit_snapshot_from_berlin_changes_no_row_of_any_type() {
    let (db, client, watermark) = everything().await;
    // What a spreadsheet in Berlin shows, read as the script reads it.
    let zone: SheetZone = "Europe/Berlin".parse().unwrap();
    let columns: Vec<Column> = COLUMNS
        .iter()
        .map(|(name, pg_type, _)| Column::new(*name, *pg_type))
        .collect();
    let before = table_rows(&client).await;
    let rows: Vec<Json> = before
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let values: Vec<Json> = row_from_pg_json(raw, &columns)
                .unwrap()
                .into_iter()
                .map(|v| script_reading(&v.unwrap().to_sheet_cell_in(zone), zone).unwrap())
                .collect();
            json!({"row": i + 2, "values": values})
        })
        .collect();
    let header: Vec<&str> = COLUMNS.iter().map(|(name, _, _)| *name).collect();
    let body = json!({
        "v": 1, "event_id": "no-edit", "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
        "kind": "snapshot", "edited_at": "2026-11-25T13:35:00Z", "watermark": watermark,
        "tz": "Europe/Berlin", "header": header, "rows": rows,
    });

    let answer = webhook(&db)
        .handle(signed("/sync_postgres", &body.to_string()))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body());
    let body = answer.body();
    let statuses: Vec<&Json> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["status"])
        .collect();
    assert_eq!(statuses, vec![&json!("unchanged"); 3], "{}", answer.body());
    assert_eq!(answer.body()["deleted"], json!(0));
    assert_eq!(table_rows(&client).await, before);
    let queued: i64 = client
        .query_one(
            "SELECT count(*) FROM sheetsync.outbox WHERE seq > $1",
            &[&watermark],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 0, "nothing is sent back to the sheet");
    let conflicts: i64 = client
        .query_one("SELECT count(*) FROM sheetsync.conflicts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(conflicts, 0);
}

fn webhook(db: &TestDb) -> Webhook {
    let config = WebhookConfig {
        clock: Clock::Fixed(NOW),
        ..WebhookConfig::new(Secret::new(SECRET))
    };
    Webhook::new(config, Db::new(DbConfig::from_url(db.url()).unwrap(), 2))
}

/// Text a person typed in a German spreadsheet (cells formatted as plain
/// text, where Sheets parses nothing) is read as they meant it; what cannot
/// be read is refused with the way to write it, and changes nothing.
#[tokio::test]
async fn text_typed_in_a_german_spreadsheet_reads_as_the_person_meant_it() {
    let (db, client, watermark) = everything().await;
    let header = ["id", "n", "f", "amount", "ok", "due", "local", "at"];
    let row =
        |row: usize, values: Json| json!({"row": row, "values": values, "edited": header[1..]});
    let body = json!({
        "v": 1, "event_id": "german", "spreadsheet_id": SPREADSHEET, "sheet": SHEET,
        "kind": "edit", "edited_at": "2027-01-01T00:00:00Z", "watermark": watermark,
        "tz": "Europe/Berlin", "locale": "de_DE", "header": header,
        "rows": [
            row(3, json!([2, "1.234", "12,5 %", "1.234,50 €", "WAHR", "3.12.2026",
                          "3.12.2026 14:30", "3.12.2026 14:30:05"])),
            row(4, json!([3, "-7", "(2,5)", "EUR 3", "falsch", "2026-12-24", "", ""])),
            row(5, json!([9007199254740993_i64, "1,5", "", "", "", "", "", ""])),
            row(6, json!([4, "", "", "", "", "3.12.26", "", ""])),
        ],
    });
    let answer = webhook(&db)
        .handle(signed("/sync_postgres", &body.to_string()))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body());
    let body = answer.body();
    let rows = body["rows"].as_array().unwrap();
    let statuses: Vec<&Json> = rows.iter().map(|r| &r["status"]).collect();
    assert_eq!(
        statuses,
        [
            json!("updated"),
            json!("updated"),
            json!("rejected"),
            json!("rejected")
        ]
        .iter()
        .collect::<Vec<_>>(),
        "{}",
        answer.body()
    );
    assert_eq!(rows[2]["reason"], json!("n: '1,5' is not a whole number"));
    assert_eq!(
        rows[3]["reason"],
        json!("due: '3.12.26' is not a date (write it as DD.MM.YYYY or YYYY-MM-DD)")
    );
    let typed: Vec<String> = client
        .query(
            "SELECT concat_ws(' | ', id, n, f, amount, ok, due, local,
                    to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))
             FROM everything ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        typed,
        [
            "2 | 1234 | 0.125 | 1234.5 | t | 2026-12-03 | 2026-12-03 14:30:00 | 2026-12-03 13:30:05",
            "3 | -7 | -2.5 | 3 | f | 2026-12-24",
            "9007199254740993 | 42 | 0.1 | 12345678901234567890.123456789 | t | 2026-03-29 | 2026-03-29 02:30:00.123456 | 2026-10-25 01:30:00",
        ]
    );
}
