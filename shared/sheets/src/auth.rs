//! Where the Google service-account key comes from, and the authenticator
//! built from it. The key is read once per container; tokens are cached and
//! refreshed by `yup-oauth2`.

use std::path::PathBuf;

use yup_oauth2::ServiceAccountKey;

use crate::SheetsError;

/// Env var holding the key's JSON itself.
pub const ENV_JSON: &str = "GOOGLE_SERVICE_ACCOUNT_JSON";
/// Env var naming a file with the key's JSON.
pub const ENV_FILE: &str = "GOOGLE_SERVICE_ACCOUNT_FILE";
/// Env var naming a Secrets Manager secret (ARN or name) whose string is the key's JSON.
pub const ENV_SECRET_ARN: &str = "GOOGLE_SERVICE_ACCOUNT_SECRET_ARN";

/// The scope every sheetsync call needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";

#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    Json(String),
    File(PathBuf),
    SecretArn(String),
}

impl std::fmt::Debug for KeySource {
    // Never print the key material itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Json(_) => f.write_str("KeySource::Json(..)"),
            KeySource::File(p) => write!(f, "KeySource::File({})", p.display()),
            KeySource::SecretArn(a) => write!(f, "KeySource::SecretArn({a})"),
        }
    }
}

impl KeySource {
    /// The first of `GOOGLE_SERVICE_ACCOUNT_JSON`, `_FILE`, `_SECRET_ARN` that is set.
    pub fn from_env() -> Result<KeySource, SheetsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<KeySource, SheetsError> {
        let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if let Some(json) = set(ENV_JSON) {
            Ok(KeySource::Json(json))
        } else if let Some(path) = set(ENV_FILE) {
            Ok(KeySource::File(PathBuf::from(path)))
        } else if let Some(arn) = set(ENV_SECRET_ARN) {
            Ok(KeySource::SecretArn(arn))
        } else {
            Err(SheetsError::Key(format!(
                "none of {ENV_JSON}, {ENV_FILE}, {ENV_SECRET_ARN} is set"
            )))
        }
    }

    /// Reads and parses the key (one Secrets Manager call for `SecretArn`,
    /// with the default AWS configuration of the environment).
    pub async fn load(&self) -> Result<ServiceAccountKey, SheetsError> {
        parse_key(&self.text().await?)
    }

    /// As [`load`](Self::load), with the given Secrets Manager client.
    pub async fn load_using(
        &self,
        secrets: &aws_sdk_secretsmanager::Client,
    ) -> Result<ServiceAccountKey, SheetsError> {
        parse_key(&self.read(Some(secrets)).await?)
    }

    /// Every key the source holds: one key's JSON, or a JSON array of keys
    /// (several service accounts sharing the project's quota).
    pub async fn load_all(&self) -> Result<Vec<ServiceAccountKey>, SheetsError> {
        parse_keys(&self.text().await?)
    }

    async fn text(&self) -> Result<String, SheetsError> {
        match self {
            KeySource::SecretArn(_) => {
                let config = sheetsync_aws::load_config().await;
                self.read(Some(&aws_sdk_secretsmanager::Client::new(&config)))
                    .await
            }
            _ => self.read(None).await,
        }
    }

    async fn read(
        &self,
        secrets: Option<&aws_sdk_secretsmanager::Client>,
    ) -> Result<String, SheetsError> {
        let json = match (self, secrets) {
            (KeySource::Json(json), _) => json.clone(),
            (KeySource::File(path), _) => std::fs::read_to_string(path)
                .map_err(|e| SheetsError::Key(format!("reading {}: {e}", path.display())))?,
            (KeySource::SecretArn(arn), Some(client)) => {
                sheetsync_aws::secret_string_with(client, arn)
                    .await
                    .map_err(|e| SheetsError::Key(e.to_string()))?
            }
            (KeySource::SecretArn(arn), None) => {
                return Err(SheetsError::Key(format!(
                    "no Secrets Manager client for {arn}"
                )));
            }
        };
        Ok(json)
    }
}

/// Parses a service-account key; the error never echoes the key's text.
pub fn parse_key(json: &str) -> Result<ServiceAccountKey, SheetsError> {
    serde_json::from_str::<ServiceAccountKey>(json).map_err(|e| {
        SheetsError::Key(format!(
            "not a service-account key JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// One key, or a JSON array of keys (at least one); errors never echo
/// the text and name the array position of a bad key.
pub fn parse_keys(json: &str) -> Result<Vec<ServiceAccountKey>, SheetsError> {
    if !json.trim_start().starts_with('[') {
        return parse_key(json).map(|k| vec![k]);
    }
    let items: Vec<serde_json::Value> = serde_json::from_str(json).map_err(|e| {
        SheetsError::Key(format!(
            "not a JSON array of service-account keys (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if items.is_empty() {
        return Err(SheetsError::Key("the array of keys is empty".into()));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<ServiceAccountKey>(item).map_err(|_| {
                SheetsError::Key(format!("key {i} of the array is not a service-account key"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_precedence_json_then_file_then_arn() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            KeySource::from_lookup(env(&[(ENV_FILE, "/k.json"), (ENV_JSON, "{}")])).unwrap(),
            KeySource::Json("{}".into())
        );
        assert_eq!(
            KeySource::from_lookup(env(&[(ENV_JSON, " "), (ENV_FILE, "/k.json")])).unwrap(),
            KeySource::File("/k.json".into())
        );
        assert_eq!(
            KeySource::from_lookup(env(&[(ENV_SECRET_ARN, "arn:aws:x")])).unwrap(),
            KeySource::SecretArn("arn:aws:x".into())
        );
        assert_eq!(
            KeySource::from_lookup(env(&[])).unwrap_err().to_string(),
            "service-account key: none of GOOGLE_SERVICE_ACCOUNT_JSON, \
             GOOGLE_SERVICE_ACCOUNT_FILE, GOOGLE_SERVICE_ACCOUNT_SECRET_ARN is set"
        );
    }

    #[test]
    fn one_key_or_an_array_of_keys() {
        let key = key_json("a@p.iam.gserviceaccount.com");
        let one = parse_keys(&key).unwrap();
        assert_eq!(one.len(), 1);
        let two = parse_keys(&format!(
            "[{key}, {}]",
            key_json("b@p.iam.gserviceaccount.com")
        ))
        .unwrap();
        let emails: Vec<&str> = two.iter().map(|k| k.client_email.as_str()).collect();
        assert_eq!(
            emails,
            ["a@p.iam.gserviceaccount.com", "b@p.iam.gserviceaccount.com"]
        );
        assert_eq!(
            parse_keys("[]").unwrap_err().to_string(),
            "service-account key: the array of keys is empty"
        );
        let err = parse_keys(&format!("[{key}, {{\"private_key\": \"SECRET\"}}]"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "service-account key: key 1 of the array is not a service-account key"
        );
    }

    fn key_json(email: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "private_key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
            "client_email": email,
            "token_uri": "https://oauth2.googleapis.com/token"
        })
        .to_string()
    }

    #[test]
    fn bad_key_error_does_not_echo_the_text() {
        let err = parse_key("{\"private_key\": \"SECRET\"")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("SECRET"), "{err}");
        assert!(err.starts_with("service-account key: not a service-account key JSON"));
        assert!(format!("{:?}", KeySource::Json("SECRET".into())) == "KeySource::Json(..)");
    }
}
