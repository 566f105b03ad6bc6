//! `spreadsheets.developerMetadata.search` and `.get`.

use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::error::ApiError;
use crate::grid::Spreadsheet;
use crate::http::parse_body;
use crate::metadata::{self, DataFilter};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchBody {
    #[serde(default)]
    data_filters: Vec<DataFilter>,
}

/// Every metadata entry matching any filter, each with the filters that matched it.
pub fn search(spreadsheet: &Spreadsheet, body: &[u8]) -> Result<Json, ApiError> {
    let body: SearchBody = parse_body(body)?;
    let mut matched: Vec<(usize, Vec<&DataFilter>)> = Vec::new();
    for filter in &body.data_filters {
        for i in
            metadata::select(&spreadsheet.metadata, filter).map_err(ApiError::invalid_argument)?
        {
            match matched.iter_mut().find(|(j, _)| *j == i) {
                Some((_, filters)) => filters.push(filter),
                None => matched.push((i, vec![filter])),
            }
        }
    }
    matched.sort_by_key(|(i, _)| *i);
    if matched.is_empty() {
        return Ok(json!({}));
    }
    let entries: Vec<Json> = matched
        .into_iter()
        .map(|(i, filters)| {
            json!({
                "developerMetadata": spreadsheet.metadata[i].to_json(),
                "dataFilters": filters,
            })
        })
        .collect();
    Ok(json!({"matchedDeveloperMetadata": entries}))
}

pub fn get(spreadsheet: &Spreadsheet, metadata_id: &str) -> Result<Json, ApiError> {
    let id: i32 = metadata_id.parse().map_err(|_| {
        ApiError::invalid_argument(format!(
            "Invalid value at 'metadata_id' (TYPE_INT32), \"{metadata_id}\""
        ))
    })?;
    spreadsheet
        .metadata
        .iter()
        .find(|m| m.metadata_id == id)
        .map(|m| m.to_json())
        .ok_or_else(|| ApiError::not_found_message(format!("No developer metadata with ID: {id}")))
}
