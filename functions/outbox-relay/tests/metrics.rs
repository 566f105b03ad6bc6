//! The relay's EMF metrics: one line per binding drained.

use outbox_relay::metrics;
use sheetsync_outbox::invoke::{BindingSummary, Summary};

#[test]
fn one_line_per_binding() {
    let summary = Summary {
        rows_sent: 7,
        messages: 2,
        bindings: vec![
            BindingSummary {
                binding: "orders".into(),
                rows_sent: 7,
                messages: 2,
                outcome: "drained".into(),
                error: None,
            },
            BindingSummary {
                binding: "people".into(),
                rows_sent: 0,
                messages: 0,
                outcome: "writers_busy".into(),
                error: None,
            },
        ],
    };
    let ns = std::env::var(sheetsync_metrics::NAMESPACE_ENV).unwrap_or_else(|_| "sheetsync".into());
    let line = |binding: &str, rows: u64, messages: u64, outcome: &str| {
        format!(
            concat!(
                r#"{{"_aws":{{"Timestamp":1764000000000,"CloudWatchMetrics":[{{"Namespace":"{}","#,
                r#""Dimensions":[["function"],["function","binding"]],"Metrics":["#,
                r#"{{"Name":"BatchSize","Unit":"Count"}},{{"Name":"MessagesSent","Unit":"Count"}}]}}]}},"#,
                r#""function":"outbox-relay","binding":"{}","BatchSize":{},"MessagesSent":{},"outcome":"{}"}}"#
            ),
            ns, binding, rows, messages, outcome
        )
    };
    let lines: Vec<Vec<String>> = metrics(&summary)
        .iter()
        .map(|m| m.to_lines(1_764_000_000_000))
        .collect();
    assert_eq!(
        lines,
        vec![
            vec![line("orders", 7, 2, "drained")],
            vec![line("people", 0, 0, "writers_busy")]
        ]
    );
}

#[test]
fn nothing_drained_means_no_line() {
    let summary = Summary {
        rows_sent: 0,
        messages: 0,
        bindings: vec![],
    };
    assert!(metrics(&summary).is_empty());
}
