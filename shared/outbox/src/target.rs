//! Where a binding's changes go: the part of every message that describes
//! the sheet and the table's columns, so the writer needs no database.

use reconcile::PgType;
use sheetsync_queue::{ChangeBatch, ColumnType, VERSION};
use tokio_postgres::GenericClient;

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

impl Target {
    /// Reads the binding and its table's columns from the catalog.
    pub async fn load(client: &impl GenericClient, binding: &str) -> Result<Target, OutboxError> {
        let row = client
            .query_opt(
                "SELECT b.spreadsheet_id, b.sheet, b.key_columns,
                        format('%I.%I', b.table_schema, b.table_name), b.table_oid
                   FROM sheetsync.bindings b WHERE b.name = $1",
                &[&binding],
            )
            .await?
            .ok_or_else(|| OutboxError::UnknownBinding(binding.to_owned()))?;
        let table_oid: u32 = row.get(4);
        let columns = client
            .query(
                "SELECT a.attname::text, t.typname::text
                   FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                  WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
                  ORDER BY a.attnum",
                &[&table_oid],
            )
            .await?
            .iter()
            .map(|c| ColumnType {
                name: c.get(0),
                pg_type: PgType::from_typname(c.get::<_, &str>(1)),
            })
            .collect();
        Ok(Target {
            binding: binding.to_owned(),
            spreadsheet_id: row.get(0),
            sheet: row.get(1),
            key_columns: row.get(2),
            columns,
            qualified_table: row.get(3),
        })
    }

    /// The key columns' types, in key order (text for a column the
    /// catalog no longer has, which then orders by its text).
    pub fn key_types(&self) -> Vec<PgType> {
        self.key_columns
            .iter()
            .map(|k| {
                self.columns
                    .iter()
                    .find(|c| &c.name == k)
                    .map_or(PgType::Text, |c| c.pg_type)
            })
            .collect()
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
