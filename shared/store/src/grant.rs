//! What the functions' database role may touch: the sheetsync schema's
//! tables as far as the webhook and the relay use them, and each bound
//! table it was granted by `attach`/`grant` (revoked again by `detach`).
//! Nothing else: an unbound table stays out of its reach even if a signed
//! request names it.

use tokio_postgres::Client;

use crate::{StoreError, in_transaction, quote_ident, table_by_oid};

/// The schema-wide part, the same for every binding (idempotent). UPDATE on
/// the outbox is what the relay's `FOR UPDATE SKIP LOCKED` claim needs.
const SCHEMA_GRANTS: &str = "GRANT USAGE ON SCHEMA sheetsync TO {r};
     GRANT SELECT ON sheetsync.bindings TO {r};
     GRANT UPDATE (last_push_at) ON sheetsync.bindings TO {r};
     GRANT SELECT, INSERT, UPDATE, DELETE ON sheetsync.outbox TO {r};
     GRANT SELECT, INSERT, UPDATE, DELETE ON sheetsync.row_state TO {r};
     GRANT SELECT, INSERT, UPDATE ON sheetsync.processed_events TO {r};
     GRANT SELECT, INSERT ON sheetsync.conflicts, sheetsync.rejects TO {r};
     GRANT SELECT, INSERT, UPDATE ON sheetsync.sheet_header TO {r};
     GRANT SELECT ON sheetsync.schema_changes TO {r};
     GRANT EXECUTE ON FUNCTION sheetsync.check_schema(text) TO {r};
     GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA sheetsync TO {r};";

/// Sequences behind the table's serial and identity columns (an insert
/// that takes a default key draws from them).
const OWNED_SEQUENCES: &str = "SELECT format('%I.%I', n.nspname, s.relname)
       FROM pg_depend d
       JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       JOIN pg_namespace n ON n.oid = s.relnamespace
      WHERE d.refobjid = $1 AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')";

/// Grants `role` what the functions need for binding `name`, and records it
/// as the binding's grantee. The role must exist and must not own the table
/// (a revoke on detach would strip the owner's own rights).
pub async fn grant(client: &Client, name: &str, role: &str) -> Result<(), StoreError> {
    in_transaction(client, async |c: &Client| grant_in(c, name, role).await).await?;
    tracing::info!(binding = %name, role = %role, "granted the binding's table");
    Ok(())
}

/// Locks binding `name`'s row for the transaction the caller holds: its
/// table's oid and the role granted on it.
pub(crate) async fn lock_binding(
    c: &Client,
    name: &str,
) -> Result<(u32, Option<String>), StoreError> {
    let row = c
        .query_opt(
            "SELECT table_oid, grantee FROM sheetsync.bindings WHERE name = $1 FOR UPDATE",
            &[&name],
        )
        .await?
        .ok_or_else(|| StoreError::UnknownBinding(name.to_string()))?;
    Ok((row.get(0), row.get(1)))
}

/// [`grant`] inside a transaction the caller holds.
pub(crate) async fn grant_in(c: &Client, name: &str, role: &str) -> Result<(), StoreError> {
    let (oid, _) = lock_binding(c, name).await?;
    let table = table_by_oid(c, oid)
        .await?
        .ok_or_else(|| StoreError::TableGone {
            binding: name.to_string(),
        })?;
    let owner = c
        .query_opt(
            "SELECT pg_get_userbyid(c.relowner)::text = r.rolname::text, r.rolsuper
               FROM pg_class c, pg_roles r WHERE c.oid = $1 AND r.rolname = $2",
            &[&oid, &role],
        )
        .await?
        .ok_or_else(|| StoreError::UnknownRole(role.to_string()))?;
    if owner.get::<_, bool>(0) || owner.get::<_, bool>(1) {
        return Err(StoreError::RoleTooPowerful {
            role: role.to_string(),
            table: table.display(),
        });
    }
    let r = quote_ident(role);
    let q = table.qualified();
    let mut sql = SCHEMA_GRANTS.replace("{r}", &r);
    sql += &format!(
        "GRANT USAGE ON SCHEMA {} TO {r};
         GRANT SELECT, INSERT, UPDATE, DELETE ON {q} TO {r};",
        quote_ident(&table.schema)
    );
    for seq in c.query(OWNED_SEQUENCES, &[&oid]).await? {
        sql += &format!(
            "GRANT USAGE, SELECT ON SEQUENCE {} TO {r};",
            seq.get::<_, String>(0)
        );
    }
    c.batch_execute(&sql).await?;
    c.execute(
        "UPDATE sheetsync.bindings SET grantee = $2 WHERE name = $1",
        &[&name, &role],
    )
    .await?;
    Ok(())
}

/// Takes back what [`grant_in`] gave on the binding's table (the schema
/// usage stays: other tables there may be bound, and alone it opens
/// nothing).
pub(crate) async fn revoke_in(c: &Client, oid: u32, role: &str) -> Result<(), StoreError> {
    let Some(table) = table_by_oid(c, oid).await? else {
        return Ok(());
    };
    let exists = c
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
        .await?
        .is_some();
    if !exists {
        return Ok(());
    }
    let r = quote_ident(role);
    let mut sql = format!("REVOKE ALL ON {} FROM {r};", table.qualified());
    for seq in c.query(OWNED_SEQUENCES, &[&oid]).await? {
        sql += &format!(
            "REVOKE ALL ON SEQUENCE {} FROM {r};",
            seq.get::<_, String>(0)
        );
    }
    c.batch_execute(&sql).await?;
    Ok(())
}
