//! What reading a secret can fail with. The message names the secret or
//! parameter, never its value.

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("reading secret {name} from Secrets Manager failed: {message}")]
    SecretsManager { name: String, message: String },
    #[error("reading parameter {name} from SSM failed: {message}")]
    Ssm { name: String, message: String },
}
