//! Test clients: the production OAuth flow (`yup-oauth2` service account) and a
//! plain HTTP client for asserting exact API responses.

#![allow(dead_code)]

use google_sheets4::hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use google_sheets4::hyper_util::client::legacy::Client;
use google_sheets4::hyper_util::client::legacy::connect::HttpConnector;
use google_sheets4::hyper_util::rt::TokioExecutor;
use google_sheets4::yup_oauth2::authenticator::Authenticator;
use google_sheets4::yup_oauth2::{self, CustomHyperClientBuilder, ServiceAccountAuthenticator};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request};
use serde_json::Value as Json;
use sheetsync_sheets_emulator::Emulator;

use google_sheets4::hyper;

pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";

/// The connector production uses: rustls with webpki roots, plain http allowed for loopback.
pub fn connector() -> HttpsConnector<HttpConnector> {
    HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .unwrap()
        .https_or_http()
        .enable_http1()
        .build()
}

/// A service-account authenticator whose key's token_uri is the emulator's.
pub async fn authenticator(emu: &Emulator) -> Authenticator<HttpsConnector<HttpConnector>> {
    let key = yup_oauth2::parse_service_account_key(emu.service_account_key()).unwrap();
    let client = Client::builder(TokioExecutor::new()).build(connector());
    ServiceAccountAuthenticator::with_client(key, CustomHyperClientBuilder::from(client))
        .build()
        .await
        .unwrap()
}

/// A bearer token from the emulator's token endpoint via the real flow.
pub async fn token(emu: &Emulator, scope: &str) -> String {
    let auth = authenticator(emu).await;
    auth.token(&[scope])
        .await
        .unwrap()
        .token()
        .unwrap()
        .to_string()
}

/// A plain HTTP client for the emulator's API.
pub struct Http {
    pub base: String,
    pub token: Option<String>,
    client: Client<HttpConnector, Full<Bytes>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Json,
}

impl Http {
    pub async fn new(emu: &Emulator) -> Http {
        Http {
            base: emu.root_url().trim_end_matches('/').to_string(),
            token: Some(token(emu, SCOPE).await),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub fn anonymous(emu: &Emulator) -> Http {
        Http {
            base: emu.root_url().trim_end_matches('/').to_string(),
            token: None,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Json>) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(bytes))).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.unwrap().to_bytes();
        let body = if raw.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&raw)
                .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&raw).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A GET with extra headers, answered as raw bytes (no decoding).
    pub async fn get_raw(&self, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Bytes) {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, raw)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Json) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// Posts a raw form body (the token endpoint).
    pub async fn post_form(&self, path: &str, form: &str) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{}", self.base, path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form.to_string())))
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&raw).unwrap_or(Json::Null),
        }
    }
}
