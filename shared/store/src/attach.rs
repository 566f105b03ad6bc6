//! Binding a table to a sheet tab, and undoing it.

use crate::StoredBinding;
use sheetsync_config::{BindingConfig, TableRef, check_binding_name, default_binding_name};
use sheetsync_reconcile::model::ConflictPolicy;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::{Binding, StoreError, in_transaction, quote_literal, resolve_table, table_by_oid};

/// What `sheetsync attach` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachSpec {
    /// `None`: derived from the table name (`orders`, `sales.orders`).
    pub name: Option<String>,
    pub table: TableRef,
    pub spreadsheet_id: String,
    pub sheet: String,
    pub policy: ConflictPolicy,
}

impl From<&BindingConfig> for AttachSpec {
    fn from(b: &BindingConfig) -> Self {
        AttachSpec {
            name: Some(b.name.clone()),
            table: b.table.clone(),
            spreadsheet_id: b.spreadsheet_id.clone(),
            sheet: b.range.sheet.clone(),
            policy: b.conflict,
        }
    }
}

/// Records the binding and installs the capture trigger
/// (`sheetsync_capture`) on the table, in one transaction. Refuses tables
/// without a primary key and anything already bound.
pub async fn attach(client: &Client, spec: &AttachSpec) -> Result<Binding, StoreError> {
    attach_granting(client, spec, None).await
}

/// [`attach`], and in the same transaction the grants of [`crate::grant`]
/// to the functions' role when one is given.
pub async fn attach_granting(
    client: &Client,
    spec: &AttachSpec,
    grantee: Option<&str>,
) -> Result<Binding, StoreError> {
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| default_binding_name(&spec.table));
    check_binding_name(&name).map_err(StoreError::InvalidName)?;
    if spec.sheet.is_empty() || spec.spreadsheet_id.is_empty() {
        return Err(StoreError::InvalidName(
            "a binding needs a spreadsheet id and a tab name".into(),
        ));
    }
    let binding = in_transaction(client, async |c: &Client| {
        let table = resolve_table(c, &spec.table).await?;
        if table.key_columns.is_empty() {
            return Err(StoreError::NoPrimaryKey {
                table: table.display(),
            });
        }
        refuse_taken(c, &name, table.oid, &table.display(), spec).await?;
        c.execute(
            "INSERT INTO sheetsync.bindings
                 (name, table_oid, table_schema, table_name, spreadsheet_id, sheet,
                  conflict_policy, key_columns, columns)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, sheetsync.table_columns($2))",
            &[
                &name,
                &table.oid,
                &table.schema,
                &table.name,
                &spec.spreadsheet_id,
                &spec.sheet,
                &spec.policy.as_str(),
                &table.key_columns,
            ],
        )
        .await
        .map_err(|e| taken_error(e, &name, &table.display(), spec))?;
        let q = table.qualified();
        c.batch_execute(&format!(
            "DROP TRIGGER IF EXISTS sheetsync_capture ON {q};
             CREATE TRIGGER sheetsync_capture AFTER INSERT OR UPDATE OR DELETE ON {q}
                 FOR EACH ROW EXECUTE FUNCTION sheetsync.capture({lit});
             DROP TRIGGER IF EXISTS sheetsync_schema ON {q};
             CREATE TRIGGER sheetsync_schema BEFORE INSERT OR UPDATE OR DELETE ON {q}
                 FOR EACH STATEMENT EXECUTE FUNCTION sheetsync.schema_trigger({lit})",
            lit = quote_literal(&name)
        ))
        .await?;
        if let Some(role) = grantee {
            crate::grant::grant_in(c, &name, role).await?;
        }
        Binding::load(c, &name).await
    })
    .await?;
    tracing::info!(
        binding = %binding.name,
        table = %binding.table_display(),
        spreadsheet_id = %binding.spreadsheet_id,
        sheet = %binding.sheet,
        "attached"
    );
    Ok(binding)
}

/// Drops the capture trigger and the binding (its outbox and row state go
/// with it; conflicts and rejects stay as the record of what happened), and
/// revokes the functions' role's rights on the table.
pub async fn detach(client: &Client, name: &str) -> Result<(), StoreError> {
    in_transaction(client, async |c: &Client| {
        let (oid, grantee) = crate::grant::lock_binding(c, name).await?;
        if let Some(role) = grantee {
            crate::grant::revoke_in(c, oid, &role).await?;
        }
        if let Some(table) = table_by_oid(c, oid).await? {
            c.batch_execute(&format!(
                "DROP TRIGGER IF EXISTS sheetsync_capture ON {q};
                 DROP TRIGGER IF EXISTS sheetsync_schema ON {q}",
                q = table.qualified()
            ))
            .await?;
        }
        c.execute("DELETE FROM sheetsync.bindings WHERE name = $1", &[&name])
            .await?;
        Ok(())
    })
    .await?;
    tracing::info!(binding = %name, "detached");
    Ok(())
}

/// Names the binding already holding the name, table or tab.
async fn refuse_taken(
    c: &Client,
    name: &str,
    oid: u32,
    table: &str,
    spec: &AttachSpec,
) -> Result<(), StoreError> {
    let rows = c
        .query(
            "SELECT name, table_oid = $2, spreadsheet_id = $3 AND sheet = $4
               FROM sheetsync.bindings
              WHERE name = $1 OR table_oid = $2 OR (spreadsheet_id = $3 AND sheet = $4)
              ORDER BY name = $1 DESC, table_oid = $2 DESC
              LIMIT 1",
            &[&name, &oid, &spec.spreadsheet_id, &spec.sheet],
        )
        .await?;
    if let Some(r) = rows.first() {
        let other: String = r.get(0);
        if other == name {
            return Err(StoreError::BindingExists(other));
        }
        if r.get::<_, bool>(1) {
            return Err(StoreError::TableAlreadyBound {
                table: table.to_string(),
                binding: other,
            });
        }
        return Err(StoreError::SheetAlreadyBound {
            spreadsheet_id: spec.spreadsheet_id.clone(),
            sheet: spec.sheet.clone(),
            binding: other,
        });
    }
    Ok(())
}

/// A concurrent attach can pass [`refuse_taken`] and lose at the unique
/// constraints: say the same thing.
fn taken_error(e: tokio_postgres::Error, name: &str, table: &str, spec: &AttachSpec) -> StoreError {
    let Some(db) = e.as_db_error() else {
        return e.into();
    };
    if db.code() != &SqlState::UNIQUE_VIOLATION {
        return e.into();
    }
    match db.constraint() {
        Some("bindings_pkey") => StoreError::BindingExists(name.to_string()),
        Some("bindings_table_oid_key") => StoreError::TableAlreadyBound {
            table: table.to_string(),
            binding: "another".to_string(),
        },
        Some("bindings_spreadsheet_id_sheet_key") => StoreError::SheetAlreadyBound {
            spreadsheet_id: spec.spreadsheet_id.clone(),
            sheet: spec.sheet.clone(),
            binding: "another".to_string(),
        },
        _ => e.into(),
    }
}
