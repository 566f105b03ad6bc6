//! The same handler over plain HTTP/1.1 (the benchmark):
//! `serve(listener, webhook)` answers every connection until the listener
//! fails or the task is dropped. [`read`] is how any server (this one, the
//! local stack's) reads a request into the webhook.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
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
    let response = match read(req, webhook.config().max_body_bytes).await {
        Ok(request) => webhook.handle(request).await,
        Err(refused) => refused,
    };
    response
        .to_http::<String>()
        .map(|body| Full::new(Bytes::from(body)))
}

/// Reads a request from any `http` body (hyper's, axum's), stopping one
/// byte past `limit` so an oversized body is never held whole. An oversized
/// body is answered `too_large` as the Lambda answers it: with its size
/// from `Content-Length` when the client sent one (a streamed body's size
/// is not known; it is reported as one byte over).
pub async fn read<B>(req: Request<B>, limit: usize) -> Result<WebhookRequest, WebhookResponse>
where
    B: http_body::Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let too_large = |size: usize| WebhookResponse::error(&WebhookError::TooLarge { size, limit });
    if let Some(size) = declared.filter(|size| *size > limit) {
        return Err(too_large(size));
    }
    match Limited::new(body, limit.saturating_add(1)).collect().await {
        Ok(collected) => Ok(WebhookRequest::from_http(
            &parts,
            collected.to_bytes().to_vec(),
        )),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(too_large(limit.saturating_add(1)))
        }
        Err(e) => Err(WebhookResponse::error(&WebhookError::Malformed(format!(
            "the request body could not be read: {e}"
        )))),
    }
}
