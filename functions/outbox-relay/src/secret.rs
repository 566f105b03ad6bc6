//! The database password from Secrets Manager (`DB_PASSWORD_SECRET_ARN`),
//! when it is not in the environment: either the secret string itself or
//! the `password` field of an RDS-managed JSON secret.

use aws_config::BehaviorVersion;
use sheetsync_config::{DbConfig, DbConn};

use crate::RelayError;

pub const SECRET_ARN_ENV: &str = "DB_PASSWORD_SECRET_ARN";

pub async fn resolve_password(db: &mut DbConfig) -> Result<(), RelayError> {
    let DbConn::Params(params) = &mut db.conn else {
        return Ok(());
    };
    if params.password.is_some() {
        return Ok(());
    }
    let Ok(arn) = std::env::var(SECRET_ARN_ENV) else {
        return Ok(());
    };
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(sheetsync_outbox::sqs::https_client())
        .timeout_config(sheetsync_outbox::sqs::timeouts())
        .load()
        .await;
    let fail = |reason: String| RelayError::Secret {
        arn: arn.clone(),
        reason,
    };
    let out = aws_sdk_secretsmanager::Client::new(&config)
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .map_err(|e| fail(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()))?;
    let text = out
        .secret_string()
        .ok_or_else(|| fail("the secret has no string value".into()))?;
    params.password = Some(password_of(text));
    Ok(())
}

fn password_of(secret: &str) -> String {
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
    fn reads_plain_and_rds_json_secrets() {
        assert_eq!(password_of("s3cr3t"), "s3cr3t");
        assert_eq!(
            password_of(r#"{"username": "sheetsync", "password": "p\"w"}"#),
            "p\"w"
        );
        assert_eq!(password_of(r#"{"user": "x"}"#), r#"{"user": "x"}"#);
    }
}
