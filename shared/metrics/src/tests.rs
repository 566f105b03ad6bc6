use super::*;

const TS: u64 = 1_764_000_000_123;

#[test]
fn one_count_without_binding() {
    let mut m = Metrics::with_namespace("sheetsync", "outbox-relay");
    m.count(names::MESSAGES_SENT, 4);
    assert_eq!(
        m.to_lines(TS),
        vec![concat!(
            r#"{"_aws":{"Timestamp":1764000000123,"CloudWatchMetrics":[{"Namespace":"sheetsync","#,
            r#""Dimensions":[["function"]],"Metrics":[{"Name":"MessagesSent","Unit":"Count"}]}]},"#,
            r#""function":"outbox-relay","MessagesSent":4}"#
        )]
    );
}

#[test]
fn binding_adds_a_dimension_set_and_values_accumulate() {
    let mut m = Metrics::with_namespace("sheetsync/prod", "sheet-writer");
    m.set_binding("orders")
        .count(names::ROWS_APPLIED, 3)
        .count(names::SHEETS_REQUESTS, 2)
        .millis(names::COMMIT_TO_SHEET_LAG_MS, 840.0)
        .millis(names::COMMIT_TO_SHEET_LAG_MS, 1250.5)
        .property("request_id", "7b1c");
    assert_eq!(
        m.to_lines(TS),
        vec![concat!(
            r#"{"_aws":{"Timestamp":1764000000123,"CloudWatchMetrics":[{"Namespace":"sheetsync/prod","#,
            r#""Dimensions":[["function"],["function","binding"]],"Metrics":["#,
            r#"{"Name":"RowsApplied","Unit":"Count"},{"Name":"SheetsRequests","Unit":"Count"},"#,
            r#"{"Name":"CommitToSheetLagMs","Unit":"Milliseconds"}]}]},"#,
            r#""function":"sheet-writer","binding":"orders","RowsApplied":3,"SheetsRequests":2,"#,
            r#""CommitToSheetLagMs":[840,1250.5],"request_id":"7b1c"}"#
        )]
    );
}

#[test]
fn nothing_recorded_means_no_line() {
    let mut m = Metrics::with_namespace("sheetsync", "sheet-webhook");
    m.set_binding("orders").property("request_id", "x");
    assert!(m.is_empty());
    assert_eq!(m.to_lines(TS), Vec::<String>::new());
}

#[test]
fn non_finite_values_are_dropped() {
    let mut m = Metrics::with_namespace("sheetsync", "sheet-writer");
    m.millis(names::COMMIT_TO_SHEET_LAG_MS, f64::NAN)
        .millis(names::COMMIT_TO_SHEET_LAG_MS, f64::INFINITY);
    assert!(m.is_empty());
    m.millis(names::COMMIT_TO_SHEET_LAG_MS, 12.0)
        .millis(names::COMMIT_TO_SHEET_LAG_MS, f64::NEG_INFINITY);
    let line = &m.to_lines(TS)[0];
    assert!(
        line.ends_with(r#""function":"sheet-writer","CommitToSheetLagMs":12}"#),
        "{line}"
    );
}

#[test]
fn first_unit_holds_for_a_name() {
    let mut m = Metrics::with_namespace("sheetsync", "sheet-writer");
    m.put("Latency", 1.0, Unit::Milliseconds)
        .put("Latency", 2.0, Unit::Seconds);
    let line = &m.to_lines(TS)[0];
    assert!(
        line.contains(r#""Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]"#),
        "{line}"
    );
    assert!(line.ends_with(r#""Latency":[1,2]}"#), "{line}");
}

#[test]
fn reserved_and_metric_named_properties_are_not_written() {
    let mut m = Metrics::with_namespace("sheetsync", "sheet-webhook");
    m.set_binding("orders")
        .count(names::REJECTS, 1)
        .property("function", "evil")
        .property("binding", "evil")
        .property("_aws", "evil")
        .property("Rejects", 99)
        .property("event_id", "e1")
        .property("event_id", "e2");
    let line = &m.to_lines(TS)[0];
    assert!(
        line.ends_with(
            r#""function":"sheet-webhook","binding":"orders","Rejects":1,"event_id":"e2"}"#
        ),
        "{line}"
    );
}

#[test]
fn more_than_100_values_split_into_lines() {
    let mut m = Metrics::with_namespace("sheetsync", "sheet-writer");
    m.count(names::ROWS_APPLIED, 250);
    for i in 0..250 {
        m.millis(names::COMMIT_TO_SHEET_LAG_MS, i as f64);
    }
    let lines = m.to_lines(TS);
    assert_eq!(lines.len(), 3);
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lag_counts: Vec<usize> = parsed
        .iter()
        .map(|v| v["CommitToSheetLagMs"].as_array().unwrap().len())
        .collect();
    assert_eq!(lag_counts, vec![100, 100, 50]);
    // The count is reported once, in the first line only.
    assert_eq!(parsed[0]["RowsApplied"], 250);
    assert!(parsed[1].get("RowsApplied").is_none());
    assert_eq!(
        parsed[1]["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        serde_json::json!([{"Name": "CommitToSheetLagMs", "Unit": "Milliseconds"}])
    );
    assert_eq!(parsed[2]["CommitToSheetLagMs"][49], 249);
}

#[test]
fn more_than_100_names_split_into_lines() {
    let mut m = Metrics::with_namespace("sheetsync", "sheet-writer");
    for i in 0..101 {
        m.count(&format!("M{i}"), i);
    }
    let lines = m.to_lines(TS);
    assert_eq!(lines.len(), 2);
    let second: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        second["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        serde_json::json!([{"Name": "M100", "Unit": "Count"}])
    );
    assert_eq!(second["M100"], 100);
}

#[test]
fn emit_writes_lines_and_starts_over() {
    let mut m = Metrics::with_namespace("sheetsync", "outbox-relay");
    m.set_binding("orders")
        .count(names::BATCH_SIZE, 7)
        .property("request_id", "r1");
    let mut out = Vec::new();
    m.emit_to(&mut out, TS).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        concat!(
            r#"{"_aws":{"Timestamp":1764000000123,"CloudWatchMetrics":[{"Namespace":"sheetsync","#,
            r#""Dimensions":[["function"],["function","binding"]],"Metrics":[{"Name":"BatchSize","Unit":"Count"}]}]},"#,
            r#""function":"outbox-relay","binding":"orders","BatchSize":7,"request_id":"r1"}"#,
            "\n"
        )
    );
    assert!(m.is_empty());
    m.count(names::BATCH_SIZE, 1);
    let line = &m.to_lines(TS)[0];
    assert!(
        line.ends_with(r#""binding":"orders","BatchSize":1}"#),
        "{line}"
    );
}

#[test]
fn large_and_fractional_numbers_keep_their_value() {
    let mut m = Metrics::with_namespace("sheetsync", "sheet-writer");
    m.put("Big", 1e20, Unit::None)
        .put("Neg", -3.0, Unit::None)
        .put("Frac", 0.25, Unit::Percent);
    let line = &m.to_lines(TS)[0];
    assert!(
        line.ends_with(r#""Big":1e+20,"Neg":-3,"Frac":0.25}"#),
        "{line}"
    );
}

#[test]
fn namespace_from_environment_or_default() {
    // The only test touching this variable, so no other test races it.
    // SAFETY: no other thread of this test binary reads or writes it.
    unsafe { std::env::remove_var(NAMESPACE_ENV) };
    assert_eq!(Metrics::new("sheet-writer").namespace, "sheetsync");
    unsafe { std::env::set_var(NAMESPACE_ENV, "sheetsync/staging") };
    assert_eq!(Metrics::new("sheet-writer").namespace, "sheetsync/staging");
    unsafe { std::env::set_var(NAMESPACE_ENV, "") };
    assert_eq!(Metrics::new("sheet-writer").namespace, "sheetsync");
    unsafe { std::env::remove_var(NAMESPACE_ENV) };
}
