//! `sheetsync backfill --binding B`: queues the binding's whole table for
//! the sheet (every row, then the full key set), so the sheet converges to
//! the table; also the first sync of an existing table into an empty sheet.
//! Writers to the table wait until it commits.

use sheetsync_outbox::backfill;
use sheetsync_store::Binding;
use sheetsync_store::StoredBinding;

use crate::error::CmdResult;
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// The binding whose table is pushed to its sheet
    #[arg(long, value_name = "NAME")]
    binding: String,
    /// Rows read and queued per round trip
    #[arg(long, default_value_t = 1000, value_name = "ROWS")]
    chunk_rows: usize,
}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let mut client = global.connect().await?;
        let binding = Binding::load(&client, &self.binding).await?;
        let tx = client
            .transaction()
            .await
            .map_err(sheetsync_outbox::OutboxError::from)?;
        let report = backfill(&tx, &binding, self.chunk_rows).await?;
        tx.commit()
            .await
            .map_err(sheetsync_outbox::OutboxError::from)?;
        let range = match (report.first_seq, report.last_seq) {
            (Some(first), Some(last)) => format!(" (outbox {first}..={last})"),
            _ => String::new(),
        };
        println!(
            "queued {} rows and {} key set parts of binding {} for sheet {}{range}",
            report.queued_rows, report.keyset_parts, binding.name, binding.sheet
        );
        Ok(())
    }
}
