//! `/_emulator/...`: the seed/inspect/fault API over HTTP, for the binary, the
//! Node tests and the local stack. No auth; never logged or rate limited.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::sync::broadcast::error::RecvError;

use crate::cell::{Cell, CellValue};
use crate::error::ApiError;
use crate::faults::FaultConfig;
use crate::http::json_response;
use crate::seed;
use crate::state::Shared;

type S = State<Arc<Shared>>;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(overview))
        .route("/service-account", get(service_account))
        .route("/reset", post(reset))
        .route(
            "/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route("/requests", get(requests).delete(reset_requests))
        .route("/tokens", put(put_tokens).delete(revoke_tokens))
        .route("/changes", get(changes))
        .route("/spreadsheets/{id}/time-zone", put(put_time_zone))
        .route("/spreadsheets/{id}/locale", put(put_locale))
        .route("/spreadsheets/{id}/tabs/{tab}", get(tab).put(seed_tab))
        .route("/spreadsheets/{id}/tabs/{tab}/rows", get(tab_rows))
        .route(
            "/spreadsheets/{id}/tabs/{tab}/rows/{start}",
            delete(delete_rows),
        )
        .route(
            "/spreadsheets/{id}/tabs/{tab}/cells/{row}/{col}",
            get(get_cell).put(put_cell),
        )
        .route(
            "/spreadsheets/{id}/tabs/{tab}/metadata/{key}",
            get(get_metadata).put(put_metadata),
        )
}

fn ok(value: Json) -> Response {
    json_response(StatusCode::OK, &value)
}

fn bad_request(message: impl Into<String>) -> Response {
    ApiError::invalid_argument(message).into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body)
        .map_err(|e| Box::new(bad_request(format!("Invalid JSON payload received. {e}"))))
}

fn not_found() -> Response {
    ApiError::not_found().into_response()
}

/// `GET /_emulator/`: where things are and which spreadsheets exist.
pub async fn overview(State(shared): S) -> Response {
    let store = shared.store();
    let spreadsheets: Vec<Json> = store
        .spreadsheets
        .values()
        .map(|s| {
            let tabs: Vec<Json> = s
                .sheets
                .iter()
                .map(|t| json!({"sheetId": t.id, "title": t.title, "rowCount": t.row_count, "columnCount": t.column_count}))
                .collect();
            json!({"spreadsheetId": s.id, "title": s.title, "tabs": tabs})
        })
        .collect();
    drop(store);
    ok(json!({
        "rootUrl": shared.root_url.get(),
        "tokenUri": shared.token_uri(),
        "revision": shared.revision(),
        "spreadsheets": spreadsheets,
    }))
}

async fn service_account(State(shared): S, headers: HeaderMap) -> Response {
    // Behind another listener (Emulator::router) the Host header names the right endpoint.
    let token_uri = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|host| format!("http://{host}/token"))
        .or_else(|| shared.token_uri())
        .unwrap_or_default();
    let mut response = crate::emulator::service_account_key(&token_uri).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

async fn reset(State(shared): S) -> Response {
    shared.store().spreadsheets.clear();
    shared.tokens.revoke_all();
    shared.faults.clear();
    shared.log.reset();
    ok(json!({}))
}

async fn get_faults(State(shared): S) -> Response {
    ok(serde_json::to_value(shared.faults.config()).unwrap_or_default())
}

async fn put_faults(State(shared): S, body: Bytes) -> Response {
    match parse::<FaultConfig>(&body) {
        Ok(config) => {
            shared.faults.set(config);
            get_faults(State(shared)).await
        }
        Err(response) => *response,
    }
}

async fn clear_faults(State(shared): S) -> Response {
    shared.faults.clear();
    get_faults(State(shared)).await
}

async fn requests(State(shared): S) -> Response {
    ok(json!({"counters": shared.log.counters(), "requests": shared.log.entries()}))
}

async fn reset_requests(State(shared): S) -> Response {
    shared.log.reset();
    ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenSettings {
    lifetime_seconds: u64,
}

async fn put_tokens(State(shared): S, body: Bytes) -> Response {
    match parse::<TokenSettings>(&body) {
        Ok(settings) => {
            shared
                .tokens
                .set_lifetime(std::time::Duration::from_secs(settings.lifetime_seconds));
            ok(json!({"lifetimeSeconds": settings.lifetime_seconds}))
        }
        Err(response) => *response,
    }
}

async fn revoke_tokens(State(shared): S) -> Response {
    shared.tokens.revoke_all();
    ok(json!({}))
}

/// Server-sent events: one `change` event per changed tab (JSON `Change`);
/// a `lagged` event when this reader fell behind and should re-read everything.
async fn changes(State(shared): S) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = shared.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(change) => {
                let data = serde_json::to_string(&change).unwrap_or_default();
                Some((Ok(Event::default().event("change").data(data)), receiver))
            }
            Err(RecvError::Lagged(missed)) => Some((
                Ok(Event::default().event("lagged").data(missed.to_string())),
                receiver,
            )),
            Err(RecvError::Closed) => None,
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn cell_json(cell: &Cell) -> Json {
    let mut out = serde_json::to_value(cell).unwrap_or_default();
    out["formatted"] = json!(cell.formatted().unwrap_or_default());
    if let CellValue::Formula(_) = cell.value {
        out["effectiveValue"] = cell.effective_json();
    }
    out
}

async fn tab(State(shared): S, Path((id, tab)): Path<(String, String)>) -> Response {
    let found = seed::read_tab(&shared, &id, &tab, |spreadsheet, sheet| {
        let cells: Vec<Vec<Json>> = sheet
            .rows
            .iter()
            .map(|row| row.iter().map(cell_json).collect())
            .collect();
        let metadata: serde_json::Map<String, Json> = spreadsheet
            .metadata
            .iter()
            .filter(|m| m.location == crate::metadata::Location::Sheet(sheet.id))
            .map(|m| (m.metadata_key.clone(), json!(m.metadata_value)))
            .collect();
        json!({
            "sheetId": sheet.id,
            "title": sheet.title,
            "rowCount": sheet.row_count,
            "columnCount": sheet.column_count,
            "revision": shared.revision(),
            "cells": cells,
            "developerMetadata": metadata,
        })
    });
    found.map_or_else(not_found, ok)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    #[serde(default)]
    rows: Vec<Vec<Json>>,
}

async fn seed_tab(
    State(shared): S,
    Path((id, tab)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body: SeedBody = match parse(&body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    match seed::set_rows(&shared, &id, &tab, &body.rows) {
        Ok(()) => tab_rows(State(shared), Path((id, tab))).await,
        Err(e) => bad_request(e),
    }
}

async fn tab_rows(State(shared): S, Path((id, tab)): Path<(String, String)>) -> Response {
    seed::read_tab(
        &shared,
        &id,
        &tab,
        |_, sheet| json!({"rows": seed::rows(sheet)}),
    )
    .map_or_else(not_found, ok)
}

async fn delete_rows(
    State(shared): S,
    Path((id, tab, start)): Path<(String, String, usize)>,
    uri: Uri,
) -> Response {
    let count = match crate::http::Query::parse(uri.query())
        .get("count")
        .map(str::parse::<usize>)
    {
        None => 1,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad_request("count must be a whole number"),
    };
    if seed::read_tab(&shared, &id, &tab, |_, _| ()).is_none() {
        return not_found();
    }
    if seed::delete_rows(&shared, &id, &tab, start, count) {
        tab_rows(State(shared), Path((id, tab))).await
    } else {
        bad_request("rows out of range (a tab keeps at least one row)")
    }
}

async fn get_cell(
    State(shared): S,
    Path((id, tab, row, col)): Path<(String, String, usize, usize)>,
) -> Response {
    seed::read_tab(&shared, &id, &tab, |_, sheet| {
        cell_json(sheet.cell(row, col))
    })
    .map_or_else(not_found, ok)
}

/// Body: `{"text": "..."}` to type as a person would, or a `Cell` JSON to set exactly.
async fn put_cell(
    State(shared): S,
    Path((id, tab, row, col)): Path<(String, String, usize, usize)>,
    body: Bytes,
) -> Response {
    let value: Json = match parse(&body) {
        Ok(value) => value,
        Err(response) => return *response,
    };
    if let Some(text) = value.get("text").and_then(Json::as_str) {
        return ok(cell_json(&seed::enter_text(
            &shared, &id, &tab, row, col, text,
        )));
    }
    match seed::cell_from_json(&value) {
        Ok(cell) => {
            let out = cell_json(&cell);
            seed::set_cell(&shared, &id, &tab, row, col, cell);
            ok(out)
        }
        Err(e) => bad_request(e),
    }
}

async fn get_metadata(
    State(shared): S,
    Path((id, tab, key)): Path<(String, String, String)>,
) -> Response {
    match seed::read_tab(&shared, &id, &tab, |s, sheet| {
        seed::metadata_value(s, sheet, &key)
    }) {
        Some(Some(value)) => ok(json!({"key": key, "value": value})),
        _ => not_found(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataBody {
    value: String,
}

async fn put_metadata(
    State(shared): S,
    Path((id, tab, key)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    match parse::<MetadataBody>(&body) {
        Ok(body) => {
            seed::set_metadata(&shared, &id, &tab, &key, &body.value);
            ok(json!({"key": key, "value": body.value}))
        }
        Err(response) => *response,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeZoneBody {
    time_zone: String,
}

/// `PUT /_emulator/spreadsheets/{id}/time-zone` `{"timeZone": "Europe/Berlin"}`.
async fn put_time_zone(State(shared): S, Path(id): Path<String>, body: Bytes) -> Response {
    let body: TimeZoneBody = match parse(&body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    match crate::seed::set_time_zone(&shared, &id, &body.time_zone) {
        Ok(()) => ok(json!({"timeZone": body.time_zone})),
        Err(message) => bad_request(message),
    }
}

#[derive(Deserialize)]
struct LocaleBody {
    locale: String,
}

/// `PUT /_emulator/spreadsheets/{id}/locale` `{"locale": "de_DE"}`.
async fn put_locale(State(shared): S, Path(id): Path<String>, body: Bytes) -> Response {
    let body: LocaleBody = match parse(&body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    match crate::seed::set_locale(&shared, &id, &body.locale) {
        Ok(()) => ok(json!({"locale": body.locale})),
        Err(message) => bad_request(message),
    }
}
