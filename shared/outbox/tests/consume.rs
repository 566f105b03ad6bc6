//! The queue read as the writer's event source mapping reads it (moto in
//! server mode, with SQS's FIFO group order).

use std::time::{Duration, Instant};

use sheetsync_outbox::{OutgoingMessage, QueueSink, ReceiveOptions, Received, SqsSink};
use sheetsync_queue::Message;
use sheetsync_testkit::moto::Moto;

fn outgoing(n: u32) -> OutgoingMessage {
    OutgoingMessage {
        entry_id: format!("e{n}"),
        group_id: "orders".into(),
        dedup_id: format!("orders:{n}"),
        body: format!("body {n}"),
    }
}

const NOW: ReceiveOptions = ReceiveOptions {
    max_messages: 10,
    wait_secs: 0,
    visibility_secs: Some(30),
};

/// Receives until something arrives or five seconds pass.
async fn receive(sink: &SqsSink) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let received = sink.receive(NOW).await.unwrap();
        if !received.is_empty() || Instant::now() > deadline {
            return received;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_retried_message_comes_back_first_and_an_applied_one_never() {
    let moto = Moto::shared().await;
    let sink = SqsSink::new(moto.sqs_client(), moto.create_fifo_queue("consume").await);
    sink.send_batch(&[outgoing(1), outgoing(2), outgoing(3)])
        .await
        .unwrap();

    let first = receive(&sink).await;
    let messages: Vec<&Message> = first.iter().map(|r| &r.message).collect();
    assert_eq!(
        messages
            .iter()
            .map(|m| (m.group_id.as_deref(), m.body.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (Some("orders"), "body 1"),
            (Some("orders"), "body 2"),
            (Some("orders"), "body 3")
        ]
    );
    assert!(first.iter().all(|r| r.receive_count == 1), "{first:?}");

    // The first applied; the second failed, so it and the rest of its group
    // are retried.
    sink.settle(&[&first[0]], &[&first[1], &first[2]], 0)
        .await
        .unwrap();

    let again = receive(&sink).await;
    let bodies: Vec<(&str, u32)> = again
        .iter()
        .map(|r| (r.message.body.as_str(), r.receive_count))
        .collect();
    assert_eq!(bodies, vec![("body 2", 2), ("body 3", 2)]);
    assert_eq!(again[0].message.message_id, first[1].message.message_id);

    sink.settle(&again.iter().collect::<Vec<_>>(), &[], 0)
        .await
        .unwrap();
    assert_eq!(sink.receive(NOW).await.unwrap(), Vec::new());
}

#[tokio::test]
async fn an_unreachable_queue_is_an_error_naming_the_call() {
    let sink = SqsSink::new(
        sheetsync_testkit::moto::sqs_client_for(&sheetsync_testkit::moto::closed_endpoint()),
        "http://127.0.0.1:1/000000000000/missing.fifo",
    );
    let err = sink.receive(NOW).await.unwrap_err();
    assert!(err.to_string().starts_with("ReceiveMessage: "), "{err}");
}
