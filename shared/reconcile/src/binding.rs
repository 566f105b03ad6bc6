//! A binding: one table paired with one sheet tab, as every sync decision
//! sees it (loaded by the store crate, carried by requests and messages).

use crate::model::{Column, ConflictPolicy};

/// One table paired with one sheet tab.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub name: String,
    pub table_oid: u32,
    /// The table's current schema and name (followed by oid, so a renamed
    /// table stays bound).
    pub table_schema: String,
    pub table_name: String,
    pub spreadsheet_id: String,
    pub sheet: String,
    pub policy: ConflictPolicy,
    /// Primary key column names in key order.
    pub key_columns: Vec<String>,
    /// Every column of the table, in column order.
    pub columns: Vec<Column>,
    /// Columns `GENERATED ALWAYS AS IDENTITY` (inserting a value for them
    /// needs `OVERRIDING SYSTEM VALUE`).
    pub identity_always: Vec<String>,
    /// A digest of the table's columns (attnum, name, type) when they were
    /// read: the webhook compares it with the catalog's in each request's
    /// first round trip, and reads the binding again when they differ.
    pub columns_version: String,
}

impl Binding {
    /// `schema.table`, for people and logs.
    pub fn table_display(&self) -> String {
        format!("{}.{}", self.table_schema, self.table_name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The key columns, in key order.
    pub fn key(&self) -> Vec<&Column> {
        self.key_columns
            .iter()
            .filter_map(|k| self.column(k))
            .collect()
    }

    /// Indices (in [`Binding::columns`]) of the key columns, in key order.
    pub fn key_indices(&self) -> Vec<usize> {
        self.key_columns
            .iter()
            .filter_map(|name| self.columns.iter().position(|c| c.name == *name))
            .collect()
    }
}
