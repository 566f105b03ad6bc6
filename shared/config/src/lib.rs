//! sheetsync's settings.
//!
//! One binding comes from the environment, with the variable names users of
//! the original tool know (`DATABASE_URL` or `DB_HOST DB_PORT DB_NAME DB_USER
//! DB_PASSWORD`, `GSHEET_ID`, `GSHEET_RANGE`); many come from a TOML file
//! named by `SHEETSYNC_CONFIG`. Every error names the setting at fault.

mod binding;
mod db;
mod error;
mod file;
mod range;

pub use binding::{BindingConfig, TableRef, check_binding_name, default_binding_name};
pub use db::{DbConfig, DbConn, DbParams, SslMode};
pub use error::ConfigError;
pub use range::SheetRange;

/// Reads one environment variable; tests pass a map instead of the process
/// environment.
pub trait Lookup {
    fn get(&self, var: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, var: &str) -> Option<String> {
        self(var)
    }
}

/// The process environment. Empty values count as unset, as in most shells'
/// `VAR= cmd` idiom.
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// Everything a sheetsync process needs: the database and its bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub db: DbConfig,
    pub bindings: Vec<BindingConfig>,
}

impl Config {
    /// The file named by `SHEETSYNC_CONFIG` when set, else the environment.
    pub fn load() -> Result<Config, ConfigError> {
        Config::load_with(&process_env)
    }

    pub fn load_with(env: &dyn Lookup) -> Result<Config, ConfigError> {
        match env.get("SHEETSYNC_CONFIG") {
            Some(path) => Config::from_file_with(path.as_ref(), env),
            None => Config::from_env_with(env),
        }
    }

    /// The database and at most one binding, from the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_env_with(&process_env)
    }

    pub fn from_env_with(env: &dyn Lookup) -> Result<Config, ConfigError> {
        Ok(Config {
            db: DbConfig::from_env_with(env)?,
            bindings: BindingConfig::from_env_with(env)?.into_iter().collect(),
        })
    }

    /// A TOML file with a `[database]` table (else the database comes from
    /// the environment) and any number of `[[binding]]` tables.
    pub fn from_file(path: &std::path::Path) -> Result<Config, ConfigError> {
        Config::from_file_with(path, &process_env)
    }

    pub fn from_file_with(path: &std::path::Path, env: &dyn Lookup) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        file::parse(&text, &path.display().to_string(), env)
    }

    /// The binding with this name.
    pub fn binding(&self, name: &str) -> Option<&BindingConfig> {
        self.bindings.iter().find(|b| b.name == name)
    }
}

#[cfg(test)]
mod tests;
