//! The one place sheetsync builds an AWS SDK configuration and reads
//! secrets, so every function uses the same TLS stack (rustls on `ring`,
//! no aws-lc, no OpenSSL) and the same error for a missing secret.
//!
//! - [`config`]: the HTTP client and the configuration from the environment;
//! - [`secrets`]: Secrets Manager strings and the database password;
//! - `ssm` (feature `ssm`): SSM parameters, decrypted;
//! - [`deadline`]: a Lambda invocation's deadline as an instant;
//! - [`logging`]: JSON logs at the level the deployment sets.

pub mod config;
pub mod deadline;
mod error;
pub mod logging;
pub mod secrets;
#[cfg(feature = "ssm")]
pub mod ssm;

pub use aws_config::SdkConfig;
pub use config::{config_loader, https_client, load_config};
pub use deadline::invocation_deadline;
pub use error::AwsError;
pub use secrets::{
    DB_PASSWORD_SECRET_ARN_ENV, password_of, resolve_db_password, secret_string, secret_string_with,
};
#[cfg(feature = "ssm")]
pub use ssm::parameter;
