//! An in-process FIFO queue for the local stack: the relay sends into it,
//! the writer reads from its receiver. Like an SQS FIFO queue it drops a
//! message whose deduplication id it has seen recently.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use sheetsync_queue::Message;
use tokio::sync::mpsc;

use crate::sink::{EntryOutcome, OutgoingMessage, QueueSink, SinkError};

/// How many deduplication ids the queue remembers.
const REMEMBERED_IDS: usize = 10_000;

pub struct MemoryQueue {
    tx: mpsc::Sender<Message>,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl MemoryQueue {
    /// A queue holding at most `capacity` undelivered messages (a full queue
    /// makes the relay wait), and its receiving end.
    pub fn new(capacity: usize) -> (MemoryQueue, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            MemoryQueue {
                tx,
                seen: Mutex::new(Seen::default()),
            },
            rx,
        )
    }

    /// True when the id is new (and now remembered).
    fn first_time(&self, id: &str) -> bool {
        let mut seen = match self.seen.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !seen.ids.insert(id.to_owned()) {
            return false;
        }
        seen.order.push_back(id.to_owned());
        if seen.order.len() > REMEMBERED_IDS
            && let Some(old) = seen.order.pop_front()
        {
            seen.ids.remove(&old);
        }
        true
    }
}

impl QueueSink for MemoryQueue {
    async fn send_batch(
        &self,
        entries: &[OutgoingMessage],
    ) -> Result<Vec<EntryOutcome>, SinkError> {
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if !self.first_time(&e.dedup_id) {
                out.push(EntryOutcome::Accepted);
                continue;
            }
            let message = Message {
                // The deduplication id (the sequence range) is unique per message.
                message_id: e.dedup_id.clone(),
                group_id: Some(e.group_id.clone()),
                body: e.body.clone(),
            };
            match self.tx.send(message).await {
                Ok(()) => out.push(EntryOutcome::Accepted),
                Err(_) => out.push(EntryOutcome::Failed {
                    code: "QueueClosed".into(),
                    message: "the in-process queue has no consumer".into(),
                }),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, dedup: &str) -> OutgoingMessage {
        OutgoingMessage {
            entry_id: id.into(),
            group_id: "orders".into(),
            dedup_id: dedup.into(),
            body: format!("body {dedup}"),
        }
    }

    #[tokio::test]
    async fn delivers_in_order_and_drops_repeated_dedup_ids() {
        let (queue, mut rx) = MemoryQueue::new(8);
        let first = queue
            .send_batch(&[entry("m0", "a"), entry("m1", "b")])
            .await
            .unwrap();
        assert_eq!(first, vec![EntryOutcome::Accepted, EntryOutcome::Accepted]);
        let again = queue
            .send_batch(&[entry("m0", "b"), entry("m1", "c")])
            .await
            .unwrap();
        assert_eq!(again, vec![EntryOutcome::Accepted, EntryOutcome::Accepted]);
        let mut bodies = Vec::new();
        while let Ok(m) = rx.try_recv() {
            bodies.push(m.body);
        }
        assert_eq!(bodies, vec!["body a", "body b", "body c"]);
    }

    #[tokio::test]
    async fn a_closed_queue_fails_each_entry() {
        let (queue, rx) = MemoryQueue::new(1);
        drop(rx);
        let out = queue.send_batch(&[entry("m0", "a")]).await.unwrap();
        assert_eq!(
            out,
            vec![EntryOutcome::Failed {
                code: "QueueClosed".into(),
                message: "the in-process queue has no consumer".into()
            }]
        );
    }
}
