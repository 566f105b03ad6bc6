//! A binding as stored, joined with its table's catalog entry.

use reconcile::model::{Column, ConflictPolicy};
use tokio_postgres::{Client, Row};

use crate::{StoreError, quote_qualified, table_by_oid};

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

/// The digest [`Binding::columns_version`] holds, for the table `$1`.
pub const COLUMNS_VERSION_SQL: &str = "SELECT md5(sheetsync.table_columns($1)::text)";

const SELECT: &str = "SELECT name, table_oid, spreadsheet_id, sheet, conflict_policy, key_columns
                        FROM sheetsync.bindings";

impl Binding {
    /// The binding with this name.
    pub async fn load(client: &Client, name: &str) -> Result<Binding, StoreError> {
        let row = client
            .query_opt(&format!("{SELECT} WHERE name = $1"), &[&name])
            .await?
            .ok_or_else(|| StoreError::UnknownBinding(name.to_string()))?;
        Binding::from_row(client, &row).await
    }

    /// The binding of this spreadsheet's tab, if any.
    pub async fn find(
        client: &Client,
        spreadsheet_id: &str,
        sheet: &str,
    ) -> Result<Option<Binding>, StoreError> {
        let row = client
            .query_opt(
                &format!("{SELECT} WHERE spreadsheet_id = $1 AND sheet = $2"),
                &[&spreadsheet_id, &sheet],
            )
            .await?;
        match row {
            Some(row) => Ok(Some(Binding::from_row(client, &row).await?)),
            None => Ok(None),
        }
    }

    /// Every binding, by name.
    pub async fn list(client: &Client) -> Result<Vec<Binding>, StoreError> {
        let rows = client
            .query(&format!("{SELECT} ORDER BY name"), &[])
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(Binding::from_row(client, row).await?);
        }
        Ok(out)
    }

    async fn from_row(client: &Client, row: &Row) -> Result<Binding, StoreError> {
        let name: String = row.get(0);
        let table_oid: u32 = row.get(1);
        let policy: String = row.get(4);
        let key_columns: Vec<String> = row.get(5);
        // Before the columns: a change in between makes the next request
        // read the binding again, never keep columns newer than their digest.
        let columns_version: String = client
            .query_one(COLUMNS_VERSION_SQL, &[&table_oid])
            .await?
            .get(0);
        let table =
            table_by_oid(client, table_oid)
                .await?
                .ok_or_else(|| StoreError::TableGone {
                    binding: name.clone(),
                })?;
        let key_columns = if table.key_columns == key_columns {
            key_columns
        } else {
            // A key column renamed since the last statement on the table:
            // the schema check moves the binding's key to its new name.
            client
                .execute("SELECT sheetsync.check_schema($1)", &[&name])
                .await?;
            client
                .query_one(
                    "SELECT key_columns FROM sheetsync.bindings WHERE name = $1",
                    &[&name],
                )
                .await?
                .get(0)
        };
        if table.key_columns != key_columns {
            return Err(StoreError::KeyChanged {
                binding: name,
                table: table.display(),
                was: key_columns,
                now: table.key_columns,
            });
        }
        Ok(Binding {
            policy: policy
                .parse()
                .map_err(|e: String| StoreError::Settings(format!("binding '{name}': {e}")))?,
            name,
            table_oid,
            table_schema: table.schema,
            table_name: table.name,
            spreadsheet_id: row.get(2),
            sheet: row.get(3),
            key_columns,
            columns: table.columns,
            identity_always: table.identity_always,
            columns_version,
        })
    }

    /// `"schema"."table"`, for SQL.
    pub fn qualified_table(&self) -> String {
        quote_qualified(&self.table_schema, &self.table_name)
    }

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
}
