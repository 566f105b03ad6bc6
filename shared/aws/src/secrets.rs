//! Secrets Manager: a secret's string, and the database password taken
//! from one when the settings do not carry it.

use aws_config::SdkConfig;
use sheetsync_config::{DbConfig, DbConn};

use crate::AwsError;

/// The database password's secret (plain, or an RDS-managed JSON secret),
/// used when `DB_PASSWORD` is not set.
pub const DB_PASSWORD_SECRET_ARN_ENV: &str = "DB_PASSWORD_SECRET_ARN";

/// The `SecretString` of a secret (ARN or name).
pub async fn secret_string(config: &SdkConfig, arn: &str) -> Result<String, AwsError> {
    secret_string_with(&aws_sdk_secretsmanager::Client::new(config), arn).await
}

/// As [`secret_string`], with a client the caller built (tests give one
/// with a fixed endpoint and credentials).
pub async fn secret_string_with(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<String, AwsError> {
    let fail = |message: String| AwsError::SecretsManager {
        name: arn.to_owned(),
        message,
    };
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| fail(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
    out.secret_string
        .ok_or_else(|| fail("the secret has no SecretString".to_owned()))
}

/// Fills in the database password from the secret `arn` when the settings
/// name a host but no password. `aws` is the configuration to call Secrets
/// Manager with; `None` loads [`crate::load_config`], only if a call is
/// needed. An empty `arn` counts as none.
pub async fn resolve_db_password(
    db: &mut DbConfig,
    arn: Option<&str>,
    aws: Option<&SdkConfig>,
) -> Result<(), AwsError> {
    let DbConn::Params(params) = &mut db.conn else {
        return Ok(());
    };
    let Some(arn) = arn.filter(|a| !a.is_empty()) else {
        return Ok(());
    };
    if params.password.is_some() {
        return Ok(());
    }
    let text = match aws {
        Some(config) => secret_string(config, arn).await?,
        None => secret_string(&crate::load_config().await, arn).await?,
    };
    params.password = Some(password_of(&text));
    Ok(())
}

/// The password in a database secret: the `password` field of an
/// RDS-managed JSON secret, else the whole text.
pub fn password_of(secret: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(secret) {
        Ok(serde_json::Value::Object(o)) => o
            .get("password")
            .and_then(|p| p.as_str())
            .map_or_else(|| secret.to_owned(), str::to_owned),
        _ => secret.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::password_of;

    #[test]
    fn database_passwords_are_plain_or_rds_json() {
        assert_eq!(password_of("pw"), "pw");
        assert_eq!(password_of(r#"{"username":"u","password":"p"}"#), "p");
    }

    #[test]
    fn reads_plain_and_rds_json_secrets() {
        assert_eq!(password_of("s3cr3t"), "s3cr3t");
        assert_eq!(
            password_of(r#"{"username": "sheetsync", "password": "p\"w"}"#),
            "p\"w"
        );
        assert_eq!(password_of(r#"{"user": "x"}"#), r#"{"user": "x"}"#);
    }
}
