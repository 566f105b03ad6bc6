mod common;

use serde_json::json;
use sheetsync_store::{BindingStatus, attach, binding_status, recent_conflicts, recent_rejects};

#[tokio::test]
async fn status_counts_queue_conflicts_and_rejects_per_binding() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute(
            "CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY)",
        )
        .await
        .unwrap();
    attach(&client, &common::spec("a", "A")).await.unwrap();
    attach(&client, &common::spec("b", "B")).await.unwrap();
    client
        .batch_execute(
            "INSERT INTO a VALUES (1, 'x'), (2, 'y'), (3, 'z');
             INSERT INTO sheetsync.conflicts (binding, key, column_name, sheet_value, db_value, winner, policy, event_id)
             VALUES ('a', '[1]', 'v', '\"sheet\"', '\"db\"', 'db', 'latest', 'ev-1'),
                    ('a', '[2]', 'v', 'null', '\"db2\"', 'sheet', 'latest', 'ev-2');
             INSERT INTO sheetsync.rejects (binding, event_id, sheet_row, key, column_name, value, reason)
             VALUES ('b', 'ev-3', 7, '[9]', 'id', '\"abc\"', 'id: ''abc'' is not a whole number');",
        )
        .await
        .unwrap();

    let status = binding_status(&client).await.unwrap();
    let strip = |s: &BindingStatus| {
        (
            s.name.clone(),
            s.table.clone(),
            s.sheet.clone(),
            s.policy.clone(),
            s.outbox_depth,
            s.oldest_pending.is_some(),
            s.conflicts,
            s.rejects,
        )
    };
    assert_eq!(
        status.iter().map(strip).collect::<Vec<_>>(),
        vec![
            (
                "a".into(),
                "public.a".into(),
                "A".into(),
                "latest".into(),
                3,
                true,
                2,
                0
            ),
            (
                "b".into(),
                "public.b".into(),
                "B".into(),
                "latest".into(),
                0,
                false,
                0,
                1
            ),
        ]
    );

    let conflicts = recent_conflicts(&client, Some("a"), 10).await.unwrap();
    let seen: Vec<_> = conflicts
        .iter()
        .map(|c| {
            (
                c.key.clone(),
                c.sheet_value.clone(),
                c.db_value.clone(),
                c.winner.clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                json!([2]),
                Some(json!(null)),
                Some(json!("db2")),
                "sheet".to_string()
            ),
            (
                json!([1]),
                Some(json!("sheet")),
                Some(json!("db")),
                "db".to_string()
            ),
        ]
    );
    assert_eq!(recent_conflicts(&client, None, 1).await.unwrap().len(), 1);
    assert_eq!(
        recent_conflicts(&client, Some("b"), 10).await.unwrap(),
        vec![]
    );

    let rejects = recent_rejects(&client, None, 10).await.unwrap();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].binding, "b");
    assert_eq!(rejects[0].sheet_row, Some(7));
    assert_eq!(rejects[0].column_name.as_deref(), Some("id"));
    assert_eq!(rejects[0].reason, "id: 'abc' is not a whole number");
}
