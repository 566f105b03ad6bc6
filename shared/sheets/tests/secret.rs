//! The service-account key from Secrets Manager (moto on loopback), fetched
//! with the production client, then used for a real token grant and read
//! against the emulator.

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use serde_json::json;
use sheetsync_sheets::{Endpoints, KeySource, SheetsClient, SheetsError};
use sheetsync_sheets_emulator::Emulator;
use sheetsync_testkit::moto::Moto;

fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(http)
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

#[tokio::test]
async fn key_from_secrets_manager_authenticates_against_the_emulator() {
    let moto = Moto::shared().await;
    let secrets = secrets_client(moto.endpoint_url());
    let emu = Emulator::start().await;
    let created = secrets
        .create_secret()
        .name(format!("sheetsync/google-key-{}", std::process::id()))
        .secret_string(emu.service_account_key())
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap().to_string();

    let key = KeySource::SecretArn(arn.clone())
        .load_using(&secrets)
        .await
        .unwrap();
    assert_eq!(key.token_uri, emu.token_uri());
    let endpoints = Endpoints {
        root_url: Some(emu.root_url()),
        token_uri: None,
    };
    let client = SheetsClient::new(key, &endpoints).await.unwrap();
    emu.add_sheet("S", "Tab");
    emu.set_rows("S", "Tab", vec![vec![json!("id")], vec![json!(5)]]);
    let tab = client.read_tab("S", "Tab", &["id".into()]).await.unwrap();
    assert_eq!(tab.rows[0].key_cells, vec![json!(5)]);
    assert_eq!(emu.counters().token_requests, 1);

    let missing = KeySource::SecretArn(format!("{arn}-nope"))
        .load_using(&secrets)
        .await
        .unwrap_err();
    assert!(matches!(missing, SheetsError::Key(_)), "{missing}");
    assert!(missing.to_string().contains("Secrets Manager"), "{missing}");
}
