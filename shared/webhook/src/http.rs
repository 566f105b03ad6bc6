//! The same handler over plain HTTP/1.1 (the benchmark):
//! `serve(listener, webhook)` answers every connection until the listener
//! fails or the task is dropped. [`read`] is how any server (this one, the
//! local stack's) reads a request into the webhook.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Buf, Bytes, Incoming};
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
    let response = match read(req, webhook.config().max_body_bytes).await {
        Ok(request) => webhook.handle(request).await,
        Err(refused) => refused,
    };
    response
        .to_http::<String>()
        .map(|body| Full::new(Bytes::from(body)))
}

/// How far past the limit an oversized body is still read (and dropped),
/// so the client finishes sending and reads the `too_large` answer instead
/// of a reset connection. Memory stays bounded by the limit.
const DRAIN_BYTES: usize = 64 * 1024 * 1024;

/// Reads a request from any `http` body (hyper's, axum's), holding at most
/// `limit` bytes. An oversized body is answered `too_large` as the Lambda
/// answers it, with its whole size: the rest is read and dropped (up to
/// [`DRAIN_BYTES`]; beyond that the size `Content-Length` declares, or what
/// was read).
pub async fn read<B>(req: Request<B>, limit: usize) -> Result<WebhookRequest, WebhookResponse>
where
    B: http_body::Body + Unpin,
    B::Error: std::fmt::Display,
{
    let (parts, mut body) = req.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let mut kept = Vec::new();
    let mut size = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            WebhookResponse::error(&WebhookError::Malformed(format!(
                "the request body could not be read: {e}"
            )))
        })?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        while data.has_remaining() {
            let chunk = data.chunk();
            let n = chunk.len();
            if size + n <= limit {
                kept.extend_from_slice(chunk);
            }
            size += n;
            data.advance(n);
        }
        if size > limit.saturating_add(DRAIN_BYTES) {
            break;
        }
    }
    if size > limit {
        let size = declared.filter(|d| *d > size).unwrap_or(size);
        return Err(WebhookResponse::error(&WebhookError::TooLarge {
            size,
            limit,
        }));
    }
    Ok(WebhookRequest::from_http(&parts, kept))
}
