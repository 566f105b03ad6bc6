#![allow(dead_code)]

use sheetsync_config::TableRef;
use sheetsync_reconcile::model::ConflictPolicy;
use sheetsync_store::{AttachSpec, migrate};
use sheetsync_testkit::TestDb;
use tokio_postgres::Client;

/// A fresh database with sheetsync's schema.
pub async fn migrated() -> (TestDb, Client) {
    let db = TestDb::create().await;
    let client = db.client().await;
    migrate(&client).await.unwrap();
    (db, client)
}

pub fn spec(table: &str, sheet: &str) -> AttachSpec {
    AttachSpec {
        name: None,
        table: TableRef::parse(table).unwrap(),
        spreadsheet_id: "sheet-1".into(),
        sheet: sheet.into(),
        policy: ConflictPolicy::Latest,
    }
}

/// (op, key, row_image, origin) of every outbox row, in sequence order.
pub async fn outbox(
    client: &Client,
) -> Vec<(String, serde_json::Value, Option<serde_json::Value>, String)> {
    client
        .query(
            "SELECT op, key, row_image, origin FROM sheetsync.outbox ORDER BY seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

pub async fn count(client: &Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}
