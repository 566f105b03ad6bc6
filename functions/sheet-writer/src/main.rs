use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sheet_writer::{DEADLINE_MARGIN, handle, writer_from_env};

// One task applies a batch (its groups are joined, never spawned), so one
// thread does: with a worker per core, glibc's per-thread arenas took the
// peak of a batch on a 100,000-row tab from 55 MB to 64 MB and growing
// (`cargo run --release -p sheetsync-writer --example large_tab`).
#[tokio::main(flavor = "current_thread")]
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
