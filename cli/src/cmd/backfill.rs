//! `sheetsync backfill --binding B`: queues the binding's whole table for
//! the sheet (every row, then the full key set), so the sheet converges to
//! the table; also the first sync of an existing table into an empty sheet.
//! Each chunk is its own short transaction: writers to the table wait for
//! one chunk at most, never for the whole table.

use sheetsync_outbox::backfill;
use sheetsync_outbox::backfill::CHUNK_ROWS;
use sheetsync_store::Binding;
use sheetsync_store::StoredBinding;

use crate::error::CmdResult;
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// The binding whose table is pushed to its sheet
    #[arg(long, value_name = "NAME")]
    binding: String,
    /// Rows read and queued per transaction (each holds the binding's
    /// writers while it runs)
    #[arg(long, default_value_t = CHUNK_ROWS, value_name = "ROWS")]
    chunk_rows: usize,
}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let mut client = global.connect().await?;
        let binding = Binding::load(&client, &self.binding).await?;
        let report = backfill(&mut client, &binding, self.chunk_rows).await?;
        let range = match (report.first_seq, report.last_seq) {
            (Some(first), Some(last)) => format!(" (outbox {first}..={last})"),
            _ => String::new(),
        };
        println!(
            "queued {} rows and {} key set parts of binding {} for sheet {} in {} transactions{range}",
            report.queued_rows, report.keyset_parts, binding.name, binding.sheet, report.chunks
        );
        Ok(())
    }
}
