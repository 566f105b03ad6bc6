//! `sheetsync key --spreadsheet ID`: prints the spreadsheet's signing key
//! for its Apps Script's Set up. The key is derived from the webhook's
//! current master secret, read from where the webhook reads it
//! (`SHEETSYNC_WEBHOOK_SECRET`, `_ARN` or `_PARAMETER`); the master itself
//! is never printed. The key signs requests for this spreadsheet only.

use sheetsync_webhook::secret::SecretSource;
use sheetsync_webhook::spreadsheet_key;

use crate::error::{CliError, CmdResult};
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// The spreadsheet id (the part of its URL after /d/)
    #[arg(long, env = "GSHEET_ID", value_name = "ID")]
    spreadsheet: String,
}

impl Args {
    pub async fn run(self, _global: &Global) -> CmdResult {
        let id = checked_id(&self.spreadsheet)?;
        let source = SecretSource::from_env()?;
        let master = source.load(None).await?;
        tracing::debug!(master = %source, spreadsheet_id = id, "deriving a spreadsheet key");
        println!("{}", spreadsheet_key(&master, id).reveal());
        Ok(())
    }
}

/// The key is bound to the exact id: a URL or stray spaces would give a key
/// the webhook never accepts, so they are refused here instead.
fn checked_id(id: &str) -> Result<&str, CliError> {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(id)
    } else {
        Err(CliError::Usage(format!(
            "--spreadsheet: '{id}' is not a spreadsheet id (give the part of the sheet's URL after /d/)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::checked_id;

    #[test]
    fn only_bare_ids_are_taken() {
        assert_eq!(checked_id("1AbC-x_9").ok(), Some("1AbC-x_9"));
        for bad in [
            "",
            " 1AbC",
            "https://docs.google.com/spreadsheets/d/1AbC/edit",
        ] {
            assert!(checked_id(bad).is_err(), "{bad}");
        }
    }
}
