//! The handler served over plain HTTP: the same answers as the library.

mod common;

use std::sync::Arc;

use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Bytes;
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value as Json, json};

use common::{edit, setup_with, signed};

async fn post(port: u16, headers: &[(String, String)], body: Vec<u8>) -> (u16, Json) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = hyper::Request::post(format!("http://127.0.0.1:{port}/sync_postgres"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// As `post`, with the body sent in chunks and no `Content-Length`.
async fn post_streamed(port: u16, headers: &[(String, String)], body: Vec<u8>) -> (u16, Json) {
    let chunks: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = body
        .chunks(700)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    let client = Client::builder(TokioExecutor::new())
        .build_http::<StreamBody<futures_util::stream::Iter<std::vec::IntoIter<_>>>>();
    let mut request = hyper::Request::post(format!("http://127.0.0.1:{port}/sync_postgres"));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let body = StreamBody::new(futures_util::stream::iter(chunks));
    let response = client.request(request.body(body).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn too_large(size: usize) -> Json {
    json!({"error": {"code": "too_large", "message": format!("request body is {size} bytes, over the limit of 1000")}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_webhook_over_http() {
    let env = setup_with(sheetsync_reconcile::ConflictPolicy::Latest, |mut c| {
        c.max_body_bytes = 1000;
        c
    })
    .await;
    let common::Env {
        db,
        client,
        webhook,
    } = env;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(sheetsync_webhook::http::serve(listener, Arc::new(webhook)));

    let body = edit(
        "e-1",
        "2026-11-25T13:35:00.123Z",
        1289,
        json!([{"row": 3, "values": [42, "Grace Hopper", 6, true, ""], "old": {"qty": 5}}]),
    )
    .to_string();
    let req = signed("/sync_postgres", &body);
    let (status, answer) = post(port, &req.headers, req.body).await;
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"event_id": "e-1", "rows": [{"row": 3, "key": {"id": 42}, "status": "updated"}], "deleted": 0})
        )
    );
    let qty: i32 = client
        .query_one("SELECT qty FROM orders WHERE id = 42", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(qty, 6);

    // The same answer, byte for byte, as the Lambda gives (see
    // functions/sheet-webhook/tests/events.rs): the size is the declared one.
    let (status, answer) = post(port, &req.headers, vec![b' '; 5000]).await;
    assert_eq!((status, answer), (413, too_large(5000)));
    // A streamed body declares no size: it is read to its end (and
    // dropped), so its size is known too.
    let (status, answer) = post_streamed(port, &req.headers, vec![b' '; 5000]).await;
    assert_eq!((status, answer), (413, too_large(5000)));
    server.abort();
    drop(db);
}
