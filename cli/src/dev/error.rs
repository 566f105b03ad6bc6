/// Why `sheetsync dev` could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(transparent)]
    LocalPg(#[from] sheetsync_localpg::LocalPgError),
    #[error(transparent)]
    Config(#[from] sheetsync_config::ConfigError),
    #[error(transparent)]
    Store(#[from] sheetsync_store::StoreError),
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Outbox(#[from] sheetsync_outbox::OutboxError),
    #[error(transparent)]
    Sheets(#[from] sheetsync_sheets::SheetsError),
    #[error("table {0} does not exist")]
    NoSuchTable(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
    #[error("a background task failed: {0}")]
    Task(String),
}

impl DevError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> DevError {
        DevError::Io {
            what: what.into(),
            source,
        }
    }
}
