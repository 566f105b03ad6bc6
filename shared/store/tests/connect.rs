use sheetsync_config::{DbConfig, DbConn, DbParams, SslMode};
use sheetsync_store::{StoreError, connect};
use sheetsync_testkit::TestDb;
use tokio_postgres::config::Host;

async fn current_db(client: &tokio_postgres::Client) -> String {
    client
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0)
}

fn params(db: &TestDb) -> DbParams {
    let cfg = db.config();
    let host = match &cfg.get_hosts()[0] {
        Host::Tcp(h) => h.clone(),
        Host::Unix(p) => p.display().to_string(),
    };
    DbParams {
        host,
        port: cfg.get_ports().first().copied().unwrap_or(5432),
        dbname: cfg.get_dbname().unwrap().to_string(),
        user: cfg.get_user().unwrap().to_string(),
        password: None,
    }
}

#[tokio::test]
async fn connects_from_a_url_and_from_separate_settings() {
    let db = TestDb::create().await;
    let mut cfg = DbConfig::from_url(db.url()).unwrap();
    cfg.sslmode = SslMode::Disable;
    let client = connect(&cfg).await.unwrap();
    assert_eq!(current_db(&client).await, db.name());

    let cfg = DbConfig {
        conn: DbConn::Params(params(&db)),
        sslmode: SslMode::Disable,
        sslrootcert: None,
    };
    let client = connect(&cfg).await.unwrap();
    assert_eq!(current_db(&client).await, db.name());
    let app: String = client
        .query_one("SHOW application_name", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(app, "sheetsync");
}

#[tokio::test]
async fn prefer_falls_back_to_plain_and_require_refuses_a_server_without_tls() {
    let db = TestDb::create().await;
    let probe = db.client().await;
    let ssl: String = probe.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    if ssl == "on" {
        // This server speaks TLS: prefer and require both encrypt.
        for mode in [SslMode::Prefer, SslMode::Require] {
            let mut cfg = DbConfig::from_url(db.url()).unwrap();
            cfg.sslmode = mode;
            let client = connect(&cfg).await.unwrap();
            let on: bool = client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            assert!(on);
        }
        return;
    }
    let mut cfg = DbConfig::from_url(db.url()).unwrap();
    cfg.sslmode = SslMode::Prefer;
    let client = connect(&cfg).await.unwrap();
    assert_eq!(current_db(&client).await, db.name());

    cfg.sslmode = SslMode::Require;
    let err = connect(&cfg).await.unwrap_err();
    let StoreError::Connect { target, detail } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(target, &cfg.target());
    assert!(detail.contains("TLS"), "{detail}");
}

#[tokio::test]
async fn a_missing_ca_file_is_named() {
    let db = TestDb::create().await;
    let mut cfg = DbConfig::from_url(db.url()).unwrap();
    cfg.sslmode = SslMode::VerifyFull;
    cfg.sslrootcert = Some("/nonexistent/ca.pem".into());
    let err = connect(&cfg).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("TLS: CA file /nonexistent/ca.pem (sslrootcert): "),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_names_the_target_without_the_password() {
    let cfg = DbConfig::from_url("postgres://u:secret@127.0.0.1:1/db?connect_timeout=2").unwrap();
    let err = connect(&cfg).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("cannot connect to postgres://u:***@127.0.0.1:1/db?connect_timeout=2: "),
        "{text}"
    );
    assert!(!text.contains("secret"));
}
