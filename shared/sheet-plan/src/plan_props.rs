//! Property: applying the one planned batchUpdate gives the same sheet as
//! applying every change on its own, in order, the obvious way (find the
//! row by key now, write it, remove it, append it). This checks coalescing,
//! keysets and the row index arithmetic of deletes together.

use proptest::prelude::*;
use serde_json::{Value as Json, json};
use sheetsync_queue::Op;
use sheetsync_reconcile::{Key, PgType};

use crate::cells::cell_for;
use crate::plan::plan;
use crate::plan_tests::{GCell, Grid, apply, batch, grid, image, obj, values, write};
use crate::wire::{FIELDS_VALUE, FIELDS_VALUE_AND_FORMAT};

const HEADER: [&str; 4] = ["name", "id", "qty", "due"];

fn pg_type(column: &str) -> PgType {
    match column {
        "id" => PgType::Int8,
        "qty" => PgType::Int4,
        "due" => PgType::Date,
        _ => PgType::Text,
    }
}

fn key_of(row: &[GCell]) -> Option<Key> {
    let cell = row.get(1).map(|c| c.v.clone()).unwrap_or(Json::Null);
    (!cell.is_null()).then(|| Key::from_json(&[cell]))
}

fn set(row: &mut Vec<GCell>, values: &serde_json::Map<String, Json>, append: bool) {
    for (name, value) in values {
        let col = HEADER.iter().position(|h| h == name).unwrap();
        if row.len() <= col {
            row.resize(col + 1, GCell::default());
        }
        let cell = cell_for(value, pg_type(name), sheetsync_reconcile::SheetZone::UTC);
        let fields = if append || cell.formatted {
            FIELDS_VALUE_AND_FORMAT
        } else {
            FIELDS_VALUE
        };
        write(
            &mut row[col],
            &serde_json::to_value(&cell.data).unwrap(),
            fields,
        );
    }
}

/// Every change on its own, in order.
fn one_by_one(g: &mut Grid, changes: &[(i64, Op)]) {
    for (_, op) in changes {
        match op {
            Op::Insert { key, values } | Op::Update { key, values } => {
                let key = Key::from_json(key);
                let mut found = false;
                for row in g.iter_mut().skip(1) {
                    if key_of(row).as_ref() == Some(&key) {
                        set(row, values, false);
                        found = true;
                    }
                }
                if !found && matches!(op, Op::Insert { .. }) {
                    let mut row = Vec::new();
                    set(&mut row, values, true);
                    g.push(row);
                }
            }
            Op::Delete { key } => {
                let key = Key::from_json(key);
                let mut i = 1;
                while i < g.len() {
                    if key_of(&g[i]).as_ref() == Some(&key) {
                        g.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            Op::Keyset { keys, from, to } => {
                let keep: Vec<Key> = keys.iter().map(|k| Key::from_json(k)).collect();
                let from = from.as_deref().map(Key::from_json);
                let to = to.as_deref().map(Key::from_json);
                let mut seen: Vec<Key> = Vec::new();
                let mut i = 1;
                while i < g.len() {
                    // Outside the set, or a second copy of a key it keeps.
                    let doomed = key_of(&g[i]).is_some_and(|k| {
                        let in_range = from.as_ref().is_none_or(|f| &k >= f)
                            && to.as_ref().is_none_or(|t| &k <= t);
                        let copy = seen.contains(&k);
                        seen.push(k.clone());
                        in_range && (!keep.contains(&k) || copy)
                    });
                    if doomed {
                        g.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            // Not generated: schema changes have tests of their own.
            Op::Schema(_) => {}
        }
    }
}

fn value() -> impl Strategy<Value = (&'static str, Json)> {
    prop_oneof![
        prop::option::of("[a-c]{1,2}").prop_map(|s| ("name", s.map_or(Json::Null, Json::from))),
        prop::option::of(0i64..50).prop_map(|n| ("qty", n.map_or(Json::Null, Json::from))),
        prop::option::of(1u32..28).prop_map(|d| (
            "due",
            d.map_or(Json::Null, |d| json!(format!("2026-02-{d:02}")))
        )),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let key = 1i64..10;
    let values = || prop::collection::vec(value(), 0..3);
    prop_oneof![
        3 => (key.clone(), values()).prop_map(|(k, v)| {
            let mut m = obj(json!({"id": k}));
            m.extend(v.into_iter().map(|(c, v)| (c.to_string(), v)));
            Op::Insert { key: vec![json!(k)], values: m }
        }),
        3 => (key.clone(), values()).prop_map(|(k, v)| Op::Update {
            key: vec![json!(k)],
            values: v.into_iter().map(|(c, v)| (c.to_string(), v)).collect(),
        }),
        2 => key.clone().prop_map(|k| Op::Delete { key: vec![json!(k)] }),
        1 => (
            prop::collection::btree_set(key.clone(), 0..6),
            prop::option::of(key.clone()),
            prop::option::of(key),
        )
            .prop_map(|(keys, from, to)| Op::Keyset {
                keys: keys.into_iter().map(|k| vec![json!(k)]).collect(),
                from: from.map(|k| vec![json!(k)]),
                to: to.map(|k| vec![json!(k)]),
            }),
    ]
}

fn sheet() -> impl Strategy<Value = Grid> {
    prop::collection::vec(prop::option::of(1i64..8), 0..9).prop_map(|keys| {
        let mut rows = vec![HEADER.iter().map(|h| json!(h)).collect::<Vec<_>>()];
        for (i, key) in keys.into_iter().enumerate() {
            rows.push(vec![
                json!(format!("r{i}")),
                key.map_or(Json::Null, Json::from),
                json!(i),
            ]);
        }
        grid(rows)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn one_batch_update_equals_the_changes_one_by_one(
        start in sheet(),
        ops in prop::collection::vec(op(), 1..25),
    ) {
        let changes: Vec<(i64, Op)> = ops.into_iter().enumerate().map(|(i, op)| (i as i64 + 1, op)).collect();
        let mut b = batch(changes.clone());
        b.columns.retain(|c| HEADER.contains(&c.name.as_str()));
        let p = plan(&image(&start, &["id"], None), &[&b]);
        let mut planned = start.clone();
        let watermark = apply(&mut planned, p.body.as_ref().unwrap());
        let mut expected = start;
        one_by_one(&mut expected, &changes);
        // A key cell the planner leaves alone stays `2` where one by one wrote `2.0`.
        let numbers = |g: &Grid| -> Vec<Vec<Json>> {
            values(g)
                .into_iter()
                .map(|r| r.into_iter().map(|v| v.as_f64().map_or(v.clone(), |n| serde_json::json!(n))).collect())
                .collect()
        };
        prop_assert_eq!(numbers(&planned), numbers(&expected));
        prop_assert_eq!(watermark, Some(changes.len().to_string()));
        // Non-empty cells carry the same number format.
        for (a, b) in planned.iter().flatten().zip(expected.iter().flatten()) {
            if !a.v.is_null() {
                prop_assert_eq!(&a.f, &b.f);
            }
        }
    }
}

/// The whole image with every row's cells dropped but `rows`': what a key
/// read followed by a row read of `rows` gives.
fn keys_and(whole: &crate::TabImage, rows: &std::collections::BTreeSet<usize>) -> crate::TabImage {
    let mut keyed = whole.clone();
    for row in &mut keyed.rows {
        if !rows.contains(&row.row_index) {
            row.cells.clear();
            row.formulas.clear();
        }
    }
    keyed
}

/// A formula in the `qty` cell of every other row, showing the last `qty`
/// the changes write for its key: the cells the planner must leave alone.
fn with_formulas(mut tab: crate::TabImage, changes: &[(i64, Op)]) -> crate::TabImage {
    let mut last: std::collections::HashMap<Key, Json> = Default::default();
    for (_, op) in changes {
        if let Op::Insert { key, values } | Op::Update { key, values } = op
            && let Some(qty) = values.get("qty")
        {
            last.insert(Key::from_json(key), qty.clone());
        }
    }
    for row in tab.rows.iter_mut().filter(|r| r.row_index % 2 == 0) {
        let key = (!row.key_cells[0].is_null()).then(|| Key::from_json(&row.key_cells));
        if let Some(shows) = key.and_then(|k| last.get(&k)) {
            row.formulas.push(crate::tab::FormulaCell {
                column: 2,
                formula: "=A1".into(),
                shows: Some(shows.clone()),
            });
        }
    }
    tab
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    /// The key read reads in full only the rows `rows_to_read` names, and
    /// the planner needs no other row's cells: it plans the same body.
    #[test]
    fn a_key_read_plans_what_a_whole_read_plans(
        start in sheet(),
        ops in prop::collection::vec(op(), 1..25),
    ) {
        let changes: Vec<(i64, Op)> = ops.into_iter().enumerate().map(|(i, op)| (i as i64 + 1, op)).collect();
        let mut b = batch(changes.clone());
        b.columns.retain(|c| HEADER.contains(&c.name.as_str()));
        let whole = with_formulas(image(&start, &["id"], None), &changes);
        let rows = crate::reads::rows_to_read(&whole, &[&b]);
        let keyed = keys_and(&whole, &rows);
        prop_assert_eq!(plan(&keyed, &[&b]), plan(&whole, &[&b]));
    }

    /// Where the plan says each key will be is where the body puts it.
    #[test]
    fn positions_after_are_where_the_body_puts_the_keys(
        start in sheet(),
        ops in prop::collection::vec(op(), 1..25),
    ) {
        let changes: Vec<(i64, Op)> = ops.into_iter().enumerate().map(|(i, op)| (i as i64 + 1, op)).collect();
        let mut b = batch(changes);
        b.columns.retain(|c| HEADER.contains(&c.name.as_str()));
        let p = plan(&image(&start, &["id"], None), &[&b]);
        let mut planned = start.clone();
        apply(&mut planned, p.body.as_ref().unwrap());
        let mut landed: std::collections::HashMap<Key, Vec<usize>> = Default::default();
        for (i, row) in planned.iter().enumerate().skip(1) {
            if let Some(key) = key_of(row) {
                landed.entry(key).or_default().push(i);
            }
        }
        let mut said = p.positions_after.clone();
        for rows in said.values_mut() {
            rows.sort_unstable();
        }
        prop_assert_eq!(said, landed);
    }
}
