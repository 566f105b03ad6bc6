use lambda_http::{Error, Request, service_fn};
use sheet_webhook::handle;
use sheetsync_webhook::Webhook;

#[tokio::main]
async fn main() -> Result<(), Error> {
    sheetsync_aws::logging::init();
    // Once per container: the secret is fetched here; the database
    // connection is made on the first request and kept.
    let webhook = Webhook::from_env(1).await?;
    let webhook = &webhook;
    lambda_http::run(service_fn(move |event: Request| async move {
        handle(webhook, event).await
    }))
    .await
}
