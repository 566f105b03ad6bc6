//! Attaching the table to the tab, or finding it attached by an earlier run.

use sheetsync_config::TableRef;
use sheetsync_reconcile::model::ConflictPolicy;
use sheetsync_store::{AttachSpec, Binding, StoredBinding, resolve_table};
use tokio_postgres::Client;

use super::DevError;

pub async fn bind(
    client: &Client,
    table: &TableRef,
    spreadsheet_id: &str,
    sheet: &str,
) -> Result<Binding, DevError> {
    if let Some(existing) = Binding::find(client, spreadsheet_id, sheet).await? {
        let info = resolve_table(client, table).await?;
        if existing.table_schema == info.schema && existing.table_name == info.name {
            return Ok(existing);
        }
        return Err(DevError::Setup(format!(
            "tab '{sheet}' is already bound to {} (binding '{}'); detach it first: sheetsync detach --binding {}",
            existing.table_display(),
            existing.name,
            existing.name
        )));
    }
    let spec = AttachSpec {
        name: None,
        table: table.clone(),
        spreadsheet_id: spreadsheet_id.to_string(),
        sheet: sheet.to_string(),
        policy: ConflictPolicy::Latest,
    };
    Ok(sheetsync_store::attach(client, &spec).await?)
}
