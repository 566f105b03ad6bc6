//! A `/sync_postgres` request made ready for its transaction: header
//! mapped, rows converted, keys parsed. Nothing here touches the database.

use std::collections::HashSet;

use chrono::Utc;
use serde_json::Value as Json;
use sheetsync_reconcile::convert::from_sheet_in;
use sheetsync_reconcile::{Key, SheetLocale, SheetSettings, SheetZone};
use sheetsync_store::Binding;

use crate::contract::{Kind, SyncRequest};
use crate::edit::EventTime;
use crate::errors::WebhookError;
use crate::header::Header;
use crate::incoming::{Incoming, Rejection};

/// The request, converted, before any database work.
pub enum Work {
    Edit(Vec<Result<Incoming, Rejection>>),
    Snapshot {
        rows: Vec<Result<Incoming, Rejection>>,
        partial: bool,
    },
    Keys(HashSet<Key>),
}

pub struct Prepared {
    pub work: Work,
    /// Columns the sheet's header holds.
    pub held_columns: HashSet<usize>,
    pub ignored: Vec<String>,
    /// Columns of the table the request's header lacks (a person renamed
    /// or removed their header cell): nothing from the sheet reaches them.
    /// Empty for a `keys` request, which carries no header.
    pub missing: Vec<String>,
    pub at: EventTime,
}

impl Prepared {
    /// The request carries a header (it is not a `keys` request).
    pub fn has_header(&self) -> bool {
        !matches!(self.work, Work::Keys(_))
    }
}

pub fn prepare(binding: &Binding, req: &SyncRequest) -> Result<Prepared, WebhookError> {
    let settings = SheetSettings {
        zone: sheet_zone(req.tz.as_deref()),
        locale: req
            .locale
            .as_deref()
            .map_or(SheetLocale::UNKNOWN, SheetLocale::from_tag),
    };
    let at = EventTime {
        edited_at: req.edited_at.unwrap_or_else(Utc::now),
        watermark: req.watermark.unwrap_or(0),
        zone: settings.zone,
    };
    if req.kind == Kind::Keys {
        let keys = req
            .keys
            .iter()
            .map(|k| parse_key(binding, k, settings))
            .collect::<Result<HashSet<Key>, WebhookError>>()?;
        return Ok(Prepared {
            work: Work::Keys(keys),
            held_columns: HashSet::new(),
            ignored: Vec::new(),
            missing: Vec::new(),
            at,
        });
    }
    let header = Header::map(binding, &req.header)?;
    let rows = req
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| Incoming::convert(binding, &header, &req.header, (i, row), settings))
        .collect();
    let work = match req.kind {
        Kind::Edit => Work::Edit(rows),
        _ => Work::Snapshot {
            rows,
            partial: req.partial,
        },
    };
    let held_columns: HashSet<usize> = header.cells.iter().flatten().copied().collect();
    let missing = binding
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| !held_columns.contains(i))
        .map(|(_, c)| c.name.clone())
        .collect();
    Ok(Prepared {
        work,
        held_columns,
        ignored: header.ignored,
        missing,
        at,
    })
}

/// The request's `tz`. Without one (a script from before it was sent), or
/// with one the time zone database does not know, date-times are compared
/// in UTC, i.e. as instants: only a value in the hour a clock is set back
/// or forward can then look changed, and refusing the request would stop
/// the tab's sync altogether.
fn sheet_zone(tz: Option<&str>) -> SheetZone {
    match tz.map(str::parse::<SheetZone>) {
        None => SheetZone::UTC,
        Some(Ok(zone)) => zone,
        Some(Err(unknown)) => {
            tracing::warn!(error = %unknown, "request's tz unknown; date-times compared in UTC");
            SheetZone::UTC
        }
    }
}

/// A `keys` entry: an object by key column name, an array in key order,
/// or a single key column's bare value. Anything else is malformed: a key
/// misread here would delete a row.
fn parse_key(
    binding: &Binding,
    entry: &Json,
    settings: SheetSettings,
) -> Result<Key, WebhookError> {
    let columns = binding.key_indices();
    let cells: Vec<Json> = match entry {
        Json::Object(map) => columns
            .iter()
            .map(|&c| {
                map.get(&binding.columns[c].name)
                    .cloned()
                    .unwrap_or(Json::Null)
            })
            .collect(),
        Json::Array(values) if values.len() == columns.len() => values.clone(),
        other if columns.len() == 1 && !other.is_array() => vec![other.clone()],
        other => {
            return Err(WebhookError::Malformed(format!(
                "key {other} does not match the key columns {:?}",
                binding.key_columns
            )));
        }
    };
    let mut values = Vec::with_capacity(columns.len());
    for (cell, &c) in cells.iter().zip(&columns) {
        let column = &binding.columns[c];
        let value = from_sheet_in(cell, &column.name, column.pg_type, settings)
            .map_err(|e| WebhookError::Malformed(format!("keys: {e}")))?;
        if value.is_null() {
            return Err(WebhookError::Malformed(format!(
                "keys: {entry} lacks {}",
                binding.columns[c].name
            )));
        }
        values.push(value);
    }
    Ok(Key::from_values(&values))
}
