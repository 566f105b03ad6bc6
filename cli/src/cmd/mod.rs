//! The subcommands. Each is a module with `Args` (clap) and
//! `Args::run(self, &Global) -> CmdResult`; add one with its module, its
//! variant and its arm below. `dev` is there only with the `dev` feature.

use crate::error::CmdResult;
use crate::global::Global;

pub mod attach;
pub mod backfill;
pub mod detach;
#[cfg(feature = "dev")]
pub mod dev;
pub mod grant;
pub mod key;
pub mod migrate;
pub mod relay;
pub mod status;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create or update sheetsync's schema in the database
    Migrate(migrate::Args),
    /// Bind a table to a sheet tab and start capturing its changes
    Attach(attach::Args),
    /// Stop syncing a binding: drop its trigger, queue and row state, revoke its grant
    Detach(detach::Args),
    /// Give the functions' database role what it needs on a binding's table
    Grant(grant::Args),
    /// Show bindings, queued changes and recent conflicts and rejects
    Status(status::Args),
    /// Move queued changes to the SQS FIFO queue (LISTEN loop, or --once)
    Relay(relay::Args),
    /// Queue a binding's whole table for its sheet, with the full key set
    Backfill(backfill::Args),
    /// Print a spreadsheet's signing key for its Apps Script's Set up (from the webhook's master secret)
    Key(key::Args),
    /// Run the whole sync locally: PostgreSQL, a Sheets emulator with a browser grid, webhook, relay and writer
    #[cfg(feature = "dev")]
    Dev(dev::Args),
}

impl Command {
    pub async fn run(self, global: &Global) -> CmdResult {
        match self {
            Command::Migrate(args) => args.run(global).await,
            Command::Attach(args) => args.run(global).await,
            Command::Detach(args) => args.run(global).await,
            Command::Grant(args) => args.run(global).await,
            Command::Status(args) => args.run(global).await,
            Command::Relay(args) => args.run(global).await,
            Command::Backfill(args) => args.run(global).await,
            Command::Key(args) => args.run(global).await,
            #[cfg(feature = "dev")]
            Command::Dev(args) => args.run(global).await,
        }
    }

    /// `dev` prints its own lines for people; its logs say only what went
    /// wrong.
    pub fn speaks_for_itself(&self) -> bool {
        #[cfg(feature = "dev")]
        if matches!(self, Command::Dev(_)) {
            return true;
        }
        false
    }
}
