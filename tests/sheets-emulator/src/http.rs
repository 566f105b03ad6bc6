//! Request plumbing shared by the API handlers: query parameters with Google's
//! validation messages, JSON bodies, JSON responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::error::ApiError;

/// Google caps request bodies at 10 MiB.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// Parameters every Google API method accepts.
const SYSTEM_PARAMETERS: [&str; 11] = [
    "alt",
    "fields",
    "key",
    "prettyPrint",
    "quotaUser",
    "access_token",
    "oauth_token",
    "upload_protocol",
    "uploadType",
    "callback",
    "$.xgafv",
];

pub fn json_body(value: &Json) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}

pub fn json_response(status: StatusCode, value: &Json) -> Response {
    json_bytes_response(status, json_body(value).into_bytes())
}

/// A JSON answer whose body is already written.
pub fn json_bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

/// Query parameters in order (repeated names such as `ranges` are kept).
#[derive(Debug, Default, Clone)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query {
            pairs: raw
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Google refuses parameters the method does not define.
    pub fn allow(&self, method_parameters: &[&str]) -> Result<(), ApiError> {
        for (name, value) in &self.pairs {
            if !method_parameters.contains(&name.as_str())
                && !SYSTEM_PARAMETERS.contains(&name.as_str())
            {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. Field '{name}' could not be found in request message."
                )));
            }
            if name == "alt" && value != "json" {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid value at 'alt', \"{value}\": only alt=json is supported"
                )));
            }
        }
        Ok(())
    }

    pub fn bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some("false") | Some("0") => Ok(false),
            Some(other) => Err(ApiError::invalid_argument(format!(
                "Invalid value at '{}' (TYPE_BOOL), \"{other}\"",
                snake(name)
            ))),
        }
    }

    /// An enum parameter; `type_name` is Google's proto type for the message.
    pub fn choice<'a>(
        &'a self,
        name: &str,
        type_name: &str,
        allowed: &[&'static str],
        default: &'static str,
    ) -> Result<&'a str, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) if allowed.contains(&value) => Ok(value),
            Some(value) => Err(invalid_enum(name, type_name, value)),
        }
    }
}

pub fn invalid_enum(name: &str, type_name: &str, value: &str) -> ApiError {
    ApiError::invalid_argument(format!(
        "Invalid value at '{}' (type.googleapis.com/google.apps.sheets.v4.{type_name}), \"{value}\"",
        snake(name)
    ))
}

/// `valueRenderOption` -> `value_render_option`, as Google names fields in errors.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses a JSON request body (an empty body is an empty message).
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_argument(format!("Invalid JSON payload received. {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_validate_like_google() {
        let q = Query::parse(Some(
            "ranges=A1&ranges=%27My%20Tab%27!B2&alt=json&includeGridData=true",
        ));
        assert_eq!(q.all("ranges"), vec!["A1", "'My Tab'!B2"]);
        assert_eq!(q.bool("includeGridData"), Ok(true));
        assert!(q.allow(&["ranges", "includeGridData"]).is_ok());
        let err = q.allow(&["ranges"]).unwrap_err();
        assert!(err.message.contains("Unknown name \"includeGridData\""));
        let q = Query::parse(Some("valueRenderOption=NOPE"));
        let err = q
            .choice(
                "valueRenderOption",
                "ValueRenderOption",
                &["FORMATTED_VALUE"],
                "FORMATTED_VALUE",
            )
            .unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value at 'value_render_option' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), \"NOPE\""
        );
    }
}
