//! The webhook secret from Secrets Manager and SSM, through the production
//! SDK clients pointed at moto on loopback.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use sheetsync_testkit::moto::{Moto, REGION};
use sheetsync_webhook::Secret;
use sheetsync_webhook::secret::{SecretError, SecretSource};
use sheetsync_webhook::signature::sign;

fn config_for(endpoint: &str) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        )))
        .endpoint_url(endpoint)
        .http_client(http)
        .build()
}

fn same_secret(a: &Secret, b: &str) -> bool {
    sign(a, "1", b"body") == sign(&Secret::new(b), "1", b"body")
}

#[tokio::test]
async fn the_secret_comes_from_secrets_manager() {
    let moto = Moto::shared().await;
    let config = config_for(moto.endpoint_url());
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("sheetsync/webhook-{}", std::process::id());
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string(r#"{"secret": "from-secrets-manager"}"#)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let secret = SecretSource::SecretsManager(arn)
        .load(Some(&config))
        .await
        .unwrap();
    assert!(same_secret(&secret, "from-secrets-manager"));

    let missing = SecretSource::SecretsManager("sheetsync/none".into())
        .load(Some(&config))
        .await;
    assert!(
        matches!(missing, Err(SecretError::SecretsManager { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn the_secret_comes_from_an_ssm_parameter() {
    let moto = Moto::shared().await;
    let config = config_for(moto.endpoint_url());
    let client = aws_sdk_ssm::Client::new(&config);
    let name = format!("/sheetsync/webhook-secret-{}", std::process::id());
    client
        .put_parameter()
        .name(&name)
        .value("from-ssm")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let secret = SecretSource::Ssm(name).load(Some(&config)).await.unwrap();
    assert!(same_secret(&secret, "from-ssm"));
}

/// During a rotation the previous master comes from its own secret; a
/// script still holding a key derived from it is accepted.
#[tokio::test]
async fn the_previous_master_comes_from_secrets_manager_too() {
    use sheetsync_webhook::keys::Generation;
    use sheetsync_webhook::secret::MasterSources;
    use sheetsync_webhook::spreadsheet_key;

    let moto = Moto::shared().await;
    let config = config_for(moto.endpoint_url());
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let arn = client
        .create_secret()
        .name(format!("sheetsync/webhook-previous-{}", std::process::id()))
        .secret_string("the-old-master")
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let sources = MasterSources::from_lookup(&|name| match name {
        "SHEETSYNC_WEBHOOK_SECRET" => Some("the-new-master".to_string()),
        "SHEETSYNC_WEBHOOK_SECRET_PREVIOUS_ARN" => Some(arn.clone()),
        _ => None,
    })
    .unwrap();
    let masters = sources.load(Some(&config)).await.unwrap();
    assert!(masters.has_previous());
    let old_key = spreadsheet_key(&Secret::new("the-old-master"), "S");
    let sig = sign(&old_key.signing_secret(), "1000", b"{}");
    let generation = masters
        .verify("S", Some("1000"), Some(&sig), b"{}", 1000, 300)
        .map_err(|e| e.code())
        .unwrap();
    assert_eq!(generation, Generation::Previous);
}
