//! What `sheetsync status` shows: bindings, queued changes, recent
//! conflicts and rejects.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use tokio_postgres::{Client, Row};

use crate::StoreError;

/// One binding and how far behind its sheet is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingStatus {
    pub name: String,
    /// `schema.table` as the catalog names it now (as attached if dropped).
    pub table: String,
    pub spreadsheet_id: String,
    pub sheet: String,
    pub policy: String,
    /// Outbox rows not yet handed to the queue.
    pub outbox_depth: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub conflicts: i64,
    pub rejects: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRecord {
    pub id: i64,
    pub binding: String,
    pub key: Json,
    pub column_name: String,
    pub sheet_value: Option<Json>,
    pub db_value: Option<Json>,
    pub winner: String,
    pub policy: String,
    pub event_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RejectRecord {
    pub id: i64,
    pub binding: String,
    pub event_id: Option<String>,
    pub sheet_row: Option<i32>,
    pub key: Option<Json>,
    pub column_name: Option<String>,
    pub value: Option<Json>,
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
}

/// Every binding with its outbox depth and conflict/reject counts, by name.
pub async fn binding_status(client: &Client) -> Result<Vec<BindingStatus>, StoreError> {
    let rows = client
        .query(
            "SELECT b.name,
                    COALESCE(n.nspname || '.' || c.relname, b.table_schema || '.' || b.table_name),
                    b.spreadsheet_id, b.sheet, b.conflict_policy,
                    o.depth, o.oldest,
                    (SELECT count(*) FROM sheetsync.conflicts x WHERE x.binding = b.name),
                    (SELECT count(*) FROM sheetsync.rejects x WHERE x.binding = b.name)
               FROM sheetsync.bindings b
               LEFT JOIN pg_class c ON c.oid = b.table_oid
               LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
               CROSS JOIN LATERAL (
                   SELECT count(*) AS depth, min(created_at) AS oldest
                     FROM sheetsync.outbox WHERE binding = b.name
               ) o
              ORDER BY b.name",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| BindingStatus {
            name: r.get(0),
            table: r.get(1),
            spreadsheet_id: r.get(2),
            sheet: r.get(3),
            policy: r.get(4),
            outbox_depth: r.get(5),
            oldest_pending: r.get(6),
            conflicts: r.get(7),
            rejects: r.get(8),
        })
        .collect())
}

/// The latest conflicts, newest first; all bindings when `binding` is None.
pub async fn recent_conflicts(
    client: &Client,
    binding: Option<&str>,
    limit: i64,
) -> Result<Vec<ConflictRecord>, StoreError> {
    newest(
        client,
        "id, binding, key, column_name, sheet_value, db_value, winner, policy, event_id,
         recorded_at FROM sheetsync.conflicts",
        binding,
        limit,
        |r| ConflictRecord {
            id: r.get(0),
            binding: r.get(1),
            key: r.get(2),
            column_name: r.get(3),
            sheet_value: r.get(4),
            db_value: r.get(5),
            winner: r.get(6),
            policy: r.get(7),
            event_id: r.get(8),
            recorded_at: r.get(9),
        },
    )
    .await
}

/// The latest rejects, newest first; all bindings when `binding` is None.
pub async fn recent_rejects(
    client: &Client,
    binding: Option<&str>,
    limit: i64,
) -> Result<Vec<RejectRecord>, StoreError> {
    newest(
        client,
        "id, binding, event_id, sheet_row, key, column_name, value, reason, recorded_at
         FROM sheetsync.rejects",
        binding,
        limit,
        |r| RejectRecord {
            id: r.get(0),
            binding: r.get(1),
            event_id: r.get(2),
            sheet_row: r.get(3),
            key: r.get(4),
            column_name: r.get(5),
            value: r.get(6),
            reason: r.get(7),
            recorded_at: r.get(8),
        },
    )
    .await
}

/// A column change of a bound table, as the schema check recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaChangeRecord {
    pub binding: String,
    /// `added`, `dropped`, `renamed` or `retyped`.
    pub change: String,
    pub column_name: String,
    /// renamed: the old name; retyped: the old type.
    pub previous: Option<String>,
    pub detected_at: DateTime<Utc>,
}

/// The header of a binding's tab as the webhook last read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetHeaderRecord {
    pub binding: String,
    /// Header names that are no column of the table (not synced).
    pub ignored: Vec<String>,
    /// Columns of the table the header lacks (not synced from the sheet).
    pub missing: Vec<String>,
    pub seen_at: DateTime<Utc>,
}

/// The latest schema changes, newest first; all bindings when `binding` is None.
pub async fn recent_schema_changes(
    client: &Client,
    binding: Option<&str>,
    limit: i64,
) -> Result<Vec<SchemaChangeRecord>, StoreError> {
    newest(
        client,
        "binding, change, column_name, previous, detected_at FROM sheetsync.schema_changes",
        binding,
        limit,
        |r| SchemaChangeRecord {
            binding: r.get(0),
            change: r.get(1),
            column_name: r.get(2),
            previous: r.get(3),
            detected_at: r.get(4),
        },
    )
    .await
}

/// Bindings whose tab's header, when last read, had names that are no
/// column or lacked columns of the table.
pub async fn sheet_header_issues(
    client: &Client,
    binding: Option<&str>,
) -> Result<Vec<SheetHeaderRecord>, StoreError> {
    let rows = client
        .query(
            "SELECT binding, ignored, missing, seen_at FROM sheetsync.sheet_header
              WHERE ($1::text IS NULL OR binding = $1)
                AND (cardinality(ignored) > 0 OR cardinality(missing) > 0)
              ORDER BY binding",
            &[&binding],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| SheetHeaderRecord {
            binding: r.get(0),
            ignored: r.get(1),
            missing: r.get(2),
            seen_at: r.get(3),
        })
        .collect())
}

/// `SELECT {from}` of one binding (all when `binding` is None), newest
/// first, at most `limit` rows, each made a record.
async fn newest<T>(
    client: &Client,
    from: &str,
    binding: Option<&str>,
    limit: i64,
    record: impl Fn(&Row) -> T,
) -> Result<Vec<T>, StoreError> {
    let sql =
        format!("SELECT {from} WHERE $1::text IS NULL OR binding = $1 ORDER BY id DESC LIMIT $2");
    let rows = client.query(&sql, &[&binding, &limit]).await?;
    Ok(rows.iter().map(record).collect())
}
