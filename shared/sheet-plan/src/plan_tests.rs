//! Planner tests: each plan is applied to an in-memory grid by `apply`, which
//! follows the Sheets API's semantics for the requests used (sequential
//! application, field masks, descending deletes), and the resulting grid is
//! compared cell by cell.

use serde_json::{Value as Json, json};
use sheetsync_queue::{ChangeBatch, ColumnType, Op, RowChange, VERSION};
use sheetsync_reconcile::PgType;

use crate::plan::{journaled_plan, plan};
use crate::tab::{TabImage, TabRow, Watermark};
use crate::wire::BatchUpdate;

/// A grid cell: its value and number format type.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct GCell {
    pub v: Json,
    pub f: Option<String>,
}

pub(crate) type Grid = Vec<Vec<GCell>>;

pub(crate) fn grid(rows: Vec<Vec<Json>>) -> Grid {
    rows.into_iter()
        .map(|r| r.into_iter().map(|v| GCell { v, f: None }).collect())
        .collect()
}

pub(crate) fn values(g: &Grid) -> Vec<Vec<Json>> {
    g.iter()
        .map(|r| {
            let mut r: Vec<Json> = r.iter().map(|c| c.v.clone()).collect();
            while r.last() == Some(&Json::Null) {
                r.pop();
            }
            r
        })
        .collect()
}

/// The tab image `read_tab` would return for `g` (header in row 0).
pub(crate) fn image(g: &Grid, keys: &[&str], watermark: Option<(i32, i64)>) -> TabImage {
    let header: Vec<String> = g
        .first()
        .map(|r| {
            r.iter()
                .map(|c| c.v.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    let idx: Vec<usize> = keys
        .iter()
        .map(|k| header.iter().position(|h| h == k).unwrap())
        .collect();
    TabImage {
        sheet_id: 5,
        title: "Orders".into(),
        rows: g
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, r)| TabRow {
                row_index: i,
                key_cells: idx
                    .iter()
                    .map(|&c| r.get(c).map_or(Json::Null, |c| c.v.clone()))
                    .collect(),
                cells: {
                    let mut cells: Vec<Json> = r.iter().map(|c| c.v.clone()).collect();
                    while cells.last() == Some(&Json::Null) {
                        cells.pop();
                    }
                    cells
                },
                formulas: Vec::new(),
            })
            .collect(),
        row_end: g.len(),
        column_count: header.len(),
        header,
        watermark: watermark.map(|(metadata_id, seq)| Watermark { metadata_id, seq }),
        key_index: idx,
        journal: None,
        zone: sheetsync_reconcile::SheetZone::UTC,
        locale: sheetsync_reconcile::SheetLocale::UNKNOWN,
    }
}

pub(crate) fn cell_of(data: &Json) -> GCell {
    let v = data
        .get("userEnteredValue")
        .and_then(|v| v.as_object())
        .and_then(|o| o.values().next().cloned())
        .unwrap_or(Json::Null);
    let f = data
        .pointer("/userEnteredFormat/numberFormat/type")
        .and_then(|t| t.as_str())
        .map(str::to_string);
    GCell { v, f }
}

pub(crate) fn write(target: &mut GCell, data: &Json, fields: &str) {
    let new = cell_of(data);
    target.v = new.v;
    if fields.contains("userEnteredFormat.numberFormat") {
        target.f = new.f;
    }
}

/// Applies a batchUpdate body to `g` as the Sheets API does; returns the
/// watermark metadata value it sets.
pub(crate) fn apply(g: &mut Grid, body: &BatchUpdate) -> Option<String> {
    let body = serde_json::to_value(body).unwrap();
    let mut watermark = None;
    for req in body["requests"].as_array().unwrap() {
        let (kind, r) = req.as_object().unwrap().iter().next().unwrap();
        match kind.as_str() {
            "updateCells" => {
                let row = r["start"]["rowIndex"].as_u64().unwrap() as usize;
                let col = r["start"]["columnIndex"].as_u64().unwrap() as usize;
                let fields = r["fields"].as_str().unwrap();
                for (dr, rd) in r["rows"].as_array().unwrap().iter().enumerate() {
                    for (dc, data) in rd["values"].as_array().unwrap().iter().enumerate() {
                        let line = &mut g[row + dr];
                        if line.len() <= col + dc {
                            line.resize(col + dc + 1, GCell::default());
                        }
                        write(&mut line[col + dc], data, fields);
                    }
                }
            }
            "deleteDimension" => {
                let range = &r["range"];
                assert_eq!(range["dimension"], "ROWS");
                let start = range["startIndex"].as_u64().unwrap() as usize;
                let end = range["endIndex"].as_u64().unwrap() as usize;
                assert!(
                    end <= g.len(),
                    "delete {start}..{end} beyond {} rows",
                    g.len()
                );
                g.drain(start..end);
            }
            "appendCells" => {
                let fields = r["fields"].as_str().unwrap();
                let last = g.iter().rposition(|r| r.iter().any(|c| c.v != Json::Null));
                g.truncate(last.map_or(0, |l| l + 1));
                for rd in r["rows"].as_array().unwrap() {
                    let mut line = Vec::new();
                    for data in rd["values"].as_array().unwrap() {
                        let mut c = GCell::default();
                        write(&mut c, data, fields);
                        line.push(c);
                    }
                    g.push(line);
                }
            }
            "createDeveloperMetadata" => {
                let m = &r["developerMetadata"];
                assert_eq!(m["metadataKey"], "sheetsync.watermark");
                assert_eq!(m["location"]["sheetId"], 5);
                watermark = m["metadataValue"].as_str().map(str::to_string);
            }
            "updateDeveloperMetadata" => {
                assert_eq!(r["fields"], "metadataValue");
                watermark = r["developerMetadata"]["metadataValue"]
                    .as_str()
                    .map(str::to_string);
            }
            other => panic!("unexpected request {other}"),
        }
    }
    watermark
}

pub(crate) fn columns() -> Vec<ColumnType> {
    [
        ("id", PgType::Int8),
        ("name", PgType::Text),
        ("qty", PgType::Int4),
        ("due", PgType::Date),
        ("paid", PgType::Bool),
        ("at", PgType::Timestamptz),
    ]
    .into_iter()
    .map(|(n, t)| ColumnType {
        name: n.into(),
        pg_type: t,
    })
    .collect()
}

pub(crate) fn batch(changes: Vec<(i64, Op)>) -> ChangeBatch {
    ChangeBatch {
        v: VERSION,
        binding: "orders".into(),
        spreadsheet_id: "S".into(),
        sheet: "Orders".into(),
        key_columns: vec!["id".into()],
        columns: columns(),
        changes: changes
            .into_iter()
            .map(|(seq, op)| RowChange {
                seq,
                committed_at: "2026-11-25T13:35:00Z".into(),
                op,
            })
            .collect(),
    }
}

pub(crate) fn obj(v: Json) -> serde_json::Map<String, Json> {
    v.as_object().unwrap().clone()
}
fn ins(id: i64, v: Json) -> Op {
    Op::Insert {
        key: vec![json!(id)],
        values: obj(v),
    }
}
fn upd(id: i64, v: Json) -> Op {
    Op::Update {
        key: vec![json!(id)],
        values: obj(v),
    }
}
fn del(id: i64) -> Op {
    Op::Delete {
        key: vec![json!(id)],
    }
}

fn orders() -> Grid {
    grid(vec![
        vec![json!("id"), json!("name"), json!("qty"), json!("due")],
        vec![json!(1), json!("Ada"), json!(1)],
        vec![json!(2), json!("Bob"), json!(2)],
        vec![json!(3), json!("Cy"), json!(3)],
        vec![json!(4), json!("Di"), json!(4)],
        vec![json!(5), json!("Ed"), json!(5)],
    ])
}

#[test]
fn updates_write_only_the_cells_a_change_carries() {
    let mut g = orders();
    let b = batch(vec![
        (10, upd(2, json!({"id": 2, "qty": 20}))),
        (
            11,
            upd(4, json!({"id": 4, "name": null, "due": "2026-12-01"})),
        ),
        (12, upd(2, json!({"id": 2, "qty": 21}))),
    ]);
    let p = plan(&image(&g, &["id"], None), &[&b]);
    let body = p.body.unwrap();
    assert_eq!(apply(&mut g, &body).as_deref(), Some("12"));
    assert_eq!(
        values(&g),
        vec![
            vec![json!("id"), json!("name"), json!("qty"), json!("due")],
            vec![json!(1), json!("Ada"), json!(1)],
            // key cells are never rewritten on rows already there
            vec![json!(2), json!("Bob"), json!(21.0)],
            vec![json!(3), json!("Cy"), json!(3)],
            vec![json!(4), Json::Null, json!(4), json!(46357.0)],
            vec![json!(5), json!("Ed"), json!(5)],
        ]
    );
    assert_eq!(g[4][3].f.as_deref(), Some("DATE"));
    assert_eq!(g[4][1].f, None);
    // Key cells are not rewritten. Row 2: qty. Row 4: name, then due with
    // its format: two runs.
    let json = serde_json::to_value(&body).unwrap();
    let kinds: Vec<&str> = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "updateCells",
            "updateCells",
            "updateCells",
            "createDeveloperMetadata"
        ]
    );
    assert_eq!(
        json["requests"][2]["updateCells"],
        json!({"start": {"sheetId": 5, "rowIndex": 4, "columnIndex": 3},
               "rows": [{"values": [{"userEnteredValue": {"numberValue": 46357.0},
                   "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}}]}],
               "fields": "userEnteredValue,userEnteredFormat.numberFormat"})
    );
    assert_eq!((p.stats.rows_updated, p.stats.cells_written), (2, 3));
}

#[test]
fn inserts_append_absent_keys_and_set_present_ones() {
    let mut g = orders();
    let b = batch(vec![
        (
            1,
            ins(
                7,
                json!({"id": 7, "name": "Gus", "qty": 7, "due": null, "paid": true}),
            ),
        ),
        (
            2,
            ins(
                3,
                json!({"id": 3, "name": "Cyd", "qty": 30, "due": "2026-01-02"}),
            ),
        ),
        (
            3,
            ins(
                6,
                json!({"due": "2026-12-01", "id": 6, "name": "Fay", "qty": 6}),
            ),
        ),
        (4, upd(7, json!({"id": 7, "qty": 70}))),
    ]);
    let p = plan(&image(&g, &["id"], Some((9, 0))), &[&b]);
    assert_eq!(
        apply(&mut g, p.body.as_ref().unwrap()).as_deref(),
        Some("4")
    );
    assert_eq!(
        values(&g)[3..],
        [
            // the key cell of a row already there is left as it was
            vec![json!(3), json!("Cyd"), json!(30.0), json!(46024.0)],
            vec![json!(4), json!("Di"), json!(4)],
            vec![json!(5), json!("Ed"), json!(5)],
            vec![json!(7.0), json!("Gus"), json!(70.0)],
            vec![json!(6.0), json!("Fay"), json!(6.0), json!(46357.0)],
        ]
    );
    assert_eq!(g[7][3].f.as_deref(), Some("DATE"));
    assert_eq!(
        p.stats.unknown_columns.iter().collect::<Vec<_>>(),
        vec!["paid"]
    );
    assert_eq!((p.stats.rows_appended, p.stats.rows_updated), (2, 1));
}

#[test]
fn deletes_run_highest_first_after_updates_so_indexes_hold() {
    let mut g = orders();
    let b = batch(vec![
        (1, del(2)),
        (2, upd(5, json!({"qty": 50}))),
        (3, del(4)),
        (4, del(3)),
        (5, del(99)),
        (6, upd(1, json!({"qty": 10}))),
        (7, upd(99, json!({"qty": 1}))),
    ]);
    let p = plan(&image(&g, &["id"], None), &[&b]);
    let body = p.body.unwrap();
    let json = serde_json::to_value(&body).unwrap();
    // Rows 2..5 go as one range; updates on rows 1 and 5 come first.
    assert_eq!(
        json["requests"][2],
        json!({"deleteDimension": {"range": {"sheetId": 5, "dimension": "ROWS", "startIndex": 2, "endIndex": 5}}})
    );
    apply(&mut g, &body);
    assert_eq!(
        values(&g),
        vec![
            vec![json!("id"), json!("name"), json!("qty"), json!("due")],
            vec![json!(1), json!("Ada"), json!(10.0)],
            vec![json!(5), json!("Ed"), json!(50.0)],
        ]
    );
    assert_eq!((p.stats.rows_deleted, p.stats.skipped_updates), (3, 1));
}

#[test]
fn separate_deletes_keep_each_others_indexes() {
    let mut g = orders();
    let b = batch(vec![(1, del(1)), (2, del(5)), (3, del(3))]);
    let p = plan(&image(&g, &["id"], None), &[&b]);
    let json = serde_json::to_value(p.body.as_ref().unwrap()).unwrap();
    let starts: Vec<u64> = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.pointer("/deleteDimension/range/startIndex"))
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(starts, vec![5, 3, 1]);
    apply(&mut g, p.body.as_ref().unwrap());
    let ids: Vec<Json> = values(&g).iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, vec![json!("id"), json!(2), json!(4)]);
}

#[test]
fn insert_then_delete_never_reaches_the_sheet_and_delete_then_insert_moves_the_row() {
    let mut g = orders();
    let b = batch(vec![
        (1, ins(8, json!({"id": 8, "name": "Hal"}))),
        (2, del(8)),
        (3, del(2)),
        (4, ins(2, json!({"id": 2, "name": "Bea", "qty": 9}))),
    ]);
    let p = plan(&image(&g, &["id"], None), &[&b]);
    apply(&mut g, p.body.as_ref().unwrap());
    let ids: Vec<Json> = values(&g).iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        ids,
        vec![
            json!("id"),
            json!(1),
            json!(3),
            json!(4),
            json!(5),
            json!(2.0)
        ]
    );
    assert_eq!(values(&g)[5], vec![json!(2.0), json!("Bea"), json!(9.0)]);
}

#[test]
fn a_push_leaves_one_row_per_key() {
    // Key 2 twice (once with another row's values), key 3 with a misplaced
    // name, a row typed without a key: the push writes every row and its
    // keyset removes the extra copy; the keyless row stays.
    let mut g = grid(vec![
        vec![json!("name"), json!("id")],
        vec![json!("a"), json!(1)],
        vec![json!("b"), json!(2)],
        vec![json!("typed, no key yet"), Json::Null],
        vec![json!("b?"), json!(3)],
        vec![json!("c"), json!(2)],
    ]);
    let b = batch(vec![
        (1, ins(1, json!({"id": 1, "name": "a"}))),
        (2, ins(2, json!({"id": 2, "name": "b"}))),
        (3, ins(3, json!({"id": 3, "name": "c"}))),
        (
            4,
            Op::Keyset {
                keys: vec![vec![json!(1)], vec![json!(2)], vec![json!(3)]],
                from: None,
                to: None,
            },
        ),
    ]);
    let p = plan(&image(&g, &["id"], None), &[&b]);
    apply(&mut g, p.body.as_ref().unwrap());
    assert_eq!(
        values(&g),
        vec![
            vec![json!("name"), json!("id")],
            vec![json!("a"), json!(1)],
            vec![json!("b"), json!(2)],
            vec![json!("typed, no key yet")],
            vec![json!("c"), json!(3)],
        ]
    );
    assert_eq!(p.stats.rows_deleted, 1);
}

#[test]
fn keyset_removes_rows_outside_the_set_within_its_range_only() {
    let mut g = grid(vec![
        vec![json!("name"), json!("id")],
        vec![json!("a"), json!(1)],
        vec![json!("typed, no key yet"), Json::Null],
        vec![json!("typo"), json!("4x")],
        vec![json!("b"), json!(2)],
        vec![json!("c"), json!(3)],
        vec![json!("j"), json!(10)],
        vec![json!("k"), json!(11)],
        vec![json!("z"), json!(30)],
    ]);
    let keyset = Op::Keyset {
        keys: vec![vec![json!(1)], vec![json!(3)], vec![json!(4)]],
        from: Some(vec![json!(1)]),
        to: Some(vec![json!(10)]),
    };
    let b = batch(vec![
        (1, ins(4, json!({"id": 4, "name": "d"}))),
        (2, ins(9, json!({"id": 9, "name": "gone"}))),
        (3, keyset),
        (4, ins(5, json!({"id": 5, "name": "e"}))),
    ]);
    let p = plan(&image(&g, &["id"], None), &[&b]);
    apply(&mut g, p.body.as_ref().unwrap());
    // 2, 10 and the appended 9 go (10 is in range: numeric order); 11 and 30
    // lie beyond `to`; the keyless row and the one whose key is no integer
    // stay; 5 arrives after the keyset.
    assert_eq!(
        values(&g),
        vec![
            vec![json!("name"), json!("id")],
            vec![json!("a"), json!(1)],
            vec![json!("typed, no key yet")],
            vec![json!("typo"), json!("4x")],
            vec![json!("c"), json!(3)],
            vec![json!("k"), json!(11)],
            vec![json!("z"), json!(30)],
            vec![json!("d"), json!(4.0)],
            vec![json!("e"), json!(5.0)],
        ]
    );
    assert_eq!((p.stats.rows_deleted, p.stats.rows_appended), (2, 2));
}

#[test]
fn changes_at_or_below_the_watermark_are_skipped() {
    let g = orders();
    let b = batch(vec![
        (40, upd(1, json!({"qty": 9}))),
        (41, upd(2, json!({"qty": 9}))),
    ]);
    let p = plan(&image(&g, &["id"], Some((3, 41))), &[&b]);
    assert_eq!(p.body, None);
    assert_eq!((p.stats.changes, p.stats.stale), (2, 2));

    let mut g = orders();
    let b2 = batch(vec![(42, upd(2, json!({"qty": 8})))]);
    let p = plan(&image(&g, &["id"], Some((3, 41))), &[&b, &b2]);
    let body = p.body.unwrap();
    let json = serde_json::to_value(&body).unwrap();
    assert_eq!(
        json["requests"][1],
        json!({"updateDeveloperMetadata": {"dataFilters": [{"developerMetadataLookup": {"metadataId": 3}}],
               "developerMetadata": {"metadataValue": "42"}, "fields": "metadataValue"}})
    );
    apply(&mut g, &body);
    assert_eq!(values(&g)[1], vec![json!(1), json!("Ada"), json!(1)]);
    assert_eq!(values(&g)[2], vec![json!(2), json!("Bob"), json!(8.0)]);
    assert_eq!((p.stats.stale, p.stats.watermark), (2, Some(42)));
}

#[test]
fn typed_cells_keep_their_type() {
    let mut g = grid(vec![vec![
        json!("id"),
        json!("name"),
        json!("qty"),
        json!("due"),
        json!("paid"),
        json!("at"),
    ]]);
    let b = batch(vec![(
        1,
        ins(
            1,
            json!({"id": 1, "name": "=1+1", "qty": null, "due": "2026-12-01",
                      "paid": false, "at": "2026-12-01T12:00:00+00:00"}),
        ),
    )]);
    let p = plan(&image(&g, &["id"], None), &[&b]);
    apply(&mut g, p.body.as_ref().unwrap());
    let row = &g[1];
    assert_eq!(row[0].v, json!(1.0));
    assert_eq!(row[1].v, json!("=1+1"));
    assert_eq!(row[2], GCell::default());
    assert_eq!(
        (row[3].v.clone(), row[3].f.as_deref()),
        (json!(46357.0), Some("DATE"))
    );
    assert_eq!(row[4].v, json!(false));
    assert_eq!(
        (row[5].v.clone(), row[5].f.as_deref()),
        (json!(46357.5), Some("DATE_TIME"))
    );
}

#[test]
fn an_empty_tab_gets_the_header_then_the_rows() {
    let mut g: Grid = Vec::new();
    let tab = TabImage {
        sheet_id: 5,
        title: "Orders".into(),
        header: vec![],
        rows: vec![],
        row_end: 0,
        column_count: 0,
        watermark: None,
        key_index: vec![],
        journal: None,
        zone: sheetsync_reconcile::SheetZone::UTC,
        locale: sheetsync_reconcile::SheetLocale::UNKNOWN,
    };
    let b = batch(vec![
        (1, ins(1, json!({"id": 1, "name": "a"}))),
        (2, upd(2, json!({"qty": 1}))),
    ]);
    let p = plan(&tab, &[&b]);
    apply(&mut g, p.body.as_ref().unwrap());
    assert_eq!(
        values(&g),
        vec![
            vec![
                json!("id"),
                json!("name"),
                json!("qty"),
                json!("due"),
                json!("paid"),
                json!("at")
            ],
            vec![json!(1.0), json!("a")],
        ]
    );
    assert!(p.stats.header_written);
}

#[test]
fn sheet_keys_match_table_keys_canonically() {
    // The sheet holds 42 as a float, a composite key, and a keyless row.
    let mut g = grid(vec![
        vec![json!("region"), json!("id"), json!("qty")],
        vec![json!("eu"), json!(42.0), json!(1)],
        vec![json!("us"), json!(42.0), json!(2)],
    ]);
    let mut b = batch(vec![(
        1,
        Op::Update {
            key: vec![json!("us"), json!(42)],
            values: obj(json!({"qty": 5})),
        },
    )]);
    b.key_columns = vec!["region".into(), "id".into()];
    let p = plan(&image(&g, &["region", "id"], None), &[&b]);
    apply(&mut g, p.body.as_ref().unwrap());
    assert_eq!(g[1][2].v, json!(1));
    assert_eq!(g[2][2].v, json!(5.0));
}

#[test]
fn a_repair_writes_again_only_what_the_missed_writes_meant() {
    use crate::journal::{Entry, EntryOp, Journal, JournalCell};
    // The write meant for key 2 (qty 70) landed on the row holding key 3.
    let mut g = orders();
    g[3][2].v = json!(70);
    let cell = |v: Json| JournalCell {
        value: v.clone(),
        data: crate::wire::CellData {
            user_entered_value: Some(match &v {
                Json::String(s) => crate::wire::ExtendedValue::StringValue(s.clone()),
                n => crate::wire::ExtendedValue::NumberValue(n.as_f64().unwrap()),
            }),
            user_entered_format: None,
        },
    };
    let missed = |op: EntryOp| Entry {
        op,
        expected: vec![json!(2)],
        row: 2,
        link: None,
        columns: if op == EntryOp::Update {
            vec![2]
        } else {
            vec![]
        },
        before: vec![cell(json!(3)), cell(json!("Cy")), cell(json!(3))],
        after: vec![cell(json!(3)), cell(json!("Cy")), cell(json!(70))],
    };
    let journal = |op| Journal {
        prev_watermark: 5,
        watermark: 10,
        key_index: vec![0],
        width: 3,
        entries: vec![missed(op)],
        ..Journal::default()
    };
    // Seq 7, the change that write carried, is redelivered with seq 8,
    // a later value of the same cell that landed before: neither is
    // written again (the tab is stamped 10); the missed write is made
    // again from the journal, whatever messages are in hand.
    let b = batch(vec![
        (7, upd(2, json!({"qty": 70}))),
        (8, upd(2, json!({"qty": 80}))),
    ]);
    let tab = image(&g, &["id"], Some((9, 10)));
    let p = journaled_plan(&tab, &[&b], "g".into(), Some(journal(EntryOp::Update)));
    assert_eq!(
        (p.stats.rows_updated, p.stats.rows_restored, p.stats.stale),
        (1, 1, 2)
    );
    let tab_writes = |p: &crate::plan::Plan| -> Vec<(usize, usize, Json)> {
        let body = serde_json::to_value(p.body.as_ref().unwrap()).unwrap();
        body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.get("updateCells"))
            .filter(|u| u["start"]["sheetId"] == json!(5))
            .map(|u| {
                (
                    u["start"]["rowIndex"].as_u64().unwrap() as usize,
                    u["start"]["columnIndex"].as_u64().unwrap() as usize,
                    u["rows"][0]["values"][0]["userEnteredValue"].clone(),
                )
            })
            .collect()
    };
    // Key 3's row put back first, then key 2's missed write made again.
    assert_eq!(
        tab_writes(&p),
        vec![
            (3, 2, json!({"numberValue": 3.0})),
            (2, 2, json!({"numberValue": 70.0}))
        ]
    );
    // Only a fix of key 2 (undoing an earlier miss) missed: key 2's
    // changes landed before and are not written again.
    let p = journaled_plan(&tab, &[&b], "g".into(), Some(journal(EntryOp::Fix)));
    assert_eq!(p.stats.stale, 2);
    assert_eq!(tab_writes(&p), vec![(3, 2, json!({"numberValue": 3.0}))]);
}

/// Marks grid cells of `tab` as formulas showing what the grid holds there
/// (an error where `shows` is `None`).
fn with_formulas(mut tab: TabImage, formulas: &[(usize, usize, &str, Option<Json>)]) -> TabImage {
    for (row, column, formula, shows) in formulas {
        let read = tab.rows.iter_mut().find(|r| r.row_index == *row).unwrap();
        read.formulas.push(crate::tab::FormulaCell {
            column: *column,
            formula: formula.to_string(),
            shows: shows.clone(),
        });
    }
    tab
}

/// The `updateCells` of a body on the tab: (row, column, the values written).
fn cell_writes(body: &BatchUpdate) -> Vec<(usize, usize, Vec<Json>)> {
    let body = serde_json::to_value(body).unwrap();
    body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.get("updateCells"))
        .filter(|u| u["start"]["sheetId"] == json!(5))
        .map(|u| {
            (
                u["start"]["rowIndex"].as_u64().unwrap() as usize,
                u["start"]["columnIndex"].as_u64().unwrap() as usize,
                u["rows"][0]["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.get("userEnteredValue").cloned().unwrap_or(Json::Null))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_formula_showing_the_tables_value_is_not_written() {
    let mut g = grid(vec![
        vec![json!("id"), json!("name"), json!("qty"), json!("due")],
        vec![json!(1), json!("Ada"), json!(1)],
        vec![json!(2), json!("Bob"), json!(2), json!(46357)],
        vec![json!(3), json!("Cy"), json!(3)],
        vec![json!(4), json!("Di"), json!(4)],
        vec![json!(5), Json::Null, json!(5)],
    ]);
    let tab = with_formulas(
        image(&g, &["id"], None),
        &[
            (1, 2, "=0+1", Some(json!(1))),
            (2, 3, "=DATE(2026,12,1)", Some(json!(46357))),
            (3, 2, "=1+2", Some(json!(3))),
            (4, 2, "=2*2", Some(json!(4))),
            (5, 1, "=1/0", None),
        ],
    );
    let b = batch(vec![
        // A whole row (a push): the formula's cell is left, the rest written.
        (
            1,
            ins(1, json!({"id": 1, "name": "Ada", "qty": 1, "due": null})),
        ),
        // A date equal to what the formula shows.
        (2, upd(2, json!({"id": 2, "due": "2026-12-01"}))),
        // The table changed the cell: its value replaces the formula.
        (3, upd(3, json!({"id": 3, "qty": 30}))),
        // Changed and changed back within the batch: nothing changed.
        (4, upd(4, json!({"id": 4, "qty": 40}))),
        (5, upd(4, json!({"id": 4, "qty": 4}))),
        // A formula showing an error shows nothing the table holds.
        (6, upd(5, json!({"id": 5, "name": null}))),
    ]);
    let p = plan(&tab, &[&b]);
    let body = p.body.unwrap();
    assert_eq!(
        cell_writes(&body),
        vec![
            (1, 1, vec![json!({"stringValue": "Ada"})]),
            (1, 3, vec![Json::Null]),
            (3, 2, vec![json!({"numberValue": 30.0})]),
            (5, 1, vec![Json::Null]),
        ]
    );
    apply(&mut g, &body);
    assert_eq!(
        values(&g),
        vec![
            vec![json!("id"), json!("name"), json!("qty"), json!("due")],
            vec![json!(1), json!("Ada"), json!(1)],
            vec![json!(2), json!("Bob"), json!(2), json!(46357)],
            vec![json!(3), json!("Cy"), json!(30.0)],
            vec![json!(4), json!("Di"), json!(4)],
            vec![json!(5), Json::Null, json!(5)],
        ]
    );
    assert_eq!(
        (
            p.stats.formulas_kept,
            p.stats.rows_updated,
            p.stats.cells_written
        ),
        (3, 3, 4)
    );
}

#[test]
fn a_formula_equal_at_the_sheets_precision_is_kept() {
    use crate::cells::cell_for;
    use crate::wire::ExtendedValue;
    // The formula shows the instant to the millisecond, the table holds
    // microseconds; the text formula shows a number the text column holds.
    let at = |v: &str| match cell_for(
        &json!(v),
        PgType::Timestamptz,
        sheetsync_reconcile::SheetZone::UTC,
    )
    .data
    .user_entered_value
    {
        Some(ExtendedValue::NumberValue(serial)) => json!(serial),
        other => panic!("a date-time is a serial, got {other:?}"),
    };
    let shown = at("2026-01-01T00:01:07.123+00:00");
    let g = grid(vec![
        vec![json!("id"), json!("name"), json!("at")],
        vec![json!(1), json!(7), shown.clone()],
    ]);
    let tab = with_formulas(
        image(&g, &["id"], None),
        &[
            (1, 1, "=3+4", Some(json!(7))),
            (1, 2, "=NOW()", Some(shown)),
        ],
    );
    let b = batch(vec![(
        1,
        upd(
            1,
            json!({"id": 1, "name": "7", "at": "2026-01-01T00:01:07.123456+00:00"}),
        ),
    )]);
    let p = plan(&tab, &[&b]);
    assert_eq!(cell_writes(p.body.as_ref().unwrap()), vec![]);
    assert_eq!((p.stats.formulas_kept, p.stats.rows_updated), (2, 0));

    // A millisecond later is the table's change.
    let b = batch(vec![(
        1,
        upd(1, json!({"id": 1, "at": "2026-01-01T00:01:07.124+00:00"})),
    )]);
    let p = plan(&tab, &[&b]);
    assert_eq!(
        cell_writes(p.body.as_ref().unwrap()),
        vec![(
            1,
            2,
            vec![json!({"numberValue": at("2026-01-01T00:01:07.124+00:00")})]
        )]
    );
    assert_eq!(p.stats.formulas_kept, 0);
}

#[test]
fn a_repair_does_not_write_over_a_formula_showing_what_it_meant() {
    use crate::journal::{Entry, EntryOp, Journal, JournalCell};
    // The write meant for key 2 (qty 70) landed on the row holding key 3;
    // key 2's qty is a formula that shows 70 by now.
    let mut g = orders();
    g[3][2].v = json!(70);
    g[2][2].v = json!(70);
    let cell = |v: Json| JournalCell {
        value: v.clone(),
        data: crate::wire::CellData {
            user_entered_value: Some(match &v {
                Json::String(s) => crate::wire::ExtendedValue::StringValue(s.clone()),
                n => crate::wire::ExtendedValue::NumberValue(n.as_f64().unwrap()),
            }),
            user_entered_format: None,
        },
    };
    let journal = Journal {
        prev_watermark: 5,
        watermark: 10,
        key_index: vec![0],
        width: 3,
        entries: vec![Entry {
            op: EntryOp::Update,
            expected: vec![json!(2)],
            row: 2,
            link: None,
            columns: vec![2],
            before: vec![cell(json!(3)), cell(json!("Cy")), cell(json!(3))],
            after: vec![cell(json!(3)), cell(json!("Cy")), cell(json!(70))],
        }],
        ..Journal::default()
    };
    let tab = with_formulas(
        image(&g, &["id"], Some((9, 10))),
        &[(2, 2, "=7*10", Some(json!(70)))],
    );
    // The change the missed write carried, redelivered: stale (the tab is stamped 10).
    let b = batch(vec![(7, upd(2, json!({"qty": 70})))]);
    let p = journaled_plan(&tab, &[&b], "g".into(), Some(journal));
    // Key 3's row is put back; key 2's missed write is not made again.
    assert_eq!(
        cell_writes(p.body.as_ref().unwrap()),
        vec![(3, 2, vec![json!({"numberValue": 3.0})])]
    );
    assert_eq!(
        (p.stats.formulas_kept, p.stats.rows_restored, p.stats.stale),
        (1, 1, 1)
    );
}
