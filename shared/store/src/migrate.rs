//! The migrations in shared/store/migrations, embedded at build time and applied
//! in version order, each once, recorded in `sheetsync.schema_migrations`.

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::{StoreError, in_transaction, locks};

/// One embedded migration file, `NNNN_name.sql`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// sha256 of the SQL text, hex.
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Every migration this build carries, in version order.
pub fn migrations() -> &'static [Migration] {
    MIGRATIONS
}

/// A migration that [`migrate`] applied just now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i32,
    pub name: String,
}

/// Applies every migration not yet applied, all in one transaction under an
/// advisory lock, so concurrent migrators queue and the later ones find
/// nothing to do. Returns what was applied (empty when up to date). A
/// migration whose text changed after it was applied is refused.
pub async fn migrate(client: &Client) -> Result<Vec<AppliedMigration>, StoreError> {
    in_transaction(client, async |c: &Client| {
        c.execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&locks::MIGRATE.0, &locks::MIGRATE.1],
        )
        .await?;
        c.batch_execute(
            "CREATE SCHEMA IF NOT EXISTS sheetsync;
             CREATE TABLE IF NOT EXISTS sheetsync.schema_migrations (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 checksum   text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )
        .await?;
        let rows = c
            .query("SELECT version, checksum FROM sheetsync.schema_migrations", &[])
            .await?;
        let applied: std::collections::HashMap<i32, String> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();

        let mut done = Vec::new();
        for m in MIGRATIONS {
            let checksum = m.checksum();
            if let Some(recorded) = applied.get(&m.version) {
                if *recorded != checksum {
                    return Err(StoreError::MigrationChanged {
                        version: m.version,
                        name: m.name.to_string(),
                        applied: recorded.clone(),
                        embedded: checksum,
                    });
                }
                continue;
            }
            tracing::info!(version = m.version, name = m.name, "applying migration");
            c.batch_execute(m.sql).await?;
            c.execute(
                "INSERT INTO sheetsync.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &checksum],
            )
            .await?;
            done.push(AppliedMigration {
                version: m.version,
                name: m.name.to_string(),
            });
        }
        Ok(done)
    })
    .await
}
