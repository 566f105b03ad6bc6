//! HTTP routing: the Sheets API under `/v4/`, the token endpoint, the control
//! API under `/_emulator/`; logging, auth and fault injection around API calls.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use percent_encoding::percent_decode_str;
use serde_json::{Value as Json, json};
use tokio::time::Instant;

use crate::changes::ChangeSource;
use crate::error::ApiError;
use crate::faults::Phase;
use crate::grid::Spreadsheet;
use crate::http::{MAX_BODY, Query, json_body, json_bytes_response, json_response};
use crate::log::LoggedRequest;
use crate::state::Shared;
use crate::{batch_update, control, fields, gzip, spreadsheet, values};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/token", post(token))
        // A nested "/" matches "/_emulator" only; the trailing-slash form is the documented one.
        .route("/_emulator/", get(control::overview))
        .nest("/_emulator", control::router())
        .fallback(api)
        .with_state(shared)
}

/// One Sheets API method, with its path parameters decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Create,
    Get(String),
    BatchUpdate(String),
    ValuesGet(String, String),
    ValuesUpdate(String, String),
    ValuesAppend(String, String),
    ValuesClear(String, String),
    ValuesBatchGet(String),
    ValuesBatchUpdate(String),
    ValuesBatchClear(String),
    MetadataSearch(String),
    MetadataGet(String, String),
}

impl Route {
    fn parse(method: &Method, path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/v4/spreadsheets")?;
        if rest.is_empty() || rest == "/" {
            return (method == Method::POST).then_some(Route::Create);
        }
        let raw: Vec<&str> = rest.strip_prefix('/')?.split('/').collect();
        let segments: Vec<String> = raw
            .iter()
            .map(|s| percent_decode_str(s).decode_utf8().map(|c| c.into_owned()))
            .collect::<Result<_, _>>()
            .ok()?;
        let post = method == Method::POST;
        let get = method == Method::GET;
        match segments.as_slice() {
            [id] => match id.strip_suffix(":batchUpdate") {
                Some(id) if post => Some(Route::BatchUpdate(id.to_string())),
                None if get => Some(Route::Get(id.clone())),
                _ => None,
            },
            [id, action] => match action.as_str() {
                "values:batchGet" if get => Some(Route::ValuesBatchGet(id.clone())),
                "values:batchUpdate" if post => Some(Route::ValuesBatchUpdate(id.clone())),
                "values:batchClear" if post => Some(Route::ValuesBatchClear(id.clone())),
                "developerMetadata:search" if post => Some(Route::MetadataSearch(id.clone())),
                _ => None,
            },
            [id, kind, metadata_id] if kind == "developerMetadata" && get => {
                Some(Route::MetadataGet(id.clone(), metadata_id.clone()))
            }
            [id, kind, range @ ..] if kind == "values" && !range.is_empty() => {
                // A tab title may contain '/', which splits the path: join it back.
                let range = range.join("/");
                let id = id.clone();
                if post {
                    if let Some(range) = range.strip_suffix(":append") {
                        return Some(Route::ValuesAppend(id, range.to_string()));
                    }
                    if let Some(range) = range.strip_suffix(":clear") {
                        return Some(Route::ValuesClear(id, range.to_string()));
                    }
                    None
                } else if get {
                    Some(Route::ValuesGet(id, range))
                } else if method == Method::PUT {
                    Some(Route::ValuesUpdate(id, range))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Google's method id, as the request log reports it.
    fn operation(&self) -> &'static str {
        match self {
            Route::Create => "spreadsheets.create",
            Route::Get(_) => "spreadsheets.get",
            Route::BatchUpdate(_) => "spreadsheets.batchUpdate",
            Route::ValuesGet(..) => "spreadsheets.values.get",
            Route::ValuesUpdate(..) => "spreadsheets.values.update",
            Route::ValuesAppend(..) => "spreadsheets.values.append",
            Route::ValuesClear(..) => "spreadsheets.values.clear",
            Route::ValuesBatchGet(_) => "spreadsheets.values.batchGet",
            Route::ValuesBatchUpdate(_) => "spreadsheets.values.batchUpdate",
            Route::ValuesBatchClear(_) => "spreadsheets.values.batchClear",
            Route::MetadataSearch(_) => "spreadsheets.developerMetadata.search",
            Route::MetadataGet(..) => "spreadsheets.developerMetadata.get",
        }
    }

    fn writes(&self) -> bool {
        !matches!(
            self,
            Route::Get(_)
                | Route::ValuesGet(..)
                | Route::ValuesBatchGet(_)
                | Route::MetadataSearch(_)
                | Route::MetadataGet(..)
        )
    }
}

async fn api(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let route = Route::parse(&parts.method, &path);
    let operation = route.as_ref().map_or("unknown", Route::operation);
    let response = match route {
        Some(route) => call(&shared, route, &parts.headers, &raw_query, body).await,
        None => ApiError::not_found_message("Method not found.").into_response(),
    };
    let (response, json_bytes) = if gzip::asked(&parts.headers) && !shared.faults.gzip_ignored() {
        gzip::compress(response).await
    } else {
        let bytes = body_bytes(&response);
        (response, bytes)
    };
    shared.log.record(LoggedRequest {
        method: parts.method.to_string(),
        path,
        query: redact_tokens(&raw_query),
        status: response.status().as_u16(),
        operation: operation.to_string(),
        response_bytes: body_bytes(&response),
        json_bytes,
        request_bytes: response
            .extensions()
            .get::<RequestBytes>()
            .map_or(0, |r| r.0),
    });
    response
}

/// An answer's body size (every answer here is a whole buffer).
fn body_bytes(response: &Response) -> u64 {
    use axum::body::HttpBody;
    response.body().size_hint().exact().unwrap_or(0)
}

/// The query as logged: an `access_token`/`oauth_token` value is a credential, never kept.
fn redact_tokens(raw: &str) -> String {
    raw.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name == "access_token" || name == "oauth_token" => {
                format!("{name}=REDACTED")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn bearer<'a>(headers: &'a HeaderMap, query: &'a Query) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .or_else(|| query.get("access_token"))
        .or_else(|| query.get("oauth_token"))
}

async fn call(
    shared: &Shared,
    route: Route,
    headers: &HeaderMap,
    raw_query: &str,
    body: Body,
) -> Response {
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let query = Query::parse(Some(raw_query));
    let user = match shared
        .tokens
        .authorize(bearer(headers, &query), route.writes())
    {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    if let Err(retry_after) = shared.faults.take_quota(Instant::now()) {
        let (kind, limit) = if route.writes() {
            ("Write requests", "Write requests per minute per user")
        } else {
            ("Read requests", "Read requests per minute per user")
        };
        return ApiError::resource_exhausted(
            format!("Quota exceeded for quota metric '{kind}' and limit '{limit}' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."),
            retry_after,
        )
        .into_response();
    }
    if let Err(over) = shared
        .faults
        .take_google_quota(route.writes(), &user, Instant::now())
    {
        let kind = if over.write {
            "Write requests"
        } else {
            "Read requests"
        };
        return ApiError::resource_exhausted(
            format!("Quota exceeded for quota metric '{kind}' and limit '{}' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.", over.limit),
            over.retry_after,
        )
        .into_response();
    }
    if let Some(status) = shared.faults.take_failure(Phase::BeforeApply) {
        return ApiError::server_error(status).into_response();
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::invalid_argument(format!(
                "Request payload size exceeds the limit: {MAX_BODY} bytes."
            ))
            .into_response();
        }
    };
    let mut response = respond(shared, &route, &query, &body);
    response
        .extensions_mut()
        .insert(RequestBytes(body.len() as u64));
    response
}

/// The size of a request's body, for the log (the body is gone by then).
#[derive(Clone, Copy)]
struct RequestBytes(u64);

/// Answers a request whose body has been read.
fn respond(shared: &Shared, route: &Route, query: &Query, body: &Bytes) -> Response {
    if let Some(limit) = shared.faults.payload_limit()
        && body.len() > limit.bytes
    {
        shared.log.count_oversized();
        tracing::warn!(
            bytes = body.len(),
            limit = limit.bytes,
            "request body over Google's payload guidance"
        );
        if limit.refuse {
            return ApiError::invalid_argument(format!(
                "Request payload size {} bytes exceeds the configured limit of {} bytes (Google recommends at most 2 MB).",
                body.len(),
                limit.bytes
            ))
            .into_response();
        }
    }
    let result = execute(shared, route, query, body);
    if let Some(status) = shared.faults.take_failure(Phase::AfterApply) {
        return ApiError::server_error(status).into_response();
    }
    match result.and_then(|answer| answer.into_body(query)) {
        Ok(body) => json_bytes_response(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

/// A method's answer: a value the `fields` mask still applies to, or a
/// body already written under it (`spreadsheets.get`, whose grid data is
/// written from the tab, never held as a value).
enum Answer {
    Value(Json),
    Body(Vec<u8>),
}

impl Answer {
    fn into_body(self, query: &Query) -> Result<Vec<u8>, ApiError> {
        match self {
            Answer::Value(value) => Ok(json_body(&select_fields(value, query)?).into_bytes()),
            Answer::Body(body) => Ok(body),
        }
    }
}

fn select_fields(value: Json, query: &Query) -> Result<Json, ApiError> {
    match query.get("fields") {
        Some(selector) if !selector.is_empty() => {
            Ok(fields::apply(value, &fields::parse(selector)?))
        }
        _ => Ok(value),
    }
}

/// Tab ids and titles at the given positions (for change notifications).
fn tabs_at(spreadsheet: &Spreadsheet, positions: &[usize]) -> Vec<(i32, String)> {
    positions
        .iter()
        .filter_map(|p| spreadsheet.sheets.get(*p))
        .map(|s| (s.id, s.title.clone()))
        .collect()
}

fn execute(
    shared: &Shared,
    route: &Route,
    query: &Query,
    body: &Bytes,
) -> Result<Answer, ApiError> {
    if let Route::Get(id) = route {
        return spreadsheet::get(&shared.store(), id, query).map(Answer::Body);
    }
    answer_value(shared, route, query, body).map(Answer::Value)
}

fn answer_value(
    shared: &Shared,
    route: &Route,
    query: &Query,
    body: &Bytes,
) -> Result<Json, ApiError> {
    let api = ChangeSource::Api;
    match route {
        Route::Create => {
            let (id, out) = spreadsheet::create(&mut shared.store(), query, body)?;
            let tabs: Vec<(i32, String)> = shared
                .store()
                .get(&id)
                .map(|s| tabs_at(s, &(0..s.sheets.len()).collect::<Vec<_>>()))
                .unwrap_or_default();
            for (sheet_id, title) in tabs {
                shared.notify(&id, sheet_id, &title, api);
            }
            Ok(out)
        }
        Route::Get(_) => Err(ApiError::server_error(500)),
        Route::BatchUpdate(id) => {
            query.allow(&[])?;
            let field_mask = spreadsheet::has_field_mask(query);
            shared.mutate(id, api, |s| batch_update::apply(s, body, field_mask))
        }
        Route::ValuesGet(id, range) => values::get(shared.store().get(id)?, range, query),
        Route::ValuesBatchGet(id) => values::batch_get(shared.store().get(id)?, query),
        Route::ValuesUpdate(id, range) => shared.mutate(id, api, |s| {
            let (out, sheet) = values::update(s, range, query, body)?;
            Ok((out, tabs_at(s, &[sheet])))
        }),
        Route::ValuesAppend(id, range) => shared.mutate(id, api, |s| {
            let (out, sheet) = values::append(s, range, query, body)?;
            Ok((out, tabs_at(s, &[sheet])))
        }),
        Route::ValuesClear(id, range) => shared.mutate(id, api, |s| {
            let (out, sheet) = values::clear(s, range, query)?;
            Ok((out, tabs_at(s, &[sheet])))
        }),
        Route::ValuesBatchUpdate(id) => shared.mutate(id, api, |s| {
            let (out, sheets) = values::batch_update(s, query, body)?;
            Ok((out, tabs_at(s, &sheets)))
        }),
        Route::ValuesBatchClear(id) => shared.mutate(id, api, |s| {
            let (out, sheets) = values::batch_clear(s, query, body)?;
            Ok((out, tabs_at(s, &sheets)))
        }),
        Route::MetadataSearch(id) => {
            query.allow(&[])?;
            crate::metadata_api::search(shared.store().get(id)?, body)
        }
        Route::MetadataGet(id, metadata_id) => {
            query.allow(&[])?;
            crate::metadata_api::get(shared.store().get(id)?, metadata_id)
        }
    }
}

/// `POST /token`: the OAuth2 token endpoint.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut audiences: Vec<String> = shared.token_uri().into_iter().collect();
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        audiences.push(format!("http://{host}/token"));
    }
    let response = match shared.tokens.grant(&body, &audiences) {
        Ok(grant) => json_response(
            StatusCode::OK,
            &json!({"access_token": grant.access_token, "expires_in": grant.expires_in, "token_type": "Bearer"}),
        ),
        Err(e) => json_response(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            &e.body(),
        ),
    };
    shared.log.record(LoggedRequest {
        method: "POST".into(),
        path: "/token".into(),
        query: String::new(),
        status: response.status().as_u16(),
        operation: "oauth2.token".into(),
        response_bytes: body_bytes(&response),
        json_bytes: body_bytes(&response),
        request_bytes: body.len() as u64,
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str) -> Option<Route> {
        Route::parse(&method, path)
    }

    #[test]
    fn logged_queries_hide_tokens() {
        assert_eq!(
            redact_tokens("alt=json&access_token=ya29.x&b=1"),
            "alt=json&access_token=REDACTED&b=1"
        );
        assert_eq!(redact_tokens(""), "");
    }

    #[test]
    fn paths_map_to_methods() {
        assert_eq!(
            route(Method::GET, "/v4/spreadsheets/abc"),
            Some(Route::Get("abc".into()))
        );
        assert_eq!(
            route(Method::POST, "/v4/spreadsheets/abc:batchUpdate"),
            Some(Route::BatchUpdate("abc".into()))
        );
        assert_eq!(route(Method::GET, "/v4/spreadsheets/abc:batchUpdate"), None);
        assert_eq!(
            route(Method::GET, "/v4/spreadsheets/abc/values/'My%20Tab'!A1:C"),
            Some(Route::ValuesGet("abc".into(), "'My Tab'!A1:C".into()))
        );
        assert_eq!(
            route(
                Method::POST,
                "/v4/spreadsheets/abc/values/Sheet1!A1:C:append"
            ),
            Some(Route::ValuesAppend("abc".into(), "Sheet1!A1:C".into()))
        );
        assert_eq!(
            route(Method::POST, "/v4/spreadsheets/abc/values/a%2Fb!A1:clear"),
            Some(Route::ValuesClear("abc".into(), "a/b!A1".into()))
        );
        assert_eq!(
            route(Method::PUT, "/v4/spreadsheets/abc/values/A1"),
            Some(Route::ValuesUpdate("abc".into(), "A1".into()))
        );
        assert_eq!(
            route(Method::GET, "/v4/spreadsheets/abc/values:batchGet"),
            Some(Route::ValuesBatchGet("abc".into()))
        );
        assert_eq!(route(Method::POST, "/v4/spreadsheets"), Some(Route::Create));
        assert_eq!(route(Method::GET, "/v4/other"), None);
        assert_eq!(
            route(Method::GET, "/v4/spreadsheets/abc/developerMetadata/7"),
            Some(Route::MetadataGet("abc".into(), "7".into()))
        );
    }
}
