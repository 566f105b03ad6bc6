use sheetsync_config::{SheetRange, TableRef};
use sheetsync_reconcile::model::ConflictPolicy;
use sheetsync_store::StoredBinding;
use sheetsync_store::{AttachSpec, Binding};

use crate::error::{CliError, CmdResult};
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// The table, [schema.]name (double-quote a part holding dots or quotes)
    #[arg(long, env = "SHEETSYNC_TABLE", required_unless_present = "from_config")]
    table: Option<String>,
    /// The spreadsheet id (the part of its URL after /d/)
    #[arg(
        long,
        env = "GSHEET_ID",
        value_name = "ID",
        required_unless_present = "from_config"
    )]
    spreadsheet: Option<String>,
    /// The tab's name, or a range naming it (Orders!A1:F)
    #[arg(
        long,
        env = "GSHEET_RANGE",
        value_name = "NAME",
        required_unless_present = "from_config"
    )]
    sheet: Option<String>,
    /// The binding's name (default: from the table name)
    #[arg(long, env = "SHEETSYNC_BINDING", value_name = "NAME")]
    binding: Option<String>,
    /// Who wins when both sides changed a cell
    #[arg(long, env = "SHEETSYNC_CONFLICT", value_parser = ["latest", "sheet", "db"], default_value = "latest")]
    conflict: String,
    /// Attach every binding of the settings (--config file or environment)
    /// that is not attached yet
    #[arg(long, conflicts_with_all = ["table", "spreadsheet", "sheet", "binding"])]
    from_config: bool,
    /// The role the functions log in as: granted what they need on the table
    /// (revoked again by detach); see docs/security.md
    #[arg(long, env = "SHEETSYNC_FUNCTION_ROLE", value_name = "ROLE")]
    grant_to: Option<String>,
}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let specs = if self.from_config {
            let config = global.load()?;
            if config.bindings.is_empty() {
                return Err(CliError::Usage(
                    "the settings hold no binding (give a --config file with [[binding]] tables, \
                     or GSHEET_ID, GSHEET_RANGE and SHEETSYNC_TABLE)"
                        .into(),
                ));
            }
            config.bindings.iter().map(AttachSpec::from).collect()
        } else {
            vec![self.spec()?]
        };
        let client = global.connect().await?;
        for spec in &specs {
            if self.from_config
                && let Some(name) = &spec.name
                && let Ok(existing) = Binding::load(&client, name).await
            {
                println!(
                    "{} is already attached to {}",
                    existing.name,
                    existing.table_display()
                );
                continue;
            }
            let b =
                sheetsync_store::attach_granting(&client, spec, self.grant_to.as_deref()).await?;
            println!(
                "attached {} -> spreadsheet {} tab '{}' as binding {} (key {}, conflict {})",
                b.table_display(),
                b.spreadsheet_id,
                b.sheet,
                b.name,
                b.key_columns.join(", "),
                b.policy.as_str()
            );
            if let Some(role) = &self.grant_to {
                println!("granted {} to role {role}", b.table_display());
            }
        }
        Ok(())
    }

    fn spec(&self) -> Result<AttachSpec, CliError> {
        let missing = |what: &str| CliError::Usage(format!("--{what} is required"));
        let table = self.table.as_deref().ok_or_else(|| missing("table"))?;
        let sheet = self.sheet.as_deref().ok_or_else(|| missing("sheet"))?;
        Ok(AttachSpec {
            name: self.binding.clone(),
            table: TableRef::parse(table).map_err(|e| CliError::Usage(format!("--table: {e}")))?,
            spreadsheet_id: self
                .spreadsheet
                .clone()
                .ok_or_else(|| missing("spreadsheet"))?,
            sheet: SheetRange::parse(sheet)
                .map_err(|e| CliError::Usage(format!("--sheet: {e}")))?
                .sheet,
            policy: self
                .conflict
                .parse::<ConflictPolicy>()
                .map_err(|e| CliError::Usage(format!("--conflict: {e}")))?,
        })
    }
}
