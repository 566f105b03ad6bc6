//! The SDK configuration: the environment's region, credentials and
//! endpoint overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, read
//! by the SDK itself, which is how tests point it at moto), with an HTTP
//! client on rustls and `ring`: the SDKs are built without their default TLS
//! stack, so a configuration without this client cannot make HTTPS calls.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_secretsmanager::config::SharedHttpClient;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// hyper + rustls with the `ring` provider.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK's default loader with [`https_client`]; callers add their own
/// settings (the relay its SQS timeouts) before `load()`.
pub fn config_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// The configuration from the environment with [`https_client`].
pub async fn load_config() -> SdkConfig {
    config_loader().load().await
}
