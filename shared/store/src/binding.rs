//! A binding as stored, joined with its table's catalog entry. The type is
//! the pure [`sheetsync_reconcile::Binding`]; [`StoredBinding`] reads it.

pub use sheetsync_reconcile::Binding;
use tokio_postgres::{Client, Row};

use crate::{StoreError, quote_qualified, table_by_oid};

/// The digest [`Binding::columns_version`] holds, for the table `$1`.
pub const COLUMNS_VERSION_SQL: &str = "SELECT md5(sheetsync.table_columns($1)::text)";

const SELECT: &str = "SELECT name, table_oid, spreadsheet_id, sheet, conflict_policy, key_columns
                        FROM sheetsync.bindings";

/// Reading bindings from `sheetsync.bindings` and the catalog.
#[allow(async_fn_in_trait)] // called, never implemented, outside this crate
pub trait StoredBinding: Sized {
    /// The binding with this name.
    async fn load(client: &Client, name: &str) -> Result<Self, StoreError>;
    /// The binding of this spreadsheet's tab, if any.
    async fn find(
        client: &Client,
        spreadsheet_id: &str,
        sheet: &str,
    ) -> Result<Option<Self>, StoreError>;
    /// Every binding, by name.
    async fn list(client: &Client) -> Result<Vec<Self>, StoreError>;
    /// `"schema"."table"`, for SQL.
    fn qualified_table(&self) -> String;
}

impl StoredBinding for Binding {
    async fn load(client: &Client, name: &str) -> Result<Binding, StoreError> {
        let row = client
            .query_opt(&format!("{SELECT} WHERE name = $1"), &[&name])
            .await?
            .ok_or_else(|| StoreError::UnknownBinding(name.to_string()))?;
        from_row(client, &row).await
    }

    async fn find(
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
            Some(row) => Ok(Some(from_row(client, &row).await?)),
            None => Ok(None),
        }
    }

    async fn list(client: &Client) -> Result<Vec<Binding>, StoreError> {
        let rows = client
            .query(&format!("{SELECT} ORDER BY name"), &[])
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(from_row(client, row).await?);
        }
        Ok(out)
    }

    fn qualified_table(&self) -> String {
        quote_qualified(&self.table_schema, &self.table_name)
    }
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
    let table = table_by_oid(client, table_oid)
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
