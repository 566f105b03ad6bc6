//! Reading a tab: one `spreadsheets.get` for the tab and its journal, turned
//! into the pure [`TabImage`] the planner takes.

use sheetsync_sheet_plan::TabError;
use sheetsync_sheet_plan::journal::{Journal, journal_title};
use sheetsync_sheet_plan::tab::{TabImage, tab_range};
use sheetsync_sheet_plan::wire::{JOURNAL_FIELDS, READ_FIELDS, Spreadsheet};

use crate::SheetsError;
use crate::client::{SheetsClient, encode};

impl SheetsClient {
    /// Reads the tab and its journal in one request. `key_columns` are
    /// located in the header by name. A tab without a journal yet costs a
    /// second read, once: Google refuses the whole request for a missing range.
    pub async fn read_tab(
        &self,
        spreadsheet_id: &str,
        sheet: &str,
        key_columns: &[String],
    ) -> Result<TabImage, SheetsError> {
        let journal = journal_title(sheet);
        let both = [tab_range(sheet), tab_range(&journal)];
        let spreadsheet = match self.get_ranges(spreadsheet_id, &both, READ_FIELDS).await? {
            Some(found) => found,
            None => self
                .get_ranges(spreadsheet_id, &both[..1], READ_FIELDS)
                .await?
                .ok_or_else(|| TabError::TabNotFound {
                    spreadsheet_id: spreadsheet_id.to_string(),
                    sheet: sheet.to_string(),
                })?,
        };
        Ok(TabImage::from_spreadsheet(
            spreadsheet,
            spreadsheet_id,
            sheet,
            key_columns,
        )?)
    }

    /// Reads the tab's journal with its cells as entered (what a repair
    /// writes back); `None` when the tab has no journal.
    pub async fn read_journal(
        &self,
        spreadsheet_id: &str,
        sheet: &str,
    ) -> Result<Option<Journal>, SheetsError> {
        let title = journal_title(sheet);
        let found = self
            .get_ranges(spreadsheet_id, &[tab_range(&title)], JOURNAL_FIELDS)
            .await?;
        Ok(found.and_then(|s| {
            s.sheets
                .iter()
                .find(|s| s.properties.title == title)
                .map(Journal::from_sheet)
        }))
    }

    /// `spreadsheets.get` of `ranges`; `None` when one of them names no tab
    /// (Google answers 400 "Unable to parse range").
    async fn get_ranges(
        &self,
        spreadsheet_id: &str,
        ranges: &[String],
        fields: &str,
    ) -> Result<Option<Spreadsheet>, SheetsError> {
        let mut path = format!("v4/spreadsheets/{}?", encode(spreadsheet_id));
        for range in ranges {
            path.push_str(&format!("ranges={}&", encode(range)));
        }
        path.push_str(&format!("includeGridData=true&fields={}", encode(fields)));
        match self.get_json(&path, spreadsheet_id).await {
            Err(SheetsError::Rejected {
                status: 400,
                message,
            }) if message.contains("Unable to parse range") => Ok(None),
            other => other.map(Some),
        }
    }
}
