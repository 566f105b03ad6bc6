//! The outbox relay on AWS Lambda: one drain per invocation (EventBridge
//! schedule, direct invoke, or RDS `aws_lambda.invoke`). See
//! docs/architecture.md, "outbox-relay", and docs/operations.md.

use lambda_runtime::{LambdaEvent, service_fn};
use outbox_relay::Relay;
use serde_json::Value as Json;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    sheetsync_aws::logging::init();
    let relay = Relay::from_env().await?;
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Json>| async move {
        relay.handle(event).await
    }))
    .await
}
