mod common;

use serde_json::json;
use sheetsync_config::TableRef;
use sheetsync_reconcile::model::{Column, ConflictPolicy, PgType};
use sheetsync_store::StoredBinding;
use sheetsync_store::{AttachSpec, Binding, StoreError, attach, detach};

fn col(name: &str, pg_type: PgType, sql_type: &str) -> Column {
    Column {
        name: name.into(),
        pg_type,
        sql_type: sql_type.into(),
        nullable: true,
        key_position: None,
        has_default: false,
        generated: false,
    }
}

#[tokio::test]
async fn a_table_without_primary_key_is_refused() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute("CREATE TABLE t (a int)")
        .await
        .unwrap();
    let err = attach(&client, &common::spec("t", "T")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "table public.t has no primary key; sheetsync identifies rows by primary key"
    );
    assert_eq!(
        common::count(&client, "SELECT count(*) FROM sheetsync.bindings").await,
        0
    );
    assert_eq!(
        common::count(
            &client,
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_missing_table_or_a_view_is_refused() {
    let (_db, client) = common::migrated().await;
    let err = attach(&client, &common::spec("nope", "T"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "table nope does not exist");
    let err = attach(&client, &common::spec("public.nope", "T"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "table public.nope does not exist");

    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW v AS SELECT * FROM t")
        .await
        .unwrap();
    let err = attach(&client, &common::spec("v", "T")).await.unwrap_err();
    assert_eq!(err.to_string(), "v is a view, not a table");
}

#[tokio::test]
async fn hostile_identifiers_are_quoted_and_inject_nothing() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute(
            r#"CREATE TABLE victim (id int);
               CREATE SCHEMA "s""; DROP TABLE victim; --";
               CREATE TABLE "s""; DROP TABLE victim; --"."we""ird; drop" (
                   "id); DROP TABLE victim; --" int PRIMARY KEY,
                   "na""me" text,
                   "DROP TABLE victim" int
               );"#,
        )
        .await
        .unwrap();
    let table = TableRef {
        schema: Some("s\"; DROP TABLE victim; --".into()),
        name: "we\"ird; drop".into(),
    };
    let binding = attach(
        &client,
        &AttachSpec {
            name: None,
            table: table.clone(),
            spreadsheet_id: "sheet-1".into(),
            sheet: "Weird".into(),
            policy: ConflictPolicy::Sheet,
        },
    )
    .await
    .unwrap();
    assert_eq!(binding.name, "s___DROP_TABLE_victim__--.we_ird__drop");
    assert_eq!(binding.key_columns, ["id); DROP TABLE victim; --"]);
    assert_eq!(
        binding.qualified_table(),
        r#""s""; DROP TABLE victim; --"."we""ird; drop""#
    );
    let names: Vec<&str> = binding.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["id); DROP TABLE victim; --", "na\"me", "DROP TABLE victim"]
    );

    client
        .batch_execute(&format!(
            r#"INSERT INTO {} VALUES (1, 'x"y', 2)"#,
            binding.qualified_table()
        ))
        .await
        .unwrap();
    assert_eq!(
        common::outbox(&client).await,
        vec![(
            "insert".to_string(),
            json!([1]),
            Some(
                json!({"id); DROP TABLE victim; --": 1, "na\"me": "x\"y", "DROP TABLE victim": 2})
            ),
            "db".to_string()
        )]
    );

    detach(&client, &binding.name).await.unwrap();
    assert_eq!(
        common::count(
            &client,
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
        )
        .await,
        0
    );
    assert_eq!(
        common::count(&client, "SELECT count(*) FROM sheetsync.bindings").await,
        0
    );
    assert_eq!(
        common::count(&client, "SELECT count(*) FROM victim").await,
        0
    );
}

#[tokio::test]
async fn hostile_binding_names_are_refused() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    let mut spec = common::spec("t", "T");
    spec.name = Some("x'); DROP TABLE t; --".into());
    let err = attach(&client, &spec).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "binding name 'x'); DROP TABLE t; --' must be 1 to 80 letters, digits, '_', '-' or '.'"
    );
}

#[tokio::test]
async fn detach_removes_trigger_binding_and_queue() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    attach(&client, &common::spec("t", "T")).await.unwrap();
    client
        .batch_execute("INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    assert_eq!(
        common::count(&client, "SELECT count(*) FROM sheetsync.outbox").await,
        1
    );

    detach(&client, "t").await.unwrap();
    client
        .batch_execute("INSERT INTO t VALUES (2)")
        .await
        .unwrap();
    assert_eq!(
        common::count(&client, "SELECT count(*) FROM sheetsync.outbox").await,
        0
    );
    assert_eq!(
        common::count(&client, "SELECT count(*) FROM sheetsync.row_state").await,
        0
    );
    assert_eq!(
        common::count(
            &client,
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
        )
        .await,
        0
    );

    let err = detach(&client, "t").await.unwrap_err();
    assert_eq!(err.to_string(), "binding 't' does not exist");
    // Attaching again after a detach works.
    attach(&client, &common::spec("t", "T")).await.unwrap();
}

#[tokio::test]
async fn a_table_or_tab_is_bound_once() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int PRIMARY KEY)")
        .await
        .unwrap();
    attach(&client, &common::spec("t", "T")).await.unwrap();

    let err = attach(&client, &common::spec("t", "T")).await.unwrap_err();
    assert_eq!(err.to_string(), "binding 't' already exists");

    let mut again = common::spec("t", "Other");
    again.name = Some("t2".into());
    let err = attach(&client, &again).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "table public.t is already bound (binding 't')"
    );

    let err = attach(&client, &common::spec("u", "T")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "tab 'T' of spreadsheet sheet-1 is already bound (binding 't')"
    );
    assert!(matches!(err, StoreError::SheetAlreadyBound { .. }));
}

#[tokio::test]
async fn columns_types_and_key_order_come_from_the_catalog() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute(
            "CREATE DOMAIN qty AS int4 CHECK (VALUE >= 0);
             CREATE SCHEMA sales;
             CREATE TABLE sales.lines (
                 id bigint GENERATED ALWAYS AS IDENTITY,
                 note varchar(20) NOT NULL DEFAULT '',
                 amount numeric(10,2),
                 n qty,
                 region text,
                 total numeric GENERATED ALWAYS AS (amount * 2) STORED,
                 due date,
                 at timestamptz,
                 tags text[],
                 PRIMARY KEY (region, id)
             );
             ALTER TABLE sales.lines DROP COLUMN tags;",
        )
        .await
        .unwrap();
    let mut spec = common::spec("sales.lines", "Lines");
    spec.policy = ConflictPolicy::Db;
    let b = attach(&client, &spec).await.unwrap();
    assert_eq!(b.name, "sales.lines");
    assert_eq!(b.table_schema, "sales");
    assert_eq!(b.table_name, "lines");
    assert_eq!(b.policy, ConflictPolicy::Db);
    assert_eq!(b.key_columns, ["region", "id"]);
    assert_eq!(b.identity_always, ["id"]);
    let expected = vec![
        Column {
            nullable: false,
            key_position: Some(1),
            has_default: true,
            ..col("id", PgType::Int8, "bigint")
        },
        Column {
            nullable: false,
            has_default: true,
            ..col("note", PgType::Text, "character varying(20)")
        },
        col("amount", PgType::Numeric, "numeric(10,2)"),
        col("n", PgType::Int4, "qty"),
        Column {
            nullable: false,
            key_position: Some(0),
            ..col("region", PgType::Text, "text")
        },
        Column {
            generated: true,
            ..col("total", PgType::Numeric, "numeric")
        },
        col("due", PgType::Date, "date"),
        col("at", PgType::Timestamptz, "timestamp with time zone"),
    ];
    assert_eq!(b.columns, expected);
    let key: Vec<&str> = b.key().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(key, ["region", "id"]);
}

#[tokio::test]
async fn bindings_are_found_by_name_and_by_tab_and_follow_renames() {
    let (_db, client) = common::migrated().await;
    client
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    let attached = attach(&client, &common::spec("t", "T")).await.unwrap();
    assert_eq!(Binding::load(&client, "t").await.unwrap(), attached);
    assert_eq!(
        Binding::find(&client, "sheet-1", "T").await.unwrap(),
        Some(attached.clone())
    );
    assert_eq!(Binding::find(&client, "sheet-1", "U").await.unwrap(), None);
    let err = Binding::load(&client, "zz").await.unwrap_err();
    assert_eq!(err.to_string(), "binding 'zz' does not exist");

    client
        .batch_execute("ALTER TABLE t RENAME TO t2")
        .await
        .unwrap();
    let renamed = Binding::load(&client, "t").await.unwrap();
    assert_eq!(renamed.table_name, "t2");
    assert_eq!(Binding::list(&client).await.unwrap(), vec![renamed]);

    client
        .batch_execute(
            "ALTER TABLE t2 ADD COLUMN k int NOT NULL DEFAULT 0;
                        ALTER TABLE t2 DROP CONSTRAINT t_pkey;
                        ALTER TABLE t2 ADD PRIMARY KEY (k)",
        )
        .await
        .unwrap();
    let err = Binding::load(&client, "t").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the primary key of public.t2 changed since binding 't' was attached \
         (was [\"id\"], now [\"k\"]); detach and attach it again"
    );

    client.batch_execute("DROP TABLE t2").await.unwrap();
    let err = Binding::load(&client, "t").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the table of binding 't' no longer exists; detach it"
    );
    detach(&client, "t").await.unwrap();
}
