//! The subcommands. Each is a module with `Args` (clap) and
//! `Args::run(self, &Global) -> CmdResult`; add one with a line below.

use crate::error::CmdResult;
use crate::global::Global;

macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($module:ident),)*) => {
        $(pub mod $module;)*

        #[derive(clap::Subcommand)]
        pub enum Command {
            $($(#[$doc])* $variant($module::Args),)*
        }

        impl Command {
            pub async fn run(self, global: &Global) -> CmdResult {
                match self {
                    $(Command::$variant(args) => args.run(global).await,)*
                }
            }
        }
    };
}

commands! {
    /// Create or update sheetsync's schema in the database
    Migrate(migrate),
    /// Bind a table to a sheet tab and start capturing its changes
    Attach(attach),
    /// Stop syncing a binding: drop its trigger, queue and row state, revoke its grant
    Detach(detach),
    /// Give the functions' database role what it needs on a binding's table
    Grant(grant),
    /// Show bindings, queued changes and recent conflicts and rejects
    Status(status),
    /// Move queued changes to the SQS FIFO queue (LISTEN loop, or --once)
    Relay(relay),
    /// Queue a binding's whole table for its sheet, with the full key set
    Backfill(backfill),
    /// Print a spreadsheet's signing key for its Apps Script's Set up (from the webhook's master secret)
    Key(key),
    /// Run the whole sync locally: PostgreSQL, a Sheets emulator with a browser grid, webhook, relay and writer
    Dev(dev),
}
