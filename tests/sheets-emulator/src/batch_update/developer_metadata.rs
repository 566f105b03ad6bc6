//! create/update/deleteDeveloperMetadata.

// The request family shares the dispatcher's context and imports.
use super::*;

impl Ctx<'_> {
    pub(super) fn create_metadata(&mut self, request: CreateMetadata) -> Outcome {
        let input = request.developer_metadata;
        let key = input
            .metadata_key
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or("Developer metadata must have a key specified.")?;
        let visibility = input
            .visibility
            .ok_or("Developer metadata must have a visibility specified.")?;
        let location = input
            .location
            .as_ref()
            .ok_or("Developer metadata must have a location specified.")?
            .to_location()?;
        if let Location::Sheet(id) = location {
            let position = self.position(Some(id))?;
            self.touch(position);
        }
        let metadata_id = match input.metadata_id {
            Some(id) if id <= 0 => return Err("Developer metadata ID must be positive.".into()),
            Some(id)
                if self
                    .spreadsheet
                    .metadata
                    .iter()
                    .any(|m| m.metadata_id == id) =>
            {
                return Err(format!("Developer metadata with ID {id} already exists.").into());
            }
            Some(id) => id,
            None => self.spreadsheet.allocate_metadata_id(),
        };
        let metadata = DeveloperMetadata {
            metadata_id,
            metadata_key: key,
            metadata_value: input.metadata_value,
            location,
            visibility,
        };
        let out = metadata.to_json();
        self.spreadsheet.metadata.push(metadata);
        Ok(json!({"createDeveloperMetadata": {"developerMetadata": out}}))
    }

    pub(super) fn update_metadata(&mut self, request: UpdateMetadata) -> Outcome {
        if request.data_filters.is_empty() {
            return Err("At least one data filter must be specified.".into());
        }
        let fields: Vec<&str> = request
            .fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() {
            return Err("'fields' must name the developer metadata fields to update.".into());
        }
        let mut selected: Vec<usize> = Vec::new();
        for filter in &request.data_filters {
            for i in metadata::select(&self.spreadsheet.metadata, filter)? {
                if !selected.contains(&i) {
                    selected.push(i);
                }
            }
        }
        if selected.is_empty() {
            return Err("No developer metadata matches the given data filters.".into());
        }
        let update = &request.developer_metadata;
        let location = match &update.location {
            Some(l) if fields.contains(&"location") || fields.contains(&"*") => {
                Some(l.to_location()?)
            }
            _ => None,
        };
        if let Some(Location::Sheet(id)) = location {
            self.position(Some(id))?;
        }
        let mut out = Vec::new();
        for i in selected {
            let before = self.spreadsheet.metadata[i].location;
            let m = &mut self.spreadsheet.metadata[i];
            for field in &fields {
                match *field {
                    "metadataKey" => {
                        m.metadata_key = update
                            .metadata_key
                            .clone()
                            .ok_or("Developer metadata must have a key specified.")?
                    }
                    "metadataValue" => m.metadata_value = update.metadata_value.clone(),
                    "visibility" => {
                        m.visibility = update
                            .visibility
                            .ok_or("Developer metadata must have a visibility specified.")?
                    }
                    "location" => {
                        m.location =
                            location.ok_or("Developer metadata must have a location specified.")?
                    }
                    "metadataId" => return Err("metadataId cannot be updated.".into()),
                    "*" => {
                        m.metadata_key = update
                            .metadata_key
                            .clone()
                            .ok_or("Developer metadata must have a key specified.")?;
                        m.metadata_value = update.metadata_value.clone();
                        m.visibility = update
                            .visibility
                            .ok_or("Developer metadata must have a visibility specified.")?;
                        m.location =
                            location.ok_or("Developer metadata must have a location specified.")?;
                    }
                    other => {
                        return Err(
                            format!("Invalid field mask '{other}' for DeveloperMetadata.").into(),
                        );
                    }
                }
            }
            out.push(m.to_json());
            let after = m.location;
            for location in [before, after] {
                if let Location::Sheet(id) = location
                    && let Some(position) = self.spreadsheet.sheets.iter().position(|s| s.id == id)
                {
                    self.touch(position);
                }
            }
        }
        Ok(json!({"updateDeveloperMetadata": {"developerMetadata": out}}))
    }

    pub(super) fn delete_metadata(&mut self, request: DeleteMetadata) -> Outcome {
        let selected = metadata::select(&self.spreadsheet.metadata, &request.data_filter)?;
        let mut deleted = Vec::new();
        for i in selected.into_iter().rev() {
            let m = self.spreadsheet.metadata.remove(i);
            if let Location::Sheet(id) = m.location
                && let Some(position) = self.spreadsheet.sheets.iter().position(|s| s.id == id)
            {
                self.touch(position);
            }
            deleted.push(m.to_json());
        }
        deleted.reverse();
        let mut reply = json!({});
        if !deleted.is_empty() {
            reply["deletedDeveloperMetadata"] = Json::Array(deleted);
        }
        Ok(json!({"deleteDeveloperMetadata": reply}))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CreateMetadata {
    developer_metadata: MetadataInput,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct UpdateMetadata {
    #[serde(default)]
    data_filters: Vec<DataFilter>,
    #[serde(default)]
    developer_metadata: MetadataInput,
    #[serde(default)]
    fields: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DeleteMetadata {
    data_filter: DataFilter,
}
