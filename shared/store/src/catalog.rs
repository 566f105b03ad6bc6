//! What the catalog says about a table: its columns, types and key.

use sheetsync_config::TableRef;
use sheetsync_reconcile::model::{Column, PgType};
use tokio_postgres::Client;

use crate::{StoreError, quote_qualified};

/// A table as the catalog describes it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// In column order (`attnum`), dropped columns left out.
    pub columns: Vec<Column>,
    /// Primary key column names in key order; empty without a primary key.
    pub key_columns: Vec<String>,
    /// Columns `GENERATED ALWAYS AS IDENTITY`: an insert that gives them a
    /// value needs `OVERRIDING SYSTEM VALUE`.
    pub identity_always: Vec<String>,
}

impl TableInfo {
    /// `"schema"."name"`, for SQL.
    pub fn qualified(&self) -> String {
        quote_qualified(&self.schema, &self.name)
    }

    /// `schema.name`, for people.
    pub fn display(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Finds `table` (in its schema, or the first schema of the search path
/// that has it); names match exactly as written.
pub async fn resolve_table(client: &Client, table: &TableRef) -> Result<TableInfo, StoreError> {
    let row = match &table.schema {
        Some(schema) => {
            client
                .query_opt(
                    "SELECT c.oid, c.relkind::text FROM pg_class c
                       JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = $1 AND c.relname = $2",
                    &[schema, &table.name],
                )
                .await?
        }
        None => {
            client
                .query_opt(
                    "SELECT c.oid, c.relkind::text FROM pg_class c
                       JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.relname = $1 AND n.nspname = ANY (current_schemas(false))
                      ORDER BY array_position(current_schemas(false), n.nspname)
                      LIMIT 1",
                    &[&table.name],
                )
                .await?
        }
    };
    let shown = match &table.schema {
        Some(s) => format!("{s}.{}", table.name),
        None => table.name.clone(),
    };
    let Some(row) = row else {
        return Err(StoreError::NoSuchTable { table: shown });
    };
    let relkind: String = row.get(1);
    let kind = match relkind.as_str() {
        "r" | "p" => None,
        "v" => Some("view"),
        "m" => Some("materialized view"),
        "f" => Some("foreign table"),
        "S" => Some("sequence"),
        "i" | "I" => Some("index"),
        _ => Some("relation"),
    };
    if let Some(kind) = kind {
        return Err(StoreError::NotATable { table: shown, kind });
    }
    table_by_oid(client, row.get(0))
        .await?
        .ok_or(StoreError::NoSuchTable { table: shown })
}

/// The table with this oid, `None` if it no longer exists.
pub async fn table_by_oid(client: &Client, oid: u32) -> Result<Option<TableInfo>, StoreError> {
    let Some(rel) = client
        .query_opt(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid = $1",
            &[&oid],
        )
        .await?
    else {
        return Ok(None);
    };
    // Domains are described by their base type. The key position comes
    // from the primary key index's column list (indkey, an int2vector whose
    // subscripts start at 0), in key order.
    let rows = client
        .query(
            "SELECT a.attname::text,
                    COALESCE(bt.typname, t.typname)::text,
                    format_type(a.atttypid, a.atttypmod),
                    NOT a.attnotnull,
                    (a.atthasdef AND a.attgenerated = '') OR a.attidentity <> '',
                    a.attgenerated <> '',
                    a.attidentity = 'a',
                    array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1)
               FROM pg_attribute a
               JOIN pg_type t ON t.oid = a.atttypid
               LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
               LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
              WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum",
            &[&oid],
        )
        .await?;
    let mut columns = Vec::with_capacity(rows.len());
    let mut keyed: Vec<(i32, String)> = Vec::new();
    let mut identity_always = Vec::new();
    for r in &rows {
        let name: String = r.get(0);
        let typname: String = r.get(1);
        let key_pos: Option<i32> = r.get(7);
        if let Some(p) = key_pos {
            keyed.push((p, name.clone()));
        }
        if r.get::<_, bool>(6) {
            identity_always.push(name.clone());
        }
        columns.push(Column {
            name,
            pg_type: PgType::from_typname(&typname),
            sql_type: r.get(2),
            nullable: r.get(3),
            key_position: key_pos.and_then(|p| usize::try_from(p).ok()),
            has_default: r.get(4),
            generated: r.get(5),
        });
    }
    keyed.sort();
    Ok(Some(TableInfo {
        oid,
        schema: rel.get(0),
        name: rel.get(1),
        columns,
        key_columns: keyed.into_iter().map(|(_, n)| n).collect(),
        identity_always,
    }))
}
