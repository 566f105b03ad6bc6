//! PostgreSQL's side: values as `to_jsonb` renders them → `Value`, and
//! `Value` → the text bound as `$n::text::<sql_type>` or the JSON `to_jsonb`
//! would give.

use std::collections::HashMap;

use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::{ConvertError, Reason, cut, decimal, number_text, time};
use crate::model::{Column, PgType, Value};

/// One value as PostgreSQL's `to_jsonb` renders it, given as raw JSON text
/// so a `numeric` keeps every digit (`12345678901234567890.12`).
///
/// The error names no column; add it with [`ConvertError::in_column`].
pub fn from_pg_json(raw: &str, pg_type: PgType) -> Result<Value, ConvertError> {
    let trimmed = raw.trim();
    if pg_type == PgType::Numeric && trimmed.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return decimal::normalize(trimmed)
            .map(Value::Numeric)
            .ok_or_else(|| not_pg_value(&cut(trimmed.to_owned()), pg_type));
    }
    let is_float = matches!(pg_type, PgType::Float4 | PgType::Float8);
    if is_float && trimmed.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        // Rust's parser rounds correctly whatever serde_json's features.
        return trimmed
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| not_pg_value(&cut(trimmed.to_owned()), pg_type));
    }
    let json: Json = serde_json::from_str(trimmed)
        .map_err(|_| not_pg_value(&cut(trimmed.to_owned()), pg_type))?;
    from_pg_value(&json, pg_type)
}

/// [`from_pg_json`] of an already parsed value (a queue message's cell).
/// Numbers parsed by serde_json are floats beyond 64-bit integers, so a
/// long `numeric` here is only as exact as an `f64`; prefer
/// [`from_pg_json`] where the raw text is at hand.
pub fn from_pg_value(json: &Json, pg_type: PgType) -> Result<Value, ConvertError> {
    let bad = || not_pg_value(&cut(json.to_string()), pg_type);
    let value = match (pg_type, json) {
        (_, Json::Null) => Value::Null,
        (PgType::Bool, Json::Bool(b)) => Value::Bool(*b),
        (PgType::Int2 | PgType::Int4 | PgType::Int8, Json::Number(n)) => {
            Value::Int(n.as_i64().ok_or_else(bad)?)
        }
        (PgType::Float4 | PgType::Float8, Json::Number(n)) => {
            Value::Float(n.as_f64().ok_or_else(bad)?)
        }
        (PgType::Float4 | PgType::Float8, Json::String(s)) => match s.as_str() {
            "NaN" | "Infinity" | "-Infinity" => Value::Float(decimal::to_f64(s).ok_or_else(bad)?),
            _ => return Err(bad()),
        },
        (PgType::Numeric, Json::Number(n)) => {
            Value::Numeric(decimal::normalize(&number_text(n)).ok_or_else(bad)?)
        }
        (PgType::Numeric, Json::String(s)) => {
            Value::Numeric(decimal::normalize(s).ok_or_else(bad)?)
        }
        (PgType::Text, Json::String(s)) => Value::Text(s.clone()),
        // A type sheetsync does not interpret, rendered as JSON (an array,
        // a composite): carried as its JSON text.
        (PgType::Text, other) => Value::Text(other.to_string()),
        (PgType::Date, Json::String(s)) => match time::parse(s) {
            Some(iso) if iso.date_only => Value::Date(iso.local.date()),
            _ => return Err(bad()),
        },
        (PgType::Timestamp, Json::String(s)) => match time::parse(s) {
            Some(iso) if iso.offset.is_none() => Value::Timestamp(iso.local),
            _ => return Err(bad()),
        },
        (PgType::Timestamptz, Json::String(s)) => match time::parse(s) {
            Some(iso) if iso.offset.is_some() => Value::TimestampTz(iso.utc()),
            _ => return Err(bad()),
        },
        (PgType::Uuid, Json::String(s)) => {
            Value::Uuid(uuid::Uuid::try_parse(s).map_err(|_| bad())?)
        }
        (PgType::Json | PgType::Jsonb, other) => Value::Json(other.clone()),
        _ => return Err(bad()),
    };
    Ok(value)
}

/// A whole row as `to_jsonb(row)` renders it (raw JSON object text), in
/// `columns` order; `None` where the object has no such column (an outbox
/// update carries only the changed ones). Numerics stay exact.
pub fn row_from_pg_json(
    raw_object: &str,
    columns: &[Column],
) -> Result<Vec<Option<Value>>, ConvertError> {
    let object: HashMap<String, &RawValue> = serde_json::from_str(raw_object)
        .map_err(|_| ConvertError::new("", not_pg_row(raw_object)))?;
    columns
        .iter()
        .map(|column| {
            object
                .get(&column.name)
                .map(|raw| {
                    from_pg_json(raw.get(), column.pg_type).map_err(|e| e.in_column(&column.name))
                })
                .transpose()
        })
        .collect()
}

fn not_pg_row(raw: &str) -> Reason {
    Reason::NotPgValue {
        value: cut(raw.to_owned()),
        pg_type: "row",
    }
}

fn not_pg_value(shown: &str, pg_type: PgType) -> ConvertError {
    ConvertError::new(
        "",
        Reason::NotPgValue {
            value: shown.to_owned(),
            pg_type: pg_type.sql_name(),
        },
    )
}

impl Value {
    /// The PostgreSQL text input form, bound as `$n::text::<sql_type>`;
    /// `None` is SQL `NULL`.
    pub fn to_pg_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => decimal::float_text(*f),
            Value::Numeric(n) | Value::Text(n) => n.clone(),
            Value::Date(d) => time::format_date(*d),
            Value::Timestamp(t) => time::format_timestamp(*t),
            Value::TimestampTz(t) => time::format_timestamptz(*t),
            Value::Uuid(u) => u.hyphenated().to_string(),
            Value::Json(j) => j.to_string(),
        })
    }

    /// The value as `to_jsonb` renders it. A `numeric` beyond what an `f64`
    /// holds is rounded here; [`Value::to_json_text`] is exact.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Json::Number(n),
                None => Json::String(decimal::float_text(*f)),
            },
            Value::Numeric(n) => serde_json::from_str::<serde_json::Number>(n)
                .map(Json::Number)
                .unwrap_or_else(|_| Json::String(n.clone())),
            Value::Text(s) => Json::String(s.clone()),
            Value::Json(j) => j.clone(),
            other => Json::String(other.to_pg_text().unwrap_or_default()),
        }
    }

    /// The exact JSON text of [`Value::to_json`]: a `numeric` keeps every
    /// digit. For jsonb parameters and keys.
    pub fn to_json_text(&self) -> String {
        match self {
            Value::Numeric(n) if decimal::to_f64(n).is_some_and(f64::is_finite) => n.clone(),
            other => other.to_json().to_string(),
        }
    }
}
