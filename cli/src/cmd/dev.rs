use std::path::PathBuf;

use crate::dev::{self, Options, SheetChoice};
use crate::error::{CliError, CmdResult};
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// Port of the browser grid and the local webhook (127.0.0.1)
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Sync this existing table ([schema.]name) instead of the demo table `orders`
    #[arg(long)]
    table: Option<String>,
    /// Send changes through this SQS FIFO queue instead of the in-process
    /// queue (credentials, region and endpoint as the AWS SDK reads them)
    #[arg(long, value_name = "URL")]
    sqs_url: Option<String>,
    /// Sync with a real Google Sheet instead of the local emulator (no grid)
    #[arg(long, requires_all = ["credentials", "spreadsheet", "sheet"])]
    google: bool,
    /// The service-account key file (JSON) shared as editor on the spreadsheet
    #[arg(long, value_name = "FILE", requires = "google")]
    credentials: Option<PathBuf>,
    /// The spreadsheet id (the part of its URL after /d/)
    #[arg(long, value_name = "ID", requires = "google")]
    spreadsheet: Option<String>,
    /// The tab to sync
    #[arg(long, value_name = "NAME", requires = "google")]
    sheet: Option<String>,
}

impl Args {
    pub async fn run(self, _global: &Global) -> CmdResult {
        let sheet = match (self.google, self.credentials, self.spreadsheet, self.sheet) {
            (true, Some(credentials), Some(spreadsheet_id), Some(sheet)) => SheetChoice::Google {
                credentials,
                spreadsheet_id,
                sheet,
            },
            (true, ..) => {
                return Err(CliError::Usage(
                    "--google needs --credentials, --spreadsheet and --sheet".into(),
                ));
            }
            _ => SheetChoice::Emulator,
        };
        let options = Options {
            port: self.port,
            table: self.table,
            sqs_url: self.sqs_url,
            sheet,
        };
        Ok(dev::run(options).await?)
    }
}
