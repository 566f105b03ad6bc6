//! Statement text for the bound table. Identifiers come only from the
//! catalog (`Binding::columns`) and are always quoted; values travel as text
//! bind parameters cast to the column's type (`u.v0::<sql_type>` of a
//! `text[]`), never in the text. The one literal is the binding's name in
//! [`writers_lock_sql`], which goes in the parameterless BEGIN batch.

use sheetsync_reconcile::{Key, KeyPart};
use sheetsync_store::StoredBinding;
use sheetsync_store::{Binding, quote_ident, quote_literal};
use tokio_postgres::types::ToSql;

/// Alias of the bound table in every statement (`to_jsonb(r.*)` is the row).
const T: &str = "r";

fn key_list(binding: &Binding, prefix: &str) -> String {
    binding
        .key_indices()
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
    for (i, c) in binding.key_indices().into_iter().enumerate() {
        casts.push(format!("u.k{i}::{}", binding.columns[c].sql_type));
        params.push(format!("${}::text[]", first + i));
        aliases.push(format!("k{i}"));
    }
    (casts, params, aliases)
}

fn key_match(binding: &Binding) -> String {
    binding
        .key_indices()
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

/// Reads the rows of the given keys (under [`lock_table_sql`], which holds
/// off their writers).
pub fn read_keys_sql(binding: &Binding) -> String {
    let (casts, params, aliases) = key_unnest(binding, 1);
    format!(
        "SELECT {ret} FROM {table} AS {T} WHERE ({keys}) IN (SELECT {casts} FROM unnest({params}) AS u({aliases}))",
        ret = returning(binding),
        table = binding.qualified_table(),
        keys = key_list(binding, &format!("{T}.")),
        casts = casts.join(", "),
        params = params.join(", "),
        aliases = aliases.join(", "),
    )
}

/// Locks the rows of the given keys (key order, so concurrent requests
/// never deadlock on each other) and reads them.
pub fn lock_keys_sql(binding: &Binding) -> String {
    format!(
        "{read} ORDER BY {keys} FOR UPDATE OF {T}",
        read = read_keys_sql(binding),
        keys = key_list(binding, &format!("{T}.")),
    )
}

/// The binding's writer lock (`sheetsync_store::locks::WRITERS`), shared,
/// before anything is read. Writers the capture trigger sees take it when
/// they enqueue; a request writes under `sheetsync.origin = 'sheet'` and
/// enqueues only repairs, so without it a backfill chunk (which holds it
/// exclusively) could read a row this request is changing and queue the
/// old value after the new one reached the table, and this request could
/// read the row state from before that chunk and queue no repair.
pub fn writers_lock_sql(binding: &Binding) -> String {
    format!(
        "SELECT pg_advisory_xact_lock_shared({}, sheetsync.binding_lock_key({}))",
        sheetsync_store::locks::WRITERS,
        quote_literal(&binding.name)
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

/// Reads the key columns of every row (under [`lock_table_sql`]), rendered
/// as [`read_all_sql`] renders them: all a `keys` request judges by. The
/// other columns read as absent.
pub fn read_all_keys_sql(binding: &Binding) -> String {
    let columns = binding
        .key_indices()
        .into_iter()
        .map(|c| {
            let name = &binding.columns[c].name;
            format!("{}, {T}.{}", quote_literal(name), quote_ident(name))
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT jsonb_build_array({keys})::text, jsonb_build_object({columns})::text FROM {table} AS {T}",
        keys = key_list(binding, &format!("{T}.")),
        table = binding.qualified_table(),
    )
}

const STATE_COLUMNS: &str = "key::text, last_db_seq, cell_changed_at::text, sheet_held, tombstone_seq, \
     cell_seq::text, to_jsonb(sheet_inserted_at) #>> '{}'";

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

/// [`states_all_sql`] without the cells' change times (read as none), which
/// only a request carrying values compares: a `keys` request judges by the
/// rest, and the times are most of what `row_state` holds.
pub fn states_all_untimed_sql() -> String {
    format!(
        "SELECT {} FROM sheetsync.row_state WHERE binding = $1",
        STATE_COLUMNS.replace("cell_changed_at::text", "'{}'")
    )
}

pub fn update_sql(binding: &Binding, columns: &[usize]) -> String {
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
pub fn insert_sql(binding: &Binding, columns: &[usize]) -> String {
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

pub fn delete_sql(binding: &Binding) -> String {
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
