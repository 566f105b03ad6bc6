//! Secrets Manager and SSM through the production calls, against moto on
//! loopback with fixed test credentials.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::{Credentials, SharedCredentialsProvider};
use sheetsync_aws::{AwsError, https_client, resolve_db_password, secret_string};
use sheetsync_config::{DbConfig, DbConn, DbParams, SslMode};
use sheetsync_testkit::moto::{Moto, REGION};

fn config_for(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        )))
        .endpoint_url(endpoint)
        .http_client(https_client())
        .build()
}

async fn create_secret(config: &SdkConfig, name: &str, value: &str) -> String {
    aws_sdk_secretsmanager::Client::new(config)
        .create_secret()
        .name(format!("sheetsync/aws-test-{name}-{}", std::process::id()))
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
}

fn params(password: Option<&str>) -> DbConfig {
    DbConfig {
        conn: DbConn::Params(DbParams {
            host: "db.internal".into(),
            port: 5432,
            dbname: "app".into(),
            user: "sheetsync".into(),
            password: password.map(str::to_owned),
        }),
        sslmode: SslMode::default(),
        sslrootcert: None,
    }
}

fn password(db: &DbConfig) -> Option<&str> {
    match &db.conn {
        DbConn::Params(p) => p.password.as_deref(),
        DbConn::Url(_) => panic!("expected separate settings"),
    }
}

#[tokio::test]
async fn a_secret_string_is_read_and_a_missing_one_is_named() {
    let moto = Moto::shared().await;
    let config = config_for(moto.endpoint_url());
    let arn = create_secret(&config, "plain", "the-value").await;
    assert_eq!(secret_string(&config, &arn).await.unwrap(), "the-value");

    let err = secret_string(&config, "sheetsync/none").await.unwrap_err();
    match &err {
        AwsError::SecretsManager { name, .. } => assert_eq!(name, "sheetsync/none"),
        other => panic!("expected a Secrets Manager error, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("reading secret sheetsync/none from Secrets Manager failed: "),
        "{err}"
    );
}

#[tokio::test]
async fn the_database_password_comes_from_a_plain_or_rds_secret_only_when_missing() {
    let moto = Moto::shared().await;
    let config = config_for(moto.endpoint_url());
    let rds = create_secret(&config, "rds", r#"{"username":"u","password":"from-rds"}"#).await;

    let mut db = params(None);
    resolve_db_password(&mut db, Some(&rds), Some(&config))
        .await
        .unwrap();
    assert_eq!(password(&db), Some("from-rds"));

    let mut given = params(Some("given"));
    resolve_db_password(&mut given, Some(&rds), Some(&config))
        .await
        .unwrap();
    assert_eq!(password(&given), Some("given"));

    // No secret named: nothing is fetched, so no configuration is needed.
    let mut none = params(None);
    resolve_db_password(&mut none, Some(""), None)
        .await
        .unwrap();
    resolve_db_password(&mut none, None, None).await.unwrap();
    assert_eq!(password(&none), None);

    let mut url = DbConfig::from_url("postgres://u@h/db").unwrap();
    resolve_db_password(&mut url, Some("sheetsync/none"), Some(&config))
        .await
        .unwrap();
    assert_eq!(url, DbConfig::from_url("postgres://u@h/db").unwrap());

    let mut missing = params(None);
    let err = resolve_db_password(&mut missing, Some("sheetsync/none"), Some(&config))
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::SecretsManager { .. }), "{err:?}");
    assert_eq!(password(&missing), None);
}

#[cfg(feature = "ssm")]
#[tokio::test]
async fn a_secure_string_parameter_is_decrypted() {
    let moto = Moto::shared().await;
    let config = config_for(moto.endpoint_url());
    let name = format!("/sheetsync/aws-test-{}", std::process::id());
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name(&name)
        .value("from-ssm")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    assert_eq!(
        sheetsync_aws::parameter(&config, &name).await.unwrap(),
        "from-ssm"
    );
    let err = sheetsync_aws::parameter(&config, "/sheetsync/none")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AwsError::Ssm { name, .. } if name == "/sheetsync/none"),
        "{err:?}"
    );
}
