//! The webhook's own settings (the database's are sheetsync-config's).

use std::time::Duration;

use crate::keys::MasterSecrets;
use crate::secret::{MasterSources, SecretError};

pub const MAX_BODY_ENV: &str = "SHEETSYNC_MAX_BODY_BYTES";
pub const WINDOW_ENV: &str = "SHEETSYNC_SIGNATURE_WINDOW_SECS";
pub const PUSH_INTERVAL_ENV: &str = "SHEETSYNC_PUSH_MIN_INTERVAL_SECS";

/// Just under a synchronous Lambda's 6 MB payload limit: a 10,000-row
/// snapshot of a typical tab (about 300 bytes a row) fits.
pub const DEFAULT_MAX_BODY_BYTES: usize = 6_000_000;
pub const DEFAULT_WINDOW_SECS: i64 = 300;
/// How long a binding's catalog (columns, key, policy) is trusted before it
/// is read again.
pub const DEFAULT_BINDING_TTL: Duration = Duration::from_secs(60);
/// A whole-table push costs a read of the table and a write of the whole
/// tab: one a minute per binding is plenty for a person pressing the menu.
pub const DEFAULT_PUSH_MIN_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{name} must be {expected}, got '{value}'")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error("database settings: {0}")]
    Database(String),
}

/// What "now" is for the signature window; tests replay recorded events at
/// the time they were signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    Fixed(i64),
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The masters each spreadsheet's key is derived from (crate::keys).
    pub masters: MasterSecrets,
    /// Allowed distance between the request's timestamp and now.
    pub window_secs: i64,
    pub max_body_bytes: usize,
    pub clock: Clock,
    pub binding_ttl: Duration,
    /// `/sync_gsheet` pushes one binding's table at most once per this long
    /// (zero: no limit).
    pub push_min_interval: Duration,
}

impl WebhookConfig {
    pub fn new(masters: impl Into<MasterSecrets>) -> WebhookConfig {
        WebhookConfig {
            masters: masters.into(),
            window_secs: DEFAULT_WINDOW_SECS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock: Clock::System,
            binding_ttl: DEFAULT_BINDING_TTL,
            push_min_interval: DEFAULT_PUSH_MIN_INTERVAL,
        }
    }

    /// Reads the limits and fetches the master secrets (from AWS when
    /// named so).
    pub async fn from_env() -> Result<WebhookConfig, ConfigError> {
        let sources = MasterSources::from_env()?;
        let masters = sources.load(None).await?;
        tracing::info!(
            current = %sources.current,
            previous = sources.previous.as_ref().map(|s| s.to_string()),
            "webhook master secrets loaded"
        );
        WebhookConfig::new(masters).with_env_limits(&|name| std::env::var(name).ok())
    }

    pub fn with_env_limits(
        mut self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<WebhookConfig, ConfigError> {
        if let Some(value) = env(MAX_BODY_ENV).filter(|v| !v.is_empty()) {
            self.max_body_bytes = value.trim().parse().map_err(|_| ConfigError::Invalid {
                name: MAX_BODY_ENV,
                expected: "a number of bytes",
                value,
            })?;
        }
        if let Some(value) = env(WINDOW_ENV).filter(|v| !v.is_empty()) {
            self.window_secs =
                value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s: &i64| *s > 0)
                    .ok_or(ConfigError::Invalid {
                        name: WINDOW_ENV,
                        expected: "a positive number of seconds",
                        value,
                    })?;
        }
        if let Some(value) = env(PUSH_INTERVAL_ENV).filter(|v| !v.is_empty()) {
            let secs: u64 = value.trim().parse().map_err(|_| ConfigError::Invalid {
                name: PUSH_INTERVAL_ENV,
                expected: "a number of seconds (0: no limit)",
                value,
            })?;
            self.push_min_interval = Duration::from_secs(secs);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::Secret;

    #[test]
    fn limits_come_from_the_environment() {
        let env = |name: &str| match name {
            MAX_BODY_ENV => Some("1000".to_string()),
            WINDOW_ENV => Some("60".to_string()),
            PUSH_INTERVAL_ENV => Some("5".to_string()),
            _ => None,
        };
        let config = WebhookConfig::new(Secret::new("s"))
            .with_env_limits(&env)
            .unwrap();
        assert_eq!((config.max_body_bytes, config.window_secs), (1000, 60));
        assert_eq!(config.push_min_interval, Duration::from_secs(5));
        let defaults = WebhookConfig::new(Secret::new("s"))
            .with_env_limits(&|_| None)
            .unwrap();
        assert_eq!(
            (defaults.max_body_bytes, defaults.window_secs),
            (DEFAULT_MAX_BODY_BYTES, DEFAULT_WINDOW_SECS)
        );
        assert_eq!(defaults.push_min_interval, DEFAULT_PUSH_MIN_INTERVAL);
        let off = |name: &str| (name == PUSH_INTERVAL_ENV).then(|| "0".to_string());
        let config = WebhookConfig::new(Secret::new("s"))
            .with_env_limits(&off)
            .unwrap();
        assert_eq!(config.push_min_interval, Duration::ZERO);
        let bad = |name: &str| (name == WINDOW_ENV).then(|| "-5".to_string());
        assert_eq!(
            WebhookConfig::new(Secret::new("s"))
                .with_env_limits(&bad)
                .unwrap_err()
                .to_string(),
            "SHEETSYNC_SIGNATURE_WINDOW_SECS must be a positive number of seconds, got '-5'"
        );
    }
}
