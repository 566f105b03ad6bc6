//! Every type, both directions: sheet → value → PostgreSQL text / JSON /
//! sheet cell, `to_jsonb` rendering → value, NULL ⇄ empty, bad values.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value as Json, json};

use super::*;
use crate::model::{Column, PgType, SheetCell, Value};

fn col(name: &str, pg_type: PgType) -> Column {
    Column::new(name, pg_type)
}

fn sheet(cell: Json, pg_type: PgType) -> Result<Value, String> {
    from_sheet(&cell, &col("c", pg_type)).map_err(|e| e.to_string())
}

fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_micro_opt(h, mi, s, us)
        .unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn empty_and_null_cells_are_null_for_every_type() {
    for pg_type in PgType::ALL {
        assert_eq!(sheet(json!(""), pg_type), Ok(Value::Null), "{pg_type:?}");
        assert_eq!(sheet(json!(null), pg_type), Ok(Value::Null), "{pg_type:?}");
        assert_eq!(
            from_pg_json("null", pg_type),
            Ok(Value::Null),
            "{pg_type:?}"
        );
        assert_eq!(Value::Null.to_pg_text(), None);
        assert_eq!(Value::Null.to_sheet_cell(), SheetCell::Empty);
        assert_eq!(Value::Null.to_json(), Json::Null);
    }
    // Blanks are no value in a typed column, but are text in a text column.
    assert_eq!(sheet(json!("  "), PgType::Int4), Ok(Value::Null));
    assert_eq!(
        sheet(json!("  "), PgType::Text),
        Ok(Value::Text("  ".into()))
    );
}

#[test]
fn integers() {
    assert_eq!(sheet(json!(3), PgType::Int4), Ok(Value::Int(3)));
    assert_eq!(sheet(json!(3.0), PgType::Int4), Ok(Value::Int(3)));
    assert_eq!(sheet(json!(" 42 "), PgType::Int8), Ok(Value::Int(42)));
    assert_eq!(sheet(json!("-7"), PgType::Int2), Ok(Value::Int(-7)));
    assert_eq!(sheet(json!("1e3"), PgType::Int4), Ok(Value::Int(1000)));
    assert_eq!(
        sheet(json!("9223372036854775807"), PgType::Int8),
        Ok(Value::Int(i64::MAX))
    );
    assert_eq!(Value::Int(-7).to_pg_text().as_deref(), Some("-7"));
    assert_eq!(Value::Int(3).to_json(), json!(3));
    assert_eq!(Value::Int(3).to_sheet_cell(), SheetCell::Number(3.0));
    assert_eq!(
        Value::Int(9_007_199_254_740_993).to_sheet_cell(),
        SheetCell::Text("9007199254740993".into())
    );
    assert_eq!(
        sheet(json!("9007199254740993"), PgType::Int8),
        Ok(Value::Int(9_007_199_254_740_993))
    );
    assert_eq!(from_pg_json("42", PgType::Int8), Ok(Value::Int(42)));
}

#[test]
fn bad_integers_say_why() {
    let qty = col("qty", PgType::Int4);
    let err = from_sheet(&json!("abc"), &qty).unwrap_err();
    assert_eq!(err.to_string(), "qty: 'abc' is not a whole number");
    assert_eq!(err.column(), "qty");
    assert_eq!(err.reason(), &Reason::NotWholeNumber("abc".into()));
    assert_eq!(err.reason().to_string(), "'abc' is not a whole number");
    let cases = [
        (json!(3.5), PgType::Int4, "c: '3.5' is not a whole number"),
        (json!("3.5"), PgType::Int4, "c: '3.5' is not a whole number"),
        (json!(true), PgType::Int4, "c: 'TRUE' is not a whole number"),
        (json!("NaN"), PgType::Int4, "c: 'NaN' is not a whole number"),
        (
            json!(40000),
            PgType::Int2,
            "c: '40000' is out of range (-32768 to 32767)",
        ),
        (
            json!("3000000000"),
            PgType::Int4,
            "c: '3000000000' is out of range (-2147483648 to 2147483647)",
        ),
        (
            json!(1e19),
            PgType::Int8,
            "c: '10000000000000000000' is out of range (-9223372036854775808 to 9223372036854775807)",
        ),
        (
            json!("9223372036854775808"),
            PgType::Int8,
            "c: '9223372036854775808' is out of range (-9223372036854775808 to 9223372036854775807)",
        ),
    ];
    for (cell, pg_type, message) in cases {
        assert_eq!(
            sheet(cell.clone(), pg_type),
            Err(message.to_owned()),
            "{cell}"
        );
    }
}

#[test]
fn booleans() {
    for (cell, expected) in [
        (json!(true), true),
        (json!(false), false),
        (json!("TRUE"), true),
        (json!("false"), false),
        (json!("True"), true),
        // What checkboxes with custom values write.
        (json!("yes"), true),
        (json!("No"), false),
        (json!(1), true),
        (json!(0), false),
        (json!("0"), false),
    ] {
        assert_eq!(sheet(cell, PgType::Bool), Ok(Value::Bool(expected)));
    }
    assert_eq!(
        sheet(json!("maybe"), PgType::Bool),
        Err("c: 'maybe' is not TRUE or FALSE".into())
    );
    assert_eq!(
        sheet(json!(2), PgType::Bool),
        Err("c: '2' is not TRUE or FALSE".into())
    );
    assert_eq!(Value::Bool(true).to_pg_text().as_deref(), Some("true"));
    assert_eq!(Value::Bool(false).to_json(), json!(false));
    assert_eq!(Value::Bool(true).to_sheet_cell(), SheetCell::Bool(true));
    assert_eq!(from_pg_json("true", PgType::Bool), Ok(Value::Bool(true)));
}

#[test]
fn floats() {
    assert_eq!(sheet(json!(0.1), PgType::Float8), Ok(Value::Float(0.1)));
    assert_eq!(sheet(json!("2.5"), PgType::Float4), Ok(Value::Float(2.5)));
    assert_eq!(
        sheet(json!("NaN"), PgType::Float8),
        Ok(Value::Float(f64::NAN))
    );
    assert_eq!(
        sheet(json!("1e39"), PgType::Float4),
        Err("c: '1e39' is not a number".into())
    );
    assert_eq!(
        sheet(json!("1,5"), PgType::Float8),
        Err("c: '1,5' is not a number".into())
    );
    assert_eq!(Value::Float(0.1).to_pg_text().as_deref(), Some("0.1"));
    assert_eq!(
        Value::Float(f64::INFINITY).to_pg_text().as_deref(),
        Some("Infinity")
    );
    assert_eq!(Value::Float(2.5).to_json(), json!(2.5));
    assert_eq!(Value::Float(f64::NAN).to_json(), json!("NaN"));
    assert_eq!(Value::Float(2.5).to_sheet_cell(), SheetCell::Number(2.5));
    assert_eq!(
        Value::Float(f64::NAN).to_sheet_cell(),
        SheetCell::Text("NaN".into())
    );
    assert_eq!(from_pg_json("0.1", PgType::Float4), Ok(Value::Float(0.1)));
    assert_eq!(
        from_pg_json("\"-Infinity\"", PgType::Float8),
        Ok(Value::Float(f64::NEG_INFINITY))
    );
}

#[test]
fn numerics_stay_exact() {
    let long = "12345678901234567890.123456789";
    assert_eq!(
        sheet(json!(long), PgType::Numeric),
        Ok(Value::Numeric(long.into()))
    );
    assert_eq!(
        sheet(json!(1.5), PgType::Numeric),
        Ok(Value::Numeric("1.5".into()))
    );
    assert_eq!(
        sheet(json!(3), PgType::Numeric),
        Ok(Value::Numeric("3".into()))
    );
    assert_eq!(
        sheet(json!("1.50"), PgType::Numeric),
        Ok(Value::Numeric("1.5".into()))
    );
    assert_eq!(
        sheet(json!("ten"), PgType::Numeric),
        Err("c: 'ten' is not a number".into())
    );
    assert_eq!(
        from_pg_json(long, PgType::Numeric),
        Ok(Value::Numeric(long.into()))
    );
    assert_eq!(
        from_pg_json("1.50", PgType::Numeric),
        Ok(Value::Numeric("1.5".into()))
    );
    assert_eq!(
        from_pg_json("\"NaN\"", PgType::Numeric),
        Ok(Value::Numeric("NaN".into()))
    );
    let value = Value::Numeric(long.into());
    assert_eq!(value.to_pg_text().as_deref(), Some(long));
    assert_eq!(value.to_json_text(), long);
    assert_eq!(Value::Numeric("1.5".into()).to_json(), json!(1.5));
    assert_eq!(
        Value::Numeric("1.5".into()).to_sheet_cell(),
        SheetCell::Number(1.5)
    );
    assert_eq!(
        Value::Numeric("NaN".into()).to_sheet_cell(),
        SheetCell::Text("NaN".into())
    );
}

#[test]
fn text_from_anything() {
    assert_eq!(
        sheet(json!("Ada"), PgType::Text),
        Ok(Value::Text("Ada".into()))
    );
    assert_eq!(
        sheet(json!(42.0), PgType::Text),
        Ok(Value::Text("42".into()))
    );
    assert_eq!(
        sheet(json!(3.25), PgType::Text),
        Ok(Value::Text("3.25".into()))
    );
    assert_eq!(
        sheet(json!(true), PgType::Text),
        Ok(Value::Text("TRUE".into()))
    );
    let value = Value::Text("Ada".into());
    assert_eq!(value.to_pg_text().as_deref(), Some("Ada"));
    assert_eq!(value.to_json(), json!("Ada"));
    assert_eq!(value.to_sheet_cell(), SheetCell::Text("Ada".into()));
    assert_eq!(from_pg_json("\"Ada\"", PgType::Text), Ok(value));
    assert_eq!(
        from_pg_json("[1,2]", PgType::Text),
        Ok(Value::Text("[1,2]".into()))
    );
}

#[test]
fn dates() {
    let due = Value::Date(day(2026, 12, 1));
    assert_eq!(sheet(json!("2026-12-01"), PgType::Date), Ok(due.clone()));
    assert_eq!(sheet(json!(46357), PgType::Date), Ok(due.clone()));
    assert_eq!(sheet(json!(46357.75), PgType::Date), Ok(due.clone()));
    assert_eq!(
        sheet(json!("2026-12-01T00:00:00.000Z"), PgType::Date),
        Ok(due.clone())
    );
    for bad in [
        json!("2026-12-01T13:00:00"),
        json!("01/12/2026"),
        json!(true),
    ] {
        let shown = crate::convert::shown(&bad);
        assert_eq!(
            sheet(bad, PgType::Date),
            Err(format!(
                "c: '{shown}' is not a date (write it as YYYY-MM-DD)"
            ))
        );
    }
    assert_eq!(due.to_pg_text().as_deref(), Some("2026-12-01"));
    assert_eq!(due.to_json(), json!("2026-12-01"));
    assert_eq!(due.to_sheet_cell(), SheetCell::Date(46357.0));
    assert_eq!(from_pg_json("\"2026-12-01\"", PgType::Date), Ok(due));
    assert_eq!(
        from_pg_json("\"infinity\"", PgType::Date)
            .unwrap_err()
            .to_string(),
        "'\"infinity\"' is not a date value"
    );
}

#[test]
fn timestamps_without_zone() {
    let at = Value::Timestamp(ts(2026, 11, 25, 14, 10, 3, 232_828));
    assert_eq!(
        sheet(json!("2026-11-25T14:10:03.232828"), PgType::Timestamp),
        Ok(at.clone())
    );
    assert_eq!(
        sheet(json!("2026-11-25 14:10:03.232828"), PgType::Timestamp),
        Ok(at.clone())
    );
    // An offset is dropped, as PostgreSQL's cast to timestamp does.
    assert_eq!(
        sheet(json!("2026-11-25T14:10:03.232828+01:00"), PgType::Timestamp),
        Ok(at.clone())
    );
    let serial = crate::serial::from_datetime(ts(2026, 11, 25, 14, 10, 3, 232_828));
    assert_eq!(sheet(json!(serial), PgType::Timestamp), Ok(at.clone()));
    assert_eq!(
        sheet(json!("2026-11-25"), PgType::Timestamp),
        Ok(Value::Timestamp(ts(2026, 11, 25, 0, 0, 0, 0)))
    );
    assert_eq!(
        sheet(json!("noon"), PgType::Timestamp),
        Err("c: 'noon' is not a date and time (write it as YYYY-MM-DD HH:MM:SS)".into())
    );
    assert_eq!(
        at.to_pg_text().as_deref(),
        Some("2026-11-25T14:10:03.232828")
    );
    assert_eq!(at.to_json(), json!("2026-11-25T14:10:03.232828"));
    assert_eq!(at.to_sheet_cell(), SheetCell::DateTime(serial));
    assert_eq!(
        from_pg_json("\"2026-11-25T14:10:03.232828\"", PgType::Timestamp),
        Ok(at)
    );
}

#[test]
fn timestamps_with_zone() {
    let at = Value::TimestampTz(ts(2026, 11, 25, 14, 10, 3, 232_828).and_utc());
    assert_eq!(
        sheet(json!("2026-11-25T14:10:03.232828Z"), PgType::Timestamptz),
        Ok(at.clone())
    );
    assert_eq!(
        sheet(
            json!("2026-11-25T15:10:03.232828+01:00"),
            PgType::Timestamptz
        ),
        Ok(at.clone())
    );
    // No offset: UTC, the zone the writer shows timestamptz in.
    assert_eq!(
        sheet(json!("2026-11-25 14:10:03.232828"), PgType::Timestamptz),
        Ok(at.clone())
    );
    let serial = crate::serial::from_datetime(ts(2026, 11, 25, 14, 10, 3, 232_828));
    assert_eq!(sheet(json!(serial), PgType::Timestamptz), Ok(at.clone()));
    assert_eq!(
        at.to_pg_text().as_deref(),
        Some("2026-11-25T14:10:03.232828+00:00")
    );
    assert_eq!(at.to_json(), json!("2026-11-25T14:10:03.232828+00:00"));
    assert_eq!(at.to_sheet_cell(), SheetCell::DateTime(serial));
    assert_eq!(
        from_pg_json("\"2026-11-25T14:10:03.232828+00:00\"", PgType::Timestamptz),
        Ok(at.clone())
    );
    assert_eq!(
        from_pg_json("\"2026-11-25T16:10:03.232828+02:00\"", PgType::Timestamptz),
        Ok(at)
    );
}

#[test]
fn uuids() {
    let text = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    let id = Value::Uuid(uuid::Uuid::parse_str(text).unwrap());
    assert_eq!(
        sheet(json!(text.to_uppercase()), PgType::Uuid),
        Ok(id.clone())
    );
    assert_eq!(
        sheet(json!("a0eebc99"), PgType::Uuid),
        Err("c: 'a0eebc99' is not a UUID".into())
    );
    assert_eq!(
        sheet(json!(7), PgType::Uuid),
        Err("c: '7' is not a UUID".into())
    );
    assert_eq!(id.to_pg_text().as_deref(), Some(text));
    assert_eq!(id.to_json(), json!(text));
    assert_eq!(id.to_sheet_cell(), SheetCell::Text(text.into()));
    assert_eq!(from_pg_json(&format!("\"{text}\""), PgType::Uuid), Ok(id));
}

#[test]
fn json_values() {
    assert_eq!(
        sheet(json!(r#"{"a": [1, 2]}"#), PgType::Jsonb),
        Ok(Value::Json(json!({"a": [1, 2]})))
    );
    assert_eq!(
        sheet(json!("plain words"), PgType::Json),
        Ok(Value::Json(json!("plain words")))
    );
    assert_eq!(sheet(json!(5), PgType::Jsonb), Ok(Value::Json(json!(5))));
    let object = Value::Json(json!({"a": [1, 2]}));
    assert_eq!(object.to_pg_text().as_deref(), Some(r#"{"a":[1,2]}"#));
    assert_eq!(object.to_json(), json!({"a": [1, 2]}));
    assert_eq!(
        object.to_sheet_cell(),
        SheetCell::Text(r#"{"a":[1,2]}"#.into())
    );
    assert_eq!(from_pg_json(r#"{"a": [1, 2]}"#, PgType::Jsonb), Ok(object));
    // A JSON string that reads as a number keeps its quotes in the sheet.
    let quoted = Value::Json(json!("42"));
    assert_eq!(quoted.to_sheet_cell(), SheetCell::Text("\"42\"".into()));
    assert_eq!(sheet(json!("\"42\""), PgType::Jsonb), Ok(quoted));
}

#[test]
fn every_value_survives_the_sheet_round_trip() {
    let values = [
        (Value::Bool(true), PgType::Bool),
        (Value::Int(-32768), PgType::Int2),
        (Value::Int(i64::MIN), PgType::Int8),
        (Value::Float(-0.25), PgType::Float8),
        (Value::Numeric("-1234.5678".into()), PgType::Numeric),
        (Value::Text("x\ny".into()), PgType::Text),
        (Value::Date(day(1899, 12, 1)), PgType::Date),
        (
            Value::Timestamp(ts(2026, 2, 28, 23, 59, 59, 999_999)),
            PgType::Timestamp,
        ),
        (
            Value::TimestampTz(ts(1970, 1, 1, 0, 0, 0, 1).and_utc()),
            PgType::Timestamptz,
        ),
        (Value::Json(json!([1, "two"])), PgType::Json),
        (Value::Json(json!("text")), PgType::Jsonb),
    ];
    for (value, pg_type) in values {
        let cell = value.to_sheet_cell().to_json();
        assert_eq!(sheet(cell, pg_type), Ok(value.clone()), "{value:?}");
        let raw = value.to_json_text();
        assert_eq!(from_pg_json(&raw, pg_type), Ok(value.clone()), "{raw}");
    }
}

#[test]
fn a_row_from_to_jsonb() {
    let columns = [
        col("id", PgType::Int8),
        col("price", PgType::Numeric),
        col("due", PgType::Date),
    ];
    let row =
        row_from_pg_json(r#"{"id": 42, "price": 12345678901234567890.10}"#, &columns).unwrap();
    assert_eq!(
        row,
        vec![
            Some(Value::Int(42)),
            Some(Value::Numeric("12345678901234567890.1".into())),
            None
        ]
    );
    let err = row_from_pg_json(r#"{"id": "x"}"#, &columns).unwrap_err();
    assert_eq!(err.to_string(), "id: '\"x\"' is not a bigint value");
}

#[test]
fn text_beyond_a_cell_is_cut_and_matches_its_cut() {
    let long = Value::Text("é".repeat(MAX_CELL_CHARS + 1));
    let SheetCell::Text(cut) = long.to_sheet_cell() else {
        panic!("text is text");
    };
    assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
    assert!(cut.ends_with("é…"));
    let back = sheet(json!(cut), PgType::Text).unwrap();
    assert!(sheet_matches(&back, &long));
    // A person's edit of the cut text is an edit.
    let edited = Value::Text(format!("{cut}!"));
    assert!(!sheet_matches(&edited, &long));
    // Text that fits is written whole.
    let fits = Value::Text("é".repeat(MAX_CELL_CHARS));
    assert_eq!(
        fits.to_sheet_cell(),
        SheetCell::Text("é".repeat(MAX_CELL_CHARS))
    );
    let doc = Value::Json(json!({"text": "x".repeat(MAX_CELL_CHARS)}));
    let SheetCell::Text(cut) = doc.to_sheet_cell() else {
        panic!("JSON is text");
    };
    assert!(sheet_matches(
        &sheet(json!(cut), PgType::Jsonb).unwrap(),
        &doc
    ));
}

#[test]
fn the_sheet_shows_what_it_can_of_a_database_value() {
    let long = Value::Numeric("12345678901234567.89".into());
    // Written as text, which reads back exactly.
    assert_eq!(
        long.to_sheet_cell(),
        SheetCell::Text("12345678901234567.89".into())
    );
    assert_eq!(
        sheet(long.to_sheet_cell().to_json(), PgType::Numeric),
        Ok(long.clone())
    );
    // A number an earlier writer wrote holds what an f64 can.
    let as_sheet = sheet(json!(12345678901234567.89), PgType::Numeric).unwrap();
    assert_ne!(as_sheet, long);
    assert!(sheet_matches(&as_sheet, &long));
    assert!(!sheet_matches(
        &Value::Numeric("12345678901234567.88".into()),
        &long
    ));
    let db = Value::Timestamp(ts(2026, 11, 25, 14, 10, 3, 232_828));
    assert!(sheet_matches(
        &Value::Timestamp(ts(2026, 11, 25, 14, 10, 3, 232_000)),
        &db
    ));
    assert!(sheet_matches(
        &Value::Timestamp(ts(2026, 11, 25, 14, 10, 3, 233_000)),
        &db
    ));
    assert!(!sheet_matches(
        &Value::Timestamp(ts(2026, 11, 25, 14, 10, 3, 231_000)),
        &db
    ));
    assert!(!sheet_matches(
        &Value::Timestamp(ts(2026, 11, 25, 14, 10, 3, 232_500)),
        &db
    ));
    assert!(sheet_matches(&Value::Null, &Value::Null));
    assert!(!sheet_matches(&Value::Null, &Value::Int(0)));
}

mod round_trips {
    use super::*;
    use proptest::prelude::*;

    fn value_of_type() -> impl Strategy<Value = (Value, PgType)> {
        // Serials hold microseconds exactly until 2079-06-06 (serial 2^16).
        let micros_1900_2078 = -2_208_988_800_000_000i64..3_439_756_800_000_000i64;
        prop_oneof![
            any::<bool>().prop_map(|b| (Value::Bool(b), PgType::Bool)),
            any::<i16>().prop_map(|i| (Value::Int(i64::from(i)), PgType::Int2)),
            any::<i32>().prop_map(|i| (Value::Int(i64::from(i)), PgType::Int4)),
            any::<i64>().prop_map(|i| (Value::Int(i), PgType::Int8)),
            any::<f64>().prop_map(|f| (Value::Float(f), PgType::Float8)),
            any::<f32>().prop_map(|f| (Value::Float(f64::from(f)), PgType::Float4)),
            ("-?[0-9]{1,25}(\\.[0-9]{1,12})?", any::<bool>()).prop_map(|(n, special)| {
                let text = if special { "NaN".to_owned() } else { n };
                (
                    Value::Numeric(decimal::normalize(&text).unwrap()),
                    PgType::Numeric,
                )
            }),
            ".{0,20}".prop_map(|s| (Value::Text(s), PgType::Text)),
            (-700_000i64..2_900_000).prop_map(|days| {
                let date =
                    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap() + chrono::Duration::days(days);
                (Value::Date(date), PgType::Date)
            }),
            micros_1900_2078.clone().prop_map(|us| {
                (
                    Value::Timestamp(DateTime::from_timestamp_micros(us).unwrap().naive_utc()),
                    PgType::Timestamp,
                )
            }),
            micros_1900_2078.prop_map(|us| {
                (
                    Value::TimestampTz(DateTime::from_timestamp_micros(us).unwrap()),
                    PgType::Timestamptz,
                )
            }),
            any::<u128>().prop_map(|u| (Value::Uuid(uuid::Uuid::from_u128(u)), PgType::Uuid)),
            prop_oneof![
                ".{0,10}".prop_map(Json::from),
                any::<i64>().prop_map(Json::from),
                any::<bool>().prop_map(Json::from),
                prop::collection::vec(any::<i32>(), 0..4).prop_map(Json::from),
            ]
            .prop_map(|j| (Value::Json(j), PgType::Jsonb)),
        ]
    }

    use chrono::DateTime;

    /// Dates and times from 1970 (before, some zones had offsets with
    /// seconds, which the script's `Z` format drops) to 2078.
    fn zoned_value() -> impl Strategy<Value = (Value, PgType)> {
        let micros = 0i64..3_439_756_800_000_000i64;
        prop_oneof![
            value_of_type(),
            micros.clone().prop_map(|us| {
                (
                    Value::Timestamp(DateTime::from_timestamp_micros(us).unwrap().naive_utc()),
                    PgType::Timestamp,
                )
            }),
            micros.prop_map(|us| {
                (
                    Value::TimestampTz(DateTime::from_timestamp_micros(us).unwrap()),
                    PgType::Timestamptz,
                )
            }),
        ]
        .prop_filter("from 1970", |(value, _)| match value {
            Value::Date(d) => d.year() >= 1970,
            Value::Timestamp(t) => t.year() >= 1970,
            Value::TimestampTz(t) => t.year() >= 1970,
            _ => true,
        })
    }

    fn zone() -> impl Strategy<Value = crate::SheetZone> {
        prop::sample::select(vec![
            "Etc/GMT",
            "Europe/Berlin",
            "America/Los_Angeles",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
        ])
        .prop_map(|name| name.parse().unwrap())
    }

    use chrono::Datelike;

    proptest! {
        /// Table value → the writer's cell in a spreadsheet of `zone` →
        /// what the script sends (`crate::script`, checked against the real
        /// script by tests/fixtures/roundtrip) → the webhook's conversion:
        /// the table's value at the sheet's precision.
        #[test]
        fn values_survive_the_sheet_in_any_zone((value, pg_type) in zoned_value(), zone in zone()) {
            let cell = value.to_sheet_cell_in(zone);
            let sent = crate::script::script_reading(&cell, zone);
            prop_assert!(sent.is_some(), "{:?} → {:?}", value, cell);
            let sent = sent.unwrap();
            let back = from_sheet_as(&sent, "c", pg_type);
            prop_assert!(back.is_ok(), "{:?} → {} → {:?}", value, sent, back);
            let back = back.unwrap();
            prop_assert!(
                crate::convert::sheet_matches_in(&back, &value, zone),
                "{} {:?} → {} → {:?}", zone, value, sent, back
            );
        }
    }

    proptest! {
        /// What the writer puts into a cell reads back as the same value,
        /// or one the sheet cannot tell apart from it; what PostgreSQL
        /// renders reads back exactly.
        #[test]
        fn values_survive_both_round_trips((value, pg_type) in value_of_type()) {
            let cell = value.to_sheet_cell().to_json();
            let back = from_sheet_as(&cell, "c", pg_type);
            prop_assert!(back.is_ok(), "{:?} → {} → {:?}", value, cell, back);
            let back = back.unwrap();
            prop_assert!(sheet_matches(&back, &value), "{:?} → {} → {:?}", value, cell, back);
            // Long numerics and empty strings are what the sheet cannot hold.
            let exact_in_sheet = !matches!(value, Value::Numeric(_))
                && value.to_sheet_cell() != SheetCell::Text(String::new());
            if exact_in_sheet {
                prop_assert_eq!(&back, &value);
            }
            let raw = value.to_json_text();
            prop_assert_eq!(from_pg_json(&raw, pg_type), Ok(value.clone()), "{}", raw);
        }
    }
}
