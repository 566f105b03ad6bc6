//! Connecting with the settings of [`DbConfig`].

use std::time::Duration;

use sheetsync_config::{DbConfig, DbConn, SslMode};
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::{Client, NoTls};

use crate::error::chain;
use crate::{StoreError, tls};

/// The tokio-postgres settings for `db` (without TLS, which [`connect`]
/// adds).
pub fn pg_config(db: &DbConfig) -> Result<tokio_postgres::Config, StoreError> {
    let mut cfg = match &db.conn {
        DbConn::Url(url) => url.parse::<tokio_postgres::Config>().map_err(|e| {
            StoreError::Settings(format!("{} does not parse: {}", db.target(), chain(&e)))
        })?,
        DbConn::Params(p) => {
            let mut cfg = tokio_postgres::Config::new();
            cfg.host(&p.host)
                .port(p.port)
                .dbname(&p.dbname)
                .user(&p.user);
            if let Some(pw) = &p.password {
                cfg.password(pw);
            }
            cfg
        }
    };
    cfg.ssl_mode(match db.sslmode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require | SslMode::VerifyFull => PgSslMode::Require,
    });
    if cfg.get_application_name().is_none() {
        cfg.application_name("sheetsync");
    }
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(Duration::from_secs(10));
    }
    Ok(cfg)
}

/// Opens a connection and spawns its task on the current tokio runtime.
pub async fn connect(db: &DbConfig) -> Result<Client, StoreError> {
    let cfg = pg_config(db)?;
    let fail = |e: tokio_postgres::Error| StoreError::Connect {
        target: db.target(),
        detail: crate::error::db_message(&e),
    };
    let client = if db.sslmode == SslMode::Disable {
        let (client, conn) = cfg.connect(NoTls).await.map_err(fail)?;
        tokio::spawn(watch(conn));
        client
    } else {
        let (client, conn) = cfg
            .connect(tls::connector(db.sslmode, db.sslrootcert.as_deref())?)
            .await
            .map_err(fail)?;
        tokio::spawn(watch(conn));
        client
    };
    tracing::debug!(target_db = %db.target(), sslmode = db.sslmode.as_str(), "connected");
    Ok(client)
}

async fn watch<F>(conn: F)
where
    F: Future<Output = Result<(), tokio_postgres::Error>>,
{
    if let Err(e) = conn.await {
        tracing::warn!(error = %chain(&e), "database connection ended");
    }
}
