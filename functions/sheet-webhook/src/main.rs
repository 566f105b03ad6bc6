use lambda_http::{Error, Request, service_fn};
use sheet_webhook::handle;
use sheetsync_webhook::Webhook;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_ansi(false)
        .init();
    // Once per container: the secret is fetched here; the database
    // connection is made on the first request and kept.
    let webhook = Webhook::from_env(1).await?;
    let webhook = &webhook;
    lambda_http::run(service_fn(move |event: Request| async move {
        handle(webhook, event).await
    }))
    .await
}
