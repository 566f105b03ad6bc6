//! A person moves rows in the instant between the writer's read and its
//! write (the emulator applies the person's operation just before the
//! batchUpdate lands, every time). Whatever the operation, every change
//! must end on its own row, no other row may lose a cell, no row may be
//! removed that the batch did not remove, and the journal must end settled.

mod common;

use common::*;
use serde_json::{Value as Json, json};
use sheetsync_queue::Op;
use sheetsync_sheets::journal::{EntryOp, Journal, journal_title};
use sheetsync_sheets::repair::RESTORES_PER_ROUND;
use sheetsync_sheets_emulator::Cell;

/// Five keyed rows and one a person typed without a key yet.
fn tab() -> Vec<Vec<Json>> {
    vec![
        header(),
        vec![json!(1), json!("Ada"), json!(1)],
        vec![json!(2), json!("Bob"), json!(2)],
        vec![json!(3), json!("Cy"), json!(3)],
        vec![json!(4), json!("Di"), json!(4)],
        vec![json!(5), json!("Ed"), json!(5)],
        vec![Json::Null, json!("typed"), json!(9)],
    ]
}

/// The batch under test: an update of 2, a delete of 4, an insert of 7.
fn changes() -> Vec<(i64, Op)> {
    vec![
        (2, upd(2, json!({"id": 2, "qty": 20}))),
        (3, del(4)),
        (4, ins(7, json!({"id": 7, "name": "Gus", "qty": 7}))),
    ]
}

/// What the tab must hold afterwards, as a set of rows.
fn expected() -> Vec<Vec<Json>> {
    sorted(expect(json!([
        [1, "Ada", 1],
        [2, "Bob", 20],
        [3, "Cy", 3],
        [5, "Ed", 5],
        [7, "Gus", 7],
        [null, "typed", 9]
    ])))
}

fn sorted(mut rows: Vec<Vec<Json>>) -> Vec<Vec<Json>> {
    rows.retain(|r| !r.is_empty());
    rows.sort_by_key(|r| r.iter().map(Json::to_string).collect::<Vec<_>>());
    rows
}

fn journal(env: &Env) -> Journal {
    let title = journal_title(TAB);
    let rows = env.emu.rows(SPREADSHEET, &title);
    assert!(!rows.is_empty(), "the tab has a journal");
    // Read back as the writer reads it: through the API's JSON.
    let cells: Vec<Json> = rows
        .into_iter()
        .map(|r| {
            json!({"values": r.into_iter().map(|v| match v {
                Json::Null => json!({}),
                Json::String(s) if s.is_empty() => json!({}),
                Json::String(s) => json!({"effectiveValue": {"stringValue": s}}),
                Json::Bool(b) => json!({"effectiveValue": {"boolValue": b}}),
                n => json!({"effectiveValue": {"numberValue": n}}),
            }).collect::<Vec<_>>()})
        })
        .collect();
    let sheet = serde_json::from_value(json!({
        "properties": {"sheetId": 1, "title": title},
        "data": [{"rowData": cells}]
    }))
    .unwrap();
    Journal::from_sheet(&sheet)
}

/// Runs the batch with `person` acting in its read → write window; returns
/// how many writes the writer found misplaced.
async fn race(person: impl FnOnce(&mut Vec<Vec<Cell>>) + Send + 'static) -> (Env, usize) {
    let env = setup().await;
    env.seed(tab());
    // The tab's journal exists (its first batch made it).
    let first = batch(vec![(1, upd(1, json!({"name": "Ada"})))]);
    assert!(env.apply(&[message("m0", &first)]).await.failed.is_empty());
    env.emu.before_next_write(SPREADSHEET, TAB, person);
    let out = env.apply(&[message("m1", &batch(changes()))]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(env.watermark().as_deref(), Some("4"));
    let settled = journal(&env);
    assert_eq!(settled.misplaced().len(), 0, "journal settled: {settled:?}");
    (env, out.stats.misplaced)
}

fn text(s: &str) -> Cell {
    Cell::text(s)
}

#[tokio::test]
async fn a_sort_in_the_window() {
    // Sort by name, descending: every data row moves.
    let (env, misplaced) = race(|rows| {
        rows[1..].sort_by_key(|r| std::cmp::Reverse(r.get(1).map(|c| format!("{:?}", c.value))));
    })
    .await;
    assert_eq!(sorted(env.rows()[1..].to_vec()), expected());
    assert!(misplaced > 0, "the sort moved the rows the batch addressed");
}

#[tokio::test]
async fn a_sort_of_a_range_in_the_window() {
    // Rows 2-4 only (Bob, Cy, Di), reversed.
    let (env, misplaced) = race(|rows| rows[2..5].reverse()).await;
    assert_eq!(sorted(env.rows()[1..].to_vec()), expected());
    assert!(misplaced > 0);
}

#[tokio::test]
async fn a_filter_in_the_window_moves_nothing() {
    // A filter hides rows; their indexes, and the batch, are unaffected.
    let (env, misplaced) = race(|_rows| {}).await;
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 1],
            [2, "Bob", 20],
            [3, "Cy", 3],
            [5, "Ed", 5],
            [null, "typed", 9],
            [7, "Gus", 7]
        ]))
    );
    assert_eq!(misplaced, 0);
}

#[tokio::test]
async fn a_row_inserted_above_in_the_window() {
    let (env, misplaced) = race(|rows| {
        rows.insert(1, vec![Cell::default(), text("fresh"), Cell::number(8.0)]);
    })
    .await;
    let mut want = expected();
    want.extend(expect(json!([[null, "fresh", 8]])));
    assert_eq!(sorted(env.rows()[1..].to_vec()), sorted(want));
    assert!(misplaced > 0);
}

#[tokio::test]
async fn a_row_deleted_above_in_the_window() {
    // The person deletes Ada (row 2): everything below shifts up.
    let (env, misplaced) = race(|rows| {
        rows.remove(1);
    })
    .await;
    let want: Vec<Vec<Json>> = expected()
        .into_iter()
        .filter(|r| r[1] != json!("Ada"))
        .collect();
    assert_eq!(sorted(env.rows()[1..].to_vec()), want);
    assert!(misplaced > 0);
}

#[tokio::test]
async fn a_row_dragged_in_the_window() {
    // Ed dragged from the bottom to the top of the data.
    let (env, misplaced) = race(|rows| {
        let ed = rows.remove(5);
        rows.insert(1, ed);
    })
    .await;
    assert_eq!(sorted(env.rows()[1..].to_vec()), expected());
    assert!(misplaced > 0);
}

#[tokio::test]
async fn a_row_cut_and_pasted_in_the_window() {
    // Bob's row cut and pasted below the data: his old row is left empty.
    let (env, misplaced) = race(|rows| {
        let bob = std::mem::replace(&mut rows[2], vec![Cell::default(); 3]);
        rows.push(bob);
    })
    .await;
    assert_eq!(sorted(env.rows()[1..].to_vec()), expected());
    assert!(misplaced > 0);
}

#[tokio::test]
async fn an_undone_sort_in_the_window_needs_no_repair() {
    // Sorted and sorted back: every row is where the writer read it.
    let (env, misplaced) = race(|rows| {
        let before = rows.clone();
        rows[1..].reverse();
        *rows = before;
    })
    .await;
    assert_eq!(sorted(env.rows()[1..].to_vec()), expected());
    assert_eq!(misplaced, 0);
}

#[tokio::test]
async fn a_misplaced_write_over_a_keyless_row_is_undone() {
    // The person's keyless row moves where Bob was: the update of Bob's qty
    // lands on it, and the repair gives it back its own value.
    let (env, misplaced) = race(|rows| rows.swap(2, 6)).await;
    assert_eq!(sorted(env.rows()[1..].to_vec()), expected());
    assert!(misplaced > 0);
}

#[tokio::test]
async fn a_row_removed_by_mistake_comes_back_with_its_formats() {
    let env = setup().await;
    env.seed(tab());
    let first = batch(vec![(1, upd(1, json!({"name": "Ada"})))]);
    assert!(env.apply(&[message("m0", &first)]).await.failed.is_empty());
    // Bob's row carries a date. Bob and Di swap places in the window, so the
    // delete meant for Di removes Bob, and the update meant for Bob hits Di.
    env.emu
        .set_cell(SPREADSHEET, TAB, 2, 3, Cell::date(46357.0, "yyyy-mm-dd"));
    env.emu
        .before_next_write(SPREADSHEET, TAB, |rows| rows.swap(2, 4));
    let out = env.apply(&[message("m1", &batch(changes()))]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!((out.stats.misplaced, out.stats.rows_restored), (2, 2));
    let cells = env.emu.cells(SPREADSHEET, TAB).unwrap();
    let bob = cells
        .iter()
        .find(|r| r.get(1).is_some_and(|c| c.value == Cell::text("Bob").value))
        .expect("Bob is back");
    assert_eq!(bob[2].value, Cell::number(20.0).value);
    assert_eq!(bob[3], Cell::date(46357.0, "yyyy-mm-dd"));
    assert!(
        !cells
            .iter()
            .any(|r| r.get(1).is_some_and(|c| c.value == Cell::text("Di").value)),
        "Di is removed"
    );
    let settled = journal(&env);
    assert!(settled.misplaced().is_empty());
    // The last batch was the repair: it put Di's qty back before removing
    // Di, and the damage it undid is on record, settled by that write.
    assert!(settled.entries.iter().any(|e| e.op == EntryOp::Carried));
}

/// Rows rotated before the batch's write and before each of the next three
/// (its repairs): every round misses, and the next repairs the last. The
/// fifth round lands everything, and the journal carries at most one entry
/// per row (`repair::compacted`; its unit test shows the stack carried as
/// one entry).
#[tokio::test]
async fn rows_that_keep_moving_keep_the_journal_bounded_by_the_rows() {
    let env = setup().await;
    let mut rows = vec![header()];
    for id in 1..=40 {
        rows.push(vec![json!(id), json!(format!("n{id}")), json!(id)]);
    }
    env.seed(rows);
    let first = batch(vec![(1, upd(1, json!({"name": "n1"})))]);
    assert!(env.apply(&[message("m0", &first)]).await.failed.is_empty());
    let changes: Vec<(i64, Op)> = (1..=20)
        .map(|id| (1 + id, upd(id, json!({"id": id, "qty": 100 + id}))))
        .collect();
    env.emu
        .before_writes(SPREADSHEET, TAB, 4, |rows: &mut Vec<Vec<Cell>>| {
            rows[1..].rotate_left(7)
        });
    let out = env.apply(&[message("m1", &batch(changes))]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(env.watermark().as_deref(), Some("21"));
    let want: Vec<Vec<Json>> = (1..=40)
        .map(|id| {
            let qty = if id <= 20 { 100 + id } else { id };
            vec![json!(id), json!(format!("n{id}")), json!(qty)]
        })
        .collect();
    assert_eq!(
        sorted(env.rows()[1..].to_vec()),
        sorted(expect(json!(want)))
    );
    let settled = journal(&env);
    assert_eq!(settled.misplaced().len(), 0, "journal settled");
    let carried = settled
        .entries
        .iter()
        .filter(|e| e.op == EntryOp::Carried)
        .count();
    assert!(
        carried <= 40,
        "{carried} carried entries for a 40-row tab after 4 missed rounds"
    );
}

/// More rows hit by mistake than one round puts back
/// (`RESTORES_PER_ROUND`): the first repair rounds land part of the damage
/// and carry the rest, and the batch ends with every row right, in a few
/// rounds, not one per row.
#[tokio::test]
async fn damage_on_more_rows_than_a_round_puts_back_lands_over_several_rounds() {
    let rows = 2 * RESTORES_PER_ROUND + 50;
    let env = setup().await;
    let mut tab = vec![header()];
    for id in 1..=rows as i64 {
        tab.push(vec![json!(id), json!(format!("n{id}")), json!(id)]);
    }
    env.seed(tab);
    let first = batch(vec![(1, upd(1, json!({"name": "n1"})))]);
    assert!(env.apply(&[message("m0", &first)]).await.failed.is_empty());
    let updated = rows as i64 - 10;
    let changes: Vec<(i64, Op)> = (1..=updated)
        .map(|id| (1 + id, upd(id, json!({"id": id, "qty": 1000 + id}))))
        .collect();
    // One sort inside the first write's window: nearly every write misses.
    env.emu
        .before_next_write(SPREADSHEET, TAB, |rows: &mut Vec<Vec<Cell>>| {
            rows[1..].reverse()
        });
    env.emu.reset_log();
    let out = env.apply(&[message("m1", &batch(changes))]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    let want: Vec<Vec<Json>> = (1..=rows as i64)
        .map(|id| {
            let qty = if id <= updated { 1000 + id } else { id };
            vec![json!(id), json!(format!("n{id}")), json!(qty)]
        })
        .collect();
    assert_eq!(
        sorted(env.rows()[1..].to_vec()),
        sorted(expect(json!(want)))
    );
    assert_eq!(journal(&env).misplaced().len(), 0, "journal settled");
    // The missed round, then rounds of at most RESTORES_PER_ROUND rows.
    let writes = env
        .emu
        .requests()
        .iter()
        .filter(|r| r.operation == "spreadsheets.batchUpdate")
        .count();
    let most = 1 + (updated as usize).div_ceil(RESTORES_PER_ROUND);
    assert!(
        (3..=most).contains(&writes),
        "{writes} batchUpdates for {updated} rows hit"
    );
}
