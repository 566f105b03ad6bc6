//! Where the dev stack's PostgreSQL comes from: `DATABASE_URL` when set,
//! else a throwaway cluster removed at exit.

use sheetsync_config::{DbConfig, DbConn, SslMode, process_env};
use sheetsync_localpg::Cluster;
use sheetsync_store::Binding;
use sheetsync_store::StoredBinding;
use tokio_postgres::Client;

use super::DevError;
use super::console::Console;

/// The database the throwaway cluster gets for the stack.
const DEV_DATABASE: &str = "sheetsync";

pub struct Database {
    config: DbConfig,
    cluster: Option<Cluster>,
}

impl Database {
    pub async fn open(console: &Console) -> Result<Database, DevError> {
        if let Some(url) = process_env("DATABASE_URL") {
            console.step("using the database of DATABASE_URL");
            return Ok(Database {
                config: DbConfig::from_url(&url)?,
                cluster: None,
            });
        }
        console.step("starting a throwaway PostgreSQL (DATABASE_URL is not set)");
        let cluster = Cluster::start().await?;
        let config = DbConfig {
            conn: DbConn::Url(cluster.url("postgres")),
            sslmode: SslMode::Disable,
            sslrootcert: None,
        };
        let admin = sheetsync_store::connect(&config).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {DEV_DATABASE}"))
            .await?;
        drop(admin);
        Ok(Database {
            config: DbConfig {
                conn: DbConn::Url(cluster.url(DEV_DATABASE)),
                ..config
            },
            cluster: Some(cluster),
        })
    }

    pub fn is_throwaway(&self) -> bool {
        self.cluster.is_some()
    }

    pub fn config(&self) -> &DbConfig {
        &self.config
    }

    pub async fn connect(&self) -> Result<Client, DevError> {
        Ok(sheetsync_store::connect(&self.config).await?)
    }

    /// For the banner; never shows a password.
    pub fn describe(&self) -> String {
        match &self.cluster {
            Some(c) => format!(
                "throwaway cluster on 127.0.0.1:{} (in {}, removed on exit)",
                c.port(),
                c.dir().display()
            ),
            None => format!("DATABASE_URL ({})", self.config.target()),
        }
    }

    /// A psql command that changes the first row, for the person to try.
    pub fn psql_command(&self, binding: &Binding) -> String {
        let target = match &self.cluster {
            Some(c) => c.url(DEV_DATABASE),
            None => "\"$DATABASE_URL\"".to_string(),
        };
        format!("psql {target} -c \"{}\"", try_sql(binding))
    }

    /// Stops and removes the throwaway cluster (blocks until it is gone).
    pub fn close(self) -> Result<(), DevError> {
        match self.cluster {
            Some(cluster) => Ok(cluster.stop()?),
            None => Ok(()),
        }
    }
}

/// An UPDATE of the demo table that shows in the grid at once; for another
/// table, a harmless query the person can adapt.
fn try_sql(binding: &Binding) -> String {
    if binding.table_name == super::demo::DEMO_TABLE && binding.column("qty").is_some() {
        "UPDATE orders SET qty = qty + 1 WHERE id = 1".to_string()
    } else {
        format!(
            "SELECT * FROM {} LIMIT 5",
            binding.qualified_table().replace('"', "\\\"")
        )
    }
}
