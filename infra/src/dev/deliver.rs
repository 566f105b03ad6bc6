//! Queue → writer: what the SQS event source mapping and the writer Lambda
//! do in production, in-process. Failed messages are retried in order after
//! a pause, as a FIFO queue redelivers them.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use sheetsync_outbox::SqsSink;
use sheetsync_writer::{Message, Writer};
use tokio::time::Instant;

use super::console::Console;
use super::relay::{Queue, Task};
use super::stop::Stop;

/// As many messages as one SQS receive gives the writer Lambda.
const BATCH: usize = 10;
/// How long one batch may retry 429/5xx before its messages are redelivered.
const BATCH_DEADLINE: Duration = Duration::from_secs(30);
const RETRY_MIN: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(15);

pub fn spawn(queue: &Queue, writer: Arc<Writer>, console: Arc<Console>, stop: Stop) -> Task {
    match queue {
        Queue::Memory { receiver, .. } => {
            let receiver = receiver.lock().ok().and_then(|mut r| r.take());
            Task::new(tokio::spawn(async move {
                if let Some(receiver) = receiver {
                    from_memory(receiver, &writer, &console, &stop).await;
                }
            }))
        }
        Queue::Sqs(sink) => {
            let sink = sink.clone();
            Task::new(tokio::spawn(async move {
                from_sqs(&sink, &writer, &console, &stop).await;
            }))
        }
    }
}

async fn from_memory(
    mut receiver: tokio::sync::mpsc::Receiver<sheetsync_outbox::QueuedMessage>,
    writer: &Writer,
    console: &Console,
    stop: &Stop,
) {
    let mut pending: Vec<Message> = Vec::new();
    let mut pause = RETRY_MIN;
    loop {
        if pending.is_empty() {
            tokio::select! {
                () = stop.wait() => return,
                message = receiver.recv() => match message {
                    Some(m) => pending.push(message_of(m)),
                    None => return,
                },
            }
        } else {
            tokio::select! {
                () = stop.wait() => return,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(RETRY_MAX);
        }
        while pending.len() < BATCH
            && let Ok(m) = receiver.try_recv()
        {
            pending.push(message_of(m));
        }
        let failed = apply(writer, &pending, console).await;
        if failed.is_empty() {
            pause = RETRY_MIN;
        }
        pending.retain(|m| failed.contains(&m.message_id));
    }
}

fn message_of(m: sheetsync_outbox::QueuedMessage) -> Message {
    Message {
        // The deduplication id (the sequence range) is unique per message.
        message_id: m.dedup_id,
        group_id: Some(m.group_id),
        body: m.body,
    }
}

/// Applies a batch, prints it, and answers the ids that failed.
async fn apply(writer: &Writer, messages: &[Message], console: &Console) -> Vec<String> {
    let outcome = writer
        .apply(messages, Instant::now() + BATCH_DEADLINE)
        .await;
    console.db_to_sheet(&outcome.stats);
    outcome.failed
}

async fn from_sqs(sink: &SqsSink, writer: &Writer, console: &Console, stop: &Stop) {
    let client = sink.client();
    loop {
        let received = tokio::select! {
            () = stop.wait() => return,
            r = client
                .receive_message()
                .queue_url(sink.queue_url())
                .max_number_of_messages(BATCH as i32)
                .wait_time_seconds(2)
                .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
                .send() => r,
        };
        let output = match received {
            Ok(output) => output,
            Err(e) => {
                let e = aws_sdk_sqs::error::DisplayErrorContext(e);
                tracing::warn!(error = %e, "receiving from SQS failed; retrying");
                tokio::select! {
                    () = stop.wait() => return,
                    () = tokio::time::sleep(RETRY_MAX / 5) => continue,
                }
            }
        };
        let received = output.messages();
        if received.is_empty() {
            continue;
        }
        let messages: Vec<Message> = received
            .iter()
            .map(|m| Message {
                message_id: m.message_id().unwrap_or_default().to_string(),
                group_id: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                    .cloned(),
                body: m.body().unwrap_or_default().to_string(),
            })
            .collect();
        let failed = apply(writer, &messages, console).await;
        // Failed messages stay: the queue redelivers them after their
        // visibility timeout, in order.
        let done: Vec<DeleteMessageBatchRequestEntry> = received
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed.iter().any(|f| Some(f.as_str()) == m.message_id()))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        if done.is_empty() {
            continue;
        }
        if let Err(e) = client
            .delete_message_batch()
            .queue_url(sink.queue_url())
            .set_entries(Some(done))
            .send()
            .await
        {
            let e = aws_sdk_sqs::error::DisplayErrorContext(e);
            tracing::warn!(error = %e, "deleting applied SQS messages failed; they will be applied again (no effect)");
        }
    }
}
