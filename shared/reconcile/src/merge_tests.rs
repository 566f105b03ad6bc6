use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 13, minute, 0).unwrap()
}

/// The events' watermark.
const W: i64 = 100;

/// `in_flight`: the row has a change the sheet had not received.
fn context(policy: ConflictPolicy, edited: u32, in_flight: bool) -> MergeContext {
    MergeContext {
        policy,
        edited_at: at(edited),
        watermark: W,
        row_in_flight: in_flight,
        unsettled: false,
        zone: Default::default(),
    }
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn cell<'a>(
    sheet: &'a Value,
    base: Option<&'a Value>,
    db: &'a Value,
    changed: Option<u32>,
) -> CellInput<'a> {
    CellInput {
        column: "qty",
        sheet,
        base,
        db,
        db_changed_at: changed.map(at),
        db_seq: None,
    }
}

/// The cell's database value goes to the sheet at `seq`.
fn sent_at(cell: CellInput<'_>, seq: i64) -> CellInput<'_> {
    CellInput {
        db_seq: Some(seq),
        ..cell
    }
}

fn conflict(sheet: i64, db: i64, winner: Side, changed: Option<u32>) -> Conflict {
    Conflict {
        column: "qty".into(),
        sheet_value: int(sheet),
        db_value: int(db),
        winner,
        db_changed_at: changed.map(at),
    }
}

#[test]
fn a_plain_edit_is_written() {
    let (s, b, d) = (int(3), int(2), int(2));
    let merged = merge_row(
        &context(ConflictPolicy::Db, 35, false),
        &[cell(&s, Some(&b), &d, Some(10))],
    );
    assert_eq!(
        merged,
        RowMerge {
            writes: vec![("qty".into(), int(3))],
            to_sheet: vec![],
            conflicts: vec![]
        }
    );
    assert_eq!(merged.status(), MergeStatus::Updated);
}

#[test]
fn an_equal_value_changes_nothing() {
    let (s, b, d) = (int(3), int(2), int(3));
    let merged = merge_row(
        &context(ConflictPolicy::Latest, 35, true),
        &[cell(&s, Some(&b), &d, Some(40))],
    );
    assert_eq!(merged, RowMerge::default());
    assert_eq!(merged.status(), MergeStatus::Unchanged);
}

#[test]
fn both_changed_latest_the_later_edit_wins_and_the_other_is_recorded() {
    let (s, b, d) = (int(3), int(2), int(5));
    let sheet_later = merge_row(
        &context(ConflictPolicy::Latest, 35, true),
        &[cell(&s, Some(&b), &d, Some(30))],
    );
    assert_eq!(
        sheet_later,
        RowMerge {
            writes: vec![("qty".into(), int(3))],
            // The database change is in flight: the written value is queued
            // so the older change cannot overwrite it.
            to_sheet: vec![("qty".into(), int(3))],
            conflicts: vec![conflict(3, 5, Side::Sheet, Some(30))],
        }
    );
    assert_eq!(sheet_later.status(), MergeStatus::Conflict);
    assert_eq!(sheet_later.conflict_columns(), vec!["qty"]);
    let db_later = merge_row(
        &context(ConflictPolicy::Latest, 35, true),
        &[cell(&s, Some(&b), &d, Some(40))],
    );
    assert_eq!(
        db_later,
        RowMerge {
            writes: vec![],
            to_sheet: vec![("qty".into(), int(5))],
            conflicts: vec![conflict(3, 5, Side::Db, Some(40))],
        }
    );
}

#[test]
fn a_tie_in_time_goes_to_the_database() {
    let (s, b, d) = (int(3), int(2), int(5));
    let merged = merge_row(
        &context(ConflictPolicy::Latest, 35, false),
        &[cell(&s, Some(&b), &d, Some(35))],
    );
    assert_eq!(merged.conflicts, vec![conflict(3, 5, Side::Db, Some(35))]);
}

#[test]
fn latest_sees_a_database_change_that_went_back_to_the_base() {
    // A → B → A in the database after the user's edit: values say only the
    // sheet changed, time says the database changed last.
    let (s, b, d) = (int(3), int(2), int(2));
    let merged = merge_row(
        &context(ConflictPolicy::Latest, 35, true),
        &[cell(&s, Some(&b), &d, Some(40))],
    );
    assert_eq!(
        merged,
        RowMerge {
            writes: vec![],
            to_sheet: vec![("qty".into(), int(2))],
            conflicts: vec![conflict(3, 2, Side::Db, Some(40))],
        }
    );
}

#[test]
fn fixed_policies_settle_conflicts_only() {
    let (s, b, d) = (int(3), int(2), int(5));
    let db = merge_row(
        &context(ConflictPolicy::Db, 35, false),
        &[cell(&s, Some(&b), &d, Some(10))],
    );
    assert_eq!(db.writes, vec![]);
    assert_eq!(db.to_sheet, vec![("qty".into(), int(5))]);
    assert_eq!(db.conflicts, vec![conflict(3, 5, Side::Db, Some(10))]);
    let sheet = merge_row(
        &context(ConflictPolicy::Sheet, 35, false),
        &[cell(&s, Some(&b), &d, Some(50))],
    );
    assert_eq!(sheet.writes, vec![("qty".into(), int(3))]);
    assert_eq!(sheet.conflicts, vec![conflict(3, 5, Side::Sheet, Some(50))]);
    // Only the sheet changed: policy db does not stop an ordinary edit.
    let only_sheet = int(2);
    let edit = merge_row(
        &context(ConflictPolicy::Db, 35, false),
        &[cell(&s, Some(&b), &only_sheet, Some(50))],
    );
    assert_eq!(edit.writes, vec![("qty".into(), int(3))]);
    assert_eq!(edit.conflicts, vec![]);
}

#[test]
fn a_cell_the_user_did_not_change_takes_the_database_value() {
    let (s, b, d) = (int(2), int(2), int(5));
    let merged = merge_row(
        &context(ConflictPolicy::Sheet, 35, false),
        &[cell(&s, Some(&b), &d, Some(10))],
    );
    assert_eq!(
        merged,
        RowMerge {
            writes: vec![],
            to_sheet: vec![("qty".into(), int(5))],
            conflicts: vec![]
        }
    );
}

#[test]
fn a_paste_over_a_value_the_sheet_had_seen_is_an_edit() {
    let (s, d) = (int(3), int(5));
    for policy in [
        ConflictPolicy::Latest,
        ConflictPolicy::Sheet,
        ConflictPolicy::Db,
    ] {
        let merged = merge_row(&context(policy, 35, false), &[cell(&s, None, &d, Some(10))]);
        assert_eq!(merged.writes, vec![("qty".into(), int(3))], "{policy:?}");
        assert_eq!(merged.conflicts, vec![], "{policy:?}");
    }
}

#[test]
fn a_paste_over_an_unseen_database_change_is_a_conflict() {
    let (s, d) = (int(3), int(5));
    // The cell's database change (at :30) goes to the sheet at W + 1.
    let latest = merge_row(
        &context(ConflictPolicy::Latest, 35, true),
        &[sent_at(cell(&s, None, &d, Some(30)), W + 1)],
    );
    assert_eq!(latest.writes, vec![("qty".into(), int(3))]);
    assert_eq!(
        latest.conflicts,
        vec![conflict(3, 5, Side::Sheet, Some(30))]
    );
    let db = merge_row(
        &context(ConflictPolicy::Db, 35, true),
        &[sent_at(cell(&s, None, &d, Some(30)), W + 1)],
    );
    assert_eq!(db.writes, vec![]);
    assert_eq!(db.conflicts, vec![conflict(3, 5, Side::Db, Some(30))]);
    // The row's unseen change touched another column; this cell's value
    // reached the sheet at W: an edit.
    let other = merge_row(
        &context(ConflictPolicy::Db, 35, true),
        &[sent_at(cell(&s, None, &d, Some(10)), W)],
    );
    assert_eq!(other.writes, vec![("qty".into(), int(3))]);
    assert_eq!(other.to_sheet, vec![("qty".into(), int(3))]);
    assert_eq!(other.conflicts, vec![]);
}

/// Two database changes in flight, the pasted cell's the earlier one: the
/// cell's own sequence says the sheet never showed its value (the row's
/// latest change time would have called it seen).
#[test]
fn a_paste_over_the_earlier_of_two_unseen_changes_is_a_conflict() {
    let (name_s, name_d) = (Value::Text("Ada".into()), Value::Text("Grace".into()));
    let (qty_s, qty_d) = (int(3), int(5));
    let cells = [
        CellInput {
            column: "name",
            sheet: &name_s,
            base: None,
            db: &name_d,
            db_changed_at: Some(at(20)),
            db_seq: Some(W + 1),
        },
        CellInput {
            column: "qty",
            sheet: &qty_s,
            base: None,
            db: &qty_d,
            db_changed_at: Some(at(30)),
            db_seq: Some(W + 2),
        },
    ];
    let merged = merge_row(&context(ConflictPolicy::Latest, 35, true), &cells);
    assert_eq!(
        merged,
        RowMerge {
            writes: vec![
                ("name".into(), Value::Text("Ada".into())),
                ("qty".into(), int(3))
            ],
            to_sheet: vec![
                ("name".into(), Value::Text("Ada".into())),
                ("qty".into(), int(3))
            ],
            conflicts: vec![
                Conflict {
                    column: "name".into(),
                    sheet_value: Value::Text("Ada".into()),
                    db_value: Value::Text("Grace".into()),
                    winner: Side::Sheet,
                    db_changed_at: Some(at(20)),
                },
                conflict(3, 5, Side::Sheet, Some(30)),
            ],
        }
    );
}

/// A cell with no queued change (no sequence: a value the sheet wrote and
/// nothing carried since) is not one the sheet never saw, even while
/// another change of the row is in flight.
#[test]
fn a_paste_over_the_sheets_own_value_is_an_edit() {
    let (s, d) = (int(3), int(5));
    let merged = merge_row(
        &context(ConflictPolicy::Latest, 35, true),
        &[cell(&s, None, &d, Some(30))],
    );
    assert_eq!(
        merged,
        RowMerge {
            writes: vec![("qty".into(), int(3))],
            to_sheet: vec![("qty".into(), int(3))],
            conflicts: vec![],
        }
    );
}

#[test]
fn a_cell_without_recorded_change_time_goes_to_the_sheet() {
    let (s, b, d) = (int(3), int(2), int(5));
    let merged = merge_row(
        &context(ConflictPolicy::Latest, 35, false),
        &[cell(&s, Some(&b), &d, None)],
    );
    assert_eq!(merged.writes, vec![("qty".into(), int(3))]);
    assert_eq!(merged.conflicts, vec![conflict(3, 5, Side::Sheet, None)]);
}

#[test]
fn cells_of_one_row_merge_independently() {
    let (qty_s, qty_d) = (int(3), int(2));
    let (name_s, name_b, name_d) = (
        Value::Text("Ada".into()),
        Value::Text("Ad".into()),
        Value::Text("Grace".into()),
    );
    let cells = [
        CellInput {
            column: "qty",
            sheet: &qty_s,
            base: None,
            db: &qty_d,
            db_changed_at: Some(at(10)),
            db_seq: None,
        },
        CellInput {
            column: "name",
            sheet: &name_s,
            base: Some(&name_b),
            db: &name_d,
            db_changed_at: Some(at(40)),
            db_seq: None,
        },
    ];
    let merged = merge_row(&context(ConflictPolicy::Latest, 35, false), &cells);
    assert_eq!(merged.writes, vec![("qty".into(), int(3))]);
    assert_eq!(
        merged.to_sheet,
        vec![("name".into(), Value::Text("Grace".into()))]
    );
    assert_eq!(merged.conflict_columns(), vec!["name"]);
}

fn small_value() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), (0i64..4).prop_map(Value::Int)]
}

proptest! {
    /// Every value that does not end up in the table is either one the
    /// other side had already seen, or comes back as a conflict record; and
    /// whatever the database keeps over a different sheet value is queued
    /// for the sheet.
    #[test]
    fn merge_never_drops_a_value_without_a_conflict_record(
        policy in prop_oneof![Just(ConflictPolicy::Latest), Just(ConflictPolicy::Sheet), Just(ConflictPolicy::Db)],
        edited in 0u32..6,
        in_flight in any::<bool>(),
        cells in prop::collection::vec(
            (
                small_value(),
                prop::option::of(small_value()),
                small_value(),
                prop::option::of(0u32..6),
                prop::option::of(W - 2..W + 3),
            ),
            1..6,
        ),
    ) {
        let names: Vec<String> = (0..cells.len()).map(|i| format!("c{i}")).collect();
        let inputs: Vec<CellInput> = cells
            .iter()
            .zip(&names)
            .map(|((s, b, d, t, seq), name)| CellInput {
                column: name,
                sheet: s,
                base: b.as_ref(),
                db: d,
                db_changed_at: t.map(at),
                db_seq: *seq,
            })
            .collect();
        let context = context(policy, edited, in_flight);
        let merged = merge_row(&context, &inputs);
        for input in &inputs {
            let written = merged.writes.iter().find(|(c, _)| c == input.column).map(|(_, v)| v);
            let kept = written.unwrap_or(input.db);
            let recorded = |winner: Side| merged.conflicts.iter().any(|c| {
                c.column == input.column && &c.sheet_value == input.sheet && &c.db_value == input.db && c.winner == winner
            });
            let sheet_changed = input.base != Some(input.sheet);
            if sheet_changed && kept != input.sheet {
                prop_assert!(recorded(Side::Db), "sheet value of {} lost: {:?}", input.column, merged);
            }
            let db_seen = match input.base {
                Some(base) => base == input.db,
                None => input.db_seq.is_none_or(|seq| seq <= W),
            };
            if kept != input.db && !db_seen {
                prop_assert!(recorded(Side::Sheet), "db value of {} lost: {:?}", input.column, merged);
            }
            if written.is_none() && input.sheet != input.db {
                prop_assert!(merged.to_sheet.contains(&(input.column.to_owned(), input.db.clone())));
            }
            if let Some(value) = written && in_flight {
                prop_assert!(merged.to_sheet.contains(&(input.column.to_owned(), value.clone())));
            }
            if policy == ConflictPolicy::Latest && sheet_changed && input.sheet != input.db {
                let sheet_later = input.db_changed_at.is_none_or(|t| context.edited_at > t);
                prop_assert_eq!(written.is_some(), sheet_later);
            }
        }
    }
}

#[test]
fn an_unsettled_paste_records_every_database_value_it_replaces() {
    // The database value went to the sheet long ago (seq 5 ≤ W), but the
    // tab was unsettled: the row may have shown another row's value there.
    let db = Value::Text("seen long ago".into());
    let sheet = Value::Text("pasted".into());
    let cell = CellInput {
        column: "note",
        sheet: &sheet,
        base: None,
        db: &db,
        db_changed_at: Some(at(1)),
        db_seq: Some(5),
    };
    let settled = merge_row(&context(ConflictPolicy::Latest, 9, false), &[cell]);
    assert_eq!(settled.conflicts, vec![]);
    let mut unsettled = context(ConflictPolicy::Latest, 9, false);
    unsettled.unsettled = true;
    let merged = merge_row(&unsettled, &[cell]);
    assert_eq!(merged.writes, vec![("note".to_string(), sheet.clone())]);
    assert_eq!(merged.conflicts.len(), 1);
    assert_eq!(
        (&merged.conflicts[0].db_value, merged.conflicts[0].winner),
        (&db, Side::Sheet)
    );
}
