//! gzip-compressed answers, as Google sends them: only to a client whose
//! `Accept-Encoding` names gzip *and* whose `User-Agent` contains "gzip"
//! (Google's performance guidance). `FaultConfig::gzip_ignored` answers
//! uncompressed whatever the client asks, so a client is tested both ways.

use std::io::Write;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Whether the request asks for gzip the way Google requires.
pub fn asked(headers: &HeaderMap) -> bool {
    let says_gzip = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("gzip"))
    };
    says_gzip(header::ACCEPT_ENCODING) && says_gzip(header::USER_AGENT)
}

/// The answer compressed, and its body's size before compression.
pub async fn compress(response: Response) -> (Response, u64) {
    let (mut parts, body) = response.into_parts();
    // Every answer here is a whole buffer already.
    let json = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
    let compressed = encoder.write_all(&json).and_then(|()| encoder.finish());
    match compressed {
        Ok(compressed) => {
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts.headers.remove(header::CONTENT_LENGTH);
            (
                Response::from_parts(parts, Body::from(compressed)),
                json.len() as u64,
            )
        }
        // Writing into a Vec cannot fail; answer plain if it ever does.
        Err(_) => (
            Response::from_parts(parts, Body::from(json.clone())),
            json.len() as u64,
        ),
    }
}
