use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    /// No `initdb`/`postgres` pair on this machine.
    #[error(
        "PostgreSQL is not installed: initdb and postgres were not found in PATH or \
         /usr/lib/postgresql/*/bin (on Debian/Ubuntu: apt-get install postgresql)"
    )]
    NotInstalled,
    #[error("running as root and neither user postgres nor nobody exists to run PostgreSQL")]
    NoUnprivilegedUser,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("initdb failed in {dir}: {stderr}")]
    Initdb { dir: PathBuf, stderr: String },
    #[error("postgres on port {port} did not start ({last_error}): {log}")]
    NotStarted {
        port: u16,
        last_error: String,
        log: String,
    },
    /// Every attempt failed (a port taken between probing and binding).
    #[error("no PostgreSQL cluster could start: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Attempts(Vec<LocalPgError>),
}

impl LocalPgError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> LocalPgError {
        LocalPgError::Io {
            what: what.into(),
            source,
        }
    }
}
