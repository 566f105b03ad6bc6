//! The Google Sheets side of sheetsync.
//!
//! * [`SheetsClient`]: the authenticated `google-sheets4` hub (configurable
//!   root URL and token URI), with the key from a file, env or Secrets Manager.
//! * [`TabImage`] / [`SheetsClient::read_for_batch`]: a batch reads its
//!   tab's header, keys, watermark and journal, then only the rows it
//!   writes (`sheetsync_sheet_plan::reads`);
//!   [`SheetsClient::read_for_tabs`] does so for several tabs of one
//!   spreadsheet with one key read.
//! * [`plan`] (from the pure `sheetsync-sheet-plan`): row changes + tab
//!   image → one `spreadsheets.batchUpdate` body, sent by
//!   [`SheetsClient::batch_update`].

pub mod auth;
pub mod client;
pub mod error;
pub mod pace;
mod read;

// The pure planning layer, under the paths the writer has always used.
pub use sheetsync_sheet_plan::{cells, chunks, journal, keys, plan, reads, repair, tab, wire};

pub use auth::KeySource;
pub use client::{Endpoints, SheetsClient};
pub use error::SheetsError;
pub use pace::{Budget, Pace};
pub use plan::{Plan, PlanStats, journaled_plan};
pub use read::TabBatches;
pub use sheetsync_sheet_plan::TabError;
pub use tab::{TabImage, TabRow, Watermark};
pub use wire::{BatchUpdate, WATERMARK_KEY};

impl SheetsClient {
    /// Applies a planned body in one request. Google applies the requests of
    /// one batchUpdate atomically: all or none. The answer carries the
    /// ranges the body asked for (the journal), as they are after the batch.
    pub async fn batch_update(
        &self,
        spreadsheet_id: &str,
        body: &BatchUpdate,
    ) -> Result<wire::BatchUpdateResponse, SheetsError> {
        let mut path = format!(
            "v4/spreadsheets/{}:batchUpdate",
            client::encode(spreadsheet_id)
        );
        if body.include_spreadsheet_in_response {
            path.push_str(&format!("?fields={}", client::encode(wire::VERIFY_FIELDS)));
        } else {
            path.push_str("?fields=spreadsheetId");
        }
        let answer = match self.post_json(&path, body, spreadsheet_id).await {
            Err(error @ SheetsError::Rejected { .. }) => {
                self.tabs_seen.forget_missing_journals(spreadsheet_id);
                return Err(error);
            }
            other => other?,
        };
        serde_json::from_slice(&answer).map_err(|e| SheetsError::Decode(e.to_string()))
    }
}
