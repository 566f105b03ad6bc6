//! Round trip table → sheet → table for every type, in spreadsheets of
//! several time zones, without an edit: the writer's cell (the planner's
//! own `cell_for`), the Apps Script's reading of it
//! (`tests/fixtures/roundtrip/cases.json`, which the script's own tests
//! check against the real script under Node), and the webhook's conversion
//! and snapshot plan (`reconcile`) give back the table's value at the
//! sheet's precision, in every locale, and the plan writes nothing.
//!
//! `SHEETSYNC_BLESS=1` rewrites the fixture from the Rust model of the
//! script (`sheetsync_reconcile::script`); the Node tests then say whether the real
//! script agrees.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::{Value as Json, json};
use sheetsync_reconcile::convert::{
    SheetSettings, from_pg_json, from_sheet_as, from_sheet_in, sheet_matches_in,
};
use sheetsync_reconcile::diff::{
    DiffInput, SheetInput, SnapshotRow, TableImage, TableRow, Tombstones, diff,
};
use sheetsync_reconcile::model::SheetCell;
use sheetsync_reconcile::script::script_reading;
use sheetsync_reconcile::{Column, ConflictPolicy, Key, PgType, SheetLocale, SheetZone, Value};
use sheetsync_sheets::cells::cell_for;

/// Locales that write numbers and dates differently: what the writer wrote
/// reads the same in each (text a writer wrote is never read as a person's
/// `1.234,5`).
const LOCALES: [&str; 6] = ["en_US", "de_DE", "fr_FR", "de_CH", "en_IN", "ja_JP"];

const ZONES: [&str; 5] = [
    "Etc/GMT",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

/// Table values (as `to_jsonb` renders them) by SQL type. Date-times cover
/// microseconds, both DST changes of each zone tested (local times in a
/// gap, instants in the hour that happens twice, both occurrences), and
/// midnights.
fn table_values() -> Vec<(&'static str, PgType, Json)> {
    let mut out = Vec::new();
    let mut add = |sql: &'static str, pg: PgType, values: Vec<Json>| {
        out.extend(values.into_iter().map(|v| (sql, pg, v)));
    };
    add("boolean", PgType::Bool, vec![json!(true), json!(false)]);
    add("integer", PgType::Int4, vec![json!(42), json!(-2147483648)]);
    add(
        "bigint",
        PgType::Int8,
        vec![
            json!(9007199254740992_i64),
            json!(9007199254740993_i64),
            json!(i64::MIN),
        ],
    );
    add(
        "double precision",
        PgType::Float8,
        vec![json!(0.1), json!(1e300), json!(-2.5)],
    );
    add(
        "numeric",
        PgType::Numeric,
        vec![
            json!(1.5),
            json!(0.1),
            json!("12345678901234567890.123456789"),
            json!("NaN"),
        ],
    );
    add(
        "text",
        PgType::Text,
        vec![json!("Ada"), json!(""), json!(" two  spaces ")],
    );
    add(
        "date",
        PgType::Date,
        vec![
            json!("2026-01-01"),
            json!("2026-03-29"),
            json!("2026-10-04"),
            json!("2079-06-07"),
        ],
    );
    add(
        "timestamp without time zone",
        PgType::Timestamp,
        vec![
            json!("2026-01-01T00:01:07.123456"),
            json!("2026-07-01T12:00:00"),
            // In a gap: Berlin, Los Angeles, Lord Howe (half an hour).
            json!("2026-03-29T02:30:00"),
            json!("2026-03-08T02:30:00.25"),
            json!("2026-10-04T02:10:00"),
            // Twice: Berlin, Los Angeles, Lord Howe.
            json!("2026-10-25T02:30:00.000001"),
            json!("2026-11-01T01:30:00"),
            json!("2026-04-05T01:45:00"),
        ],
    );
    add(
        "timestamp with time zone",
        PgType::Timestamptz,
        vec![
            json!("2026-01-01T00:01:07.123456+00:00"),
            json!("2026-07-01T06:00:00+00:00"),
            json!("2026-01-01T00:00:00+00:00"),
            // Both 02:30 of Berlin's 2026-10-25.
            json!("2026-10-25T00:30:00.999999+00:00"),
            json!("2026-10-25T01:30:00+00:00"),
            // Both 01:30 of Los Angeles' 2026-11-01.
            json!("2026-11-01T08:30:00+00:00"),
            json!("2026-11-01T09:30:00.5+00:00"),
            // Both 01:45 of Lord Howe's 2026-04-05.
            json!("2026-04-04T14:45:00+00:00"),
            json!("2026-04-04T15:15:00+00:00"),
            // Just after each gap.
            json!("2026-03-29T01:00:00+00:00"),
            json!("2026-03-08T10:00:00+00:00"),
            json!("2026-10-03T15:30:00+00:00"),
        ],
    );
    // A type sheetsync carries as its text: text in the sheet, never a
    // time value a zone could move.
    add(
        "time without time zone",
        PgType::Text,
        vec![json!("09:30:00"), json!("23:59:59.999999")],
    );
    add(
        "uuid",
        PgType::Uuid,
        vec![json!("0b6f6b3e-6a3e-4a53-9a7e-4d1f5f2c2a10")],
    );
    add(
        "jsonb",
        PgType::Jsonb,
        vec![json!({"a": [1, 2]}), json!("[1]")],
    );
    out
}

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/roundtrip/cases.json")
}

/// The cell as Sheets stores it, from the writer's `CellData`.
fn sheet_cell(data: &Json) -> SheetCell {
    let value = &data["userEnteredValue"];
    let format = data["userEnteredFormat"]["numberFormat"]["type"].as_str();
    if let Some(n) = value["numberValue"].as_f64() {
        match format {
            Some("DATE") => SheetCell::Date(n),
            Some("DATE_TIME") => SheetCell::DateTime(n),
            _ => SheetCell::Number(n),
        }
    } else if let Some(s) = value["stringValue"].as_str() {
        SheetCell::Text(s.to_owned())
    } else if let Some(b) = value["boolValue"].as_bool() {
        SheetCell::Bool(b)
    } else {
        SheetCell::Empty
    }
}

fn cases() -> Json {
    let mut cases = Vec::new();
    for zone_name in ZONES {
        let zone: SheetZone = zone_name.parse().unwrap();
        for (sql, pg_type, db) in table_values() {
            let cell = serde_json::to_value(cell_for(&db, pg_type, zone).data).unwrap();
            let script = script_reading(&sheet_cell(&cell), zone).unwrap();
            cases.push(
                json!({"tz": zone_name, "type": sql, "db": db, "cell": cell, "script": script}),
            );
        }
    }
    json!({
        "about": "Table value (to_jsonb) -> the writer's cell (CellData, in the spreadsheet's time zone `tz`) -> what the Apps Script sends for it. Written by shared/sheets/tests/roundtrip.rs (SHEETSYNC_BLESS=1), checked by it and by apps-script/test/roundtrip.test.js.",
        "cases": cases,
    })
}

#[test]
fn the_fixture_is_what_the_writer_and_the_script_model_give() {
    let expected = cases();
    if std::env::var_os("SHEETSYNC_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&expected).unwrap() + "\n";
        std::fs::write(fixture_path(), text).unwrap();
    }
    let stored: Json =
        serde_json::from_str(&std::fs::read_to_string(fixture_path()).unwrap()).unwrap();
    let (stored, expected) = (
        stored["cases"].as_array().unwrap(),
        expected["cases"].as_array().unwrap(),
    );
    assert_eq!(stored.len(), expected.len());
    for (s, e) in stored.iter().zip(expected) {
        assert_eq!(s, e);
    }
}

/// Each case's reading, converted as the webhook converts it, is the table's
/// value at the sheet's precision; a snapshot of them all writes nothing.
#[test]
fn a_snapshot_without_edits_changes_nothing_in_any_zone() {
    let stored: Json =
        serde_json::from_str(&std::fs::read_to_string(fixture_path()).unwrap()).unwrap();
    // (zone, type) → rows of (table value, sheet value).
    let mut groups: BTreeMap<(String, String), Vec<(Value, Value)>> = BTreeMap::new();
    let types: BTreeMap<&str, PgType> = table_values()
        .into_iter()
        .map(|(sql, pg, _)| (sql, pg))
        .collect();
    for case in stored["cases"].as_array().unwrap() {
        let (tz, sql) = (case["tz"].as_str().unwrap(), case["type"].as_str().unwrap());
        let zone: SheetZone = tz.parse().unwrap();
        let pg_type = types[sql];
        let db = from_pg_json(&case["db"].to_string(), pg_type).unwrap();
        let sheet = from_sheet_as(&case["script"], "c", pg_type).unwrap();
        for tag in LOCALES {
            let settings = SheetSettings {
                zone,
                locale: SheetLocale::from_tag(tag),
            };
            let in_locale = from_sheet_in(&case["script"], "c", pg_type, settings).unwrap();
            assert_eq!(in_locale, sheet, "{tz} {tag} {sql}: {}", case["script"]);
        }
        assert!(
            sheet_matches_in(&sheet, &db, zone),
            "{tz} {sql}: {} → {} → {sheet:?} ≠ {db:?}",
            case["db"],
            case["script"]
        );
        groups
            .entry((tz.to_owned(), sql.to_owned()))
            .or_default()
            .push((db, sheet));
    }
    for ((tz, sql), rows) in groups {
        let zone: SheetZone = tz.parse().unwrap();
        let mut id = Column::new("id", PgType::Int8);
        id.key_position = Some(0);
        let columns = [id, Column::new("v", types[sql.as_str()])];
        let key = |i: usize| Key::from_json(&[json!(i)]);
        let table: TableImage = rows
            .iter()
            .enumerate()
            .map(|(i, (db, _))| {
                let row = TableRow {
                    values: vec![Value::Int(i as i64), db.clone()],
                    last_db_seq: Some(1),
                    sheet_held: true,
                    cell_changed_at: Vec::new(),
                    cell_seq: Vec::new(),
                    sheet_inserted_at: None,
                };
                (key(i), row)
            })
            .collect();
        let snapshot: Vec<SnapshotRow> = rows
            .iter()
            .enumerate()
            .map(|(i, (_, sheet))| SnapshotRow {
                key: Some(key(i)),
                values: vec![Value::Int(i as i64), sheet.clone()],
            })
            .collect();
        let plan = diff(&DiffInput {
            columns: &columns,
            sheet_columns: &[true, true],
            policy: ConflictPolicy::Latest,
            table: &table,
            tombstones: &Tombstones::default(),
            watermark: 1,
            edited_at: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
            unsettled: false,
            zone,
            sheet: SheetInput::Snapshot {
                rows: &snapshot,
                partial: false,
                rejected_keys: &[],
                rejected_keyless: false,
            },
        });
        assert!(plan.updates.is_empty(), "{tz} {sql}: {:?}", plan.updates);
        assert!(
            plan.inserts.is_empty() && plan.deletes.is_empty(),
            "{tz} {sql}"
        );
        assert!(plan.to_sheet.is_empty(), "{tz} {sql}: {:?}", plan.to_sheet);
    }
}
