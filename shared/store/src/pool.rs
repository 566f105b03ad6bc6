//! The database connections of one container: made on first use, kept, and
//! made again when lost. A Lambda container serves one invocation at a time
//! and holds one connection; the webhook's plain-HTTP server holds a few.
//! The webhook and the relay both keep theirs here.
//!
//! Each connection caches its prepared statements by SQL text, so a request
//! costs only execute round trips, which are pipelined where they can be.

use std::collections::HashMap;
use std::sync::Mutex;

use sheetsync_config::DbConfig;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::{Client, Statement};

use crate::StoreError;

/// Prepared statements kept per connection before the cache starts over
/// (bounds memory when many bindings or column sets come by).
const STATEMENT_CACHE: usize = 512;

pub struct Pool {
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
    pool: &'a Pool,
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
            && let Ok(mut idle) = self.pool.idle.lock()
        {
            idle.push(conn);
        }
    }
}

impl Pool {
    /// No connection is made here: a container starts even while the
    /// database is down, and fails its invocations until it is back.
    pub fn new(config: DbConfig, max_connections: usize) -> Pool {
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_connections.max(1)),
        }
    }

    /// A connection of its own, outside the pool and its limit, closed when
    /// dropped: for work that runs beside a lent connection's open
    /// transaction (a push's backfill chunks, while the push's transaction
    /// holds its event id), which one connection cannot do.
    pub async fn connect_unpooled(&self) -> Result<Client, StoreError> {
        crate::connect(&self.config).await
    }

    /// A connection: a kept one that is still open, else a new one. Waits
    /// while `max_connections` are lent.
    pub async fn lease(&self) -> Result<Lease<'_>, StoreError> {
        // The semaphore is never closed while the pool exists.
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Settings("connection pool closed".into()))?;
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
                let client = crate::connect(&self.config).await?;
                tracing::info!("database connection made");
                Conn {
                    client,
                    statements: HashMap::new(),
                }
            }
        };
        Ok(Lease {
            pool: self,
            conn: Some(conn),
            reused: was_reused,
            _permit: permit,
        })
    }
}
