//! The webhook's connections (a [`sheetsync_store::Pool`]) and the errors
//! of a request's transaction on one of them.

use sheetsync_store::Pool;
use tokio_postgres::error::SqlState;

pub use sheetsync_store::{Conn, Lease};

use crate::errors::WebhookError;

/// The container's connections; a connection that cannot be made is
/// `unavailable`.
pub struct Db {
    pool: Pool,
}

impl Db {
    pub fn new(config: sheetsync_config::DbConfig, max_connections: usize) -> Db {
        Db {
            pool: Pool::new(config, max_connections),
        }
    }

    pub async fn lease(&self) -> Result<Lease<'_>, WebhookError> {
        self.pool
            .lease()
            .await
            .map_err(|e| WebhookError::Unavailable(e.to_string()))
    }

    /// A connection beside the lent one (see [`Pool::connect_unpooled`]).
    pub async fn connect_unpooled(&self) -> Result<tokio_postgres::Client, WebhookError> {
        self.pool
            .connect_unpooled()
            .await
            .map_err(|e| WebhookError::Unavailable(e.to_string()))
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
