//! The grid: plain HTML, CSS and JavaScript compiled into the binary.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = include_str!("grid.html");
const SCRIPT: &str = include_str!("grid.js");
const STYLE: &str = include_str!("grid.css");

fn with_type(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

pub async fn page() -> Response {
    with_type("text/html; charset=utf-8", PAGE)
}

pub async fn script() -> Response {
    with_type("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn style() -> Response {
    with_type("text/css; charset=utf-8", STYLE)
}

pub async fn no_grid() -> Html<&'static str> {
    Html(
        "<!doctype html><title>sheetsync dev</title><p>sheetsync dev runs against a real \
         Google Sheet (<code>--google</code>): no grid is served. Open the sheet itself.",
    )
}
