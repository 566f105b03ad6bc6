//! The writer against the emulator: what lands in the sheet, and in how
//! many requests.

mod common;

use common::*;
use serde_json::{Value as Json, json};
use sheetsync_queue::Op;
use sheetsync_sheets_emulator::NumberFormatType;

fn orders() -> Vec<Vec<Json>> {
    vec![
        header(),
        vec![json!(1), json!("Ada"), json!(1)],
        vec![json!(2), json!("Bob"), json!(2)],
        vec![json!(3), json!("Cy"), json!(3)],
    ]
}

#[tokio::test]
async fn updates_appends_and_deletes_land_in_two_requests() {
    let env = setup().await;
    env.seed(orders());
    env.emu.reset_log();
    let b = batch(vec![
        (1, upd(2, json!({"id": 2, "qty": 20}))),
        (2, ins(4, json!({"id": 4, "name": "Di", "qty": 4}))),
        (3, del(1)),
        (4, upd(9, json!({"id": 9, "qty": 9}))),
        (5, del(99)),
    ]);
    let out = env.apply(&[message("m1", &b)]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [2, "Bob", 20],
            [3, "Cy", 3],
            [4, "Di", 4]
        ]))
    );
    assert_eq!(env.watermark().as_deref(), Some("5"));
    let ops = |env: &Env| -> Vec<String> {
        env.emu
            .requests()
            .into_iter()
            .filter(|r| r.operation != "oauth2.token")
            .map(|r| r.operation)
            .collect()
    };
    // The tab's first batch also finds that it has no journal yet (Google
    // refuses a read naming a missing tab) and creates it; and this writer
    // has not seen the tab, so the row it updates is read after its keys.
    assert_eq!(
        ops(&env),
        vec![
            "spreadsheets.get",
            "spreadsheets.get",
            "spreadsheets.get",
            "spreadsheets.batchUpdate"
        ]
    );
    let s = &out.stats;
    assert_eq!(
        (
            s.rows_updated,
            s.rows_appended,
            s.rows_deleted,
            s.sheets_requests
        ),
        (1, 1, 1, 4)
    );
    // Every later batch: one read (keys, and the rows it updates where the
    // last read saw them), one write.
    env.emu.reset_log();
    let b = batch(vec![
        (6, upd(3, json!({"id": 3, "qty": 30}))),
        (7, ins(5, json!({"id": 5, "name": "Ed", "qty": 5}))),
        (8, del(4)),
    ]);
    let out = env.apply(&[message("m2", &b)]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [2, "Bob", 20],
            [3, "Cy", 30],
            [5, "Ed", 5]
        ]))
    );
    assert_eq!(
        ops(&env),
        vec!["spreadsheets.get", "spreadsheets.batchUpdate"]
    );
    assert_eq!((out.stats.sheets_requests, out.stats.misplaced), (2, 0));
}

/// Least privilege at Google: the writer's tokens are for the
/// `spreadsheets` scope alone (no Drive), and that is enough to read and
/// write the tab.
#[tokio::test]
async fn the_writer_asks_google_for_the_spreadsheets_scope_only() {
    let env = setup().await;
    env.seed(orders());
    let b = batch(vec![(1, upd(2, json!({"id": 2, "qty": 20})))]);
    assert_eq!(
        env.apply(&[message("m1", &b)]).await.failed,
        Vec::<String>::new()
    );
    assert_eq!(
        env.emu.granted_scopes().into_iter().collect::<Vec<_>>(),
        vec!["https://www.googleapis.com/auth/spreadsheets".to_string()]
    );
    assert_eq!(
        sheetsync_sheets::auth::SCOPE,
        "https://www.googleapis.com/auth/spreadsheets"
    );
}

#[tokio::test]
async fn typed_cells_keep_their_type_and_null_clears() {
    let env = setup().await;
    env.seed(vec![
        vec![
            json!("id"),
            json!("name"),
            json!("qty"),
            json!("due"),
            json!("paid"),
            json!("at"),
        ],
        vec![json!(1), json!("old"), json!(5), json!("x")],
    ]);
    let b = batch(vec![
        (
            1,
            ins(
                2,
                json!({"id": 2, "name": "=SUM(1,2)", "qty": 3, "due": "2026-12-01",
                          "paid": true, "at": "2026-12-01T06:00:00+00:00"}),
            ),
        ),
        (2, upd(1, json!({"name": null, "qty": null}))),
    ]);
    let out = env.apply(&[message("m1", &b)]).await;
    assert!(out.failed.is_empty());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due", "paid", "at"],
            [1, null, null, "x"],
            [2, "=SUM(1,2)", 3, 46357, true, 46357.25]
        ]))
    );
    let format = |col| {
        env.emu
            .cell(SPREADSHEET, TAB, 2, col)
            .and_then(|c| c.format)
            .and_then(|f| f.number_format)
            .map(|n| (n.kind, n.pattern))
    };
    assert_eq!(
        format(3),
        Some((NumberFormatType::Date, Some("yyyy-mm-dd".into())))
    );
    assert_eq!(
        format(5),
        Some((
            NumberFormatType::DateTime,
            Some("yyyy-mm-dd hh:mm:ss".into())
        ))
    );
    assert_eq!(format(2), None);
    // Text stays text: a formula-looking string is not a formula.
    let name = env.emu.cell(SPREADSHEET, TAB, 2, 1).unwrap();
    assert_eq!(
        name.value,
        sheetsync_sheets_emulator::CellValue::Text("=SUM(1,2)".into())
    );
}

/// A serial is a wall clock in the spreadsheet's zone (its
/// `properties.timeZone`): a `timestamptz` is written as the time a person
/// in that zone reads, so the script reads back the same instant.
#[tokio::test]
async fn timestamptz_cells_are_wall_clocks_in_the_spreadsheets_zone() {
    let env = setup().await;
    env.emu.set_time_zone(SPREADSHEET, "Europe/Berlin");
    env.seed(vec![vec![json!("id"), json!("due"), json!("at")]]);
    let b = batch(vec![
        // Winter (+01:00), with microseconds the serial keeps.
        (
            1,
            ins(
                1,
                json!({"id": 1, "due": "2026-01-01", "at": "2026-01-01T00:01:07.123456+00:00"}),
            ),
        ),
        // Summer (+02:00).
        (
            2,
            ins(
                2,
                json!({"id": 2, "due": "2026-07-01", "at": "2026-07-01T06:00:00+00:00"}),
            ),
        ),
    ]);
    let out = env.apply(&[message("m1", &b)]).await;
    assert!(out.failed.is_empty());
    let serial = |row| match env.emu.cell(SPREADSHEET, TAB, row, 2).map(|c| c.value) {
        Some(sheetsync_sheets_emulator::CellValue::Number(n)) => n,
        other => panic!("row {row}: {other:?}"),
    };
    // 2026-01-01 01:01:07.123456 and 2026-07-01 08:00 (days since 1899-12-30).
    assert_eq!(serial(1), 46023.0 + 3_667_123_456.0 / 86_400_000_000.0);
    assert_eq!(serial(2), 46204.0 + 8.0 / 24.0);
    assert_eq!(env.rows()[1][1], json!(46023.0));
}

#[tokio::test]
async fn rows_sorted_between_batches_still_get_their_values() {
    let env = setup().await;
    env.seed(orders());
    let first = batch(vec![(1, upd(1, json!({"qty": 10})))]);
    assert!(env.apply(&[message("m1", &first)]).await.failed.is_empty());
    // The user sorts by name descending: Cy, Bob, Ada.
    env.emu
        .edit_rows(SPREADSHEET, TAB, |rows| rows[1..].reverse());
    let second = batch(vec![
        (2, upd(1, json!({"name": "Ada L."}))),
        (3, upd(3, json!({"qty": 30}))),
        (4, del(2)),
    ]);
    assert!(env.apply(&[message("m2", &second)]).await.failed.is_empty());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [3, "Cy", 30],
            [1, "Ada L.", 10]
        ]))
    );
}

#[tokio::test]
async fn a_redelivered_message_applies_once() {
    let env = setup().await;
    env.seed(orders());
    let b = batch(vec![
        (7, ins(4, json!({"id": 4, "name": "Di"}))),
        (8, upd(1, json!({"qty": 11}))),
    ]);
    let m = message("m1", &b);
    assert!(env.apply(std::slice::from_ref(&m)).await.failed.is_empty());
    env.emu.reset_log();
    let again = env.apply(std::slice::from_ref(&m)).await;
    assert!(again.failed.is_empty());
    assert_eq!(again.stats.stale, 2);
    // Only the read: nothing left to write.
    assert_eq!(env.api_requests(), 1);
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 11],
            [2, "Bob", 2],
            [3, "Cy", 3],
            [4, "Di"]
        ]))
    );
}

#[tokio::test]
async fn keyset_removes_only_rows_missing_from_the_set() {
    let env = setup().await;
    env.seed(vec![
        header(),
        vec![json!(1), json!("a")],
        vec![json!(""), json!("typed, not synced")],
        vec![json!(2), json!("b")],
        vec![json!(3), json!("c")],
        vec![json!(20), json!("t")],
    ]);
    let b = batch(vec![
        (1, ins(1, json!({"id": 1, "name": "a"}))),
        (2, ins(3, json!({"id": 3, "name": "c"}))),
        (3, ins(5, json!({"id": 5, "name": "e"}))),
        (
            4,
            Op::Keyset {
                keys: vec![vec![json!(1)], vec![json!(3)], vec![json!(5)]],
                from: None,
                to: Some(vec![json!(10)]),
            },
        ),
    ]);
    let out = env.apply(&[message("m1", &b)]).await;
    assert!(out.failed.is_empty());
    // 2 goes; 20 lies beyond this part's range; the keyless row stays.
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "a"],
            [null, "typed, not synced"],
            [3, "c"],
            [20, "t"],
            [5, "e"]
        ]))
    );
}

#[tokio::test]
async fn an_empty_tab_gets_a_header() {
    let env = setup().await;
    env.emu.add_sheet(SPREADSHEET, TAB);
    let b = batch(vec![(
        1,
        ins(1, json!({"id": 1, "name": "a", "paid": false})),
    )]);
    assert!(env.apply(&[message("m1", &b)]).await.failed.is_empty());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "due", "paid", "at"],
            [1, "a", null, null, false]
        ]))
    );
}

/// Seeds `rows` data rows and sends `changes` changes (updates of every
/// other existing row, then inserts) in one message.
async fn requests_for(changes: usize) -> (u64, u64, usize) {
    let env = setup().await;
    let existing = changes / 2;
    let mut rows = vec![header()];
    rows.extend((1..=existing as i64).map(|i| vec![json!(i), json!(format!("r{i}")), json!(0)]));
    env.seed(rows);
    let ops: Vec<(i64, Op)> = (1..=changes as i64)
        .map(|i| {
            let op = if i as usize <= existing {
                upd(i, json!({"qty": i}))
            } else {
                ins(i, json!({"id": i, "name": format!("n{i}"), "qty": i}))
            };
            (i + 1, op)
        })
        .collect();
    let b = batch(ops);
    // The tab's first batch creates its journal (one request more, once).
    let first = batch(vec![(1, upd(1, json!({"name": "r1"})))]);
    assert!(env.apply(&[message("m0", &first)]).await.failed.is_empty());
    env.emu.reset_log();
    let out = env.apply(&[message("m1", &b)]).await;
    assert!(out.failed.is_empty());
    let rows = env.rows();
    assert_eq!(rows.len(), changes + 1);
    assert_eq!(rows[changes][2], json!(changes as f64));
    let writes = env.emu.counters().by_operation["spreadsheets.batchUpdate"];
    (env.api_requests(), writes, out.stats.rows_applied())
}

/// One read and one write while the body stays under 2 MB; past it, the
/// planned body is not sent and the batch goes in parts, a read and a
/// write each.
#[tokio::test]
async fn two_requests_per_batch_until_its_body_passes_2_mb() {
    for n in [1usize, 100, 1_000] {
        let (requests, writes, rows) = requests_for(n).await;
        assert_eq!((n, requests, writes, rows), (n, 2, 1, n));
    }
    let (requests, writes, rows) = requests_for(10_000).await;
    assert!(writes >= 2, "{writes}");
    assert_eq!((requests, rows), (1 + 2 * writes, 10_000));
}

#[tokio::test]
async fn cells_and_formats_the_change_does_not_carry_are_left_alone() {
    use sheetsync_sheets_emulator::{Cell, NumberFormat};
    let env = setup().await;
    env.seed(vec![
        vec![json!("id"), json!("name"), json!("qty"), json!("comment")],
        vec![json!(1), json!("Ada"), json!(1), json!("sheet-only column")],
    ]);
    let currency = NumberFormat {
        kind: NumberFormatType::Currency,
        pattern: Some("\"$\"#,##0.00".into()),
    };
    env.emu.set_cell(
        SPREADSHEET,
        TAB,
        1,
        2,
        Cell::number(1.0).with_number_format(currency.clone()),
    );
    let b = batch(vec![(1, upd(1, json!({"qty": 7})))]);
    assert!(env.apply(&[message("m1", &b)]).await.failed.is_empty());
    assert_eq!(
        env.rows(),
        expect(json!([
            ["id", "name", "qty", "comment"],
            [1, "Ada", 7, "sheet-only column"]
        ]))
    );
    let qty = env.emu.cell(SPREADSHEET, TAB, 1, 2).unwrap();
    assert_eq!(qty.format.and_then(|f| f.number_format), Some(currency));
}

/// Google's payload guidance, enforced: the emulator refuses a body over
/// 2 MB. A first sync of 10,000 rows of long text (about 14 MB of cells),
/// then 5,000 updates spread over the tab, land whole, in parts.
#[tokio::test]
async fn large_batches_are_written_in_parts_of_at_most_2_mb() {
    use sheetsync_sheets_emulator::PayloadLimit;
    let env = setup().await;
    env.seed(vec![header()]);
    env.emu.faults().set_payload_limit(Some(PayloadLimit {
        bytes: 2 * 1024 * 1024,
        refuse: true,
    }));
    let text = |i: i64| format!("{i:>06} {}", "x".repeat(1_400));
    let inserts: Vec<(i64, Op)> = (1..=10_000)
        .map(|i| (i, ins(i, json!({"id": i, "name": text(i), "qty": i}))))
        .collect();
    let updates: Vec<(i64, Op)> = (1..=5_000)
        .map(|i| (10_000 + i, upd(i * 2, json!({"qty": -i}))))
        .collect();
    // As SQS hands them over: messages of at most 1,000 changes.
    let messages: Vec<_> = inserts
        .chunks(1_000)
        .chain(updates.chunks(1_000))
        .enumerate()
        .map(|(i, c)| message(&format!("m{i}"), &batch(c.to_vec())))
        .collect();
    let out = env.apply(&messages).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(env.emu.counters().oversized, 0);
    let rows = env.rows();
    assert_eq!(rows.len(), 10_001);
    for (i, row) in rows.iter().enumerate().skip(1) {
        let id = i as i64;
        let qty = if id % 2 == 0 { -(id / 2) } else { id };
        assert_eq!(
            row[..3],
            [json!(id as f64), json!(text(id)), json!(qty as f64)],
            "row {i}"
        );
    }
    assert_eq!(env.watermark().as_deref(), Some("15000"));
    // Every write under 2 MB, and not many more than the 14 MB need.
    let writes = env.emu.counters().by_operation["spreadsheets.batchUpdate"];
    assert!((8..=16).contains(&writes), "{writes} writes");
}
