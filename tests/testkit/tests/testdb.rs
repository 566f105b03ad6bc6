use sheetsync_testkit::TestDb;

async fn database_exists(client: &tokio_postgres::Client, name: &str) -> bool {
    client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

#[tokio::test]
async fn each_test_database_is_fresh_and_separate() {
    let a = TestDb::create().await;
    let b = TestDb::create().await;
    assert_ne!(a.name(), b.name());
    assert!(a.url().contains(a.name()));

    let ca = a.client().await;
    let cb = b.client().await;
    let db: String = ca
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(db, a.name());
    ca.batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    let tables: i64 = cb
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
}

#[tokio::test]
async fn dropping_the_value_drops_the_database_even_with_open_connections() {
    let keep = TestDb::create().await;
    let observer = keep.client().await;
    let gone = TestDb::create().await;
    let name = gone.name().to_string();
    let open = gone.client().await;
    assert!(database_exists(&observer, &name).await);

    drop(gone);

    assert!(!database_exists(&observer, &name).await);
    assert!(open.simple_query("SELECT 1").await.is_err());
}

#[test]
fn works_from_a_plain_multi_threaded_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = TestDb::create().await;
        let c = db.client().await;
        let one: i32 = c.query_one("SELECT 1", &[]).await.unwrap().get(0);
        assert_eq!(one, 1);
    });
}
