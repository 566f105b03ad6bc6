//! Statement text for the bound table. Identifiers come only from the
//! catalog (`Binding::columns`) and are always quoted; values travel as text
//! bind parameters cast to the column's type (`u.v0::<sql_type>` of a
//! `text[]`), never in the text. The one literal is the binding's name in
//! [`writers_lock_sql`], which goes in the parameterless BEGIN batch.

use sheetsync_reconcile::{Column, Key, KeyPart, PgType};
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

/// How a column's value is compared in SQL with the sheet's (see
/// [`read_compared_sql`]): the cast of the sheet's text, or `None` when
/// SQL equality could disagree with the planner's (`real` rounds the
/// sheet's double, `json` compares by meaning, a `character(n)` or an
/// enum is not plain text). The cast is the base type, without the
/// column's modifier: `::numeric(12,2)` or `::varchar(5)` would round or
/// cut the sheet's value into looking equal.
pub fn compared_cast(column: &Column) -> Option<&'static str> {
    Some(match column.pg_type {
        PgType::Bool => "boolean",
        PgType::Int2 => "smallint",
        PgType::Int4 => "integer",
        PgType::Int8 => "bigint",
        PgType::Float8 => "double precision",
        PgType::Numeric => "numeric",
        PgType::Date => "date",
        PgType::Timestamp => "timestamp",
        PgType::Timestamptz => "timestamptz",
        PgType::Uuid => "uuid",
        PgType::Text
            if column.sql_type == "text" || column.sql_type.starts_with("character varying") =>
        {
            "text"
        }
        _ => return None,
    })
}

/// `r."qty" IS NOT DISTINCT FROM u.v3::integer`: the table's value is the
/// sheet's, exactly as the planner's `Value` equality has it. Text compares
/// byte for byte (`COLLATE "C"`: a non-deterministic collation would call
/// `a` and `A` equal); a NaN is never called equal (`Value` equality says
/// NaN ≠ NaN).
fn same_value(column: &Column, cast: &str, alias: &str) -> String {
    let name = format!("{T}.{}", quote_ident(&column.name));
    match cast {
        "text" => format!("{name} IS NOT DISTINCT FROM ({alias} COLLATE \"C\")"),
        "double precision" => format!(
            "({name} IS NOT DISTINCT FROM {alias}::double precision AND {alias} IS DISTINCT FROM 'NaN')"
        ),
        _ => format!("{name} IS NOT DISTINCT FROM {alias}::{cast}"),
    }
}

/// `jsonb_build_object('id', r."id")::text`: a row image of the key
/// columns only (the others read as absent).
fn key_image(binding: &Binding) -> String {
    let columns = binding
        .key_indices()
        .into_iter()
        .map(|c| {
            let name = &binding.columns[c].name;
            format!("{}, {T}.{}", quote_literal(name), quote_ident(name))
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("jsonb_build_object({columns})::text")
}

/// Columns of [`read_compared_sql`] and [`read_keys_request_sql`], per
/// key: the table row's key as `row_state` stores it and its image (both
/// `NULL` when the table has no such row), whether the row equals the
/// sheet's ([`read_compared_sql`]), then [`STATE_COLUMNS`] (all `NULL`
/// when no state is recorded).
pub const COMPARED_STATE_AT: usize = 3;

/// A keyed partial snapshot's rows and their sync state, in one statement,
/// with the part's cells compared in SQL. Parameters: the binding's name,
/// the key arrays, one `text[]` per `compared` column (the sheet's values
/// as [`sheetsync_reconcile::Value::to_pg_text`] gives them), and a
/// `boolean[]` saying which rows may be compared at all (every cell read).
///
/// A row whose every compared cell equals the table's comes back with an
/// image of its key columns only and without its cells' change times:
/// the planner, given the sheet's values for it, finds nothing to write,
/// which is what it would find from the whole row. So a 100,000-row tab's
/// parts move and parse only the rows that differ (the times are most of
/// `row_state`). `compared` must hold every column the snapshot may write
/// (else a differing cell could hide behind "equal"); callers pass none
/// when a column cannot be compared in SQL ([`compared_cast`]), and every
/// row then comes back whole.
pub fn read_compared_sql(binding: &Binding, compared: &[usize]) -> String {
    let nk = binding.key_columns.len();
    let (casts, mut params, mut aliases) = key_unnest(binding, 2);
    let mut same = vec![format!("u.c")];
    for (i, &c) in compared.iter().enumerate() {
        let column = &binding.columns[c];
        let cast = compared_cast(column).unwrap_or("text");
        params.push(format!("${}::text[]", 2 + nk + i));
        aliases.push(format!("v{i}"));
        same.push(same_value(column, cast, &format!("u.v{i}")));
    }
    params.push(format!("${}::boolean[]", 2 + nk + compared.len()));
    aliases.push("c".into());
    let first_key = binding
        .key_indices()
        .first()
        .map(|&c| format!("{T}.{}", quote_ident(&binding.columns[c].name)))
        .unwrap_or_else(|| "NULL".into());
    let prefixed_state = STATE_COLUMNS
        .split(", ")
        .map(|c| format!("s.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
        .replace(
            "s.to_jsonb(sheet_inserted_at)",
            "to_jsonb(s.sheet_inserted_at)",
        )
        .replace(
            "s.cell_changed_at::text",
            "CASE WHEN x.same THEN '{}' ELSE s.cell_changed_at::text END",
        );
    format!(
        "SELECT CASE WHEN {first_key} IS NULL THEN NULL ELSE jsonb_build_array({keys})::text END, \
         CASE WHEN {first_key} IS NULL THEN NULL WHEN x.same THEN {key_image} ELSE to_jsonb({T}.*)::text END, \
         x.same, {prefixed_state} \
         FROM unnest({params}) AS u({aliases}) \
         LEFT JOIN {table} AS {T} ON {matches} \
         LEFT JOIN sheetsync.row_state AS s ON s.binding = $1 AND s.key = jsonb_build_array({casts}) \
         CROSS JOIN LATERAL (SELECT {first_key} IS NOT NULL AND {same} AS same) AS x",
        keys = key_list(binding, &format!("{T}.")),
        key_image = key_image(binding),
        params = params.join(", "),
        aliases = aliases.join(", "),
        table = binding.qualified_table(),
        matches = key_match(binding),
        casts = casts.join(", "),
        same = same.join(" AND "),
    )
}

/// What a `keys` request judges by, in one statement (columns as
/// [`read_compared_sql`]'s, images of the key columns only, no change
/// times): the table rows whose key the request lacks, and those it lists
/// that the sheet is not yet known to hold. Every other row is listed and
/// held, and a `keys` request does nothing to it, so a 100,000-row tab's
/// key list brings back only the rows it deletes or marks held.
/// Parameters: the binding's name, then one `text[]` per key column.
pub fn read_keys_request_sql(binding: &Binding) -> String {
    let (casts, params, aliases) = key_unnest(binding, 2);
    let listed: Vec<String> = casts
        .iter()
        .enumerate()
        .map(|(i, cast)| format!("{cast} AS k{i}"))
        .collect();
    let joined = binding
        .key_indices()
        .into_iter()
        .enumerate()
        .map(|(i, c)| format!("{T}.{} = l.k{i}", quote_ident(&binding.columns[c].name)))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!(
        "SELECT jsonb_build_array({keys})::text, {key_image}, false, \
         s.key::text, s.last_db_seq, '{{}}', s.sheet_held, s.tombstone_seq, s.cell_seq::text, \
         to_jsonb(s.sheet_inserted_at) #>> '{{}}' \
         FROM {table} AS {T} \
         LEFT JOIN sheetsync.row_state AS s ON s.binding = $1 AND s.key = jsonb_build_array({keys}) \
         LEFT JOIN (SELECT DISTINCT {listed} FROM unnest({params}) AS u({aliases})) AS l ON {joined} \
         WHERE l.k0 IS NULL OR NOT coalesce(s.sheet_held, false)",
        keys = key_list(binding, &format!("{T}.")),
        key_image = key_image(binding),
        table = binding.qualified_table(),
        listed = listed.join(", "),
        params = params.join(", "),
        aliases = aliases.join(", "),
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
