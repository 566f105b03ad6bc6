//! Queue → writer: what the SQS event source mapping and the writer Lambda
//! do in production, in-process. Failed messages are retried in order after
//! a pause, as a FIFO queue redelivers them. A stop abandons the batch in
//! flight, as when Lambda stops an invocation: a write that landed is
//! found by the next run's watermark, one that did not is sent again.

use std::sync::Arc;
use std::time::Duration;

use sheetsync_outbox::{ReceiveOptions, Received, SqsSink};
use sheetsync_writer::{Message, Writer};
use tokio::time::Instant;

use super::console::Console;
use super::relay::{Queue, Task};
use super::stop::Stop;

/// As many messages as one SQS receive gives the writer Lambda.
const BATCH: usize = 10;
/// Message bytes one batch from the in-process queue takes at most (a
/// Lambda's SQS batch is bounded by bytes too: 6 MB per invocation). A
/// batch's `batchUpdate` body is about 2.4 times its messages (each cell
/// as `CellData`), so this keeps a first sync's batches under the
/// writer's 2 MB per write: a batch over it is planned, not sent, and
/// applied in parts, each read again — on a 100,000 × 20 first sync, ten
/// full messages (~4,500 rows) cost a wasted read of every key and four
/// parts.
const BATCH_BYTES: usize = 750_000;
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
    mut receiver: tokio::sync::mpsc::Receiver<Message>,
    writer: &Writer,
    console: &Console,
    stop: &Stop,
) {
    let mut pending: Vec<Message> = Vec::new();
    // The message that did not fit the last batch: the next one starts with it.
    let mut carried: Option<Message> = None;
    let mut pause = RETRY_MIN;
    loop {
        if pending.is_empty()
            && let Some(m) = carried.take()
        {
            pending.push(m);
        } else if pending.is_empty() {
            tokio::select! {
                () = stop.wait() => return,
                message = receiver.recv() => match message {
                    Some(m) => pending.push(m),
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
        let mut bytes: usize = pending.iter().map(|m| m.body.len()).sum();
        while pending.len() < BATCH
            && carried.is_none()
            && let Ok(m) = receiver.try_recv()
        {
            bytes += m.body.len();
            if bytes > BATCH_BYTES {
                carried = Some(m);
            } else {
                pending.push(m);
            }
        }
        let failed = tokio::select! {
            () = stop.wait() => return,
            failed = apply(writer, &pending, console) => failed,
        };
        if failed.is_empty() {
            pause = RETRY_MIN;
        }
        pending.retain(|m| failed.contains(&m.message_id));
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
    let options = ReceiveOptions {
        max_messages: BATCH as i32,
        ..ReceiveOptions::default()
    };
    loop {
        let received = tokio::select! {
            () = stop.wait() => return,
            r = sink.receive(options) => r,
        };
        let received = match received {
            Ok(received) => received,
            Err(e) => {
                tracing::warn!(error = %e, "receiving from SQS failed; retrying");
                tokio::select! {
                    () = stop.wait() => return,
                    () = tokio::time::sleep(RETRY_MAX / 5) => continue,
                }
            }
        };
        if received.is_empty() {
            continue;
        }
        let messages: Vec<Message> = received.iter().map(|r| r.message.clone()).collect();
        let failed = tokio::select! {
            () = stop.wait() => return,
            failed = apply(writer, &messages, console) => failed,
        };
        // Failed messages stay: the queue redelivers them after their
        // visibility timeout, in order, as it does for the Lambda.
        let applied: Vec<&Received> = received
            .iter()
            .filter(|r| !failed.contains(&r.message.message_id))
            .collect();
        if let Err(e) = sink.settle(&applied, &[], 0).await {
            tracing::warn!(error = %e, "deleting applied SQS messages failed; they will be applied again (no effect)");
        }
    }
}
