//! Where a binding's changes go: the part of every message that describes
//! the sheet and the table's columns, so the writer needs no database.

use sheetsync_queue::{ChangeBatch, ColumnType, VERSION};
use sheetsync_store::Binding;
use sheetsync_store::StoredBinding;
use tokio_postgres::Client;

use crate::OutboxError;

/// A binding as the relay needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub binding: String,
    pub spreadsheet_id: String,
    pub sheet: String,
    /// Primary key column names, in key order.
    pub key_columns: Vec<String>,
    /// Every column of the table with its type, in table order.
    pub columns: Vec<ColumnType>,
    /// `"schema"."table"`, quoted, for the backfill's scan.
    pub qualified_table: String,
}

impl From<&Binding> for Target {
    fn from(b: &Binding) -> Target {
        Target {
            binding: b.name.clone(),
            spreadsheet_id: b.spreadsheet_id.clone(),
            sheet: b.sheet.clone(),
            key_columns: b.key_columns.clone(),
            columns: b
                .columns
                .iter()
                .map(|c| ColumnType {
                    name: c.name.clone(),
                    pg_type: c.pg_type,
                })
                .collect(),
            qualified_table: b.qualified_table(),
        }
    }
}

impl Target {
    /// Reads the binding and its table's columns from the catalog.
    pub async fn load(client: &Client, binding: &str) -> Result<Target, OutboxError> {
        let b = Binding::load(client, binding).await?;
        Ok(Target::from(&b))
    }

    /// A message for this binding with no changes yet.
    pub fn empty_batch(&self) -> ChangeBatch {
        ChangeBatch {
            v: VERSION,
            binding: self.binding.clone(),
            spreadsheet_id: self.spreadsheet_id.clone(),
            sheet: self.sheet.clone(),
            key_columns: self.key_columns.clone(),
            columns: self.columns.clone(),
            changes: Vec::new(),
        }
    }
}
