use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sheet_writer::{DEADLINE_MARGIN, handle, writer_from_env};

#[tokio::main]
async fn main() -> Result<(), Error> {
    sheetsync_aws::logging::init();
    // Built once per container: the key is fetched and tokens cached across invocations.
    let writer = writer_from_env().await?;
    let writer = &writer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = sheetsync_aws::invocation_deadline(event.context.deadline, DEADLINE_MARGIN);
        Ok::<SqsBatchResponse, Error>(handle(writer, event.payload, deadline.into()).await)
    }))
    .await
}
