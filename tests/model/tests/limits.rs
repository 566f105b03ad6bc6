//! Known limits of the product's rules, asserted so that a change of them
//! is noticed (docs/model-checking.md, "Known limits").

use sheetsync_model::run::check;
use sheetsync_model::scenarios::legacy_row_deleted;

/// A row with no recorded insert (older than the binding, never
/// backfilled) that a person deletes in the sheet: the `keys` request skips
/// it ("not yet on the sheet"), so the table keeps it; the next snapshot
/// sends it to the sheet again. Setup backfills every bound table, which
/// records the insert; without that, such a delete is not honoured.
#[test]
fn a_row_older_than_the_binding_deleted_in_the_sheet_comes_back() {
    let report = check(legacy_row_deleted(), 2);
    println!("{report}");
    for (property, path) in &report.counterexamples {
        println!("counterexample to {property}: {path}");
    }
    let broken: Vec<&str> = report.counterexamples.iter().map(|c| c.0).collect();
    assert_eq!(broken, vec!["convergence", "no resurrection"]);
}
