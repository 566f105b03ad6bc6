//! The checker catches what it claims to: a rule with its check bypassed
//! (inside the model: the planner is told the sheet received every change)
//! breaks a property, and the same scenario holds under the product's rules.

use sheetsync_model::run::check;
use sheetsync_model::scenarios::{paste_over_unseen, snapshot_before_delivery};
use sheetsync_model::webhook::Rules;

const THREADS: usize = 2;

fn broken_properties(report: &sheetsync_model::run::Report) -> Vec<&'static str> {
    for (property, path) in &report.counterexamples {
        println!("counterexample to {property}: {path}");
    }
    report.counterexamples.iter().map(|c| c.0).collect()
}

#[test]
fn merge_without_freshness_loses_a_database_value() {
    let report = check(paste_over_unseen(Rules::EditIgnoresFreshness), THREADS);
    println!("{report}");
    // The database's value is overwritten with no conflict record; and as
    // no repair is queued either, the tab keeps showing it (convergence).
    assert_eq!(
        broken_properties(&report),
        vec!["convergence", "no silent loss"]
    );
}

#[test]
fn merge_with_freshness_keeps_it() {
    let report = check(paste_over_unseen(Rules::Product), THREADS);
    println!("{report}");
    assert!(broken_properties(&report).is_empty());
}

#[test]
fn snapshot_without_watermark_deletes_and_loses() {
    let report = check(
        snapshot_before_delivery(Rules::SnapshotIgnoresWatermark),
        THREADS,
    );
    println!("{report}");
    let broken = broken_properties(&report);
    assert!(broken.contains(&"no phantom delete"), "{broken:?}");
    assert!(broken.contains(&"no silent loss"), "{broken:?}");
}

#[test]
fn snapshot_with_watermark_holds() {
    let report = check(snapshot_before_delivery(Rules::Product), THREADS);
    println!("{report}");
    assert!(broken_properties(&report).is_empty());
}
