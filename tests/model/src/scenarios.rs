//! The scenarios the tests check (docs/model-checking.md lists each with
//! its size). Every value a person writes is distinct.

use sheetsync_reconcile::ConflictPolicy;

use crate::model::Scenario;
use crate::people::Step;
use crate::webhook::Rules;
use crate::world::Faults;

fn base(name: &'static str, steps: Vec<Step>, faults: Faults) -> Scenario {
    Scenario {
        name,
        rows: vec![[Some(1), Some(2)], [Some(3), Some(4)]],
        legacy: false,
        steps,
        faults,
        rules: Rules::Product,
        policy: ConflictPolicy::Latest,
    }
}

/// 2 rows × 2 columns: 2 sheet edits, 2 SQL edits, 1 snapshot, racing on
/// the same cells.
pub fn edits_race() -> Scenario {
    base(
        "edits race (2 sheet + 2 SQL edits + snapshot)",
        vec![
            Step::SheetEdit {
                rid: 1,
                column: 0,
                value: 10,
            },
            Step::SheetPaste {
                rid: 2,
                values: [Some(11), Some(12)],
            },
            Step::SqlUpdate {
                rid: 1,
                column: 0,
                value: 20,
            },
            Step::SqlUpdate {
                rid: 2,
                column: 1,
                value: 21,
            },
            Step::Snapshot,
        ],
        Faults::default(),
    )
}

/// A sort of the tab while a writer batch is in flight, with a sheet
/// edit and SQL changes of the rows it moves.
pub fn sort_in_flight() -> Scenario {
    base(
        "sort with a writer batch in flight",
        vec![
            Step::SqlUpdate {
                rid: 1,
                column: 1,
                value: 20,
            },
            Step::SqlUpdate {
                rid: 2,
                column: 0,
                value: 21,
            },
            Step::SheetSort,
            Step::SheetEdit {
                rid: 2,
                column: 0,
                value: 10,
            },
            Step::Snapshot,
        ],
        Faults::default(),
    )
}

/// The relay dies between sending and deleting (every row it sent is sent
/// again), the queue delivers a message twice and the writer fails after
/// its batch landed, around SQL changes and a sheet edit.
pub fn relay_death_and_duplicates() -> Scenario {
    base(
        "relay death + duplicate delivery + writer failure",
        vec![
            Step::SqlUpdate {
                rid: 1,
                column: 0,
                value: 20,
            },
            Step::SqlInsert {
                rid: 3,
                values: [Some(22), None],
            },
            Step::SheetEdit {
                rid: 1,
                column: 0,
                value: 10,
            },
        ],
        Faults {
            relay_deaths: 1,
            writer_failures: 1,
            duplicates: 1,
        },
    )
}

/// A person types a row and deletes it again, while the database deletes
/// another and a snapshot is taken: add-then-delete in every order of the
/// insert's answer, the key write-back, the `keys` request and snapshots.
pub fn insert_then_delete() -> Scenario {
    base(
        "sheet insert then delete",
        vec![
            Step::SheetInsert {
                rid: 3,
                values: [Some(10), Some(11)],
            },
            Step::SheetDelete { rid: 3 },
            Step::SqlDelete { rid: 2 },
            Step::Snapshot,
        ],
        Faults::default(),
    )
}

/// SQL and sheet deletes against a sheet edit and a SQL update of the same
/// rows: deletes win, and nothing comes back.
pub fn deletes_race() -> Scenario {
    base(
        "deletes race edits",
        vec![
            Step::SheetDelete { rid: 1 },
            Step::SqlUpdate {
                rid: 1,
                column: 0,
                value: 20,
            },
            Step::SqlDelete { rid: 2 },
            Step::SheetEdit {
                rid: 2,
                column: 1,
                value: 10,
            },
            Step::Snapshot,
        ],
        Faults::default(),
    )
}

/// A paste over a row the database changed behind the sheet's back: what
/// the per-cell freshness check (`cell_seq > W`) is for.
pub fn paste_over_unseen(rules: Rules) -> Scenario {
    Scenario {
        rules,
        ..base(
            "paste over a change the sheet has not received",
            vec![
                Step::SqlUpdate {
                    rid: 2,
                    column: 1,
                    value: 21,
                },
                Step::SheetPaste {
                    rid: 2,
                    values: [Some(11), Some(12)],
                },
            ],
            Faults::default(),
        )
    }
}

/// A snapshot read before the sheet received a SQL insert and update: what
/// the watermark is for.
pub fn snapshot_before_delivery(rules: Rules) -> Scenario {
    Scenario {
        rules,
        ..base(
            "snapshot read before a SQL insert and update reach the sheet",
            vec![
                Step::SqlInsert {
                    rid: 3,
                    values: [Some(22), Some(23)],
                },
                Step::SqlUpdate {
                    rid: 1,
                    column: 0,
                    value: 20,
                },
                Step::Snapshot,
            ],
            Faults::default(),
        )
    }
}

/// A row typed in the sheet, edited there once its key is written back,
/// updated in SQL meanwhile, with a snapshot: the add path feeding the
/// edit path.
pub fn typed_row_edited() -> Scenario {
    base(
        "sheet insert, then edits on both sides",
        vec![
            Step::SheetInsert {
                rid: 3,
                values: [Some(10), None],
            },
            Step::SheetEdit {
                rid: 3,
                column: 1,
                value: 11,
            },
            Step::SqlUpdate {
                rid: 3,
                column: 1,
                value: 20,
            },
            Step::Snapshot,
        ],
        Faults::default(),
    )
}

/// [`edits_race`] under another conflict policy.
pub fn edits_race_under(policy: ConflictPolicy) -> Scenario {
    Scenario {
        policy,
        name: match policy {
            ConflictPolicy::Sheet => "edits race, policy sheet",
            ConflictPolicy::Db => "edits race, policy db",
            ConflictPolicy::Latest => "edits race, policy latest",
        },
        ..edits_race()
    }
}

/// A row typed in two cells (each sent whole, the second given the key
/// from the first's answer by the script), another row deleted before the
/// script's queue drained (a `keys` request without the new key), a SQL
/// update of the new row and a snapshot. Before `Write::reports_key`, the
/// second edit marked the row held and the `keys` request deleted it from
/// the table while the tab showed it (docs/model-checking.md).
pub fn typed_row_then_delete() -> Scenario {
    base(
        "typed row, typed on, another row deleted",
        vec![
            Step::SheetInsert {
                rid: 3,
                values: [Some(10), None],
            },
            Step::SheetEdit {
                rid: 3,
                column: 1,
                value: 11,
            },
            Step::SheetDelete { rid: 2 },
            Step::SqlUpdate {
                rid: 3,
                column: 0,
                value: 20,
            },
            Step::Snapshot,
        ],
        Faults {
            relay_deaths: 0,
            writer_failures: 1,
            duplicates: 0,
        },
    )
}

/// A paste into a row, then the row deleted in the sheet, while SQL
/// updates it; the relay dies once.
pub fn paste_then_delete() -> Scenario {
    base(
        "paste then delete the same row",
        vec![
            Step::SheetPaste {
                rid: 1,
                values: [Some(10), Some(11)],
            },
            Step::SheetDelete { rid: 1 },
            Step::SqlUpdate {
                rid: 1,
                column: 1,
                value: 20,
            },
            Step::Snapshot,
        ],
        Faults {
            relay_deaths: 1,
            writer_failures: 0,
            duplicates: 0,
        },
    )
}

/// A SQL insert edited in the sheet once it arrived, then deleted in SQL;
/// a duplicate delivery and a writer failure.
pub fn sql_row_edited_then_deleted() -> Scenario {
    base(
        "SQL insert, sheet edit, SQL delete",
        vec![
            Step::SqlInsert {
                rid: 3,
                values: [Some(22), None],
            },
            Step::SheetEdit {
                rid: 3,
                column: 1,
                value: 10,
            },
            Step::SqlDelete { rid: 3 },
            Step::Snapshot,
        ],
        Faults {
            relay_deaths: 0,
            writer_failures: 1,
            duplicates: 1,
        },
    )
}

/// Two SQL inserts, one deleted in the sheet once it arrived, a sort.
pub fn sql_rows_sorted_and_deleted() -> Scenario {
    base(
        "two SQL inserts, sheet delete, sort",
        vec![
            Step::SqlInsert {
                rid: 3,
                values: [Some(22), None],
            },
            Step::SqlInsert {
                rid: 4,
                values: [Some(23), Some(24)],
            },
            Step::SheetDelete { rid: 3 },
            Step::SheetSort,
            Step::Snapshot,
        ],
        Faults {
            relay_deaths: 0,
            writer_failures: 1,
            duplicates: 0,
        },
    )
}

/// Rows older than the binding (no `row_state`, no watermark: the tab was
/// filled without the first sync's backfill), one deleted in the sheet.
/// docs/contract.md re-sends a row with no recorded insert that a snapshot
/// lacks, so this delete is never honoured: a known limit, asserted in
/// `tests/limits.rs`.
pub fn legacy_row_deleted() -> Scenario {
    Scenario {
        legacy: true,
        ..base(
            "rows older than the binding, one deleted in the sheet",
            vec![
                Step::SheetDelete { rid: 1 },
                Step::SqlUpdate {
                    rid: 2,
                    column: 0,
                    value: 20,
                },
                Step::Snapshot,
            ],
            Faults::default(),
        )
    }
}
