use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::model::{KeyPart, PgType};

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 13, minute, 0).unwrap()
}

/// id (key), name, qty, note (not in the sheet), total (generated).
fn columns() -> Vec<Column> {
    let mut id = Column::new("id", PgType::Int8);
    id.key_position = Some(0);
    id.has_default = true;
    let mut total = Column::new("total", PgType::Int8);
    total.generated = true;
    vec![
        id,
        Column::new("name", PgType::Text),
        Column::new("qty", PgType::Int4),
        Column::new("note", PgType::Text),
        total,
    ]
}

const SHEET_COLUMNS: [bool; 5] = [true, true, true, false, true];

fn key(id: i64) -> Key {
    Key::from_values(&[Value::Int(id)])
}

fn values(id: Option<i64>, name: &str, qty: i64) -> Vec<Value> {
    vec![
        id.map_or(Value::Null, Value::Int),
        Value::Text(name.into()),
        Value::Int(qty),
        Value::Text("internal".into()),
        Value::Int(qty * 10),
    ]
}

fn table_row(
    id: i64,
    name: &str,
    qty: i64,
    last_db_seq: Option<i64>,
    sheet_held: bool,
) -> TableRow {
    TableRow {
        values: values(Some(id), name, qty),
        last_db_seq,
        sheet_held,
        cell_changed_at: vec![Some(at(10)); 5],
        cell_seq: Vec::new(),
        sheet_inserted_at: None,
    }
}

fn snapshot_row(id: Option<i64>, name: &str, qty: i64) -> SnapshotRow {
    SnapshotRow {
        key: id.map(key),
        values: {
            let mut v = values(id, name, qty);
            // The sheet lacks `note`; what is there is never looked at.
            v[3] = Value::Null;
            v[4] = Value::Int(-1);
            v
        },
    }
}

struct Case {
    columns: Vec<Column>,
    table: TableImage,
    tombstones: Tombstones,
    policy: ConflictPolicy,
    watermark: i64,
    edited_at: DateTime<Utc>,
    unsettled: bool,
}

impl Case {
    fn new(rows: Vec<(i64, TableRow)>) -> Case {
        Case {
            columns: columns(),
            table: rows.into_iter().map(|(id, row)| (key(id), row)).collect(),
            tombstones: Tombstones::default(),
            policy: ConflictPolicy::Latest,
            watermark: 100,
            edited_at: at(30),
            unsettled: false,
        }
    }

    fn diff(&self, sheet: SheetInput<'_>) -> Plan {
        diff(&DiffInput {
            columns: &self.columns,
            sheet_columns: &SHEET_COLUMNS,
            policy: self.policy,
            table: &self.table,
            tombstones: &self.tombstones,
            watermark: self.watermark,
            edited_at: self.edited_at,
            unsettled: self.unsettled,
            zone: Default::default(),
            sheet,
        })
    }

    fn snapshot(&self, rows: &[SnapshotRow]) -> Plan {
        self.diff(SheetInput::Snapshot {
            rows,
            partial: false,
            rejected_keys: &[],
            rejected_keyless: false,
        })
    }
}

#[test]
fn an_unchanged_tab_plans_nothing() {
    let case = Case::new(vec![(1, table_row(1, "Ada", 3, Some(90), true))]);
    assert_eq!(
        case.snapshot(&[snapshot_row(Some(1), "Ada", 3)]),
        Plan::default()
    );
}

#[test]
fn differing_cells_of_a_row_the_sheet_had_received_are_applied() {
    let case = Case::new(vec![(1, table_row(1, "Ada", 3, Some(90), true))]);
    let plan = case.snapshot(&[snapshot_row(Some(1), "Ada L.", 4)]);
    assert_eq!(
        plan,
        Plan {
            updates: vec![RowUpdate {
                row: 0,
                key: key(1),
                columns: vec![1, 2]
            }],
            ..Plan::default()
        }
    );
}

#[test]
fn a_row_with_a_change_in_flight_is_left_to_that_change() {
    let case = Case::new(vec![(1, table_row(1, "Ada", 3, Some(101), true))]);
    let plan = case.snapshot(&[snapshot_row(Some(1), "Old", 2)]);
    assert_eq!(
        plan,
        Plan {
            skipped: vec![Skipped {
                row: Some(0),
                key: key(1),
                reason: SkipReason::DbChangeInFlight
            }],
            ..Plan::default()
        }
    );
    assert!(plan.is_empty());
}

#[test]
fn under_latest_a_cell_the_database_changed_after_the_read_goes_to_the_sheet() {
    let mut row = table_row(1, "Ada", 3, Some(90), true);
    row.cell_changed_at[2] = Some(at(40));
    let mut case = Case::new(vec![(1, row)]);
    let sheet = [snapshot_row(Some(1), "Ada L.", 4)];
    assert_eq!(
        case.snapshot(&sheet),
        Plan {
            updates: vec![RowUpdate {
                row: 0,
                key: key(1),
                columns: vec![1]
            }],
            to_sheet: vec![ToSheet::Cells {
                row: 0,
                key: key(1),
                columns: vec![2]
            }],
            ..Plan::default()
        }
    );
    case.policy = ConflictPolicy::Db;
    assert_eq!(
        case.snapshot(&sheet).updates,
        vec![RowUpdate {
            row: 0,
            key: key(1),
            columns: vec![1, 2]
        }]
    );
}

#[test]
fn new_rows_are_inserted_unless_their_delete_is_in_flight() {
    let mut case = Case::new(vec![]);
    case.tombstones.insert(key(7), 101);
    case.tombstones.insert(key(8), 99);
    let plan = case.snapshot(&[
        snapshot_row(None, "New", 1),
        snapshot_row(Some(7), "Gone", 1),
        snapshot_row(Some(8), "Back", 1),
        snapshot_row(Some(9), "Typed key", 1),
    ]);
    assert_eq!(
        plan,
        Plan {
            inserts: vec![0, 2, 3],
            skipped: vec![Skipped {
                row: Some(1),
                key: key(7),
                reason: SkipReason::DeleteInFlight
            }],
            ..Plan::default()
        }
    );
}

#[test]
fn missing_rows_are_deleted_only_if_the_sheet_held_them() {
    let case = Case::new(vec![
        (1, table_row(1, "reported", 1, Some(120), true)),
        (2, table_row(2, "received", 1, Some(100), false)),
        (3, table_row(3, "in flight", 1, Some(101), false)),
        (4, table_row(4, "never sent", 1, None, false)),
        (5, table_row(5, "present", 1, Some(5), true)),
    ]);
    let plan = case.snapshot(&[snapshot_row(Some(5), "present", 1)]);
    assert_eq!(
        plan,
        Plan {
            deletes: vec![key(1), key(2)],
            to_sheet: vec![ToSheet::Row(key(3)), ToSheet::Row(key(4))],
            ..Plan::default()
        }
    );
}

#[test]
fn a_row_the_sheet_received_and_lacks_is_deleted_though_an_update_is_in_flight() {
    // Row 2 reached the sheet whole at 90 (its key cell's sequence); an
    // update at 120 is on its way. Row 3's insert at 130 is not there yet:
    // it is left to that insert, not re-sent.
    let mut received = table_row(2, "received, then deleted", 1, Some(120), false);
    received.cell_seq = vec![Some(90), Some(90), Some(120)];
    let mut sent = table_row(3, "not there yet", 1, Some(130), false);
    sent.cell_seq = vec![Some(130); 3];
    let case = Case::new(vec![(2, received), (3, sent)]);
    let plan = case.snapshot(&[]);
    assert_eq!(plan.deletes, vec![key(2)]);
    assert_eq!(plan.to_sheet, vec![]);
    assert_eq!(
        plan.skipped,
        vec![Skipped {
            row: None,
            key: key(3),
            reason: SkipReason::NotYetOnSheet
        }]
    );
    let plan = case.diff(SheetInput::Keys(&[]));
    assert_eq!(plan.deletes, vec![key(2)]);
}

#[test]
fn a_partial_snapshot_only_upserts() {
    let case = Case::new(vec![
        (1, table_row(1, "Ada", 3, Some(90), true)),
        (2, table_row(2, "elsewhere", 1, Some(90), true)),
    ]);
    let plan = case.diff(SheetInput::Snapshot {
        rows: &[
            snapshot_row(Some(1), "Ada", 4),
            snapshot_row(None, "New", 1),
        ],
        partial: true,
        rejected_keys: &[],
        rejected_keyless: false,
    });
    assert_eq!(
        plan,
        Plan {
            inserts: vec![1],
            updates: vec![RowUpdate {
                row: 0,
                key: key(1),
                columns: vec![2]
            }],
            ..Plan::default()
        }
    );
}

#[test]
fn a_keys_request_only_deletes_safely() {
    let case = Case::new(vec![
        (1, table_row(1, "kept", 1, Some(90), true)),
        (2, table_row(2, "removed", 1, Some(90), true)),
        (3, table_row(3, "not yet sent", 1, Some(150), false)),
    ]);
    let plan = case.diff(SheetInput::Keys(&[key(1), key(99)]));
    assert_eq!(
        plan,
        Plan {
            deletes: vec![key(2)],
            skipped: vec![Skipped {
                row: None,
                key: key(3),
                reason: SkipReason::NotYetOnSheet
            }],
            ..Plan::default()
        }
    );
}

/// Row 7 was typed into the sheet at `typed` (the database keyed it; the
/// sheet has not reported the key); SQL changed its quantity since.
/// A row typed into the sheet at `typed` (every cell then), whose quantity
/// the database changed since.
fn typed_row(typed: u32) -> TableRow {
    let t = Some(at(typed));
    TableRow {
        cell_seq: vec![None, None, Some(101), None, None],
        cell_changed_at: vec![t, t, Some(at(typed + 1)), t, t],
        sheet_inserted_at: t,
        ..table_row(7, "Zoe", 8, Some(101), false)
    }
}

#[test]
fn a_keyless_row_that_is_a_row_the_sheet_inserted_is_that_row() {
    let case = Case::new(vec![
        (1, table_row(1, "Ada", 3, Some(90), true)),
        (7, typed_row(20)),
    ]);
    // The quantity is the database's (the sheet may show anything there);
    // the name is the sheet's own and must be equal.
    let plan = case.snapshot(&[
        snapshot_row(Some(1), "Ada", 3),
        snapshot_row(None, "Zoe", 4),
        snapshot_row(None, "Zoe", 4),
        snapshot_row(None, "Zoë", 8),
    ]);
    assert_eq!(
        plan,
        Plan {
            matched: vec![(1, key(7))],
            inserts: vec![2, 3],
            ..Plan::default()
        }
    );
    // Shown with its key, it is an ordinary row.
    let plan = case.snapshot(&[
        snapshot_row(Some(1), "Ada", 3),
        snapshot_row(None, "Zoe", 4),
        snapshot_row(Some(7), "Zoe", 8),
    ]);
    assert_eq!(
        plan,
        Plan {
            inserts: vec![1],
            skipped: vec![Skipped {
                row: Some(2),
                key: key(7),
                reason: SkipReason::DbChangeInFlight
            }],
            ..Plan::default()
        }
    );
}

#[test]
fn a_keyless_row_never_takes_a_key_on_cells_the_database_changed_alone() {
    // Every cell of the typed row changed since in the database: nothing the
    // sheet typed is left to compare, so no keyless row is taken for it.
    let mut row = typed_row(20);
    row.cell_changed_at = vec![Some(at(30)); 5];
    let case = Case::new(vec![(7, row)]);
    assert_eq!(
        case.snapshot(&[snapshot_row(None, "Other", 1)]),
        Plan {
            inserts: vec![0],
            deferred: true,
            ..Plan::default()
        }
    );
}

#[test]
fn a_row_the_sheet_inserted_is_deleted_once_a_snapshot_read_after_it_lacks_it() {
    let held = (1, table_row(1, "Ada", 3, Some(90), true));
    let seed = [snapshot_row(Some(1), "Ada", 3)];
    // Typed at :20, read at :30: neither keyed nor keyless in the tab.
    let case = Case::new(vec![held.clone(), (7, typed_row(20))]);
    assert_eq!(
        case.snapshot(&seed),
        Plan {
            deletes: vec![key(7)],
            ..Plan::default()
        }
    );
    // Typed at or after the read: the read cannot show it; it is not sent
    // again either (the sheet has it).
    for typed in [30, 40] {
        let case = Case::new(vec![held.clone(), (7, typed_row(typed))]);
        assert_eq!(case.snapshot(&seed), Plan::default(), "typed at {typed}");
        assert_eq!(
            case.diff(SheetInput::Keys(&[key(1)])),
            Plan::default(),
            "typed at {typed}"
        );
    }
    // A keys request cannot see keyless rows: it defers to a snapshot.
    let awaiting = Plan {
        skipped: vec![Skipped {
            row: None,
            key: key(7),
            reason: SkipReason::AwaitingKey,
        }],
        deferred: true,
        ..Plan::default()
    };
    assert_eq!(
        case_with_typed(20).diff(SheetInput::Keys(&[key(1)])),
        awaiting
    );
    // Nor can a snapshot with an unreadable keyless row.
    let plan = case_with_typed(20).diff(SheetInput::Snapshot {
        rows: &seed,
        partial: false,
        rejected_keys: &[],
        rejected_keyless: true,
    });
    assert_eq!(plan, awaiting);
}

fn case_with_typed(typed: u32) -> Case {
    Case::new(vec![
        (1, table_row(1, "Ada", 3, Some(90), true)),
        (7, typed_row(typed)),
    ])
}

#[test]
fn an_unsettled_request_decides_nothing_destructive() {
    let mut case = Case::new(vec![
        (1, table_row(1, "Ada", 3, Some(90), true)),
        (2, table_row(2, "missing", 1, Some(90), true)),
        (7, typed_row(20)),
    ]);
    case.unsettled = true;
    let rows = [
        snapshot_row(Some(1), "Ada", 4),
        snapshot_row(Some(9), "New key", 1),
        snapshot_row(None, "Zoe", 4),
        snapshot_row(None, "Typed", 2),
    ];
    let deferred = |row: usize, id: i64| Skipped {
        row: Some(row),
        key: key(id),
        reason: SkipReason::Unsettled,
    };
    let expected = Plan {
        inserts: vec![3],
        matched: vec![(2, key(7))],
        skipped: vec![deferred(0, 1), deferred(1, 9)],
        deferred: true,
        ..Plan::default()
    };
    assert_eq!(case.snapshot(&rows), expected);
    let partial = case.diff(SheetInput::Snapshot {
        rows: &rows,
        partial: true,
        rejected_keys: &[],
        rejected_keyless: false,
    });
    assert_eq!(partial, expected);
    assert_eq!(
        case.diff(SheetInput::Keys(&[key(1)])),
        Plan {
            deferred: true,
            ..Plan::default()
        }
    );
}

#[test]
fn rejected_rows_count_as_present_and_duplicates_are_skipped() {
    let case = Case::new(vec![
        (1, table_row(1, "Ada", 3, Some(90), true)),
        (2, table_row(2, "bad qty in sheet", 1, Some(90), true)),
    ]);
    let plan = case.diff(SheetInput::Snapshot {
        rows: &[
            snapshot_row(Some(1), "Ada", 3),
            snapshot_row(Some(1), "Copy", 9),
        ],
        partial: false,
        rejected_keys: &[key(2)],
        rejected_keyless: false,
    });
    assert_eq!(
        plan,
        Plan {
            skipped: vec![Skipped {
                row: Some(1),
                key: key(1),
                reason: SkipReason::DuplicateKey
            }],
            ..Plan::default()
        }
    );
}

/// A generated world: table rows, tombstones, and a tab.
#[derive(Debug, Clone)]
struct World {
    table: BTreeMap<i64, TableRow>,
    tombstones: BTreeMap<i64, i64>,
    sheet: Vec<SnapshotRow>,
    watermark: i64,
    edited_at: u32,
    policy: ConflictPolicy,
    partial: bool,
}

fn small_values(id: Option<i64>) -> impl Strategy<Value = Vec<Value>> {
    (0u8..3, 0i64..3).prop_map(move |(name, qty)| {
        let mut v = values(id, ["a", "b", "c"][usize::from(name)], qty);
        v[3] = Value::Null;
        v
    })
}

fn world() -> impl Strategy<Value = World> {
    let table = prop::collection::btree_map(
        0i64..16,
        (
            prop::option::of(0i64..10),
            any::<bool>(),
            prop::collection::vec(prop::option::of(0u32..10), 5),
        ),
        0..12,
    );
    let tombstones = prop::collection::btree_map(0i64..16, 0i64..10, 0..6);
    let sheet_keys = prop::collection::btree_set(0i64..16, 0..12);
    (
        table,
        tombstones,
        sheet_keys,
        0usize..3,
        0i64..10,
        0u32..10,
        0u8..3,
        any::<bool>(),
    )
        .prop_flat_map(
            |(table, tombstones, sheet_keys, keyless, watermark, edited_at, policy, partial)| {
                let table_values: Vec<_> = table.keys().map(|&id| small_values(Some(id))).collect();
                let keyed: Vec<_> = sheet_keys
                    .iter()
                    .map(|&id| small_values(Some(id)))
                    .collect();
                let new_rows: Vec<_> = (0..keyless).map(|_| small_values(None)).collect();
                (table_values, keyed, new_rows).prop_map(move |(table_values, keyed, new_rows)| {
                    let table: BTreeMap<i64, TableRow> = table
                        .iter()
                        .zip(table_values)
                        .map(|((&id, (seq, held, times)), values)| {
                            let row = TableRow {
                                values,
                                last_db_seq: *seq,
                                sheet_held: *held,
                                cell_changed_at: times.iter().map(|t| t.map(at)).collect(),
                                cell_seq: Vec::new(),
                                sheet_inserted_at: None,
                            };
                            (id, row)
                        })
                        .collect();
                    let tombstones = tombstones
                        .iter()
                        .filter(|(id, _)| !table.contains_key(id))
                        .map(|(&id, &seq)| (id, seq))
                        .collect();
                    let mut sheet: Vec<SnapshotRow> = sheet_keys
                        .iter()
                        .zip(keyed)
                        .map(|(&id, values)| SnapshotRow {
                            key: Some(key(id)),
                            values,
                        })
                        .collect();
                    sheet.extend(
                        new_rows
                            .into_iter()
                            .map(|values| SnapshotRow { key: None, values }),
                    );
                    World {
                        table,
                        tombstones,
                        sheet,
                        watermark,
                        edited_at,
                        policy: [
                            ConflictPolicy::Latest,
                            ConflictPolicy::Sheet,
                            ConflictPolicy::Db,
                        ][usize::from(policy)],
                        partial,
                    }
                })
            },
        )
}

impl World {
    fn plan(&self) -> Plan {
        self.plan_with(false)
    }

    fn plan_with(&self, unsettled: bool) -> Plan {
        let columns = columns();
        let table: TableImage = self
            .table
            .iter()
            .map(|(&id, row)| (key(id), row.clone()))
            .collect();
        let tombstones: Tombstones = self
            .tombstones
            .iter()
            .map(|(&id, &seq)| (key(id), seq))
            .collect();
        diff(&DiffInput {
            columns: &columns,
            sheet_columns: &SHEET_COLUMNS,
            policy: self.policy,
            table: &table,
            tombstones: &tombstones,
            watermark: self.watermark,
            edited_at: at(self.edited_at),
            unsettled,
            zone: Default::default(),
            sheet: SheetInput::Snapshot {
                rows: &self.sheet,
                partial: self.partial,
                rejected_keys: &[],
                rejected_keyless: false,
            },
        })
    }

    fn id_of(key: &Key) -> i64 {
        match key.parts() {
            [KeyPart::Int(id)] => *id,
            other => panic!("not a test key: {other:?}"),
        }
    }

    /// What the webhook writes into the table, what it queues for the
    /// sheet, and what the changes in flight do when they reach the sheet.
    fn apply(&mut self, plan: &Plan) {
        let written = |c: usize| SHEET_COLUMNS[c] && !columns()[c].generated;
        for update in &plan.updates {
            let id = Self::id_of(&update.key);
            let row = self.table.get_mut(&id).unwrap();
            for &c in &update.columns {
                row.values[c] = self.sheet[update.row].values[c].clone();
                row.cell_changed_at[c] = Some(at(self.edited_at));
            }
        }
        let mut next_id = 1000;
        for &index in &plan.inserts {
            let sheet_row = &mut self.sheet[index];
            let id = match &sheet_row.key {
                Some(key) => Self::id_of(key),
                None => {
                    next_id += 1;
                    sheet_row.key = Some(key(next_id));
                    sheet_row.values[0] = Value::Int(next_id);
                    next_id
                }
            };
            let mut values = vec![Value::Null; 5];
            for (c, value) in values.iter_mut().enumerate() {
                if written(c) {
                    *value = sheet_row.values[c].clone();
                }
            }
            values[0] = Value::Int(id);
            self.tombstones.remove(&id);
            self.table.insert(
                id,
                TableRow {
                    values,
                    last_db_seq: None,
                    sheet_held: true,
                    cell_changed_at: vec![Some(at(self.edited_at)); 5],
                    cell_seq: Vec::new(),
                    sheet_inserted_at: None,
                },
            );
        }
        for key in &plan.deletes {
            self.table.remove(&Self::id_of(key));
        }
        for repair in &plan.to_sheet {
            match repair {
                ToSheet::Row(key) => {
                    let mut values = self.table[&Self::id_of(key)].values.clone();
                    values[3] = Value::Null;
                    self.sheet.push(SnapshotRow {
                        key: Some(key.clone()),
                        values,
                    });
                }
                ToSheet::Cells { row, key, columns } => {
                    for &c in columns {
                        self.sheet[*row].values[c] =
                            self.table[&Self::id_of(key)].values[c].clone();
                    }
                }
            }
        }
        // The writer delivers every change after the watermark.
        let watermark = self.watermark;
        let tombstones = &self.tombstones;
        self.sheet.retain(|row| {
            let id = row.key.as_ref().map(Self::id_of);
            id.is_none_or(|id| tombstones.get(&id).is_none_or(|&seq| seq <= watermark))
        });
        for sheet_row in &mut self.sheet {
            let Some(id) = sheet_row.key.as_ref().map(Self::id_of) else {
                continue;
            };
            if let Some(row) = self.table.get(&id)
                && row.last_db_seq.is_some_and(|seq| seq > watermark)
            {
                for c in 1..3 {
                    sheet_row.values[c] = row.values[c].clone();
                }
            }
        }
        self.watermark = 10;
        for sheet_row in &self.sheet {
            if let Some(row) = sheet_row
                .key
                .as_ref()
                .and_then(|k| self.table.get_mut(&Self::id_of(k)))
            {
                row.sheet_held = true;
            }
        }
    }
}

proptest! {
    /// After the plan is applied (and the changes in flight arrive), the
    /// tab and the table agree, and diffing again plans nothing.
    #[test]
    fn applying_a_plan_leaves_nothing_to_do(mut world in world()) {
        let plan = world.plan();
        world.apply(&plan);
        for row in &world.sheet {
            let id = row.key.as_ref().map(World::id_of);
            let table_row = id.and_then(|id| world.table.get(&id));
            prop_assert!(table_row.is_some(), "sheet row {:?} not in the table; plan {:?}", row, plan);
            if let Some(table_row) = table_row {
                prop_assert_eq!(&row.values[1..3], &table_row.values[1..3], "plan {:?}", &plan);
            }
        }
        if !world.partial {
            prop_assert_eq!(world.sheet.len(), world.table.len(), "plan {:?}", &plan);
        }
        let again = world.plan();
        prop_assert_eq!(&again, &Plan::default(), "first plan: {:?}", plan);
    }

    /// A plan never writes over a database change the sheet has not seen,
    /// never deletes a row the sheet has not held, never brings back a row
    /// whose delete is on its way.
    #[test]
    fn a_plan_never_reverts_a_change_in_flight(world in world()) {
        let plan = world.plan();
        let unseen = |id: i64| world.table[&id].last_db_seq.is_some_and(|seq| seq > world.watermark);
        for update in &plan.updates {
            prop_assert!(!unseen(World::id_of(&update.key)));
        }
        for key in &plan.deletes {
            let id = World::id_of(key);
            prop_assert!(world.table[&id].sheet_held || !unseen(id) && world.table[&id].last_db_seq.is_some());
        }
        for &index in &plan.inserts {
            if let Some(id) = world.sheet[index].key.as_ref().map(World::id_of) {
                prop_assert!(!world.table.contains_key(&id));
                prop_assert!(world.tombstones.get(&id).is_none_or(|&seq| seq <= world.watermark));
            }
        }
    }

    /// An unsettled request writes nothing for keyed rows and deletes and
    /// re-sends nothing: only keyless rows are inserted.
    #[test]
    fn an_unsettled_plan_only_inserts_keyless_rows(world in world()) {
        let plan = world.plan_with(true);
        prop_assert!(plan.updates.is_empty() && plan.deletes.is_empty() && plan.to_sheet.is_empty(), "{:?}", plan);
        prop_assert!(plan.deferred);
        for &index in &plan.inserts {
            prop_assert!(world.sheet[index].key.is_none());
        }
        let keyed = world.sheet.iter().filter(|r| r.key.is_some()).count();
        prop_assert_eq!(plan.skipped.len(), keyed);
    }
}
