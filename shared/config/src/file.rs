//! The TOML config file (`SHEETSYNC_CONFIG`): many bindings.
//!
//! ```toml
//! [database]                 # optional: else DATABASE_URL / DB_* from the environment
//! url = "postgres://sync@db.internal/app?sslmode=verify-full"
//! # or host, port, name, user, password (else DB_PASSWORD), sslmode, sslrootcert
//!
//! [[binding]]
//! name = "orders"            # optional: from the table name
//! table = "public.orders"
//! spreadsheet_id = "1AbC..."
//! range = "Orders!A1:F"      # or: sheet = "Orders"
//! conflict = "latest"        # optional: latest | sheet | db
//! ```

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Deserialize;

use crate::binding::{check_spreadsheet_id, default_binding_name};
use crate::db::{DbConn, DbParams, port};
use crate::{
    BindingConfig, Config, ConfigError, DbConfig, Lookup, SheetRange, TableRef, check_binding_name,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database: Option<FileDb>,
    #[serde(default)]
    binding: Vec<FileBinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDb {
    url: Option<String>,
    host: Option<String>,
    port: Option<u32>,
    name: Option<String>,
    user: Option<String>,
    password: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBinding {
    name: Option<String>,
    table: Option<String>,
    spreadsheet_id: Option<String>,
    range: Option<String>,
    sheet: Option<String>,
    conflict: Option<String>,
}

pub(crate) fn parse(text: &str, file: &str, env: &dyn Lookup) -> Result<Config, ConfigError> {
    let parsed: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        file: file.to_string(),
        message: e.to_string().trim().to_string(),
    })?;
    let db = match parsed.database {
        Some(db) => database(db, file, env)?,
        None => DbConfig::from_env_with(env)?,
    };
    let mut bindings = Vec::with_capacity(parsed.binding.len());
    let mut names = HashSet::new();
    let mut tabs = HashSet::new();
    for (i, b) in parsed.binding.into_iter().enumerate() {
        let at = format!("{file}: binding #{}", i + 1);
        let b = binding(b, &at)?;
        if !names.insert(b.name.clone()) {
            return Err(ConfigError::invalid(
                format!("{at}.name"),
                format!("binding name '{}' is used twice", b.name),
            ));
        }
        if !tabs.insert((b.spreadsheet_id.clone(), b.range.sheet.clone())) {
            return Err(ConfigError::invalid(
                format!("{at}.range"),
                format!(
                    "tab '{}' of spreadsheet {} is already bound",
                    b.range.sheet, b.spreadsheet_id
                ),
            ));
        }
        bindings.push(b);
    }
    Ok(Config { db, bindings })
}

fn database(db: FileDb, file: &str, env: &dyn Lookup) -> Result<DbConfig, ConfigError> {
    let at = |key: &str| format!("{file}: database.{key}");
    let mut out = match db.url {
        Some(url) => {
            if db.host.is_some() || db.name.is_some() || db.user.is_some() || db.port.is_some() {
                return Err(ConfigError::invalid(
                    at("url"),
                    "give either url or host/port/name/user, not both",
                ));
            }
            DbConfig::from_url_setting(&url, &at("url"))?
        }
        None => {
            const HINT: &str = "give database.url or database.host, name and user";
            let port_text = db.port.map(|p| p.to_string());
            DbConfig {
                conn: DbConn::Params(DbParams {
                    host: db
                        .host
                        .ok_or_else(|| ConfigError::missing(at("host"), HINT))?,
                    port: port(port_text.as_deref(), &at("port"))?,
                    dbname: db
                        .name
                        .ok_or_else(|| ConfigError::missing(at("name"), HINT))?,
                    user: db
                        .user
                        .ok_or_else(|| ConfigError::missing(at("user"), HINT))?,
                    // Secrets belong in the environment, not the file.
                    password: db.password.or_else(|| env.get("DB_PASSWORD")),
                }),
                sslmode: Default::default(),
                sslrootcert: None,
            }
        }
    };
    if let Some(mode) = db.sslmode {
        out.sslmode = mode
            .parse()
            .map_err(|r: String| ConfigError::invalid(at("sslmode"), r))?;
    }
    if let Some(ca) = db.sslrootcert {
        out.sslrootcert = Some(ca);
    }
    Ok(out)
}

fn binding(b: FileBinding, at: &str) -> Result<BindingConfig, ConfigError> {
    let key = |k: &str| format!("{at}.{k}");
    let table = b
        .table
        .ok_or_else(|| ConfigError::missing(key("table"), "the table to sync, [schema.]name"))?;
    let table = TableRef::parse(&table).map_err(|r| ConfigError::invalid(key("table"), r))?;
    let id = b
        .spreadsheet_id
        .ok_or_else(|| ConfigError::missing(key("spreadsheet_id"), ""))?;
    let spreadsheet_id =
        check_spreadsheet_id(&id).map_err(|r| ConfigError::invalid(key("spreadsheet_id"), r))?;
    let range = match (b.range, b.sheet) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                key("range"),
                "give either range or sheet, not both",
            ));
        }
        (Some(r), None) => {
            SheetRange::parse(&r).map_err(|e| ConfigError::invalid(key("range"), e))?
        }
        (None, Some(sheet)) if !sheet.is_empty() => SheetRange { sheet, cells: None },
        (None, _) => {
            return Err(ConfigError::missing(
                key("range"),
                "the tab name, or a range like Orders!A1:F",
            ));
        }
    };
    let conflict = match b.conflict {
        Some(c) => c
            .parse()
            .map_err(|r: String| ConfigError::invalid(key("conflict"), r))?,
        None => Default::default(),
    };
    let name = match b.name {
        Some(n) => {
            check_binding_name(&n).map_err(|r| ConfigError::invalid(key("name"), r))?;
            n
        }
        None => default_binding_name(&table),
    };
    Ok(BindingConfig {
        name,
        table,
        spreadsheet_id,
        range,
        conflict,
    })
}
