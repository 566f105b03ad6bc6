//! The same handler over plain HTTP/1.1 (the local stack, the benchmark):
//! `serve(listener, webhook)` answers every connection until the listener
//! fails or the task is dropped.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::errors::WebhookError;
use crate::{Webhook, WebhookRequest, WebhookResponse};

pub async fn serve(listener: TcpListener, webhook: Arc<Webhook>) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let webhook = webhook.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let webhook = webhook.clone();
                async move { Ok::<_, Infallible>(answer(&webhook, req).await) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
}

async fn answer(webhook: &Webhook, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let limit = webhook.config().max_body_bytes;
    // Reading stops one byte past the limit: an oversized body is never
    // held whole.
    let body = match Limited::new(body, limit.saturating_add(1)).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            let err = WebhookError::TooLarge {
                size: limit.saturating_add(1),
                limit,
            };
            return to_response(&WebhookResponse {
                status: err.status(),
                body: err.body(),
            });
        }
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let request = WebhookRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        headers,
        body,
    };
    to_response(&webhook.handle(request).await)
}

fn to_response(answer: &WebhookResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
