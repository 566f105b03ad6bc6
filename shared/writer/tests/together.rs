//! A batch grouped by spreadsheet: every tab of it is read with one request
//! and written with one batchUpdate, each tab's messages in order, and a
//! tab that fails holds back only its own messages.

mod common;

use common::*;
use serde_json::json;
use sheetsync_sheets::journal::journal_title;

/// Each of the five tabs with an order 1 whose qty is set to `qty + i`.
fn qty_messages(first_seq: i64, qty: usize) -> Vec<sheetsync_writer::Message> {
    FIVE_TABS
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let b = batch_for(tab, vec![(first_seq, upd(1, json!({"qty": qty + i})))]);
            grouped(&format!("q{first_seq}-{i}"), &b)
        })
        .collect()
}

#[tokio::test]
async fn a_spreadsheets_tabs_cost_one_read_and_one_write_together() {
    let env = setup().await;
    env.seed_five_tabs();
    // First batch: no tab has a journal yet, so the shared key read is
    // refused; the titles tell which journals exist and the key read is
    // made again without them. This writer has not seen the rows it
    // updates: one row read for all tabs. Then one write for all of them.
    let first: Vec<_> = messages_for_five_tabs()
        .iter()
        .map(|m| sheetsync_writer::Message {
            group_id: Some(SPREADSHEET.into()),
            ..m.clone()
        })
        .collect();
    env.emu.reset_log();
    let out = env.apply(&first).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(out.stats.tabs, 5);
    assert_eq!(
        env.api_requests(),
        5,
        "refused key read, titles, key read, row read, write"
    );
    env.assert_five_tabs_applied();
    for tab in FIVE_TABS {
        assert!(!env.emu.rows(SPREADSHEET, &journal_title(tab)).is_empty());
    }

    // Steady state: one read and one write, whatever the number of tabs.
    env.emu.reset_log();
    let out = env.apply(&qty_messages(3, 20)).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(env.api_requests(), 2);
    for (i, tab) in FIVE_TABS.iter().enumerate() {
        assert_eq!(
            env.rows_of(tab),
            expect(json!([
                ["id", "name", "qty", "due"],
                [1, "Ada", 20 + i],
                [2, "new"]
            ])),
            "{tab}"
        );
    }
}

#[tokio::test]
async fn each_tab_keeps_its_order_when_their_messages_interleave() {
    let env = setup().await;
    env.seed_tab("A", vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
    env.seed_tab("B", vec![header(), vec![json!(1), json!("Bo"), json!(1)]]);
    let messages = vec![
        grouped("a1", &batch_for("A", vec![(1, upd(1, json!({"qty": 5})))])),
        grouped("b1", &batch_for("B", vec![(1, upd(1, json!({"qty": 6})))])),
        grouped("a2", &batch_for("A", vec![(2, upd(1, json!({"qty": 7})))])),
        grouped("b2", &batch_for("B", vec![(2, del(1))])),
        grouped(
            "a3",
            &batch_for("A", vec![(3, ins(2, json!({"id": 2, "name": "Cy"})))]),
        ),
    ];
    let out = env.apply(&messages).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(
        env.rows_of("A"),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 7],
            [2, "Cy"]
        ]))
    );
    assert_eq!(
        env.rows_of("B"),
        expect(json!([["id", "name", "qty", "due"]]))
    );
}

#[tokio::test]
async fn a_tab_that_fails_holds_back_only_its_own_later_messages() {
    let env = setup().await;
    env.seed_tab("A", vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
    // Tab "Gone" was deleted by a person: its messages can never apply.
    let messages = vec![
        grouped("a1", &batch_for("A", vec![(1, upd(1, json!({"qty": 5})))])),
        grouped(
            "g1",
            &batch_for("Gone", vec![(1, upd(1, json!({"qty": 6})))]),
        ),
        grouped(
            "a2",
            &batch_for("A", vec![(2, upd(1, json!({"name": "Ida"})))]),
        ),
        grouped("g2", &batch_for("Gone", vec![(2, del(1))])),
    ];
    let out = env.apply(&messages).await;
    assert_eq!(out.failed, vec!["g1".to_string(), "g2".to_string()]);
    assert_eq!(
        env.rows_of("A"),
        expect(json!([["id", "name", "qty", "due"], [1, "Ida", 5]]))
    );
    // The next batch of the group: the failed tab's messages come back
    // (with what followed them); the other tab is written as before.
    let out = env
        .apply(&[
            grouped(
                "g1",
                &batch_for("Gone", vec![(1, upd(1, json!({"qty": 6})))]),
            ),
            grouped("a3", &batch_for("A", vec![(3, upd(1, json!({"qty": 8})))])),
        ])
        .await;
    assert_eq!(out.failed, vec!["g1".to_string()]);
    assert_eq!(
        env.rows_of("A"),
        expect(json!([["id", "name", "qty", "due"], [1, "Ida", 8]]))
    );
}

#[tokio::test]
async fn bundled_tabs_are_applied_like_their_own_messages_in_order() {
    let env = setup().await;
    env.seed_tab("A", vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
    env.seed_tab("B", vec![header(), vec![json!(1), json!("Bo"), json!(1)]]);
    let a = |seq, op| batch_for("A", vec![(seq, op)]);
    let b = |seq, op| batch_for("B", vec![(seq, op)]);
    let messages = vec![
        bundled(
            "x1",
            &[
                a(1, upd(1, json!({"qty": 5}))),
                b(1, upd(1, json!({"qty": 6}))),
            ],
        ),
        // A bundle and a lone batch of the same group mix freely.
        grouped("a2", &a(2, upd(1, json!({"qty": 7})))),
        bundled(
            "x2",
            &[b(2, del(1)), a(3, ins(2, json!({"id": 2, "name": "Cy"})))],
        ),
    ];
    env.emu.reset_log();
    let out = env.apply(&messages).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(out.stats.messages, 3);
    assert_eq!(out.stats.tabs, 2);
    assert_eq!(out.stats.changes, 5);
    assert_eq!(
        env.rows_of("A"),
        expect(json!([
            ["id", "name", "qty", "due"],
            [1, "Ada", 7],
            [2, "Cy"]
        ]))
    );
    assert_eq!(
        env.rows_of("B"),
        expect(json!([["id", "name", "qty", "due"]]))
    );
}

#[tokio::test]
async fn a_bundle_with_a_failing_tab_comes_back_whole_and_its_other_tab_is_not_applied_twice() {
    let env = setup().await;
    env.seed_tab("A", vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
    let a1 = batch_for("A", vec![(1, ins(2, json!({"id": 2, "name": "Bo"})))]);
    let gone = batch_for("Gone", vec![(1, upd(1, json!({"qty": 6})))]);
    let a2 = batch_for("A", vec![(2, upd(1, json!({"qty": 9})))]);
    let messages = vec![
        bundled("x1", &[a1.clone(), gone.clone()]),
        grouped("a2", &a2),
    ];
    let out = env.apply(&messages).await;
    // The bundle is reported for its failed tab; A went on.
    assert_eq!(out.failed, vec!["x1".to_string()]);
    let applied = expect(json!([
        ["id", "name", "qty", "due"],
        [1, "Ada", 9],
        [2, "Bo"]
    ]));
    assert_eq!(env.rows_of("A"), applied);
    // Redelivered, A's share is behind its watermark: nothing changes.
    let out = env.apply(&[bundled("x1", &[a1, gone])]).await;
    assert_eq!(out.failed, vec!["x1".to_string()]);
    assert_eq!(env.rows_of("A"), applied);
}

#[tokio::test]
async fn a_bundle_that_cannot_be_decoded_holds_back_its_group() {
    let env = setup().await;
    env.seed_tab("A", vec![header(), vec![json!(1), json!("Ada"), json!(1)]]);
    let broken = sheetsync_writer::Message {
        message_id: "x1".into(),
        group_id: Some(SPREADSHEET.into()),
        body: r#"{"v":2,"batches":[]}"#.into(),
    };
    let later = grouped("a1", &batch_for("A", vec![(1, upd(1, json!({"qty": 5})))]));
    let out = env.apply(&[broken, later]).await;
    assert_eq!(out.failed, vec!["x1".to_string(), "a1".to_string()]);
    assert_eq!(
        env.rows_of("A"),
        expect(json!([["id", "name", "qty", "due"], [1, "Ada", 1]]))
    );
}

#[tokio::test]
async fn a_sort_during_the_shared_write_is_repaired_on_that_tab_alone() {
    let env = setup().await;
    env.seed_five_tabs();
    for tab in FIVE_TABS {
        env.seed_tab(
            tab,
            vec![
                header(),
                vec![json!(1), json!("Ada"), json!(1)],
                vec![json!(2), json!("Bo"), json!(2)],
                vec![json!(3), json!("Cy"), json!(3)],
            ],
        );
    }
    assert!(env.apply(&qty_messages(1, 10)).await.failed.is_empty());
    // A person sorts T3 by qty, descending, while the batch is written.
    env.emu
        .before_next_write(SPREADSHEET, "T3", |rows| rows[1..].reverse());
    env.emu.reset_log();
    let out = env.apply(&qty_messages(2, 30)).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert!(out.stats.misplaced > 0, "the sort moved T3's rows");
    for (i, tab) in FIVE_TABS.iter().enumerate() {
        let mut rows = env.rows_of(tab);
        rows[1..].sort_by_key(|r| r[0].as_f64().map(|f| f as i64));
        assert_eq!(
            rows,
            expect(json!([
                ["id", "name", "qty", "due"],
                [1, "Ada", 30 + i],
                [2, "Bo", 2],
                [3, "Cy", 3]
            ])),
            "{tab}"
        );
    }
    assert!(
        env.api_requests() > 2,
        "T3 was read and written again on its own"
    );
}

#[tokio::test]
async fn tabs_over_the_payload_guidance_together_are_written_in_several_requests() {
    let env = setup().await;
    let long = "x".repeat(2_000);
    env.seed_tab("A", vec![header()]);
    env.seed_tab("B", vec![header()]);
    // Warm up: both tabs get their journals.
    let warm: Vec<_> = ["A", "B"]
        .iter()
        .map(|t| grouped(t, &batch_for(t, vec![(1, ins(1, json!({"id": 1})))])))
        .collect();
    assert!(env.apply(&warm).await.failed.is_empty());
    // 600 rows of 2 kB: about 1.2 MB per tab, 2.4 MB together.
    let rows = |tab: &str| {
        let changes = (0..600)
            .map(|i| (2 + i, ins(2 + i, json!({"id": 2 + i, "name": long}))))
            .collect();
        grouped(&format!("{tab}-big"), &batch_for(tab, changes))
    };
    env.emu.reset_log();
    let out = env.apply(&[rows("A"), rows("B")]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    assert_eq!(env.api_requests(), 3, "one read, two writes");
    assert_eq!(out.stats.split_batches, 0);
    for tab in ["A", "B"] {
        assert_eq!(env.rows_of(tab).len(), 1 + 601, "{tab}");
    }
}

#[tokio::test]
async fn journals_known_missing_are_not_asked_for_and_one_made_elsewhere_is_found() {
    let env = setup().await;
    env.seed_five_tabs();
    let one = |tab: &str, seq: i64, qty: i64| {
        grouped(
            &format!("{tab}-{seq}"),
            &batch_for(tab, vec![(seq, upd(1, json!({"qty": qty})))]),
        )
    };
    // T1 and T2 first: the titles read shows that no tab has a journal.
    assert!(
        env.apply(&[one("T1", 1, 5), one("T2", 1, 5)])
            .await
            .failed
            .is_empty()
    );
    // T3 and T4 are new to this writer, but their journals are known
    // missing: no refused read. A row read, since their rows are unseen.
    env.emu.reset_log();
    let out = env.apply(&[one("T3", 1, 6), one("T4", 1, 6)]).await;
    assert!(out.failed.is_empty());
    assert_eq!(env.api_requests(), 3, "key read, row read, write");
    // Another writer makes T5's journal meanwhile.
    let other = setup_on(&env.emu).await;
    assert!(
        other
            .apply(&[one("T5", 1, 7)], deadline())
            .await
            .failed
            .is_empty()
    );
    // This writer still thinks it missing: its shared write (adding the
    // journal again) is refused, then each tab is written on its own.
    env.emu.reset_log();
    let out = env.apply(&[one("T1", 2, 8), one("T5", 2, 9)]).await;
    assert_eq!(out.failed, Vec::<String>::new());
    let refused: Vec<(String, u16)> = env
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.status != 200)
        .map(|r| (r.operation, r.status))
        .collect();
    assert_eq!(refused, [("spreadsheets.batchUpdate".to_string(), 400)]);
    assert_eq!(env.rows_of("T1")[1], expect(json!([[1, "Ada", 8]]))[0]);
    assert_eq!(env.rows_of("T5")[1], expect(json!([[1, "Ada", 9]]))[0]);
    // And asks for every journal from then on.
    env.emu.reset_log();
    assert!(
        env.apply(&[one("T1", 3, 10), one("T5", 3, 11)])
            .await
            .failed
            .is_empty()
    );
    assert_eq!(env.api_requests(), 2);
}
