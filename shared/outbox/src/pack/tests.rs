use super::*;
use serde_json::json;
use sheetsync_queue::{ChangeBatch, ColumnType};
use sheetsync_reconcile::PgType;

fn target() -> Target {
    Target {
        binding: "orders".into(),
        spreadsheet_id: "S1".into(),
        sheet: "Orders".into(),
        key_columns: vec!["id".into()],
        columns: vec![
            ColumnType {
                name: "id".into(),
                pg_type: PgType::Int4,
            },
            ColumnType {
                name: "note".into(),
                pg_type: PgType::Text,
            },
        ],
        qualified_table: "\"public\".\"orders\"".into(),
    }
}

fn insert(seq: i64, note: &str) -> OutboxRow {
    OutboxRow {
        seq,
        op: "insert".into(),
        key: format!("[{seq}]"),
        row_image: Some(json!({"id": seq, "note": note}).to_string()),
        committed_at: "2026-11-25T13:35:00.000000Z".into(),
    }
}

fn limits(bytes: usize, changes: usize) -> PackLimits {
    PackLimits {
        max_message_bytes: bytes,
        max_changes: changes,
    }
}

#[test]
fn every_op_becomes_its_change() {
    let rows = vec![
        insert(1, "a"),
        OutboxRow {
            seq: 2,
            op: "update".into(),
            key: "[1]".into(),
            row_image: Some(r#"{"id": 1, "note": "b"}"#.into()),
            committed_at: "2026-11-25T13:35:01.000000Z".into(),
        },
        OutboxRow {
            seq: 3,
            op: "delete".into(),
            key: "[1]".into(),
            row_image: None,
            committed_at: "2026-11-25T13:35:02.000000Z".into(),
        },
        OutboxRow {
            seq: 4,
            op: "keyset".into(),
            key: "[]".into(),
            row_image: Some(r#"{"keys": [[2], [5]], "from": [2], "to": null}"#.into()),
            committed_at: "2026-11-25T13:35:03.000000Z".into(),
        },
    ];
    let packed = pack(&target(), &rows, PackLimits::default());
    assert!(packed.stopped.is_none());
    assert_eq!(packed.messages.len(), 1);
    let batch = ChangeBatch::decode(&packed.messages[0].body).unwrap();
    let mut expected = target().empty_batch();
    let values = |v: Json| v.as_object().cloned().unwrap();
    expected.changes = vec![
        RowChange {
            seq: 1,
            committed_at: "2026-11-25T13:35:00.000000Z".into(),
            op: Op::Insert {
                key: vec![json!(1)],
                values: values(json!({"id": 1, "note": "a"})),
            },
        },
        RowChange {
            seq: 2,
            committed_at: "2026-11-25T13:35:01.000000Z".into(),
            op: Op::Update {
                key: vec![json!(1)],
                values: values(json!({"id": 1, "note": "b"})),
            },
        },
        RowChange {
            seq: 3,
            committed_at: "2026-11-25T13:35:02.000000Z".into(),
            op: Op::Delete {
                key: vec![json!(1)],
            },
        },
        RowChange {
            seq: 4,
            committed_at: "2026-11-25T13:35:03.000000Z".into(),
            op: Op::Keyset {
                keys: vec![vec![json!(2)], vec![json!(5)]],
                from: Some(vec![json!(2)]),
                to: None,
            },
        },
    ];
    assert_eq!(batch, expected);
    assert_eq!(packed.messages[0].seqs, vec![1, 2, 3, 4]);
}

#[test]
fn messages_fill_up_to_the_byte_limit_exactly() {
    let rows: Vec<OutboxRow> = (10..30).map(|s| insert(s, &"x".repeat(100))).collect();
    let one = pack(&target(), &rows[..1], PackLimits::default());
    let two = pack(&target(), &rows[..2], PackLimits::default());
    // Room for exactly three changes.
    let per_change = two.messages[0].body.len() - one.messages[0].body.len();
    let limit = one.messages[0].body.len() + 2 * per_change;
    let packed = pack(&target(), &rows, limits(limit, 500));
    assert!(packed.stopped.is_none());
    let sizes: Vec<usize> = packed.messages.iter().map(|m| m.seqs.len()).collect();
    assert_eq!(sizes, vec![3, 3, 3, 3, 3, 3, 2]);
    assert_eq!(packed.messages[0].body.len(), limit);
    for m in &packed.messages {
        assert!(m.body.len() <= limit);
        let batch = ChangeBatch::decode(&m.body).unwrap();
        let seqs: Vec<i64> = batch.changes.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, m.seqs);
    }
}

#[test]
fn messages_close_at_the_change_limit() {
    let rows: Vec<OutboxRow> = (1..=5).map(|s| insert(s, "n")).collect();
    let packed = pack(&target(), &rows, limits(1 << 20, 2));
    let seqs: Vec<Vec<i64>> = packed.messages.iter().map(|m| m.seqs.clone()).collect();
    assert_eq!(seqs, vec![vec![1, 2], vec![3, 4], vec![5]]);
}

#[test]
fn packing_is_deterministic() {
    let rows: Vec<OutboxRow> = (1..=50)
        .map(|s| insert(s, &"y".repeat(s as usize)))
        .collect();
    let a = pack(&target(), &rows, limits(2000, 500));
    let b = pack(&target(), &rows, limits(2000, 500));
    assert_eq!(a.messages, b.messages);
    let ids: Vec<String> = a.messages.iter().map(|m| dedup_id("orders", m)).collect();
    let again: Vec<String> = b.messages.iter().map(|m| dedup_id("orders", m)).collect();
    assert_eq!(ids, again);
}

#[test]
fn a_row_too_large_stops_packing_after_the_rows_before_it() {
    let rows = vec![insert(1, "a"), insert(2, &"z".repeat(5000)), insert(3, "c")];
    let packed = pack(&target(), &rows, limits(1000, 500));
    assert_eq!(packed.messages.len(), 1);
    assert_eq!(packed.messages[0].seqs, vec![1]);
    let err = packed.stopped.unwrap();
    match &err {
        OutboxError::RowTooLarge { seq, op, limit, .. } => {
            assert_eq!((*seq, op.as_str(), *limit), (2, "insert", 1000));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("binding 'orders': outbox row 2 (insert) is "),
        "{err}"
    );
}

#[test]
fn a_malformed_row_stops_packing_with_its_reason() {
    let mut bad = insert(2, "b");
    bad.row_image = None;
    let packed = pack(&target(), &[insert(1, "a"), bad], PackLimits::default());
    assert_eq!(packed.messages.len(), 1);
    assert_eq!(
        packed.stopped.unwrap().to_string(),
        "binding 'orders': outbox row 2 is malformed: insert without a row image"
    );
}

#[test]
fn non_characters_are_escaped_for_sqs() {
    let packed = pack(&target(), &[insert(1, "a\u{ffff}b")], PackLimits::default());
    let body = &packed.messages[0].body;
    assert!(!body.contains('\u{ffff}'));
    let batch = ChangeBatch::decode(body).unwrap();
    match &batch.changes[0].op {
        Op::Insert { values, .. } => assert_eq!(values["note"], json!("a\u{ffff}b")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn requests_hold_ten_messages_and_the_byte_limit() {
    let many = vec![10; 23];
    assert_eq!(requests(&many, 10, 1000), vec![0..10, 10..20, 20..23]);
    let big = [600, 300, 200, 900];
    assert_eq!(requests(&big, 10, 1000), vec![0..2, 2..3, 3..4]);
    assert!(requests(&[], 10, 1000).is_empty());
}

#[test]
fn ids_are_valid_for_sqs() {
    assert_eq!(group_id("1AbC-x_9"), "1AbC-x_9");
    let odd = group_id("Bestellungen Ü");
    assert!(odd.starts_with("spreadsheet-") && odd.len() == 28, "{odd}");
    let m = PackedMessage {
        seqs: vec![7, 9, 12],
        body: String::new(),
    };
    let id = dedup_id("orders", &m);
    assert!(id.ends_with(":7-12") && id.len() <= 128, "{id}");
    assert_ne!(id, dedup_id("other", &m));
}
