//! Options every subcommand shares: where the settings come from.

use std::path::PathBuf;

use sheetsync_config::{Config, DbConfig, process_env};
use tokio_postgres::Client;

use crate::error::CliError;

#[derive(clap::Args)]
pub struct Global {
    /// A TOML file of settings and bindings (else the environment:
    /// DATABASE_URL or DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD, DB_SSLMODE,
    /// DB_SSLROOTCERT, GSHEET_ID, GSHEET_RANGE, SHEETSYNC_TABLE)
    #[arg(long, global = true, env = "SHEETSYNC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl Global {
    /// The settings: the file when given, else the environment.
    pub fn load(&self) -> Result<Config, CliError> {
        Ok(match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::from_env()?,
        })
    }

    /// Only the database settings (commands that need no binding must not
    /// fail on a half-set binding in the environment).
    pub fn db(&self) -> Result<DbConfig, CliError> {
        Ok(match &self.config {
            Some(_) => self.load()?.db,
            None => DbConfig::from_env_with(&process_env)?,
        })
    }

    pub async fn connect(&self) -> Result<Client, CliError> {
        Ok(sheetsync_store::connect(&self.db()?).await?)
    }
}
