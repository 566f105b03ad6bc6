use tokio_postgres::error::SqlState;

/// Everything the store can fail with, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to {target}: {detail}")]
    Connect { target: String, detail: String },
    #[error("database settings: {0}")]
    Settings(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the sheetsync schema is missing in this database; run `sheetsync migrate` first")]
    NotMigrated,
    #[error(
        "migration {version} ({name}) differs from the one applied to this database \
         (checksum {applied} there, {embedded} in this build); migrations must never change once applied"
    )]
    MigrationChanged {
        version: i32,
        name: String,
        applied: String,
        embedded: String,
    },
    #[error("table {table} does not exist")]
    NoSuchTable { table: String },
    #[error("{table} is a {kind}, not a table")]
    NotATable { table: String, kind: &'static str },
    #[error("table {table} has no primary key; sheetsync identifies rows by primary key")]
    NoPrimaryKey { table: String },
    #[error("binding '{0}' does not exist")]
    UnknownBinding(String),
    #[error("binding '{0}' already exists")]
    BindingExists(String),
    #[error("table {table} is already bound (binding '{binding}')")]
    TableAlreadyBound { table: String, binding: String },
    #[error("tab '{sheet}' of spreadsheet {spreadsheet_id} is already bound (binding '{binding}')")]
    SheetAlreadyBound {
        spreadsheet_id: String,
        sheet: String,
        binding: String,
    },
    #[error("{0}")]
    InvalidName(String),
    #[error("role '{0}' does not exist (create the functions' login role first)")]
    UnknownRole(String),
    #[error(
        "role '{role}' owns {table} or is a superuser: the functions' role must be one of its own, \
         holding only what sheetsync grants it"
    )]
    RoleTooPowerful { role: String, table: String },
    #[error("the table of binding '{binding}' no longer exists; detach it")]
    TableGone { binding: String },
    #[error(
        "the primary key of {table} changed since binding '{binding}' was attached \
         (was {was:?}, now {now:?}); detach and attach it again"
    )]
    KeyChanged {
        binding: String,
        table: String,
        was: Vec<String>,
        now: Vec<String>,
    },
    #[error("database error: {}", db_message(.0))]
    Db(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            let missing = db.code() == &SqlState::UNDEFINED_TABLE
                || db.code() == &SqlState::INVALID_SCHEMA_NAME
                || db.code() == &SqlState::UNDEFINED_FUNCTION;
            if missing && db.message().contains("sheetsync") {
                return StoreError::NotMigrated;
            }
        }
        StoreError::Db(e)
    }
}

impl StoreError {
    /// The SQLSTATE of a database error.
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            StoreError::Db(e) => e.code(),
            _ => None,
        }
    }
}

/// The server's own words (with detail) rather than tokio-postgres's bare
/// "db error".
pub(crate) fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => chain(e),
    }
}

/// An error and its causes, `a: b: c`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
