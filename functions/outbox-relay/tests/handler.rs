//! The Lambda handler against real PostgreSQL and moto, with the recorded
//! events in tests/events.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Context, LambdaEvent};
use outbox_relay::{Relay, RelayError};
use serde_json::{Value as Json, json};
use sheetsync_config::{DbConfig, TableRef};
use sheetsync_outbox::SqsSink;
use sheetsync_reconcile::model::ConflictPolicy;
use sheetsync_store::{AttachSpec, attach, migrate};
use sheetsync_testkit::TestDb;
use sheetsync_testkit::moto::Moto;

fn event(name: &str) -> Json {
    let path = format!("{}/../../tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn invocation(payload: Json) -> LambdaEvent<Json> {
    let mut context = Context::default();
    context.request_id = "req-1".into();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = (now + Duration::from_secs(60)).as_millis() as u64;
    LambdaEvent::new(payload, context)
}

async fn setup() -> (
    TestDb,
    tokio_postgres::Client,
    Relay<SqsSink>,
    &'static Moto,
    String,
) {
    let db = TestDb::create().await;
    let client = db.client().await;
    migrate(&client).await.unwrap();
    client
        .batch_execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
        .await
        .unwrap();
    for (name, sheet) in [("orders", "Orders")] {
        attach(
            &client,
            &AttachSpec {
                name: Some(name.into()),
                table: TableRef {
                    schema: None,
                    name: name.into(),
                },
                spreadsheet_id: "S1".into(),
                sheet: sheet.into(),
                policy: ConflictPolicy::Latest,
            },
        )
        .await
        .unwrap();
    }
    let moto = Moto::shared().await;
    let queue = moto.create_fifo_queue("handler").await;
    let relay = Relay::new(
        DbConfig::from_url(db.url()).unwrap(),
        SqsSink::new(moto.sqs_client(), &queue),
    );
    (db, client, relay, moto, queue)
}

#[tokio::test]
async fn a_scheduled_event_drains_every_binding_and_answers_counts() {
    let (_db, client, relay, moto, queue) = setup().await;
    client
        .batch_execute("INSERT INTO orders VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();
    let answer = relay
        .handle(invocation(event("relay-schedule.json")))
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"rows_sent": 2, "messages": 1, "bindings": [
            {"binding": "orders", "rows_sent": 2, "messages": 1, "outcome": "drained"}
        ]})
    );
    let received = moto.receive_n(&queue, 1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);

    // Nothing left: an empty invoke answers zero.
    let answer = relay
        .handle(invocation(event("relay-invoke-all.json")))
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"rows_sent": 0, "messages": 0, "bindings": []})
    );
}

#[tokio::test]
async fn a_closed_connection_is_replaced_within_the_invocation() {
    let (_db, client, relay, _moto, _queue) = setup().await;
    relay
        .handle(invocation(event("relay-invoke-all.json")))
        .await
        .unwrap();
    client
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let others: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if others == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the relay's connection lived on"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client
        .batch_execute("INSERT INTO orders VALUES (3, 'c')")
        .await
        .unwrap();
    let answer = relay
        .handle(invocation(event("relay-invoke-binding.json")))
        .await
        .unwrap();
    assert_eq!(answer["rows_sent"], json!(1));
}

#[tokio::test]
async fn a_failed_binding_fails_the_invocation_with_its_reason() {
    let (_db, client, relay, _moto, _queue) = setup().await;
    client
        .batch_execute("INSERT INTO orders VALUES (1, repeat('h', 300000))")
        .await
        .unwrap();
    let err = relay
        .handle(invocation(event("relay-invoke-binding.json")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RelayError::Bindings { count: 1, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("1 binding(s) failed: binding 'orders': outbox row 1 (insert) is "),
        "{err}"
    );
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "BindingFailed");
}
