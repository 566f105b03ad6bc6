use std::path::PathBuf;

/// A setting that is missing or wrong. `setting` is the environment variable
/// or the file key (`sheetsync.toml: binding[2].conflict`).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting} is not set{}", hint_suffix(.hint))]
    Missing { setting: String, hint: &'static str },
    #[error("{setting}: {reason}")]
    Invalid { setting: String, reason: String },
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
}

fn hint_suffix(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(" ({hint})")
    }
}

impl ConfigError {
    pub(crate) fn missing(setting: impl Into<String>, hint: &'static str) -> ConfigError {
        ConfigError::Missing {
            setting: setting.into(),
            hint,
        }
    }

    pub(crate) fn invalid(setting: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    /// The setting at fault, when there is one.
    pub fn setting(&self) -> Option<&str> {
        match self {
            ConfigError::Missing { setting, .. } | ConfigError::Invalid { setting, .. } => {
                Some(setting)
            }
            ConfigError::Read { .. } | ConfigError::Parse { .. } => None,
        }
    }
}
