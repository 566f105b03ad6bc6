//! Developer metadata located on a spreadsheet or a tab, and the
//! `developerMetadataLookup` data filters that select it.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

#[derive(Clone, Debug, PartialEq)]
pub struct DeveloperMetadata {
    pub metadata_id: i32,
    pub metadata_key: String,
    pub metadata_value: Option<String>,
    pub location: Location,
    pub visibility: Visibility,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    Spreadsheet,
    Sheet(i32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Visibility {
    Document,
    Project,
}

impl DeveloperMetadata {
    pub fn to_json(&self) -> Json {
        let location = match self.location {
            Location::Spreadsheet => json!({"locationType": "SPREADSHEET", "spreadsheet": true}),
            Location::Sheet(id) => json!({"locationType": "SHEET", "sheetId": id}),
        };
        let mut out = json!({
            "metadataId": self.metadata_id,
            "metadataKey": self.metadata_key,
            "location": location,
            "visibility": self.visibility,
        });
        if let Some(value) = &self.metadata_value {
            out["metadataValue"] = json!(value);
        }
        out
    }
}

/// `DeveloperMetadata` as a request carries it (every member optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetadataInput {
    pub metadata_id: Option<i32>,
    pub metadata_key: Option<String>,
    pub metadata_value: Option<String>,
    pub location: Option<LocationInput>,
    pub visibility: Option<Visibility>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationInput {
    pub location_type: Option<String>,
    pub spreadsheet: Option<bool>,
    pub sheet_id: Option<i32>,
    pub dimension_range: Option<Json>,
}

impl LocationInput {
    pub fn to_location(&self) -> Result<Location, String> {
        if self.dimension_range.is_some() {
            return Err("the Sheets API emulator supports developer metadata on spreadsheets and sheets, not on dimension ranges".into());
        }
        let location = match (self.spreadsheet, self.sheet_id) {
            (Some(true), None) => Location::Spreadsheet,
            (None | Some(false), Some(id)) => Location::Sheet(id),
            _ => return Err("Developer metadata location must set exactly one of spreadsheet, sheetId or dimensionRange.".into()),
        };
        let kind = match location {
            Location::Spreadsheet => "SPREADSHEET",
            Location::Sheet(_) => "SHEET",
        };
        match self.location_type.as_deref() {
            Some(stated) if stated != kind => Err(format!(
                "locationType {stated} does not match the location given ({kind})."
            )),
            _ => Ok(location),
        }
    }
}

/// A `DataFilter`; only `developerMetadataLookup` selects metadata here.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_metadata_lookup: Option<Lookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a1_range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid_range: Option<Json>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lookup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_location: Option<LookupLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_matching_strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LookupLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spreadsheet: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension_range: Option<Json>,
}

impl DataFilter {
    /// Whether this filter selects `metadata`; errors for filters the emulator does not model.
    pub fn matches(&self, metadata: &DeveloperMetadata) -> Result<bool, String> {
        if self.a1_range.is_some() || self.grid_range.is_some() {
            return Err("the Sheets API emulator selects developer metadata by developerMetadataLookup only, not by a1Range or gridRange".into());
        }
        let Some(lookup) = &self.developer_metadata_lookup else {
            return Err(
                "A data filter must set developerMetadataLookup, a1Range or gridRange.".into(),
            );
        };
        Ok(lookup.matches(metadata))
    }
}

impl Lookup {
    fn matches(&self, m: &DeveloperMetadata) -> bool {
        let location_type = match m.location {
            Location::Spreadsheet => "SPREADSHEET",
            Location::Sheet(_) => "SHEET",
        };
        let location_matches = self.metadata_location.as_ref().is_none_or(|l| {
            match (l.spreadsheet, l.sheet_id, m.location) {
                (Some(true), _, Location::Spreadsheet) => true,
                (_, Some(id), Location::Sheet(sheet)) => id == sheet,
                (None, None, _) => l
                    .location_type
                    .as_deref()
                    .is_none_or(|t| t == location_type),
                _ => false,
            }
        });
        self.metadata_id.is_none_or(|id| id == m.metadata_id)
            && self
                .metadata_key
                .as_ref()
                .is_none_or(|k| *k == m.metadata_key)
            && self
                .metadata_value
                .as_ref()
                .is_none_or(|v| m.metadata_value.as_ref() == Some(v))
            && self.visibility.is_none_or(|v| v == m.visibility)
            && self
                .location_type
                .as_deref()
                .is_none_or(|t| t == location_type)
            && location_matches
    }
}

/// Positions of the metadata a filter selects.
pub fn select(all: &[DeveloperMetadata], filter: &DataFilter) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for (i, m) in all.iter().enumerate() {
        if filter.matches(m)? {
            out.push(i);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: i32, key: &str, location: Location) -> DeveloperMetadata {
        DeveloperMetadata {
            metadata_id: id,
            metadata_key: key.into(),
            metadata_value: Some("7".into()),
            location,
            visibility: Visibility::Document,
        }
    }

    fn filter(json: Json) -> DataFilter {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn lookups_select_by_key_id_and_location() {
        let all = vec![
            meta(1, "sheetsync.watermark", Location::Sheet(0)),
            meta(2, "sheetsync.watermark", Location::Sheet(5)),
            meta(3, "other", Location::Spreadsheet),
        ];
        let by_key =
            filter(json!({"developerMetadataLookup": {"metadataKey": "sheetsync.watermark"}}));
        assert_eq!(select(&all, &by_key), Ok(vec![0, 1]));
        let by_sheet = filter(json!({"developerMetadataLookup": {
            "metadataKey": "sheetsync.watermark",
            "metadataLocation": {"sheetId": 5}}}));
        assert_eq!(select(&all, &by_sheet), Ok(vec![1]));
        let by_type = filter(json!({"developerMetadataLookup": {"locationType": "SPREADSHEET"}}));
        assert_eq!(select(&all, &by_type), Ok(vec![2]));
        let by_id =
            filter(json!({"developerMetadataLookup": {"metadataId": 1, "metadataValue": "8"}}));
        assert_eq!(select(&all, &by_id), Ok(vec![]));
        assert!(select(&all, &filter(json!({"a1Range": "A1"}))).is_err());
        assert_eq!(
            meta(1, "k", Location::Sheet(3)).to_json(),
            json!({"metadataId": 1, "metadataKey": "k", "metadataValue": "7",
                   "location": {"locationType": "SHEET", "sheetId": 3}, "visibility": "DOCUMENT"})
        );
    }
}
