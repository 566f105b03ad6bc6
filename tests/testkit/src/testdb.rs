//! One fresh database per test, dropped with the value.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_postgres::{Client, NoTls};

use crate::server::{PgSource, Server, server};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Every test database's name starts so, then the creating process's pid.
pub(crate) const PREFIX: &str = "sheetsync_test_";

/// A database of its own for one test. Dropping it drops the database
/// (`WITH (FORCE)`, so connections still open do not keep it alive).
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    server: &'static Server,
}

impl TestDb {
    /// Creates a fresh, empty database. Panics (it is test code) when no
    /// PostgreSQL is available, saying what was tried.
    pub async fn create() -> TestDb {
        let server = server().await;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "{PREFIX}{}_{}_{nanos:09}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = admin(&server.admin_url).await;
        // Two CREATE DATABASE from one template at once can collide
        // ("source database is being accessed"): retry briefly.
        let mut attempt = 0;
        loop {
            match admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .await
            {
                Ok(()) => break,
                Err(e) if attempt < 20 && is_template_busy(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot create test database {name}: {e}"),
            }
        }
        let url = server.base.with_db(&name);
        TestDb { name, url, server }
    }

    /// The database's name (letters, digits and underscores only).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection string for this database (URL or key/value form, as
    /// `tokio_postgres::Config` and libpq accept).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The parsed connection settings for this database.
    pub fn config(&self) -> tokio_postgres::Config {
        self.url
            .parse()
            .unwrap_or_else(|e| panic!("test database url {} does not parse: {e}", self.url))
    }

    /// The server's administrative database (for cluster-wide objects).
    pub(crate) fn server_admin_url(&self) -> &str {
        &self.server.admin_url
    }

    /// Where the database lives.
    pub fn source(&self) -> &PgSource {
        &self.server.source
    }

    /// A new connection to this database; its connection task runs on the
    /// current tokio runtime.
    pub async fn client(&self) -> Client {
        connect(&self.config(), &format!("test database {}", self.name)).await
    }
}

/// A connection made with `config` (`who` names it in a panic); its
/// connection task runs on the current tokio runtime.
pub(crate) async fn connect(config: &tokio_postgres::Config, who: &str) -> Client {
    let (client, conn) = config
        .connect(NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {who}: {e}"));
    tokio::spawn(async move {
        // The test ends the connection by dropping the client or the
        // database; either way there is nobody left to tell.
        let _ = conn.await;
    });
    client
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        if let Err(e) = execute_from_drop(&self.server.admin_url, sql) {
            eprintln!("sheetsync-testkit: cannot drop database {}: {e}", self.name);
        }
    }
}

/// Runs `sql` on `url` from a `Drop`. Drop may run inside a
/// (single-threaded) tokio test, where blocking on that runtime would
/// deadlock: this runs on a thread with a runtime of its own.
pub(crate) fn execute_from_drop(url: &str, sql: String) -> Result<(), String> {
    let url = url.to_string();
    let worker = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let conn = tokio::spawn(conn);
            let res = client.batch_execute(&sql).await;
            drop(client);
            let _ = conn.await;
            res.map_err(|e| e.to_string())
        })
    });
    worker.join().unwrap_or_else(|_| Err("panicked".into()))
}

async fn admin(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

fn is_template_busy(e: &tokio_postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|d| d.code() == &tokio_postgres::error::SqlState::OBJECT_IN_USE)
}
