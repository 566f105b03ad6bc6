/// Why a command failed, said once on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] sheetsync_config::ConfigError),
    #[error(transparent)]
    Store(#[from] sheetsync_store::StoreError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Outbox(#[from] sheetsync_outbox::OutboxError),
    #[cfg(feature = "dev")]
    #[error(transparent)]
    Dev(#[from] crate::dev::DevError),
    #[error(transparent)]
    Secret(#[from] sheetsync_webhook::secret::SecretError),
}

pub type CmdResult = Result<(), CliError>;
