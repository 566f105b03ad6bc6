//! The outbox relay on AWS Lambda: one drain per invocation (EventBridge
//! schedule, direct invoke, or RDS `aws_lambda.invoke`). See README
//! "outbox-relay".

use lambda_runtime::{LambdaEvent, service_fn};
use outbox_relay::Relay;
use serde_json::Value as Json;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();
    let relay = Relay::from_env().await?;
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Json>| async move {
        relay.handle(event).await
    }))
    .await
}
