//! The database connections of one container: made on first use, kept, and
//! made again when lost. A Lambda container serves one request at a time and
//! holds one connection; the plain-HTTP server holds a few.
//!
//! Each connection caches its prepared statements by SQL text, so a request
//! costs only execute round trips, which are pipelined where they can be.

use std::collections::HashMap;
use std::sync::Mutex;

use sheetsync_config::DbConfig;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Statement};

use crate::errors::WebhookError;

/// Prepared statements kept per connection before the cache starts over
/// (bounds memory when many bindings or column sets come by).
const STATEMENT_CACHE: usize = 512;

pub struct Db {
    config: DbConfig,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

pub struct Conn {
    pub client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    /// The prepared statement for `sql`, prepared once per connection.
    pub async fn prepare(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql).await?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

/// A connection lent to one request; returned on drop unless it broke.
pub struct Lease<'a> {
    db: &'a Db,
    conn: Option<Conn>,
    /// The connection was kept from an earlier request (it may have been
    /// closed by the server or the network while idle).
    pub reused: bool,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    pub fn conn(&mut self) -> &mut Conn {
        match self.conn.as_mut() {
            Some(conn) => conn,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }

    /// Drops the connection instead of returning it (after an I/O error or
    /// a transaction left in an unknown state).
    pub fn discard(mut self) {
        self.conn = None;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !conn.client.is_closed()
            && let Ok(mut idle) = self.db.idle.lock()
        {
            idle.push(conn);
        }
    }
}

impl Db {
    /// No connection is made here: a container starts even while the
    /// database is down, and answers 503 until it is back.
    pub fn new(config: DbConfig, max_connections: usize) -> Db {
        Db {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_connections.max(1)),
        }
    }

    pub async fn lease(&self) -> Result<Lease<'_>, WebhookError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| WebhookError::Internal("connection pool closed".into()))?;
        let reused = loop {
            let next = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            match next {
                Some(conn) if conn.client.is_closed() => continue,
                other => break other,
            }
        };
        let was_reused = reused.is_some();
        let conn = match reused {
            Some(conn) => conn,
            None => {
                let client = sheetsync_store::connect(&self.config)
                    .await
                    .map_err(|e| WebhookError::Unavailable(e.to_string()))?;
                tracing::info!("database connection made");
                Conn {
                    client,
                    statements: HashMap::new(),
                }
            }
        };
        Ok(Lease {
            db: self,
            conn: Some(conn),
            reused: was_reused,
            _permit: permit,
        })
    }
}

/// An error inside a request's transaction.
#[derive(Debug)]
pub enum TxError {
    Pg(tokio_postgres::Error),
    Webhook(WebhookError),
    /// The request's only row write was refused by the database, outside
    /// a savepoint: the transaction runs again with that row rejected.
    Refused {
        index: usize,
        db: Box<tokio_postgres::error::DbError>,
    },
    /// Another delivery of the same event committed first: its answer is
    /// the answer.
    Replayed,
    /// The table's columns changed since the binding was read: nothing was
    /// written; the binding is read again and the request runs again.
    SchemaChanged,
}

impl From<tokio_postgres::Error> for TxError {
    fn from(e: tokio_postgres::Error) -> Self {
        TxError::Pg(e)
    }
}

impl From<WebhookError> for TxError {
    fn from(e: WebhookError) -> Self {
        TxError::Webhook(e)
    }
}

impl TxError {
    /// A deadlock or serialization failure: the whole transaction is
    /// run again.
    pub fn retryable(&self) -> bool {
        match self {
            TxError::Pg(e) => e.code().is_some_and(is_retryable),
            TxError::Webhook(_)
            | TxError::Refused { .. }
            | TxError::Replayed
            | TxError::SchemaChanged => false,
        }
    }

    pub fn into_webhook(self) -> WebhookError {
        match self {
            TxError::Pg(e) => db_error(&e),
            TxError::Webhook(e) => e,
            TxError::Refused { db, .. } => {
                WebhookError::Internal(format!("row refused ({})", db.code().code()))
            }
            TxError::Replayed => {
                WebhookError::Internal("event answered by another delivery".into())
            }
            TxError::SchemaChanged => WebhookError::Unavailable(
                "the table's columns kept changing while the request ran".into(),
            ),
        }
    }
}

/// A refusal of one row's statement (a constraint, a bad value), as opposed
/// to the transaction or the connection failing.
pub fn is_row_error(code: &SqlState) -> bool {
    !is_retryable(code) && !is_unavailable(code)
}

pub fn is_retryable(code: &SqlState) -> bool {
    *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
}

/// Lost connections and server shutdowns are `unavailable` (the script
/// retries); anything else the database says is a server error.
///
/// The text kept (for logs) is the SQLSTATE and the server's message, never
/// its DETAIL, which can quote a row's values.
pub fn db_error(e: &tokio_postgres::Error) -> WebhookError {
    let text = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    match e.code() {
        None => WebhookError::Unavailable(text),
        Some(code) if is_unavailable(code) => WebhookError::Unavailable(text),
        Some(_) => WebhookError::Internal(text),
    }
}

pub fn is_unavailable(code: &SqlState) -> bool {
    code.code().starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
}
