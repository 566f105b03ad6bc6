//! SQL on the bound table. Identifiers come only from the catalog
//! (`Binding::columns`) and are always quoted; values travel as text bind
//! parameters cast to the column's type (`u.v0::<sql_type>` of a `text[]`).
//! Rows are written a statement per group of like rows (same kind, same
//! columns), each in a savepoint: when a group fails, its rows are tried one
//! by one so one bad row does not stop the others.

use std::collections::{BTreeMap, HashMap};

use reconcile::{Key, KeyPart};
use sheetsync_store::{Binding, quote_ident};
use tokio_postgres::Row;
use tokio_postgres::error::{DbError, SqlState};
use tokio_postgres::types::ToSql;

use crate::db::{Conn, TxError, is_row_error};
use crate::errors::WebhookError;
use crate::incoming::Rejection;
use crate::plan::{Write, WriteKind};
use crate::table::{TableRow, key_columns};

/// Alias of the bound table in every statement (`to_jsonb(r.*)` is the row).
const T: &str = "r";

fn key_list(binding: &Binding, prefix: &str) -> String {
    key_columns(binding)
        .into_iter()
        .map(|c| format!("{prefix}{}", quote_ident(&binding.columns[c].name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `jsonb_build_array(r."id")::text, to_jsonb(r.*)::text`: the key as
/// `row_state` stores it, and the row.
fn returning(binding: &Binding) -> String {
    format!(
        "jsonb_build_array({})::text, to_jsonb({T}.*)::text",
        key_list(binding, &format!("{T}."))
    )
}

/// `u.k0::integer, u.k1::text` and `unnest($1::text[], $2::text[])` parts for
/// the key columns, starting at parameter `first`.
fn key_unnest(binding: &Binding, first: usize) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut casts = Vec::new();
    let mut params = Vec::new();
    let mut aliases = Vec::new();
    for (i, c) in key_columns(binding).into_iter().enumerate() {
        casts.push(format!("u.k{i}::{}", binding.columns[c].sql_type));
        params.push(format!("${}::text[]", first + i));
        aliases.push(format!("k{i}"));
    }
    (casts, params, aliases)
}

fn key_match(binding: &Binding) -> String {
    key_columns(binding)
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let column = &binding.columns[c];
            format!(
                "{T}.{} = u.k{i}::{}",
                quote_ident(&column.name),
                column.sql_type
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Locks the rows of the given keys (key order, so concurrent requests
/// never deadlock on each other) and reads them.
pub fn lock_keys_sql(binding: &Binding) -> String {
    let (casts, params, aliases) = key_unnest(binding, 1);
    format!(
        "SELECT {ret} FROM {table} AS {T} WHERE ({keys}) IN (SELECT {casts} FROM unnest({params}) AS u({aliases})) ORDER BY {keys} FOR UPDATE OF {T}",
        ret = returning(binding),
        table = binding.qualified_table(),
        keys = key_list(binding, &format!("{T}.")),
        casts = casts.join(", "),
        params = params.join(", "),
        aliases = aliases.join(", "),
    )
}

/// Holds off every other writer of the table (reads go on) for the rest of
/// a snapshot's or keys request's transaction: one lock instead of one per
/// row, so a 10,000-row snapshot does not write 10,000 row locks.
pub fn lock_table_sql(binding: &Binding) -> String {
    format!("LOCK TABLE {} IN EXCLUSIVE MODE", binding.qualified_table())
}

/// Reads the whole table (under [`lock_table_sql`]).
pub fn read_all_sql(binding: &Binding) -> String {
    format!(
        "SELECT {ret} FROM {table} AS {T}",
        ret = returning(binding),
        table = binding.qualified_table(),
    )
}

const STATE_COLUMNS: &str =
    "key::text, last_db_seq, cell_changed_at::text, sheet_held, tombstone_seq";

/// `row_state` of the given keys (parameters: binding, then key arrays).
pub fn states_for_keys_sql(binding: &Binding) -> String {
    let (casts, params, aliases) = key_unnest(binding, 2);
    format!(
        "SELECT {STATE_COLUMNS} FROM sheetsync.row_state WHERE binding = $1 AND key IN (SELECT jsonb_build_array({casts}) FROM unnest({params}) AS u({aliases}))",
        casts = casts.join(", "),
        params = params.join(", "),
        aliases = aliases.join(", "),
    )
}

pub fn states_all_sql() -> String {
    format!("SELECT {STATE_COLUMNS} FROM sheetsync.row_state WHERE binding = $1")
}

fn update_sql(binding: &Binding, columns: &[usize]) -> String {
    let (_, mut params, mut aliases) = key_unnest(binding, 1);
    let first = params.len() + 1;
    let mut sets = Vec::new();
    for (i, &c) in columns.iter().enumerate() {
        let column = &binding.columns[c];
        sets.push(format!(
            "{} = u.v{i}::{}",
            quote_ident(&column.name),
            column.sql_type
        ));
        params.push(format!("${}::text[]", first + i));
        aliases.push(format!("v{i}"));
    }
    format!(
        "UPDATE {table} AS {T} SET {sets} FROM unnest({params}) AS u({aliases}) WHERE {matches} RETURNING {ret}",
        table = binding.qualified_table(),
        sets = sets.join(", "),
        params = params.join(", "),
        aliases = aliases.join(", "),
        matches = key_match(binding),
        ret = returning(binding),
    )
}

/// Rows come back in the order given (`ORDER BY` the input position), which
/// is how new rows learn their database-assigned keys.
fn insert_sql(binding: &Binding, columns: &[usize]) -> String {
    if columns.is_empty() {
        return format!(
            "INSERT INTO {table} AS {T} DEFAULT VALUES RETURNING {ret}",
            table = binding.qualified_table(),
            ret = returning(binding),
        );
    }
    let mut names = Vec::new();
    let mut casts = Vec::new();
    let mut params = Vec::new();
    let mut aliases = Vec::new();
    for (i, &c) in columns.iter().enumerate() {
        let column = &binding.columns[c];
        names.push(quote_ident(&column.name));
        casts.push(format!("u.v{i}::{}", column.sql_type));
        params.push(format!("${}::text[]", i + 1));
        aliases.push(format!("v{i}"));
    }
    // A key the sheet still shows for a row deleted earlier is inserted
    // again as it was, identity or not.
    let overriding = if columns
        .iter()
        .any(|&c| binding.identity_always.contains(&binding.columns[c].name))
    {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    format!(
        "INSERT INTO {table} AS {T} ({names}){overriding} SELECT {casts} FROM unnest({params}) WITH ORDINALITY AS u({aliases}, n) ORDER BY u.n RETURNING {ret}",
        table = binding.qualified_table(),
        names = names.join(", "),
        casts = casts.join(", "),
        params = params.join(", "),
        aliases = aliases.join(", "),
        ret = returning(binding),
    )
}

fn delete_sql(binding: &Binding) -> String {
    let (_, params, aliases) = key_unnest(binding, 1);
    format!(
        "DELETE FROM {table} AS {T} USING unnest({params}) AS u({aliases}) WHERE {matches} RETURNING jsonb_build_array({keys})::text",
        table = binding.qualified_table(),
        params = params.join(", "),
        aliases = aliases.join(", "),
        matches = key_match(binding),
        keys = key_list(binding, &format!("{T}.")),
    )
}

/// A key part as PostgreSQL text input: canonical key text is the type's
/// own text form (numbers, dates, UUIDs, timestamps in UTC).
fn key_text(part: &KeyPart) -> Option<String> {
    match part {
        KeyPart::Null => None,
        KeyPart::Int(i) => Some(i.to_string()),
        KeyPart::Text(s) => Some(s.clone()),
    }
}

/// Column-major key parameters: one `text[]` per key column.
pub fn key_params<'k>(
    binding: &Binding,
    keys: impl IntoIterator<Item = &'k Key>,
) -> Vec<Vec<Option<String>>> {
    let mut params = vec![Vec::new(); binding.key_columns.len()];
    for key in keys {
        for (i, part) in key.parts().iter().enumerate() {
            if let Some(column) = params.get_mut(i) {
                column.push(key_text(part));
            }
        }
    }
    params
}

pub fn as_params(columns: &[Vec<Option<String>>]) -> Vec<&(dyn ToSql + Sync)> {
    columns.iter().map(|c| c as &(dyn ToSql + Sync)).collect()
}

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
            TableRow::parse(binding, key, &image)
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
                    tracing::debug!(binding = %binding.name, error = %db, "group write failed; retrying row by row")
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
            tracing::debug!(binding = %binding.name, error = %db, "bulk delete failed; deleting row by row")
        }
    }
    let mut deleted = 0;
    let mut kept = Vec::new();
    for row in rows {
        let params = key_params(binding, [&row.key]);
        match in_savepoint(conn, &sql, &params).await? {
            Ok(n) => deleted += n.len() as u64,
            Err(db) => {
                tracing::warn!(binding = %binding.name, key = %row.key, error = %db, "row not deleted");
                kept.push(row.clone());
            }
        }
    }
    Ok((deleted, kept))
}
