mod common;

use sheetsync_store::StoredBinding;
use sheetsync_store::{AppliedMigration, StoreError, migrate, migrations};
use sheetsync_testkit::TestDb;

#[tokio::test]
async fn migrate_applies_once_and_records_each_migration() {
    let db = TestDb::create().await;
    let client = db.client().await;

    let first = migrate(&client).await.unwrap();
    let expected: Vec<AppliedMigration> = migrations()
        .iter()
        .map(|m| AppliedMigration {
            version: m.version,
            name: m.name.to_string(),
        })
        .collect();
    assert_eq!(first, expected);
    assert_eq!(
        first[0],
        AppliedMigration {
            version: 1,
            name: "schema".into()
        }
    );

    let again = migrate(&client).await.unwrap();
    assert_eq!(again, vec![]);

    let rows = client
        .query(
            "SELECT version, name, checksum FROM sheetsync.schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let recorded: Vec<(i32, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let embedded: Vec<(i32, String, String)> = migrations()
        .iter()
        .map(|m| (m.version, m.name.to_string(), m.checksum()))
        .collect();
    assert_eq!(recorded, embedded);
    assert_eq!(recorded[0].2.len(), 64);
}

#[tokio::test]
async fn concurrent_migrators_apply_each_migration_exactly_once() {
    let db = TestDb::create().await;
    let clients = [
        db.client().await,
        db.client().await,
        db.client().await,
        db.client().await,
    ];
    let results = migrate_all_four(&clients).await;
    let applied: Vec<usize> = results.into_iter().map(|r| r.unwrap().len()).collect();
    let total = migrations().len();
    assert_eq!(
        applied.iter().filter(|n| **n == total).count(),
        1,
        "{applied:?}"
    );
    assert_eq!(applied.iter().sum::<usize>(), total, "{applied:?}");
    let rows = common::count(
        &clients[0],
        "SELECT count(*) FROM sheetsync.schema_migrations",
    )
    .await;
    assert_eq!(rows, total as i64);
}

async fn migrate_all_four(
    clients: &[tokio_postgres::Client; 4],
) -> [Result<Vec<AppliedMigration>, StoreError>; 4] {
    let (a, b, c, d) = tokio::join!(
        migrate(&clients[0]),
        migrate(&clients[1]),
        migrate(&clients[2]),
        migrate(&clients[3])
    );
    [a, b, c, d]
}

#[tokio::test]
async fn a_changed_migration_is_refused() {
    let (_db, client) = common::migrated().await;
    client
        .execute(
            "UPDATE sheetsync.schema_migrations SET checksum = 'abc' WHERE version = 1",
            &[],
        )
        .await
        .unwrap();
    let err = migrate(&client).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::MigrationChanged { version: 1, applied, .. } if applied == "abc"),
        "{err:?}"
    );
    // The failed run rolled back and left the connection usable.
    assert_eq!(common::count(&client, "SELECT 1::int8").await, 1);
}

#[tokio::test]
async fn using_an_unmigrated_database_says_to_migrate() {
    let db = TestDb::create().await;
    let client = db.client().await;
    let err = sheetsync_store::Binding::load(&client, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotMigrated), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the sheetsync schema is missing in this database; run `sheetsync migrate` first"
    );
}
