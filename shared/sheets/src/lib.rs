//! The Google Sheets side of sheetsync.
//!
//! * [`SheetsClient`]: the authenticated `google-sheets4` hub (configurable
//!   root URL and token URI), with the key from a file, env or Secrets Manager.
//! * [`TabImage`] / [`SheetsClient::read_tab`]: one request reads a tab's
//!   header, keys, row positions and watermark.
//! * [`plan`]: row changes + tab image → one `spreadsheets.batchUpdate` body,
//!   sent by [`SheetsClient::batch_update`].

pub mod auth;
pub mod cells;
pub mod client;
pub mod error;
pub mod keys;
pub mod plan;
pub mod tab;
pub mod wire;

#[cfg(test)]
mod plan_props;
#[cfg(test)]
mod plan_tests;

pub use auth::KeySource;
pub use client::{Endpoints, SheetsClient};
pub use error::SheetsError;
pub use plan::{Plan, PlanStats, plan};
pub use tab::{TabImage, TabRow, Watermark};
pub use wire::{BatchUpdate, WATERMARK_KEY};

impl SheetsClient {
    /// Applies a planned body in one request. Google applies the requests of
    /// one batchUpdate atomically: all or none.
    pub async fn batch_update(
        &self,
        spreadsheet_id: &str,
        body: &BatchUpdate,
    ) -> Result<(), SheetsError> {
        let path = format!(
            "v4/spreadsheets/{}:batchUpdate",
            client::encode(spreadsheet_id)
        );
        self.post_json(&path, body, spreadsheet_id).await.map(drop)
    }
}
