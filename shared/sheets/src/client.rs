//! The authenticated Sheets API client: a `google-sheets4` hub over a
//! hyper-rustls connector (webpki roots, ring) and a `yup-oauth2`
//! service-account authenticator.
//!
//! The two calls the writer makes per batch (the tab read and the
//! batchUpdate) go through the hub's own HTTP client and authenticator but
//! with compact wire types (see `wire`): the generated types take 2,960 bytes
//! per `CellData` and 29,808 bytes per `Request` (measured), so a
//! 10,000-row batch would need hundreds of MB in a 128 MB Lambda.

use std::time::Duration;

use google_sheets4::Sheets;
use google_sheets4::common;
use google_sheets4::hyper::{self, StatusCode, body::Bytes};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Serialize;
use serde::de::DeserializeOwned;
use yup_oauth2::ServiceAccountKey;

use crate::SheetsError;
use crate::auth::SCOPE;

/// Google's production root URL.
pub const GOOGLE_ROOT_URL: &str = "https://sheets.googleapis.com/";

pub type Connector = HttpsConnector<HttpConnector>;

/// Where to send requests; both default to Google's.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// Sheets API root, e.g. the emulator's `http://127.0.0.1:PORT/`.
    pub root_url: Option<String>,
    /// Overrides the key's `token_uri`.
    pub token_uri: Option<String>,
}

pub struct SheetsClient {
    hub: Sheets<Connector>,
    root_url: String,
    /// What the last read of each tab saw (`read::TabsSeen`).
    pub(crate) tabs_seen: crate::read::TabsSeen,
    pace: crate::pace::Pace,
}

fn connector() -> Connector {
    // Plain http is allowed only so a loopback emulator can stand in for Google.
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .unwrap_or_else(|_| {
            // ring's default provider supports every TLS version we enable.
            hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots()
        })
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build()
}

impl SheetsClient {
    /// Builds the hub and authenticator; no request is made until the first call.
    pub async fn new(
        mut key: ServiceAccountKey,
        endpoints: &Endpoints,
    ) -> Result<SheetsClient, SheetsError> {
        if let Some(uri) = &endpoints.token_uri {
            key.token_uri = uri.clone();
        }
        let executor = hyper_util::rt::TokioExecutor::new();
        let connector = connector();
        // One connector (and its TLS config) for the API and the token endpoint;
        // the two clients differ only in their body type.
        let http =
            hyper_util::client::legacy::Client::builder(executor.clone()).build(connector.clone());
        let token_http = hyper_util::client::legacy::Client::builder(executor).build(connector);
        let auth = yup_oauth2::ServiceAccountAuthenticator::with_client(
            key,
            yup_oauth2::client::CustomHyperClientBuilder::from(token_http),
        )
        .build()
        .await
        .map_err(|e| SheetsError::Token(e.to_string()))?;
        let mut hub = Sheets::new(http, auth);
        let mut root_url = endpoints
            .root_url
            .clone()
            .unwrap_or_else(|| GOOGLE_ROOT_URL.to_string());
        if !root_url.ends_with('/') {
            root_url.push('/');
        }
        hub.root_url(root_url.clone());
        hub.base_url(root_url.clone());
        Ok(SheetsClient {
            hub,
            root_url,
            tabs_seen: Default::default(),
            pace: Default::default(),
        })
    }

    /// Spaces requests under a per-minute budget (see [`crate::pace`]);
    /// unpaced by default.
    pub fn with_pace(mut self, pace: crate::pace::Pace) -> SheetsClient {
        self.pace = pace;
        self
    }

    /// The hub, for calls where the generated types are small enough.
    pub fn hub(&self) -> &Sheets<Connector> {
        &self.hub
    }

    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        spreadsheet_id: &str,
    ) -> Result<T, SheetsError> {
        let body = self
            .send(
                hyper::Method::GET,
                path_and_query,
                Bytes::new(),
                spreadsheet_id,
            )
            .await?;
        serde_json::from_slice(&body).map_err(|e| SheetsError::Decode(e.to_string()))
    }

    pub(crate) async fn post_json<B: Serialize>(
        &self,
        path_and_query: &str,
        body: &B,
        spreadsheet_id: &str,
    ) -> Result<Bytes, SheetsError> {
        let body = serde_json::to_vec(body).map_err(|e| SheetsError::Decode(e.to_string()))?;
        self.send(
            hyper::Method::POST,
            path_and_query,
            body.into(),
            spreadsheet_id,
        )
        .await
    }

    async fn send(
        &self,
        method: hyper::Method,
        path_and_query: &str,
        body: Bytes,
        spreadsheet_id: &str,
    ) -> Result<Bytes, SheetsError> {
        let kind = if method == hyper::Method::GET {
            crate::pace::Kind::Read
        } else {
            crate::pace::Kind::Write
        };
        self.pace.wait(kind).await;
        let token = self
            .hub
            .auth
            .get_token(&[SCOPE])
            .await
            .map_err(|e| SheetsError::Token(e.to_string()))?
            .ok_or_else(|| SheetsError::Token("the authenticator returned no token".into()))?;
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.root_url, path_and_query))
            .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            // Google gzips an answer only when both say so; the key read of a
            // 100,000-row tab is 7 MB of JSON and under 1 MB gzipped.
            .header(hyper::header::ACCEPT_ENCODING, "gzip")
            .header(hyper::header::USER_AGENT, "sheetsync (gzip)")
            .body(Full::new(body).map_err(|never| match never {}).boxed())
            .map_err(|e| SheetsError::Transport(e.to_string()))?;
        let response: common::Response = self
            .hub
            .client
            .request(request)
            .await
            .map_err(|e| SheetsError::Transport(e.to_string()))?
            .map(|b| b.boxed());
        let status = response.status();
        let gzipped = response
            .headers()
            .get(hyper::header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let retry_after = response
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| SheetsError::Transport(e.to_string()))?
            .to_bytes();
        let bytes = if gzipped { gunzip(&bytes)? } else { bytes };
        if status.is_success() {
            return Ok(bytes);
        }
        Err(status_error(status, &bytes, retry_after, spreadsheet_id))
    }
}

/// A gzip answer's JSON. A body that does not inflate was cut off on the
/// way, as far as the caller can tell: worth a retry.
fn gunzip(body: &[u8]) -> Result<Bytes, SheetsError> {
    use std::io::Read;
    // The trailer's last four bytes are the inflated size (mod 4 GiB):
    // one allocation of the right size, not a doubling series that holds
    // twice the JSON at its peak. Deflate inflates at most 1032-fold.
    let inflated = body
        .last_chunk::<4>()
        .map_or(0, |size| u32::from_le_bytes(*size) as usize);
    let mut json = Vec::with_capacity(inflated.min(body.len().saturating_mul(1032)));
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut json)
        .map_err(|e| SheetsError::Transport(format!("gzip answer: {e}")))?;
    Ok(json.into())
}

/// `Retry-After` in seconds (Google sends delta-seconds, never a date).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Google's error body: `{"error": {"code": .., "message": "..", "status": ".."}}`.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(e) => e.error.message,
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

pub(crate) fn status_error(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
    spreadsheet_id: &str,
) -> SheetsError {
    let code = status.as_u16();
    match code {
        429 => SheetsError::RateLimited { retry_after },
        404 => SheetsError::SpreadsheetNotFound {
            spreadsheet_id: spreadsheet_id.to_string(),
        },
        401 | 403 => SheetsError::Forbidden {
            status: code,
            message: error_message(body),
        },
        500..=599 => SheetsError::Server {
            status: code,
            message: error_message(body),
            retry_after,
        },
        _ => SheetsError::Rejected {
            status: code,
            message: error_message(body),
        },
    }
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_statuses_to_what_the_caller_does_next() {
        let body = br#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#;
        let err = status_error(StatusCode::SERVICE_UNAVAILABLE, body, None, "S");
        assert_eq!(
            err.to_string(),
            "Sheets API server error 503: The service is currently unavailable."
        );
        assert!(err.is_transient());
        let err = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            b"",
            parse_retry_after("7"),
            "S",
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            err.to_string(),
            "Sheets API quota exceeded (429), retry after 7 s"
        );
        let err = status_error(StatusCode::NOT_FOUND, b"", None, "S1");
        assert!(!err.is_transient());
        assert_eq!(
            err.to_string(),
            "spreadsheet S1 not found or not shared with the service account"
        );
        let err = status_error(StatusCode::BAD_REQUEST, b"not json", None, "S");
        assert_eq!(
            err.to_string(),
            "Sheets API rejected the request (400): not json"
        );
    }

    #[test]
    fn gzip_answers_inflate_and_a_cut_one_is_transient() {
        use std::io::Write;
        let json = br#"{"sheets":[{"data":[{"rowData":[]}]}]}"#;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(json).unwrap();
        let gzipped = encoder.finish().unwrap();
        assert_eq!(&gunzip(&gzipped).unwrap()[..], &json[..]);
        let err = gunzip(&gzipped[..gzipped.len() / 2]).unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(
            err.to_string()
                .starts_with("connection to the Sheets API: gzip answer:"),
            "{err}"
        );
    }

    #[test]
    fn retry_after_and_encoding() {
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(encode("'My Tab'!A:Z"), "%27My%20Tab%27%21A%3AZ");
        assert_eq!(encode("Zoë"), "Zo%C3%AB");
    }
}
