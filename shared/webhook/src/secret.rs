//! Where the webhook's master secrets come from: `SHEETSYNC_WEBHOOK_SECRET`
//! itself, or a Secrets Manager secret (`SHEETSYNC_WEBHOOK_SECRET_ARN`) or an
//! SSM parameter (`SHEETSYNC_WEBHOOK_SECRET_PARAMETER`), fetched once at
//! init; during a key rotation also the previous master, from the same
//! names with `_PREVIOUS` (`SHEETSYNC_WEBHOOK_SECRET_PREVIOUS`,
//! `SHEETSYNC_WEBHOOK_SECRET_PREVIOUS_ARN`,
//! `SHEETSYNC_WEBHOOK_SECRET_PREVIOUS_PARAMETER`).

use sheetsync_aws::{AwsError, SdkConfig};

use crate::keys::MasterSecrets;
use crate::signature::Secret;

pub const SECRET_ENV: &str = "SHEETSYNC_WEBHOOK_SECRET";
pub const SECRET_ARN_ENV: &str = "SHEETSYNC_WEBHOOK_SECRET_ARN";
pub const SECRET_PARAMETER_ENV: &str = "SHEETSYNC_WEBHOOK_SECRET_PARAMETER";
pub const PREVIOUS_SECRET_ENV: &str = "SHEETSYNC_WEBHOOK_SECRET_PREVIOUS";
pub const PREVIOUS_SECRET_ARN_ENV: &str = "SHEETSYNC_WEBHOOK_SECRET_PREVIOUS_ARN";
pub const PREVIOUS_SECRET_PARAMETER_ENV: &str = "SHEETSYNC_WEBHOOK_SECRET_PREVIOUS_PARAMETER";

/// The three names one master secret may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretNames {
    pub value: &'static str,
    pub arn: &'static str,
    pub parameter: &'static str,
}

pub const CURRENT: SecretNames = SecretNames {
    value: SECRET_ENV,
    arn: SECRET_ARN_ENV,
    parameter: SECRET_PARAMETER_ENV,
};

pub const PREVIOUS: SecretNames = SecretNames {
    value: PREVIOUS_SECRET_ENV,
    arn: PREVIOUS_SECRET_ARN_ENV,
    parameter: PREVIOUS_SECRET_PARAMETER_ENV,
};
pub use sheetsync_aws::DB_PASSWORD_SECRET_ARN_ENV;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no webhook secret configured: set {SECRET_ENV}, {SECRET_ARN_ENV} or {SECRET_PARAMETER_ENV}"
    )]
    NotConfigured,
    #[error("the webhook secret is empty")]
    Empty,
    #[error("reading secret {name} from Secrets Manager failed: {message}")]
    SecretsManager { name: String, message: String },
    #[error("reading parameter {name} from SSM failed: {message}")]
    Ssm { name: String, message: String },
}

impl From<AwsError> for SecretError {
    fn from(e: AwsError) -> Self {
        match e {
            AwsError::SecretsManager { name, message } => {
                SecretError::SecretsManager { name, message }
            }
            AwsError::Ssm { name, message } => SecretError::Ssm { name, message },
        }
    }
}

/// Where to read a secret from, decided from the environment. A plain
/// value is never shown: `Display` names the variable holding it.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Value { name: &'static str, value: String },
    SecretsManager(String),
    Ssm(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretSource({self})")
    }
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Value { name, .. } => write!(f, "{name}"),
            SecretSource::SecretsManager(arn) => write!(f, "Secrets Manager {arn}"),
            SecretSource::Ssm(name) => write!(f, "SSM parameter {name}"),
        }
    }
}

impl SecretSource {
    /// The current master. A plain value wins over the AWS names (handy for
    /// local runs).
    pub fn from_env() -> Result<SecretSource, SecretError> {
        SecretSource::from_lookup(&|name| std::env::var(name).ok())
    }

    pub fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> Result<SecretSource, SecretError> {
        SecretSource::named(CURRENT, env).ok_or(SecretError::NotConfigured)
    }

    /// The source the names point at, if any is set.
    pub fn named(names: SecretNames, env: &dyn Fn(&str) -> Option<String>) -> Option<SecretSource> {
        let var = |name| env(name).filter(|v: &String| !v.is_empty());
        if let Some(value) = var(names.value) {
            Some(SecretSource::Value {
                name: names.value,
                value,
            })
        } else if let Some(arn) = var(names.arn) {
            Some(SecretSource::SecretsManager(arn))
        } else {
            var(names.parameter).map(SecretSource::Ssm)
        }
    }

    /// Fetches the secret. `aws` is used only for the AWS sources; `None`
    /// loads the default AWS configuration (region, credentials, endpoint
    /// overrides such as `AWS_ENDPOINT_URL`) from the environment.
    pub async fn load(&self, aws: Option<&SdkConfig>) -> Result<Secret, SecretError> {
        let text = match self {
            SecretSource::Value { value, .. } => value.clone(),
            SecretSource::SecretsManager(arn) => {
                let config = aws_or_default(aws).await;
                sheetsync_aws::secret_string(&config, arn).await?
            }
            SecretSource::Ssm(name) => {
                let config = aws_or_default(aws).await;
                sheetsync_aws::parameter(&config, name).await?
            }
        };
        let text = unwrap_json_secret(&text);
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret::new(text.into_bytes()))
    }
}

/// Where the current and (during a rotation) the previous master come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterSources {
    pub current: SecretSource,
    pub previous: Option<SecretSource>,
}

impl MasterSources {
    pub fn from_env() -> Result<MasterSources, SecretError> {
        MasterSources::from_lookup(&|name| std::env::var(name).ok())
    }

    pub fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> Result<MasterSources, SecretError> {
        Ok(MasterSources {
            current: SecretSource::from_lookup(env)?,
            previous: SecretSource::named(PREVIOUS, env),
        })
    }

    /// Fetches both (see [`SecretSource::load`]).
    pub async fn load(&self, aws: Option<&SdkConfig>) -> Result<MasterSecrets, SecretError> {
        let current = self.current.load(aws).await?;
        let previous = match &self.previous {
            Some(source) => Some(source.load(aws).await?),
            None => None,
        };
        Ok(MasterSecrets::new(current).with_previous(previous))
    }
}

/// Fills in the database password from `DB_PASSWORD_SECRET_ARN` when the
/// settings name a host but no password.
pub async fn resolve_db_password(
    db: &mut sheetsync_config::DbConfig,
    arn: Option<&str>,
    aws: Option<&SdkConfig>,
) -> Result<(), SecretError> {
    Ok(sheetsync_aws::resolve_db_password(db, arn, aws).await?)
}

async fn aws_or_default(aws: Option<&SdkConfig>) -> SdkConfig {
    match aws {
        Some(config) => config.clone(),
        None => load_aws_config().await,
    }
}

/// The AWS configuration from the environment, with the rustls (ring) HTTP
/// client: the SDKs are built without their default TLS stack.
pub use sheetsync_aws::load_config as load_aws_config;

/// Secrets Manager secrets are often JSON objects; accept
/// `{"secret": "…"}`, `{"SHEETSYNC_WEBHOOK_SECRET": "…"}` or an object with a
/// single string, else the text itself.
fn unwrap_json_secret(text: &str) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
        for name in ["secret", SECRET_ENV] {
            if let Some(serde_json::Value::String(s)) = map.get(name) {
                return s.clone();
            }
        }
        if map.len() == 1
            && let Some(serde_json::Value::String(s)) = map.values().next()
        {
            return s.clone();
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_secrets_are_unwrapped() {
        assert_eq!(unwrap_json_secret("plain"), "plain");
        assert_eq!(unwrap_json_secret(r#"{"secret":"a"}"#), "a");
        assert_eq!(
            unwrap_json_secret(r#"{"SHEETSYNC_WEBHOOK_SECRET":"b","x":"y"}"#),
            "b"
        );
        assert_eq!(unwrap_json_secret(r#"{"only":"c"}"#), "c");
        assert_eq!(
            unwrap_json_secret(r#"{"a":"1","b":"2"}"#),
            r#"{"a":"1","b":"2"}"#
        );
    }

    #[test]
    fn a_plain_value_wins_over_the_aws_names() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let all = env(&[
            (SECRET_ENV, "plain"),
            (SECRET_ARN_ENV, "arn:aws:secretsmanager:x"),
            (SECRET_PARAMETER_ENV, "/p"),
        ]);
        assert_eq!(
            SecretSource::from_lookup(&all).unwrap(),
            SecretSource::Value {
                name: SECRET_ENV,
                value: "plain".into()
            }
        );
        let aws = env(&[
            (SECRET_ENV, ""),
            (SECRET_ARN_ENV, "arn:x"),
            (SECRET_PARAMETER_ENV, "/p"),
        ]);
        assert_eq!(
            SecretSource::from_lookup(&aws).unwrap(),
            SecretSource::SecretsManager("arn:x".into())
        );
        let ssm = env(&[(SECRET_PARAMETER_ENV, "/p")]);
        assert_eq!(
            SecretSource::from_lookup(&ssm).unwrap(),
            SecretSource::Ssm("/p".into())
        );
        assert!(matches!(
            SecretSource::from_lookup(&env(&[])),
            Err(SecretError::NotConfigured)
        ));
    }

    #[test]
    fn the_previous_master_is_optional_and_read_from_its_own_names() {
        let only_current = |name: &str| (name == SECRET_ENV).then(|| "new".to_string());
        let sources = MasterSources::from_lookup(&only_current).unwrap();
        assert_eq!(sources.previous, None);
        let rotating = |name: &str| match name {
            SECRET_ARN_ENV => Some("arn:new".to_string()),
            PREVIOUS_SECRET_ARN_ENV => Some("arn:old".to_string()),
            _ => None,
        };
        let sources = MasterSources::from_lookup(&rotating).unwrap();
        assert_eq!(
            sources.current,
            SecretSource::SecretsManager("arn:new".into())
        );
        assert_eq!(
            sources.previous,
            Some(SecretSource::SecretsManager("arn:old".into()))
        );
        let only_previous = |name: &str| (name == PREVIOUS_SECRET_ENV).then(|| "old".to_string());
        assert!(matches!(
            MasterSources::from_lookup(&only_previous),
            Err(SecretError::NotConfigured)
        ));
    }

    #[test]
    fn a_plain_value_is_never_displayed() {
        let source = SecretSource::Value {
            name: PREVIOUS_SECRET_ENV,
            value: "hunter2".into(),
        };
        assert_eq!(source.to_string(), PREVIOUS_SECRET_ENV);
        assert!(!format!("{source:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_plain_value_is_used_as_is() {
        let secret = SecretSource::Value {
            name: SECRET_ENV,
            value: "s3cret".into(),
        }
        .load(None)
        .await
        .unwrap();
        let sig = crate::signature::sign(&secret, "1", b"x");
        assert_eq!(
            sig,
            crate::signature::sign(&Secret::new("s3cret"), "1", b"x")
        );
        assert!(matches!(
            SecretSource::Value {
                name: SECRET_ENV,
                value: String::new()
            }
            .load(None)
            .await,
            Err(SecretError::Empty)
        ));
    }
}
