//! Formulas a person typed in the tab, against the emulator: the writer
//! leaves a formula alone while it shows the table's value, and the
//! table's change of that cell replaces it.

mod common;

use common::*;
use serde_json::json;
use sheetsync_queue::Op;
use sheetsync_sheets_emulator::{Cell, CellValue, Formula, NumberFormat, NumberFormatType};

/// `qty` of key 1 is `=LEN(B2)` showing 3, `due` of key 2 a date formula
/// showing 2026-12-01 (the emulator computes neither: the seed says what
/// they show, as a recalculation in Sheets would).
fn seed_with_formulas(env: &Env) {
    env.seed(vec![
        header(),
        vec![
            json!(1),
            json!("Ada"),
            json!({"value": {"formulaValue": "=LEN(B2)"}, "effectiveValue": {"numberValue": 3}}),
        ],
        vec![json!(2), json!("Bob"), json!(2)],
    ]);
    env.emu.set_cell(
        SPREADSHEET,
        TAB,
        2,
        3,
        Cell::formula("=DATE(2026,12,1)", CellValue::Number(46357.0))
            .with_number_format(NumberFormat::new(NumberFormatType::Date, "yyyy-mm-dd")),
    );
}

fn qty_formula() -> CellValue {
    CellValue::Formula(Formula::showing("=LEN(B2)", CellValue::Number(3.0)))
}

fn due_formula() -> CellValue {
    CellValue::Formula(Formula::showing(
        "=DATE(2026,12,1)",
        CellValue::Number(46357.0),
    ))
}

fn value_at(env: &Env, row: usize, col: usize) -> CellValue {
    env.emu.cell(SPREADSHEET, TAB, row, col).unwrap().value
}

/// Sheets API operations since the last reset (token requests excluded).
fn ops(env: &Env) -> Vec<String> {
    env.emu
        .requests()
        .into_iter()
        .filter(|r| r.operation != "oauth2.token")
        .map(|r| r.operation)
        .collect()
}

#[tokio::test]
async fn a_formula_survives_a_change_of_another_column_of_its_row() {
    let env = setup().await;
    seed_with_formulas(&env);
    let b = batch(vec![(1, upd(1, json!({"id": 1, "name": "Adam"})))]);
    let out = env.apply(&[message("m1", &b)]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(value_at(&env, 1, 1), CellValue::Text("Adam".into()));
    assert_eq!(value_at(&env, 1, 2), qty_formula());
    assert_eq!(value_at(&env, 2, 3), due_formula());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Adam", 3],
            [2, "Bob", 2, 46357]
        ]))
    );
    assert_eq!(env.watermark().as_deref(), Some("1"));
}

#[tokio::test]
async fn a_push_of_the_table_leaves_formulas_that_show_its_values() {
    let env = setup().await;
    seed_with_formulas(&env);
    // The tab's first batch creates its journal (one read more).
    let b = batch(vec![(1, upd(2, json!({"id": 2, "name": "Bob"})))]);
    assert_eq!(
        env.apply(&[message("m1", &b)]).await.failed,
        Vec::<String>::new()
    );
    env.emu.reset_log();
    // What `POST /sync_gsheet` queues: every row whole, then the key set.
    let push = batch(vec![
        (
            2,
            ins(1, json!({"id": 1, "name": "Ada", "qty": 3, "due": null})),
        ),
        (
            3,
            ins(
                2,
                json!({"id": 2, "name": "Bob", "qty": 2, "due": "2026-12-01"}),
            ),
        ),
        (
            4,
            Op::Keyset {
                keys: vec![vec![json!(1)], vec![json!(2)]],
                from: None,
                to: None,
            },
        ),
    ]);
    let out = env.apply(&[message("m2", &push)]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(value_at(&env, 1, 2), qty_formula());
    assert_eq!(value_at(&env, 2, 3), due_formula());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 3],
            [2, "Bob", 2, 46357]
        ]))
    );
    assert_eq!(out.stats.formulas_kept, 2);
    // Reading the formulas costs no request: one read, one write.
    assert_eq!(
        ops(&env),
        vec!["spreadsheets.get", "spreadsheets.batchUpdate"]
    );
    assert_eq!(env.watermark().as_deref(), Some("4"));
}

#[tokio::test]
async fn the_tables_change_of_a_formula_cell_replaces_the_formula() {
    let env = setup().await;
    seed_with_formulas(&env);
    let b = batch(vec![
        (1, upd(1, json!({"id": 1, "qty": 5}))),
        (2, upd(2, json!({"id": 2, "due": null}))),
    ]);
    let out = env.apply(&[message("m1", &b)]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(value_at(&env, 1, 2), CellValue::Number(5.0));
    assert_eq!(value_at(&env, 2, 3), CellValue::Empty);
    assert_eq!(out.stats.formulas_kept, 0);
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 5],
            [2, "Bob", 2]
        ]))
    );
}
