//! Each scenario explored exhaustively: every property holds, and the
//! scenario can be played to the end. Prints states, depth and time.

use sheetsync_model::model::Scenario;
use sheetsync_model::run::{Report, check};
use sheetsync_model::scenarios;

/// Two threads: CI's machine has two cores.
const THREADS: usize = 2;

fn holds(scenario: Scenario) -> Report {
    let report = check(scenario, THREADS);
    println!("{report}");
    for (property, path) in &report.counterexamples {
        println!("counterexample to {property}: {path}");
    }
    assert!(
        report.counterexamples.is_empty(),
        "{}: {:?}",
        report.name,
        report
            .counterexamples
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>()
    );
    assert!(
        report.unreached.is_empty(),
        "never reached: {:?}",
        report.unreached
    );
    report
}

#[test]
fn edits_race() {
    holds(scenarios::edits_race());
}

#[test]
fn sort_in_flight() {
    holds(scenarios::sort_in_flight());
}

#[test]
fn relay_death_and_duplicates() {
    holds(scenarios::relay_death_and_duplicates());
}

#[test]
fn insert_then_delete() {
    holds(scenarios::insert_then_delete());
}

#[test]
fn deletes_race() {
    holds(scenarios::deletes_race());
}

#[test]
fn typed_row_edited() {
    holds(scenarios::typed_row_edited());
}

#[test]
fn edits_race_policy_sheet() {
    holds(scenarios::edits_race_under(
        sheetsync_reconcile::ConflictPolicy::Sheet,
    ));
}

#[test]
fn edits_race_policy_db() {
    holds(scenarios::edits_race_under(
        sheetsync_reconcile::ConflictPolicy::Db,
    ));
}

#[test]
fn typed_row_then_delete() {
    holds(scenarios::typed_row_then_delete());
}

#[test]
fn paste_then_delete() {
    holds(scenarios::paste_then_delete());
}

#[test]
fn sql_row_edited_then_deleted() {
    holds(scenarios::sql_row_edited_then_deleted());
}

#[test]
fn sql_rows_sorted_and_deleted() {
    holds(scenarios::sql_rows_sorted_and_deleted());
}
