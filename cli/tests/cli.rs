//! The `sheetsync` binary against a real database.

use std::process::{Command, Output};

use sheetsync_testkit::TestDb;

/// Runs the CLI with only this database in its environment.
fn sheetsync(db: &TestDb, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sheetsync"));
    for var in [
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_USER",
        "DB_PASSWORD",
        "DB_SSLMODE",
        "DB_SSLROOTCERT",
        "GSHEET_ID",
        "GSHEET_RANGE",
        "SHEETSYNC_TABLE",
        "SHEETSYNC_CONFLICT",
        "SHEETSYNC_BINDING",
        "SHEETSYNC_CONFIG",
        "SHEETSYNC_FUNCTION_ROLE",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("DATABASE_URL", db.url())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn failure(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[tokio::test]
async fn migrate_attach_status_detach() {
    let db = TestDb::create().await;
    let client = db.client().await;

    let every: String = sheetsync_store::migrations()
        .iter()
        .map(|m| format!("applied {:04}_{}\n", m.version, m.name))
        .collect();
    assert!(every.starts_with("applied 0001_schema\n"), "{every}");
    assert_eq!(stdout(&sheetsync(&db, &["migrate"])), every);
    assert_eq!(
        stdout(&sheetsync(&db, &["migrate"])),
        format!(
            "database is up to date ({} migrations)\n",
            sheetsync_store::migrations().len()
        )
    );

    client
        .batch_execute(
            "CREATE TABLE orders (id int PRIMARY KEY, customer text); CREATE TABLE loose (a int)",
        )
        .await
        .unwrap();
    let out = sheetsync(
        &db,
        &[
            "attach",
            "--table",
            "orders",
            "--spreadsheet",
            "1AbC",
            "--sheet",
            "Orders!A1:F",
            "--conflict",
            "sheet",
        ],
    );
    assert_eq!(
        stdout(&out),
        "attached public.orders -> spreadsheet 1AbC tab 'Orders' as binding orders (key id, conflict sheet)\n"
    );

    let err = failure(&sheetsync(
        &db,
        &[
            "attach",
            "--table",
            "loose",
            "--spreadsheet",
            "1AbC",
            "--sheet",
            "Loose",
        ],
    ));
    assert!(
        err.ends_with(
            "sheetsync: table public.loose has no primary key; sheetsync identifies rows by primary key\n"
        ),
        "{err}"
    );

    client
        .batch_execute("INSERT INTO orders VALUES (1, 'Ada'), (2, 'Grace')")
        .await
        .unwrap();
    let status = stdout(&sheetsync(&db, &["status"]));
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 2, "{status}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "BINDING",
            "TABLE",
            "SPREADSHEET",
            "SHEET",
            "CONFLICT",
            "QUEUED",
            "OLDEST",
            "QUEUED",
            "CONFLICTS",
            "REJECTS"
        ]
    );
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells.len(), 9, "{status}");
    assert_eq!(
        cells[..6],
        ["orders", "public.orders", "1AbC", "Orders", "sheet", "2"]
    );
    assert!(cells[6].ends_with('Z'), "{status}");
    assert_eq!(cells[7..], ["0", "0"]);
    // Columns line up under their headings.
    assert_eq!(lines[0].find("QUEUED"), lines[1].find(" 2 ").map(|i| i + 1));

    client
        .batch_execute(
            "INSERT INTO sheetsync.rejects (binding, sheet_row, key, column_name, value, reason)
             VALUES ('orders', 9, '[7]', 'id', '\"x\"', 'id: ''x'' is not a whole number')",
        )
        .await
        .unwrap();
    let status = stdout(&sheetsync(&db, &["status", "--binding", "orders"]));
    let tail: Vec<&str> = status.lines().skip(2).collect();
    assert_eq!(tail[0], "");
    assert_eq!(tail[1], "Recent rejects:");
    assert!(
        tail[3].ends_with("orders   9    [7]  id      id: 'x' is not a whole number"),
        "{status}"
    );

    assert_eq!(
        stdout(&sheetsync(&db, &["detach", "--binding", "orders"])),
        "detached orders\n"
    );
    let status = stdout(&sheetsync(&db, &["status"]));
    assert!(
        status.starts_with("no bindings (attach a table with `sheetsync attach`)\n"),
        "{status}"
    );
    let err = failure(&sheetsync(&db, &["detach", "--binding", "orders"]));
    assert!(
        err.ends_with("sheetsync: binding 'orders' does not exist\n"),
        "{err}"
    );
}

#[tokio::test]
async fn attach_takes_the_original_tools_environment() {
    let db = TestDb::create().await;
    let client = db.client().await;
    sheetsync_store::migrate(&client).await.unwrap();
    client
        .batch_execute(r#"CREATE TABLE "we""ird; drop" (id int PRIMARY KEY)"#)
        .await
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sheetsync"))
        .env_remove("SHEETSYNC_CONFIG")
        .env_remove("SHEETSYNC_BINDING")
        .env_remove("SHEETSYNC_CONFLICT")
        .env("DATABASE_URL", db.url())
        .env("GSHEET_ID", "1AbC")
        .env("GSHEET_RANGE", "'Q1 ''24'!A1:F")
        .env("SHEETSYNC_TABLE", "we\"ird; drop")
        .args(["attach"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "attached public.we\"ird; drop -> spreadsheet 1AbC tab 'Q1 '24' as binding we_ird__drop (key id, conflict latest)\n"
    );
}

#[tokio::test]
async fn a_missing_database_setting_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_sheetsync"))
        .env_clear()
        .args(["status"])
        .output()
        .unwrap();
    assert_eq!(
        failure(&out),
        "sheetsync: DB_HOST is not set (set DATABASE_URL, or DB_HOST, DB_NAME, DB_USER and DB_PASSWORD)\n"
    );
}

#[tokio::test]
async fn attach_from_a_config_file_attaches_each_binding_once() {
    let db = TestDb::create().await;
    let client = db.client().await;
    sheetsync_store::migrate(&client).await.unwrap();
    client
        .batch_execute(
            "CREATE SCHEMA crm;
             CREATE TABLE orders (id int PRIMARY KEY);
             CREATE TABLE crm.people (email text, org int, PRIMARY KEY (org, email));",
        )
        .await
        .unwrap();
    let file = std::env::temp_dir().join(format!("{}.toml", db.name()));
    std::fs::write(
        &file,
        r#"
[[binding]]
table = "orders"
spreadsheet_id = "1AbC"
range = "Orders!A1:F"

[[binding]]
name = "people"
table = "crm.people"
spreadsheet_id = "1AbC"
sheet = "People"
conflict = "db"
"#,
    )
    .unwrap();
    let config = file.display().to_string();
    let first = sheetsync(&db, &["--config", &config, "attach", "--from-config"]);
    let second = sheetsync(&db, &["attach", "--from-config", "--config", &config]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(
        stdout(&first),
        "attached public.orders -> spreadsheet 1AbC tab 'Orders' as binding orders (key id, conflict latest)\n\
         attached crm.people -> spreadsheet 1AbC tab 'People' as binding people (key org, email, conflict db)\n"
    );
    assert_eq!(
        stdout(&second),
        "orders is already attached to public.orders\npeople is already attached to crm.people\n"
    );
}

/// `sheetsync key` with only the given webhook variables set.
fn key_command(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sheetsync"));
    for var in [
        "SHEETSYNC_WEBHOOK_SECRET",
        "SHEETSYNC_WEBHOOK_SECRET_ARN",
        "SHEETSYNC_WEBHOOK_SECRET_PARAMETER",
        "SHEETSYNC_WEBHOOK_SECRET_PREVIOUS",
        "GSHEET_ID",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "trace")
        .envs(vars.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

/// The key of tests/contract/signature.json's derivation vector, and
/// nothing of the master on either stream (logs at trace).
#[test]
fn key_prints_the_spreadsheets_key_and_never_the_master() {
    let master = "sheetsync-test-secret";
    let out = key_command(
        &[("SHEETSYNC_WEBHOOK_SECRET", master)],
        &["key", "--spreadsheet", "1AbC-sheetsync-test"],
    );
    assert_eq!(
        stdout(&out),
        "95c2c4306b53a070a1e36b89305a80a40756c041bba7d8e33cd2df91c4530998\n"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(master));
    // GSHEET_ID is the default, as for attach.
    let out = key_command(
        &[
            ("SHEETSYNC_WEBHOOK_SECRET", master),
            ("GSHEET_ID", "1XyZ-other-team"),
        ],
        &["key"],
    );
    let other = stdout(&out);
    assert_eq!(other.trim().len(), 64);
    assert_ne!(
        other,
        "95c2c4306b53a070a1e36b89305a80a40756c041bba7d8e33cd2df91c4530998\n"
    );
}

#[test]
fn key_without_a_master_or_with_a_url_is_refused() {
    let err = failure(&key_command(&[], &["key", "--spreadsheet", "1AbC"]));
    assert!(err.contains("no webhook secret configured"), "{err}");
    let err = failure(&key_command(
        &[("SHEETSYNC_WEBHOOK_SECRET", "m")],
        &[
            "key",
            "--spreadsheet",
            "https://docs.google.com/spreadsheets/d/1AbC/edit",
        ],
    ));
    assert!(err.contains("is not a spreadsheet id"), "{err}");
}

/// `attach --grant-to` gives the functions' role the table, `detach` takes
/// it back; `grant` does the same for a binding attached without it.
#[tokio::test]
async fn attach_grants_the_functions_role_and_detach_revokes() {
    let db = TestDb::create().await;
    let client = db.client().await;
    let role = sheetsync_testkit::TestRole::create(&db).await;
    stdout(&sheetsync(&db, &["migrate"]));
    client
        .batch_execute(
            "CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE notes (id int PRIMARY KEY)",
        )
        .await
        .unwrap();
    let out = sheetsync(
        &db,
        &[
            "attach",
            "--table",
            "orders",
            "--spreadsheet",
            "1AbC",
            "--sheet",
            "Orders",
            "--grant-to",
            role.name(),
        ],
    );
    assert!(
        stdout(&out).ends_with(&format!("granted public.orders to role {}\n", role.name())),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    stdout(&sheetsync(
        &db,
        &[
            "attach",
            "--table",
            "notes",
            "--spreadsheet",
            "1AbC",
            "--sheet",
            "Notes",
        ],
    ));
    let as_role = role.client(&db).await;
    as_role.batch_execute("SELECT * FROM orders").await.unwrap();
    assert!(as_role.batch_execute("SELECT * FROM notes").await.is_err());
    assert_eq!(
        stdout(&sheetsync(
            &db,
            &["grant", "--binding", "notes", "--role", role.name()]
        )),
        format!("granted binding notes to role {}\n", role.name())
    );
    as_role.batch_execute("SELECT * FROM notes").await.unwrap();

    stdout(&sheetsync(&db, &["detach", "--binding", "orders"]));
    let err = as_role
        .batch_execute("SELECT * FROM orders")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
}
