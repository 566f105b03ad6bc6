//! Writing rows of the bound table (statement text in [`crate::sql`]).
//! Rows are written a statement per group of like rows (same kind, same
//! columns), each in a savepoint: when a group fails, its rows are tried one
//! by one so one bad row does not stop the others.

use std::collections::{BTreeMap, HashMap};

use sheetsync_reconcile::Key;
use sheetsync_store::Binding;
use tokio_postgres::Row;
use tokio_postgres::error::{DbError, SqlState};

use crate::db::{Conn, TxError, is_row_error};
use crate::errors::WebhookError;
use crate::incoming::Rejection;
use crate::plan::{Write, WriteKind};
use crate::sql::{as_params, delete_sql, insert_sql, key_params, read_keys_sql, update_sql};
use crate::table::TableRow;

/// Reads `(key, row)` result rows.
pub fn table_rows(binding: &Binding, rows: &[Row]) -> Result<Vec<TableRow>, WebhookError> {
    rows.iter()
        .map(|row| {
            let key: String = row
                .try_get(0)
                .map_err(|e| WebhookError::Internal(e.to_string()))?;
            let image: String = row
                .try_get(1)
                .map_err(|e| WebhookError::Internal(e.to_string()))?;
            Ok(TableRow::parse(binding, key, &image)?)
        })
        .collect()
}

/// Runs one statement inside a savepoint; a database error rolls back to
/// it and is returned as `Ok(Err(_))`, anything else (a lost connection)
/// as `Err`.
async fn in_savepoint(
    conn: &mut Conn,
    sql: &str,
    params: &[Vec<Option<String>>],
) -> Result<Result<Vec<Row>, DbError>, tokio_postgres::Error> {
    let stmt = match conn.prepare(sql).await {
        Ok(stmt) => stmt,
        Err(e) => return e.as_db_error().cloned().map(Err).ok_or(e),
    };
    let client = &conn.client;
    let refs = as_params(params);
    let (begin, result, release) = tokio::join!(
        client.batch_execute("SAVEPOINT sheetsync_row"),
        client.query(&stmt, &refs),
        client.batch_execute("RELEASE SAVEPOINT sheetsync_row"),
    );
    begin?;
    match result {
        Ok(rows) => {
            release?;
            Ok(Ok(rows))
        }
        Err(e) => match e.as_db_error() {
            Some(db) if is_row_error(db.code()) => {
                let db = db.clone();
                client
                    .batch_execute(
                        "ROLLBACK TO SAVEPOINT sheetsync_row; RELEASE SAVEPOINT sheetsync_row",
                    )
                    .await?;
                Ok(Err(db))
            }
            _ => Err(e),
        },
    }
}

async fn lone_write(
    conn: &mut Conn,
    sql: &str,
    params: &[Vec<Option<String>>],
    index: usize,
) -> Result<Result<Vec<Row>, DbError>, TxError> {
    let stmt = conn.prepare(sql).await?;
    match conn.client.query(&stmt, &as_params(params)).await {
        Ok(rows) => Ok(Ok(rows)),
        Err(e) => match e.as_db_error() {
            Some(db) if is_row_error(db.code()) => Err(TxError::Refused {
                index,
                db: Box::new(db.clone()),
            }),
            _ => Err(e.into()),
        },
    }
}

/// The outcome of each write: `None` where no SQL was needed (an update of
/// no cells), else the stored row or why the database refused it.
pub type Written = Vec<Option<Result<TableRow, Rejection>>>;

pub async fn apply_writes(
    conn: &mut Conn,
    binding: &Binding,
    writes: &[Write],
) -> Result<Written, TxError> {
    let mut out: Written = vec![None; writes.len()];
    let mut groups: BTreeMap<(bool, Vec<usize>), Vec<usize>> = BTreeMap::new();
    for (i, write) in writes.iter().enumerate() {
        if write.kind == WriteKind::Update && write.cells.is_empty() {
            continue;
        }
        let columns: Vec<usize> = write.cells.iter().map(|(c, _)| *c).collect();
        groups
            .entry((write.kind == WriteKind::Insert, columns))
            .or_default()
            .push(i);
    }
    // The common request (one edited row) runs its one statement without
    // a savepoint; if the database refuses it, the whole transaction runs
    // again with the row rejected (TxError::Refused).
    let lone = groups.len() == 1 && groups.values().all(|m| m.len() == 1);
    for ((is_insert, columns), members) in groups {
        let (sql, whole) = if is_insert && columns.is_empty() {
            (insert_sql(binding, &columns), false)
        } else if is_insert {
            (insert_sql(binding, &columns), true)
        } else {
            (update_sql(binding, &columns), true)
        };
        if whole && members.len() > 1 {
            let params = write_params(binding, writes, &members, is_insert);
            match in_savepoint(conn, &sql, &params).await? {
                Ok(rows) => {
                    let stored = table_rows(binding, &rows)?;
                    if assign(binding, writes, &members, is_insert, stored, &mut out) {
                        continue;
                    }
                }
                Err(db) => {
                    tracing::debug!(binding = %binding.name, sqlstate = db.code().code(), "group write failed; retrying row by row")
                }
            }
        }
        for &i in &members {
            let params = if whole {
                write_params(binding, writes, &[i], is_insert)
            } else {
                Vec::new()
            };
            let result = if lone {
                lone_write(conn, &sql, &params, writes[i].index).await?
            } else {
                in_savepoint(conn, &sql, &params).await?
            };
            out[i] = Some(match result {
                Ok(rows) => match table_rows(binding, &rows)?.into_iter().next() {
                    Some(row) => Ok(row),
                    None => Err(refused(
                        binding,
                        &writes[i],
                        "the row is no longer in the table",
                        None,
                    )),
                },
                Err(db) => Err(db_rejection(binding, &writes[i], &db)),
            });
        }
    }
    Ok(out)
}

fn write_params(
    binding: &Binding,
    writes: &[Write],
    members: &[usize],
    is_insert: bool,
) -> Vec<Vec<Option<String>>> {
    let mut params = if is_insert {
        Vec::new()
    } else {
        key_params(
            binding,
            members.iter().filter_map(|&i| writes[i].key.as_ref()),
        )
    };
    let width = writes[members[0]].cells.len();
    for col in 0..width {
        params.push(
            members
                .iter()
                .map(|&i| writes[i].cells[col].1.to_pg_text())
                .collect(),
        );
    }
    params
}

/// Matches a group's returned rows to its writes: updates by key, inserts by
/// position. `false` when they do not line up (then rows go one by one).
fn assign(
    binding: &Binding,
    writes: &[Write],
    members: &[usize],
    is_insert: bool,
    stored: Vec<TableRow>,
    out: &mut Written,
) -> bool {
    if stored.len() != members.len() {
        tracing::warn!(binding = %binding.name, "group write returned {} rows for {}", stored.len(), members.len());
        return false;
    }
    if is_insert {
        for (&i, row) in members.iter().zip(stored) {
            out[i] = Some(Ok(row));
        }
    } else {
        let mut by_key: HashMap<Key, TableRow> =
            stored.into_iter().map(|r| (r.key.clone(), r)).collect();
        for &i in members {
            let row = writes[i].key.as_ref().and_then(|k| by_key.remove(k));
            out[i] = Some(row.ok_or_else(|| {
                refused(
                    binding,
                    &writes[i],
                    "the row is no longer in the table",
                    None,
                )
            }));
        }
    }
    true
}

fn refused(binding: &Binding, write: &Write, reason: &str, column: Option<String>) -> Rejection {
    let _ = binding;
    Rejection {
        index: write.index,
        sheet_row: write.sheet_row,
        key: write.key.clone(),
        column,
        value: None,
        reason: reason.to_string(),
    }
}

/// The database's refusal in a sheet user's words.
pub fn db_rejection(binding: &Binding, write: &Write, db: &DbError) -> Rejection {
    let column = db
        .column()
        .filter(|c| binding.columns.iter().any(|col| col.name == *c))
        .map(str::to_string);
    let prefix = column
        .as_ref()
        .map(|c| format!("{c}: "))
        .unwrap_or_default();
    let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
    let code = db.code();
    let reason = if *code == SqlState::NOT_NULL_VIOLATION {
        format!("{prefix}a value is required")
    } else if *code == SqlState::UNIQUE_VIOLATION {
        format!("{prefix}this value is already in the table{detail}")
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        format!("{prefix}refers to a row that does not exist{detail}")
    } else if *code == SqlState::CHECK_VIOLATION {
        let rule = db.constraint().unwrap_or("a check");
        format!("{prefix}breaks the table's rule {rule}")
    } else {
        format!("{prefix}{}", db.message())
    };
    let value = column.as_ref().and_then(|name| {
        let c = binding.columns.iter().position(|col| col.name == *name)?;
        write
            .cells
            .iter()
            .find(|(cc, _)| *cc == c)
            .map(|(_, v)| v.to_json())
    });
    Rejection {
        value,
        ..refused(binding, write, &reason, column)
    }
}

/// Deletes rows the sheet no longer has. Rows the database refuses to
/// delete (a foreign key) stay and are returned, to be sent to the sheet
/// again.
pub async fn delete_rows(
    conn: &mut Conn,
    binding: &Binding,
    rows: &[TableRow],
) -> Result<(u64, Vec<TableRow>), TxError> {
    if rows.is_empty() {
        return Ok((0, Vec::new()));
    }
    let sql = delete_sql(binding);
    let params = key_params(binding, rows.iter().map(|r| &r.key));
    match in_savepoint(conn, &sql, &params).await? {
        Ok(deleted) => return Ok((deleted.len() as u64, Vec::new())),
        Err(db) => {
            tracing::debug!(binding = %binding.name, sqlstate = db.code().code(), "bulk delete failed; deleting row by row")
        }
    }
    let mut deleted = 0;
    let mut kept = Vec::new();
    for row in rows {
        let params = key_params(binding, [&row.key]);
        match in_savepoint(conn, &sql, &params).await? {
            Ok(n) => deleted += n.len() as u64,
            Err(db) => {
                tracing::warn!(binding = %binding.name, key = %row.key, sqlstate = db.code().code(), "row not deleted; sent to the sheet again");
                kept.push(row.clone());
            }
        }
    }
    Ok((deleted, kept))
}

/// The rows of `keys`, whole, in key order.
pub async fn read_rows<'k>(
    conn: &mut Conn,
    binding: &Binding,
    keys: impl IntoIterator<Item = &'k Key>,
) -> Result<Vec<TableRow>, TxError> {
    let params = key_params(binding, keys);
    let stmt = conn.prepare(&read_keys_sql(binding)).await?;
    let found = conn.client.query(&stmt, &as_params(&params)).await?;
    let mut rows = table_rows(binding, &found)?;
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(rows)
}
