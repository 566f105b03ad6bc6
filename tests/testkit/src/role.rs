//! A login role of its own for one test (roles are cluster-wide, so each
//! gets a unique name), dropped with the value.

use std::sync::atomic::{AtomicU64, Ordering};

use sheetsync_config::{DbConfig, DbConn, DbParams, SslMode};
use tokio_postgres::config::Host;

use crate::TestDb;
use crate::testdb::execute_from_drop;

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Every test role's name starts so.
const PREFIX: &str = "sheetsync_test_role_";

#[derive(Debug)]
pub struct TestRole {
    name: String,
    password: String,
    /// The database the role was made for (its privileges there are dropped
    /// first), and the server's admin database.
    db_url: String,
    admin_url: String,
}

impl TestRole {
    /// `CREATE ROLE … LOGIN` with no privilege of its own, for `db`.
    pub async fn create(db: &TestDb) -> TestRole {
        let name = format!(
            "{PREFIX}{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let password = format!("pw-{name}");
        let client = db.client().await;
        client
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD '{password}'"
            ))
            .await
            .unwrap_or_else(|e| panic!("cannot create test role {name}: {e}"));
        TestRole {
            name,
            password,
            db_url: db.url().to_string(),
            admin_url: db.server_admin_url().to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// `db`'s connection settings, logging in as this role.
    pub fn config(&self, db: &TestDb) -> tokio_postgres::Config {
        let mut config = db.config();
        config.user(&self.name).password(&self.password);
        config
    }

    /// `db`'s settings as the functions take them (`DATABASE_*`), logging
    /// in as this role.
    pub fn db_config(&self, db: &TestDb) -> DbConfig {
        let config = self.config(db);
        let host = match &config.get_hosts()[0] {
            Host::Tcp(host) => host.clone(),
            Host::Unix(path) => path.display().to_string(),
        };
        DbConfig {
            conn: DbConn::Params(DbParams {
                host,
                port: config.get_ports().first().copied().unwrap_or(5432),
                dbname: config.get_dbname().unwrap_or_default().to_string(),
                user: self.name.clone(),
                password: Some(self.password.clone()),
            }),
            sslmode: SslMode::Disable,
            sslrootcert: None,
        }
    }

    /// A connection to `db` as this role.
    pub async fn client(&self, db: &TestDb) -> tokio_postgres::Client {
        crate::testdb::connect(&self.config(db), &format!("the database as {}", self.name)).await
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        // Its grants in the test database (gone already if the database was
        // dropped first), then the role.
        let _ = execute_from_drop(&self.db_url, format!("DROP OWNED BY {}", self.name));
        let sql = format!("DROP ROLE IF EXISTS {}", self.name);
        if let Err(e) = execute_from_drop(&self.admin_url, sql) {
            eprintln!("sheetsync-testkit: cannot drop role {}: {e}", self.name);
        }
    }
}
