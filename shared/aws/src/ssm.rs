//! SSM Parameter Store: a parameter's value, decrypted (SecureString).

use aws_config::SdkConfig;

use crate::AwsError;

pub async fn parameter(config: &SdkConfig, name: &str) -> Result<String, AwsError> {
    let fail = |message: String| AwsError::Ssm {
        name: name.to_owned(),
        message,
    };
    let out = aws_sdk_ssm::Client::new(config)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| fail(aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
    out.parameter
        .and_then(|p| p.value)
        .ok_or_else(|| fail("the parameter has no value".to_owned()))
}
