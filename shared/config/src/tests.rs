use std::collections::HashMap;
use std::path::PathBuf;

use sheetsync_reconcile::model::ConflictPolicy;

use crate::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

const DB_VARS: &[(&str, &str)] = &[
    ("DB_HOST", "db.internal"),
    ("DB_NAME", "app"),
    ("DB_USER", "sync"),
    ("DB_PASSWORD", "s3cret"),
];

#[test]
fn database_url_wins_and_loses_its_ssl_parameters() {
    let e = env(&[
        (
            "DATABASE_URL",
            "postgres://sync:pw@db:6543/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=5",
        ),
        ("DB_HOST", "ignored"),
    ]);
    let db = DbConfig::from_env_with(&e).unwrap();
    assert_eq!(
        db.conn,
        DbConn::Url("postgres://sync:pw@db:6543/app?connect_timeout=5".into())
    );
    assert_eq!(db.sslmode, SslMode::VerifyFull);
    assert_eq!(db.sslrootcert, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(
        db.target(),
        "postgres://sync:***@db:6543/app?connect_timeout=5"
    );
    assert!(!format!("{db:?}").contains("pw@"));
}

#[test]
fn db_variables_of_the_original_tool() {
    let mut vars = DB_VARS.to_vec();
    vars.push(("DB_PORT", "6432"));
    vars.push(("DB_SSLMODE", "require"));
    vars.push(("DB_SSLROOTCERT", "/ca.pem"));
    let db = DbConfig::from_env_with(&env(&vars)).unwrap();
    assert_eq!(
        db.conn,
        DbConn::Params(DbParams {
            host: "db.internal".into(),
            port: 6432,
            dbname: "app".into(),
            user: "sync".into(),
            password: Some("s3cret".into()),
        })
    );
    assert_eq!(db.sslmode, SslMode::Require);
    assert_eq!(db.sslrootcert, Some(PathBuf::from("/ca.pem")));
    assert_eq!(db.target(), "sync@db.internal:6432/app");
    let debug = format!("{db:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
}

#[test]
fn port_defaults_and_sslmode_defaults() {
    let db = DbConfig::from_env_with(&env(DB_VARS)).unwrap();
    let DbConn::Params(p) = &db.conn else {
        panic!("{db:?}")
    };
    assert_eq!(p.port, 5432);
    assert_eq!(db.sslmode, SslMode::Prefer);
}

#[test]
fn missing_and_bad_database_settings_are_named() {
    let err = DbConfig::from_env_with(&env(&[("DB_HOST", "h")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "DB_NAME is not set (set DATABASE_URL, or DB_HOST, DB_NAME, DB_USER and DB_PASSWORD)"
    );
    assert_eq!(err.setting(), Some("DB_NAME"));

    let err = DbConfig::from_env_with(&env(&[])).unwrap_err();
    assert_eq!(err.setting(), Some("DB_HOST"));

    let mut vars = DB_VARS.to_vec();
    vars.push(("DB_PORT", "54x"));
    let err = DbConfig::from_env_with(&env(&vars)).unwrap_err();
    assert_eq!(err.to_string(), "DB_PORT: '54x' is not a port number");

    let mut vars = DB_VARS.to_vec();
    vars.push(("DB_SSLMODE", "strict"));
    let err = DbConfig::from_env_with(&env(&vars)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "DB_SSLMODE: 'strict' is not one of disable, prefer, require, verify-full"
    );

    let err = DbConfig::from_env_with(&env(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "DATABASE_URL: expected a postgres:// or postgresql:// URL"
    );
}

#[test]
fn env_binding_from_gsheet_variables() {
    let mut vars = DB_VARS.to_vec();
    vars.extend([
        ("GSHEET_ID", "1AbC-d_9"),
        ("GSHEET_RANGE", "Orders!A1:F"),
        ("SHEETSYNC_TABLE", "sales.orders"),
        ("SHEETSYNC_CONFLICT", "db"),
    ]);
    let cfg = Config::from_env_with(&env(&vars)).unwrap();
    assert_eq!(
        cfg.bindings,
        vec![BindingConfig {
            name: "sales.orders".into(),
            table: TableRef {
                schema: Some("sales".into()),
                name: "orders".into()
            },
            spreadsheet_id: "1AbC-d_9".into(),
            range: SheetRange {
                sheet: "Orders".into(),
                cells: Some("A1:F".into())
            },
            conflict: ConflictPolicy::Db,
        }]
    );
    assert!(cfg.binding("sales.orders").is_some());
}

#[test]
fn env_without_sheet_variables_has_no_binding() {
    let cfg = Config::from_env_with(&env(DB_VARS)).unwrap();
    assert!(cfg.bindings.is_empty());
}

#[test]
fn incomplete_or_bad_env_binding_is_named() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("GSHEET_ID", "abc")],
            "GSHEET_RANGE is not set (a binding from the environment needs GSHEET_ID, GSHEET_RANGE and SHEETSYNC_TABLE)",
        ),
        (
            &[("GSHEET_ID", "abc"), ("GSHEET_RANGE", "Orders")],
            "SHEETSYNC_TABLE is not set (a binding from the environment needs GSHEET_ID, GSHEET_RANGE and SHEETSYNC_TABLE)",
        ),
        (
            &[("GSHEET_RANGE", "Orders"), ("SHEETSYNC_TABLE", "t")],
            "GSHEET_ID is not set (a binding from the environment needs GSHEET_ID, GSHEET_RANGE and SHEETSYNC_TABLE)",
        ),
        (
            &[
                ("GSHEET_ID", "a b"),
                ("GSHEET_RANGE", "Orders"),
                ("SHEETSYNC_TABLE", "t"),
            ],
            "GSHEET_ID: 'a b' is not a spreadsheet id (the part of the sheet's URL after /d/)",
        ),
        (
            &[
                ("GSHEET_ID", "a"),
                ("GSHEET_RANGE", "Orders!A1:F:G"),
                ("SHEETSYNC_TABLE", "t"),
            ],
            "GSHEET_RANGE: 'Orders!A1:F:G': 'A1:F:G' is not an A1 range like A1:F",
        ),
        (
            &[
                ("GSHEET_ID", "a"),
                ("GSHEET_RANGE", "Orders"),
                ("SHEETSYNC_TABLE", "a.b.c"),
            ],
            "SHEETSYNC_TABLE: 'a.b.c' is not [schema.]table",
        ),
        (
            &[
                ("GSHEET_ID", "a"),
                ("GSHEET_RANGE", "Orders"),
                ("SHEETSYNC_TABLE", "t"),
                ("SHEETSYNC_CONFLICT", "newest"),
            ],
            "SHEETSYNC_CONFLICT: conflict policy 'newest' is not one of latest, sheet, db",
        ),
        (
            &[
                ("GSHEET_ID", "a"),
                ("GSHEET_RANGE", "Orders"),
                ("SHEETSYNC_TABLE", "t"),
                ("SHEETSYNC_BINDING", "no spaces"),
            ],
            "SHEETSYNC_BINDING: binding name 'no spaces' must be 1 to 80 letters, digits, '_', '-' or '.'",
        ),
    ];
    for (vars, want) in cases {
        let err = BindingConfig::from_env_with(&env(vars)).unwrap_err();
        assert_eq!(err.to_string(), *want);
    }
}

#[test]
fn table_refs_quote_like_sql() {
    assert_eq!(
        TableRef::parse("orders").unwrap(),
        TableRef {
            schema: None,
            name: "orders".into()
        }
    );
    assert_eq!(
        TableRef::parse(r#""my.schema"."we""ird; drop""#).unwrap(),
        TableRef {
            schema: Some("my.schema".into()),
            name: "we\"ird; drop".into()
        }
    );
    // A bare name may hold quotes and spaces: only dots separate.
    assert_eq!(
        TableRef::parse("we\"ird; drop").unwrap(),
        TableRef {
            schema: None,
            name: "we\"ird; drop".into()
        }
    );
    assert_eq!(TableRef::parse("").unwrap_err(), "'' names no table");
    assert_eq!(
        TableRef::parse("\"a").unwrap_err(),
        "'\"a' has an unclosed quote"
    );
    let t = TableRef::parse(r#""my.schema"."we""ird""#).unwrap();
    assert_eq!(TableRef::parse(&t.to_string()).unwrap(), t);
    assert_eq!(default_binding_name(&t), "my_schema.we_ird");
}

const FILE: &str = r#"
[database]
host = "db.internal"
name = "app"
user = "sync"
sslmode = "verify-full"
sslrootcert = "/etc/rds-ca.pem"

[[binding]]
table = "orders"
spreadsheet_id = "1AbC"
range = "Orders!A1:F"

[[binding]]
name = "people"
table = "crm.people"
spreadsheet_id = "1AbC"
sheet = "People list"
conflict = "sheet"
"#;

#[test]
fn file_with_many_bindings() {
    let cfg = crate::file::parse(FILE, "sheetsync.toml", &env(&[("DB_PASSWORD", "pw")])).unwrap();
    assert_eq!(
        cfg.db,
        DbConfig {
            conn: DbConn::Params(DbParams {
                host: "db.internal".into(),
                port: 5432,
                dbname: "app".into(),
                user: "sync".into(),
                password: Some("pw".into()),
            }),
            sslmode: SslMode::VerifyFull,
            sslrootcert: Some(PathBuf::from("/etc/rds-ca.pem")),
        }
    );
    let names: Vec<_> = cfg.bindings.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["orders", "people"]);
    let people = cfg.binding("people").unwrap();
    assert_eq!(
        people.range,
        SheetRange {
            sheet: "People list".into(),
            cells: None
        }
    );
    assert_eq!(people.conflict, ConflictPolicy::Sheet);
    assert_eq!(
        cfg.binding("orders").unwrap().conflict,
        ConflictPolicy::Latest
    );
}

#[test]
fn file_without_database_uses_the_environment() {
    let text = "[[binding]]\ntable = \"t\"\nspreadsheet_id = \"x\"\nsheet = \"T\"\n";
    let cfg = crate::file::parse(
        text,
        "f.toml",
        &env(&[("DATABASE_URL", "postgres://u@h/d")]),
    )
    .unwrap();
    assert_eq!(cfg.db.conn, DbConn::Url("postgres://u@h/d".into()));
    assert_eq!(cfg.bindings.len(), 1);
}

#[test]
fn file_errors_name_the_key() {
    let cases = [
        (
            "[[binding]]\nspreadsheet_id = \"x\"\nsheet = \"T\"\n",
            "f.toml: binding #1.table is not set (the table to sync, [schema.]name)",
        ),
        (
            "[[binding]]\ntable = \"t\"\nspreadsheet_id = \"x\"\n",
            "f.toml: binding #1.range is not set (the tab name, or a range like Orders!A1:F)",
        ),
        (
            "[[binding]]\ntable = \"t\"\nspreadsheet_id = \"x\"\nsheet = \"T\"\nconflict = \"newest\"\n",
            "f.toml: binding #1.conflict: conflict policy 'newest' is not one of latest, sheet, db",
        ),
        (
            "[[binding]]\ntable = \"t\"\nspreadsheet_id = \"x\"\nsheet = \"T\"\n[[binding]]\ntable = \"u\"\nspreadsheet_id = \"x\"\nsheet = \"T\"\n",
            "f.toml: binding #2.range: tab 'T' of spreadsheet x is already bound",
        ),
        (
            "[[binding]]\ntable = \"t\"\nspreadsheet_id = \"x\"\nsheet = \"T\"\n[[binding]]\ntable = \"t\"\nspreadsheet_id = \"x\"\nsheet = \"U\"\n",
            "f.toml: binding #2.name: binding name 't' is used twice",
        ),
        (
            "[database]\nurl = \"postgres://h/d\"\nhost = \"h\"\n",
            "f.toml: database.url: give either url or host/port/name/user, not both",
        ),
        (
            "[database]\nhost = \"h\"\nname = \"d\"\nuser = \"u\"\nport = 70000\n",
            "f.toml: database.port: '70000' is not a port number",
        ),
        (
            "[database]\nname = \"d\"\n",
            "f.toml: database.host is not set (give database.url or database.host, name and user)",
        ),
    ];
    for (text, want) in cases {
        let e = env(&[("DATABASE_URL", "postgres://h/d")]);
        let err = crate::file::parse(text, "f.toml", &e).unwrap_err();
        assert_eq!(err.to_string(), want, "for:\n{text}");
    }
}

#[test]
fn file_syntax_and_unknown_keys_are_errors() {
    let err = crate::file::parse("[[binding]]\ntabel = \"t\"\n", "f.toml", &env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("f.toml: "), "{msg}");
    assert!(msg.contains("unknown field `tabel`"), "{msg}");
}

#[test]
fn load_reads_the_file_named_by_sheetsync_config() {
    let path = std::env::temp_dir().join(format!("sheetsync-config-{}.toml", std::process::id()));
    std::fs::write(&path, FILE).unwrap();
    let path_text = path.display().to_string();
    let cfg = Config::load_with(&env(&[("SHEETSYNC_CONFIG", &path_text)])).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(cfg.bindings.len(), 2);

    let err = Config::load_with(&env(&[("SHEETSYNC_CONFIG", "/nonexistent/s.toml")])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read config file /nonexistent/s.toml: "),
        "{err}"
    );
}
