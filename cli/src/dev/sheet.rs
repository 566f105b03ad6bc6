//! The sheet side: the in-process emulator (with its real OAuth token
//! endpoint) or a real Google Sheet, and the writer's client for it.

use std::net::{Ipv4Addr, SocketAddr};

use sheetsync_sheets::{Endpoints, KeySource, SheetsClient, auth::parse_key};
use sheetsync_sheets_emulator::Emulator;
use sheetsync_writer::Writer;

use super::{DevError, SheetChoice};

/// The emulator's spreadsheet id in a dev run.
pub const DEV_SPREADSHEET: &str = "sheetsync-dev";

/// Overrides for `--google` (the same names the writer Lambda reads), so a
/// run can point at a stand-in for Google.
const ENV_ROOT_URL: &str = "SHEETS_API_ROOT_URL";
const ENV_TOKEN_URI: &str = "GOOGLE_TOKEN_URI";

pub enum SheetSide {
    Emulator {
        emulator: Emulator,
        tab: String,
    },
    Google {
        credentials: std::path::PathBuf,
        spreadsheet_id: String,
        tab: String,
    },
}

impl SheetSide {
    /// For the emulator, a tab named after the table (empty: the first
    /// sync writes its header and rows).
    pub async fn open(choice: &SheetChoice, table_name: &str) -> Result<SheetSide, DevError> {
        match choice {
            SheetChoice::Emulator => {
                let emulator = Emulator::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                    .await
                    .map_err(|e| DevError::io("starting the Sheets API emulator", e))?;
                emulator.add_sheet(DEV_SPREADSHEET, table_name);
                Ok(SheetSide::Emulator {
                    emulator,
                    tab: table_name.to_string(),
                })
            }
            SheetChoice::Google {
                credentials,
                spreadsheet_id,
                sheet,
            } => Ok(SheetSide::Google {
                credentials: credentials.clone(),
                spreadsheet_id: spreadsheet_id.clone(),
                tab: sheet.clone(),
            }),
        }
    }

    pub fn spreadsheet_id(&self) -> &str {
        match self {
            SheetSide::Emulator { .. } => DEV_SPREADSHEET,
            SheetSide::Google { spreadsheet_id, .. } => spreadsheet_id,
        }
    }

    pub fn tab(&self) -> &str {
        match self {
            SheetSide::Emulator { tab, .. } | SheetSide::Google { tab, .. } => tab,
        }
    }

    pub fn emulator(&self) -> Option<&Emulator> {
        match self {
            SheetSide::Emulator { emulator, .. } => Some(emulator),
            SheetSide::Google { .. } => None,
        }
    }

    /// The writer the Lambda runs, with a client for this side: against the
    /// emulator, its test service account signs a JWT that the emulator's
    /// token endpoint checks, exactly as Google's would.
    pub async fn writer(&self) -> Result<Writer, DevError> {
        let (key, endpoints) = match self {
            SheetSide::Emulator { emulator, .. } => (
                parse_key(&emulator.service_account_key())?,
                Endpoints {
                    root_url: Some(emulator.root_url()),
                    token_uri: None,
                },
            ),
            SheetSide::Google { credentials, .. } => (
                KeySource::File(credentials.clone()).load().await?,
                Endpoints {
                    root_url: env(ENV_ROOT_URL),
                    token_uri: env(ENV_TOKEN_URI),
                },
            ),
        };
        Ok(Writer::new(SheetsClient::new(key, &endpoints).await?))
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
