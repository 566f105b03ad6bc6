//! Whether PostgreSQL orders a binding's primary key as the writer orders
//! keys.
//!
//! A chunk reads the next rows in the primary key index's order, and its
//! keyset says "these are all the table's keys from here to there" in
//! [`sheetsync_reconcile::Key`] order (whole numbers numerically, then
//! text by bytes). The two must agree, or a key the chunk did not read
//! could sit inside its range and be removed from the sheet. They agree
//! for integers, `uuid`, `boolean`, and text compared by bytes (collation
//! `C` or `POSIX`); not for text under a linguistic collation (`a` < `B`),
//! `numeric` or floats (`Key` puts `2` before `1.5`), date-times (their
//! text sorts by offset, years past 9999 and BC), and anything else,
//! which is left to the slower, order-free path (see the module above).

use sheetsync_store::{Binding, quote_ident};
use tokio_postgres::Client;

use crate::OutboxError;

/// One primary key column, as the chunk's SQL names and casts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    /// Quoted.
    pub ident: String,
    /// The column's type without modifiers (`character varying`, not
    /// `character varying(5)`, whose cast would cut a value).
    pub sql_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumns {
    pub columns: Vec<KeyColumn>,
    /// The index order is the writer's key order.
    pub key_order: bool,
}

/// Per key column in key order: the type as SQL names it, the base type's
/// name (through a domain), and whether the primary key index compares it
/// by bytes (only collatable types have a collation there).
const COLUMNS_SQL: &str = "
SELECT a.attname::text,
       format_type(a.atttypid, NULL),
       base.typname::text,
       CASE WHEN u.coll = 0 THEN NULL
            WHEN u.coll = 100 THEN (
                SELECT d.datcollate IN ('C', 'POSIX')
                       AND coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') = 'c'
                  FROM pg_database d WHERE d.datname = current_database())
            ELSE coalesce(co.collprovider = 'c' AND co.collcollate IN ('C', 'POSIX'), false)
       END
  FROM pg_index i
 CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indcollation::oid[]) WITH ORDINALITY AS u(attnum, coll, o)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum
  JOIN pg_type ty ON ty.oid = a.atttypid
  JOIN pg_type base ON base.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
  LEFT JOIN pg_collation co ON co.oid = u.coll
 WHERE i.indrelid = $1 AND i.indisprimary
 ORDER BY u.o";

pub async fn key_columns(client: &Client, binding: &Binding) -> Result<KeyColumns, OutboxError> {
    let rows = client.query(COLUMNS_SQL, &[&binding.table_oid]).await?;
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    if names != binding.key_columns {
        // Binding::load checks the key against the catalog; a key changed
        // since is the binding's schema check's to report.
        return Err(sheetsync_store::StoreError::KeyChanged {
            binding: binding.name.clone(),
            table: format!("{}.{}", binding.table_schema, binding.table_name),
            was: binding.key_columns.clone(),
            now: names,
        }
        .into());
    }
    Ok(KeyColumns {
        columns: rows
            .iter()
            .map(|r| KeyColumn {
                ident: quote_ident(r.get(0)),
                sql_type: r.get(1),
            })
            .collect(),
        key_order: rows
            .iter()
            .all(|r| same_order(r.get(2), r.get::<_, Option<bool>>(3))),
    })
}

/// `bytewise`: the index compares the column by bytes (`None`: the type has
/// no collation).
pub fn same_order(base_type: &str, bytewise: Option<bool>) -> bool {
    match base_type {
        "int2" | "int4" | "int8" | "uuid" | "bool" => true,
        "text" | "varchar" => bytewise == Some(true),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_uuids_booleans_and_bytewise_text_order_as_keys_do() {
        for t in ["int2", "int4", "int8", "uuid", "bool"] {
            assert!(same_order(t, None), "{t}");
        }
        assert!(same_order("text", Some(true)));
        assert!(same_order("varchar", Some(true)));
    }

    #[test]
    fn everything_else_takes_the_order_free_path() {
        assert!(!same_order("text", Some(false)));
        assert!(!same_order("bpchar", Some(true)));
        for t in [
            "numeric",
            "float8",
            "date",
            "timestamptz",
            "timestamp",
            "jsonb",
        ] {
            assert!(!same_order(t, None), "{t}");
        }
    }
}
