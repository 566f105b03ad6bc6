//! Reading a tab for a batch: the key read, then the rows the batch writes
//! (`sheetsync_sheet_plan::reads` says what and why), or the whole tab when
//! the batch needs its content.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use sheetsync_queue::ChangeBatch;
use sheetsync_sheet_plan::TabError;
use sheetsync_sheet_plan::journal::{Journal, journal_title};
use sheetsync_sheet_plan::reads::{
    KeyPositions, KeyRead, changes_schema, key_ranges, needs_repair, row_ranges, rows_last_seen,
    rows_to_read, written_positions,
};
use sheetsync_sheet_plan::tab::{TabImage, tab_range};
use sheetsync_sheet_plan::wire::{JOURNAL_FIELDS, READ_FIELDS, ROW_FIELDS, Spreadsheet};

use crate::SheetsError;
use crate::client::{SheetsClient, encode};

/// Key reads a batch makes at most when rows keep moving under it; the
/// last one's image is used as it is (the journal verifies where each
/// write lands, whatever the read saw).
const KEY_READS: usize = 3;

/// What the last read of each tab saw, by spreadsheet and tab: where its
/// key columns are, and where each key is. The next key read asks for the
/// key columns there, and for the rows its batch writes where they were.
/// Only a guess: the header and keys that read answers with decide, and a
/// wrong guess costs a request, never a misplaced row.
#[derive(Debug, Default)]
pub(crate) struct TabsSeen(Mutex<HashMap<(String, String), Seen>>);

#[derive(Debug, Default, Clone)]
struct Seen {
    columns: Vec<usize>,
    rows: std::sync::Arc<KeyPositions>,
}

impl TabsSeen {
    fn get(&self, spreadsheet_id: &str, sheet: &str) -> Seen {
        self.0
            .lock()
            .ok()
            .and_then(|seen| {
                seen.get(&(spreadsheet_id.to_string(), sheet.to_string()))
                    .cloned()
            })
            .unwrap_or_default()
    }

    fn set(&self, spreadsheet_id: &str, sheet: &str, seen: Seen) {
        if let Ok(mut tabs) = self.0.lock() {
            tabs.insert((spreadsheet_id.to_string(), sheet.to_string()), seen);
        }
    }
}

impl SheetsClient {
    /// Records where a landed batch left each key of the tab
    /// ([`sheetsync_sheet_plan::Plan::positions_after`]), for the next
    /// batch's key read to read its rows there.
    pub fn remember_positions(&self, spreadsheet_id: &str, sheet: &str, positions: KeyPositions) {
        let mut seen = self.tabs_seen.get(spreadsheet_id, sheet);
        seen.rows = std::sync::Arc::new(positions);
        self.tabs_seen.set(spreadsheet_id, sheet, seen);
    }

    /// Reads what `batches` need of the tab: its keys, and in full only the
    /// rows they write, or the whole tab for a repair, a schema change or a
    /// tab without a header. Counts each request it makes, failed ones too,
    /// in `requests`.
    pub async fn read_for_batch(
        &self,
        spreadsheet_id: &str,
        sheet: &str,
        key_columns: &[String],
        batches: &[&ChangeBatch],
        requests: &mut usize,
    ) -> Result<TabImage, SheetsError> {
        if changes_schema(batches) {
            return self
                .read_whole(spreadsheet_id, sheet, key_columns, requests)
                .await;
        }
        let seen = self.tabs_seen.get(spreadsheet_id, sheet);
        let mut columns = if seen.columns.len() == key_columns.len() {
            seen.columns
        } else {
            (0..key_columns.len()).collect()
        };
        let mut guessed = rows_last_seen(&seen.rows, batches);
        drop(seen.rows);
        let mut key_reads = 0;
        loop {
            let mut ranges = key_ranges(sheet, &columns);
            ranges.extend(row_ranges(sheet, &guessed));
            let answer = self
                .read_with_journal(spreadsheet_id, sheet, &ranges, READ_FIELDS, requests)
                .await;
            key_reads += 1;
            let spreadsheet = match answer {
                // The tab shrank below a row last seen, or its grid is
                // narrower than the columns asked for.
                Err(SheetsError::Rejected {
                    status: 400,
                    message,
                }) if message.contains("exceeds grid limits") => {
                    if guessed.is_empty() {
                        return self
                            .read_whole(spreadsheet_id, sheet, key_columns, requests)
                            .await;
                    }
                    guessed.clear();
                    continue;
                }
                other => other?,
            };
            let read = TabImage::from_key_read(
                spreadsheet,
                spreadsheet_id,
                sheet,
                key_columns,
                &columns,
                &guessed,
            )?;
            let (mut tab, filled) = match read {
                KeyRead::Keys { tab, filled } => (*tab, filled),
                KeyRead::KeysElsewhere(at) if key_reads < KEY_READS => {
                    columns = at;
                    guessed.clear();
                    continue;
                }
                // A person keeps moving the key columns: read everything.
                KeyRead::KeysElsewhere(_) | KeyRead::NoHeader => {
                    return self
                        .read_whole(spreadsheet_id, sheet, key_columns, requests)
                        .await;
                }
            };
            if needs_repair(&tab) {
                return self
                    .read_whole(spreadsheet_id, sheet, key_columns, requests)
                    .await;
            }
            // Only the batches' own keys until they land: a retry reads
            // their rows at once. Every key is remembered once the batch
            // lands (`remember_positions`); holding them all meanwhile
            // would keep a second copy beside the planner's.
            self.tabs_seen.set(
                spreadsheet_id,
                sheet,
                Seen {
                    columns: columns.clone(),
                    rows: std::sync::Arc::new(written_positions(&tab, batches)),
                },
            );
            let rows: BTreeSet<usize> = rows_to_read(&tab, batches)
                .difference(&filled)
                .copied()
                .collect();
            if rows.is_empty() {
                return Ok(tab);
            }
            *requests += 1;
            let answer = self
                .get_ranges(spreadsheet_id, &row_ranges(sheet, &rows), ROW_FIELDS)
                .await?
                .ok_or_else(|| TabError::TabNotFound {
                    spreadsheet_id: spreadsheet_id.to_string(),
                    sheet: sheet.to_string(),
                })?;
            if tab.fill_rows(answer, &rows)? || key_reads == KEY_READS {
                return Ok(tab);
            }
            tracing::debug!(
                spreadsheet_id,
                sheet,
                key_reads,
                "rows moved between the key read and the row read; reading the keys again"
            );
        }
    }

    /// Reads the whole tab and its journal.
    pub async fn read_tab(
        &self,
        spreadsheet_id: &str,
        sheet: &str,
        key_columns: &[String],
    ) -> Result<TabImage, SheetsError> {
        self.read_whole(spreadsheet_id, sheet, key_columns, &mut 0)
            .await
    }

    async fn read_whole(
        &self,
        spreadsheet_id: &str,
        sheet: &str,
        key_columns: &[String],
        requests: &mut usize,
    ) -> Result<TabImage, SheetsError> {
        let spreadsheet = self
            .read_with_journal(
                spreadsheet_id,
                sheet,
                &[tab_range(sheet)],
                READ_FIELDS,
                requests,
            )
            .await?;
        Ok(TabImage::from_spreadsheet(
            spreadsheet,
            spreadsheet_id,
            sheet,
            key_columns,
        )?)
    }

    /// `ranges` of the tab and its whole journal in one request. A tab
    /// without a journal yet costs a second request, once: Google refuses
    /// the whole request for a missing range.
    async fn read_with_journal(
        &self,
        spreadsheet_id: &str,
        sheet: &str,
        ranges: &[String],
        fields: &str,
        requests: &mut usize,
    ) -> Result<Spreadsheet, SheetsError> {
        let mut with_journal = ranges.to_vec();
        with_journal.push(tab_range(&journal_title(sheet)));
        *requests += 1;
        if let Some(found) = self
            .get_ranges(spreadsheet_id, &with_journal, fields)
            .await?
        {
            return Ok(found);
        }
        *requests += 1;
        self.get_ranges(spreadsheet_id, ranges, fields)
            .await?
            .ok_or_else(|| {
                TabError::TabNotFound {
                    spreadsheet_id: spreadsheet_id.to_string(),
                    sheet: sheet.to_string(),
                }
                .into()
            })
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
