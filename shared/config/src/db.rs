//! Where the database is and how to talk to it.

use std::fmt;
use std::path::PathBuf;

use crate::{ConfigError, Lookup};

const DB_HINT: &str = "set DATABASE_URL, or DB_HOST, DB_NAME, DB_USER and DB_PASSWORD";

/// How the connection is secured, with libpq's names and meanings:
/// `prefer` and `require` encrypt without checking the certificate,
/// `verify-full` checks the chain (public roots plus `DB_SSLROOTCERT`) and the
/// host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    /// TLS when the server offers it (libpq's default).
    #[default]
    Prefer,
    Require,
    VerifyFull,
}

impl std::str::FromStr for SslMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-full" => Ok(SslMode::VerifyFull),
            "allow" | "verify-ca" => Err(format!(
                "'{s}' is not supported; use disable, prefer, require or verify-full"
            )),
            other => Err(format!(
                "'{other}' is not one of disable, prefer, require, verify-full"
            )),
        }
    }
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The original tool's separate settings.
#[derive(Clone, PartialEq, Eq)]
pub struct DbParams {
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub user: String,
    pub password: Option<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub enum DbConn {
    /// A `postgres://` URL (or libpq key/value string) without its
    /// `sslmode`/`sslrootcert` parameters, which live in [`DbConfig`].
    Url(String),
    Params(DbParams),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConfig {
    pub conn: DbConn,
    pub sslmode: SslMode,
    /// A PEM file of CA certificates trusted for `verify-full`.
    pub sslrootcert: Option<PathBuf>,
}

impl DbConfig {
    pub fn from_env() -> Result<DbConfig, ConfigError> {
        DbConfig::from_env_with(&crate::process_env)
    }

    /// `DATABASE_URL` when set, else `DB_HOST DB_PORT DB_NAME DB_USER
    /// DB_PASSWORD`; `DB_SSLMODE` and `DB_SSLROOTCERT` override the URL's own
    /// `sslmode` and `sslrootcert`.
    pub fn from_env_with(env: &dyn Lookup) -> Result<DbConfig, ConfigError> {
        let mut db = match env.get("DATABASE_URL") {
            Some(url) => DbConfig::from_url_setting(&url, "DATABASE_URL")?,
            None => DbConfig {
                conn: DbConn::Params(DbParams {
                    host: required(env, "DB_HOST")?,
                    port: port(env.get("DB_PORT").as_deref(), "DB_PORT")?,
                    dbname: required(env, "DB_NAME")?,
                    user: required(env, "DB_USER")?,
                    password: env.get("DB_PASSWORD"),
                }),
                sslmode: SslMode::default(),
                sslrootcert: None,
            },
        };
        if let Some(mode) = env.get("DB_SSLMODE") {
            db.sslmode = mode
                .parse()
                .map_err(|reason| ConfigError::invalid("DB_SSLMODE", reason))?;
        }
        if let Some(ca) = env.get("DB_SSLROOTCERT") {
            db.sslrootcert = Some(PathBuf::from(ca));
        }
        Ok(db)
    }

    /// A connection URL, with `sslmode` and `sslrootcert` taken out of its
    /// query (tokio-postgres knows neither `verify-full` nor root files).
    pub fn from_url(url: &str) -> Result<DbConfig, ConfigError> {
        DbConfig::from_url_setting(url, "database url")
    }

    pub(crate) fn from_url_setting(url: &str, setting: &str) -> Result<DbConfig, ConfigError> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            if url.contains('=') {
                // libpq key/value form: passed through as it is.
                return Ok(DbConfig {
                    conn: DbConn::Url(url.to_string()),
                    sslmode: SslMode::default(),
                    sslrootcert: None,
                });
            }
            return Err(ConfigError::invalid(
                setting,
                "expected a postgres:// or postgresql:// URL",
            ));
        }
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut sslmode = SslMode::default();
        let mut sslrootcert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslmode" => {
                    sslmode = percent_decode(v).parse().map_err(|r: String| {
                        ConfigError::invalid(format!("{setting} sslmode"), r)
                    })?
                }
                "sslrootcert" => sslrootcert = Some(PathBuf::from(percent_decode(v))),
                _ => kept.push(pair),
            }
        }
        let conn = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok(DbConfig {
            conn: DbConn::Url(conn),
            sslmode,
            sslrootcert,
        })
    }

    /// Where this connects, without secrets, for logs and messages.
    pub fn target(&self) -> String {
        match &self.conn {
            DbConn::Url(url) => redact_url(url),
            DbConn::Params(p) => format!("{}@{}:{}/{}", p.user, p.host, p.port, p.dbname),
        }
    }
}

impl fmt::Debug for DbConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbConn::Url(url) => f.debug_tuple("Url").field(&redact_url(url)).finish(),
            DbConn::Params(p) => p.fmt(f),
        }
    }
}

impl fmt::Debug for DbParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbParams")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`; a
/// key/value string loses its `password=` value.
fn redact_url(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = url[auth_start..]
            .find(['/', '?'])
            .map_or(url.len(), |i| auth_start + i);
        if let Some(at) = url[auth_start..auth_end].rfind('@') {
            let userinfo = &url[auth_start..auth_start + at];
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!(
                    "{}{user}:***{}",
                    &url[..auth_start],
                    &url[auth_start + at..]
                );
            }
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn required(env: &dyn Lookup, var: &'static str) -> Result<String, ConfigError> {
    env.get(var)
        .ok_or_else(|| ConfigError::missing(var, DB_HINT))
}

pub(crate) fn port(value: Option<&str>, setting: &str) -> Result<u16, ConfigError> {
    match value {
        None => Ok(5432),
        Some(v) => v
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| ConfigError::invalid(setting, format!("'{v}' is not a port number"))),
    }
}
