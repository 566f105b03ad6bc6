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
    /// The last read found no journal: the tab's next shared key read does
    /// not ask for it (a missing range makes Google refuse the request).
    journal_missing: bool,
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

    /// Another writer may have made a journal this one thinks missing:
    /// after a refused write, every journal of the spreadsheet is asked for
    /// again.
    pub(crate) fn forget_missing_journals(&self, spreadsheet_id: &str) {
        if let Ok(mut tabs) = self.0.lock() {
            for ((id, _), seen) in tabs.iter_mut() {
                if id == spreadsheet_id {
                    seen.journal_missing = false;
                }
            }
        }
    }
}

/// One tab's share of a spreadsheet's batch: what [`SheetsClient::read_for_tabs`] reads.
#[derive(Debug, Clone, Copy)]
pub struct TabBatches<'a> {
    pub sheet: &'a str,
    pub key_columns: &'a [String],
    pub batches: &'a [&'a ChangeBatch],
}

/// A tab being read for its batches.
struct Tab<'a> {
    spreadsheet_id: &'a str,
    sheet: &'a str,
    key_columns: &'a [String],
    batches: &'a [&'a ChangeBatch],
}

impl Tab<'_> {
    fn not_found(&self) -> SheetsError {
        TabError::TabNotFound {
            spreadsheet_id: self.spreadsheet_id.to_string(),
            sheet: self.sheet.to_string(),
        }
        .into()
    }
}

/// Where a key read looks: the key columns, and rows to read whole.
struct KeyGuess {
    columns: Vec<usize>,
    rows: BTreeSet<usize>,
}

impl KeyGuess {
    fn ranges(&self, sheet: &str) -> Vec<String> {
        let mut ranges = key_ranges(sheet, &self.columns);
        ranges.extend(row_ranges(sheet, &self.rows));
        ranges
    }
}

/// What a key read calls for next.
enum AfterKeys {
    /// The image holds every row the batches need.
    Done(TabImage),
    /// These rows still need reading whole.
    Rows(TabImage, BTreeSet<usize>),
    /// The keys again, there: the key columns moved, or a row last seen
    /// is gone.
    Again(KeyGuess),
    /// The whole tab: it needs repair, has no header, or keeps moving.
    Whole,
}

/// One answer for several tabs as one answer per tab (each with its
/// journal), in the order of `sheets`.
fn split_by_tab<'a>(
    answer: Spreadsheet,
    sheets: impl Iterator<Item = &'a str>,
) -> Vec<Spreadsheet> {
    let sheets: Vec<&str> = sheets.collect();
    let mut parts: Vec<Spreadsheet> = sheets
        .iter()
        .map(|_| Spreadsheet {
            properties: answer.properties.clone(),
            sheets: Vec::new(),
        })
        .collect();
    for found in answer.sheets {
        let title = &found.properties.title;
        let owner = sheets
            .iter()
            .position(|s| s == title || journal_title(s) == *title);
        if let Some(i) = owner {
            parts[i].sheets.push(found);
        }
    }
    parts
}

impl SheetsClient {
    /// Records where a landed batch left each key of the tab
    /// ([`sheetsync_sheet_plan::Plan::positions_after`]), for the next
    /// batch's key read to read its rows there.
    pub fn remember_positions(&self, spreadsheet_id: &str, sheet: &str, positions: KeyPositions) {
        let mut seen = self.tabs_seen.get(spreadsheet_id, sheet);
        seen.rows = std::sync::Arc::new(positions);
        // A landed batch made the journal if the tab had none.
        seen.journal_missing = false;
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
        let tab = Tab {
            spreadsheet_id,
            sheet,
            key_columns,
            batches,
        };
        let Some(mut guess) = self.first_guess(&tab) else {
            return self
                .read_whole(spreadsheet_id, sheet, key_columns, requests)
                .await;
        };
        let mut key_reads = 0;
        loop {
            let answer = self
                .read_with_journal(
                    spreadsheet_id,
                    sheet,
                    &guess.ranges(sheet),
                    READ_FIELDS,
                    requests,
                )
                .await;
            key_reads += 1;
            let (mut image, rows) = match self.after_key_read(&tab, guess, answer, key_reads)? {
                AfterKeys::Done(image) => return Ok(image),
                AfterKeys::Rows(image, rows) => (image, rows),
                AfterKeys::Again(next) => {
                    guess = next;
                    continue;
                }
                AfterKeys::Whole => {
                    return self
                        .read_whole(spreadsheet_id, sheet, key_columns, requests)
                        .await;
                }
            };
            *requests += 1;
            let answer = self
                .get_ranges(spreadsheet_id, &row_ranges(sheet, &rows), ROW_FIELDS)
                .await?
                .ok_or_else(|| tab.not_found())?;
            if image.fill_rows(answer, &rows)? || key_reads == KEY_READS {
                return Ok(image);
            }
            tracing::debug!(
                spreadsheet_id,
                sheet,
                key_reads,
                "rows moved between the key read and the row read; reading the keys again"
            );
            guess = KeyGuess {
                columns: image.key_index.clone(),
                rows: BTreeSet::new(),
            };
        }
    }

    /// Reads what each tab's `batches` need, as [`read_for_batch`] does,
    /// with the key reads of every tab in one request and the rows they
    /// write in a second one when the first did not hold them: a
    /// spreadsheet's tabs cost one or two reads together, not one or two
    /// each. A tab that needs more (its keys moved, a repair, a schema
    /// change) is read on its own. `Err` when a shared request failed; else
    /// one image or error per tab.
    ///
    /// [`read_for_batch`]: SheetsClient::read_for_batch
    pub async fn read_for_tabs(
        &self,
        spreadsheet_id: &str,
        tabs: &[TabBatches<'_>],
        requests: &mut usize,
    ) -> Result<Vec<Result<TabImage, SheetsError>>, SheetsError> {
        let tabs: Vec<Tab> = tabs
            .iter()
            .map(|t| Tab {
                spreadsheet_id,
                sheet: t.sheet,
                key_columns: t.key_columns,
                batches: t.batches,
            })
            .collect();
        let mut guesses: Vec<Option<KeyGuess>> = tabs.iter().map(|t| self.first_guess(t)).collect();
        let mut found: Vec<Option<Result<TabImage, SheetsError>>> =
            tabs.iter().map(|_| None).collect();
        if guesses.iter().flatten().count() > 1
            && let Some(answer) = self.shared_key_read(&tabs, &guesses, requests).await?
        {
            let mut row_reads: Vec<(usize, TabImage, BTreeSet<usize>)> = Vec::new();
            let answers = split_by_tab(answer, tabs.iter().map(|t| t.sheet));
            for (i, answer) in answers.into_iter().enumerate() {
                let Some(guess) = guesses[i].take() else {
                    continue;
                };
                match self.after_key_read(&tabs[i], guess, Ok(answer), 1) {
                    Ok(AfterKeys::Done(image)) => found[i] = Some(Ok(image)),
                    Ok(AfterKeys::Rows(image, rows)) => row_reads.push((i, image, rows)),
                    Ok(AfterKeys::Again(_) | AfterKeys::Whole) => {}
                    Err(error) => found[i] = Some(Err(error)),
                }
            }
            if !row_reads.is_empty() {
                let ranges: Vec<String> = row_reads
                    .iter()
                    .flat_map(|(i, _, rows)| row_ranges(tabs[*i].sheet, rows))
                    .collect();
                *requests += 1;
                if let Some(answer) = self.get_ranges(spreadsheet_id, &ranges, ROW_FIELDS).await? {
                    let sheets = row_reads.iter().map(|(i, _, _)| tabs[*i].sheet);
                    let answers = split_by_tab(answer, sheets);
                    for ((i, mut image, rows), answer) in row_reads.into_iter().zip(answers) {
                        match image.fill_rows(answer, &rows) {
                            Ok(true) => found[i] = Some(Ok(image)),
                            // Rows moved since the key read: read on its own.
                            Ok(false) => {}
                            Err(error) => found[i] = Some(Err(error.into())),
                        }
                    }
                }
            }
        }
        let mut images = Vec::with_capacity(tabs.len());
        for (tab, found) in tabs.iter().zip(found) {
            images.push(match found {
                Some(image) => image,
                None => {
                    self.read_for_batch(
                        spreadsheet_id,
                        tab.sheet,
                        tab.key_columns,
                        tab.batches,
                        requests,
                    )
                    .await
                }
            });
        }
        Ok(images)
    }

    /// The key reads of several tabs (each with its journal) as one
    /// request. A tab without a journal yet (its first batch) or a tab gone
    /// makes Google refuse the request: one small read of the titles, then
    /// the key read again without them, rather than a refused read per tab.
    /// Journals known missing are not asked for (a journal another writer
    /// made meanwhile makes this writer's own refused: `batch_update`
    /// forgets them then). `None` when the tabs are better read each on
    /// its own.
    async fn shared_key_read(
        &self,
        tabs: &[Tab<'_>],
        guesses: &[Option<KeyGuess>],
        requests: &mut usize,
    ) -> Result<Option<Spreadsheet>, SheetsError> {
        let spreadsheet_id = tabs[0].spreadsheet_id;
        let ranges = |exists: &dyn Fn(&str) -> bool| {
            let mut ranges = Vec::new();
            for (tab, guess) in tabs.iter().zip(guesses) {
                if let Some(guess) = guess
                    && exists(tab.sheet)
                {
                    ranges.extend(guess.ranges(tab.sheet));
                    let journal = journal_title(tab.sheet);
                    if exists(&journal) {
                        ranges.push(tab_range(&journal));
                    }
                }
            }
            ranges
        };
        let outside_grid = |error: &SheetsError| {
            matches!(error, SheetsError::Rejected { status: 400, message }
                if message.contains("exceeds grid limits"))
        };
        let missing: Vec<String> = tabs
            .iter()
            .filter(|t| self.tabs_seen.get(spreadsheet_id, t.sheet).journal_missing)
            .map(|t| journal_title(t.sheet))
            .collect();
        *requests += 1;
        match self
            .get_ranges(
                spreadsheet_id,
                &ranges(&|title| !missing.iter().any(|m| m == title)),
                READ_FIELDS,
            )
            .await
        {
            Ok(Some(answer)) => return Ok(Some(answer)),
            Ok(None) => {}
            // A row last seen lies below a tab's end: each tab's own read
            // finds which.
            Err(error) if outside_grid(&error) => return Ok(None),
            Err(error) => return Err(error),
        }
        *requests += 1;
        let titles = self.sheet_titles(spreadsheet_id).await?;
        let exists = |title: &str| titles.iter().any(|t| t == title);
        for title in &titles {
            if !exists(&journal_title(title)) {
                let mut seen = self.tabs_seen.get(spreadsheet_id, title);
                seen.journal_missing = true;
                self.tabs_seen.set(spreadsheet_id, title, seen);
            }
        }
        *requests += 1;
        match self
            .get_ranges(spreadsheet_id, &ranges(&exists), READ_FIELDS)
            .await
        {
            Ok(answer) => Ok(answer),
            Err(error) if outside_grid(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The titles of the spreadsheet's tabs.
    async fn sheet_titles(&self, spreadsheet_id: &str) -> Result<Vec<String>, SheetsError> {
        let path = format!(
            "v4/spreadsheets/{}?fields={}",
            encode(spreadsheet_id),
            encode("sheets(properties(title))")
        );
        let answer: Spreadsheet = self.get_json(&path, spreadsheet_id).await?;
        Ok(answer
            .sheets
            .into_iter()
            .map(|s| s.properties.title)
            .collect())
    }

    /// Where the first key read of a tab looks: the key columns and the
    /// batches' rows where this client last saw them. `None` when the
    /// batches change the schema, which needs the whole tab.
    fn first_guess(&self, tab: &Tab) -> Option<KeyGuess> {
        if changes_schema(tab.batches) {
            return None;
        }
        let seen = self.tabs_seen.get(tab.spreadsheet_id, tab.sheet);
        let columns = if seen.columns.len() == tab.key_columns.len() {
            seen.columns
        } else {
            (0..tab.key_columns.len()).collect()
        };
        let rows = rows_last_seen(&seen.rows, tab.batches);
        Some(KeyGuess { columns, rows })
    }

    /// What a tab's key read (the `key_reads`th) calls for next.
    fn after_key_read(
        &self,
        tab: &Tab,
        guess: KeyGuess,
        answer: Result<Spreadsheet, SheetsError>,
        key_reads: usize,
    ) -> Result<AfterKeys, SheetsError> {
        let spreadsheet = match answer {
            // The tab shrank below a row last seen, or its grid is
            // narrower than the columns asked for.
            Err(SheetsError::Rejected {
                status: 400,
                message,
            }) if message.contains("exceeds grid limits") => {
                if guess.rows.is_empty() {
                    return Ok(AfterKeys::Whole);
                }
                return Ok(AfterKeys::Again(KeyGuess {
                    columns: guess.columns,
                    rows: BTreeSet::new(),
                }));
            }
            other => other?,
        };
        let read = TabImage::from_key_read(
            spreadsheet,
            tab.spreadsheet_id,
            tab.sheet,
            tab.key_columns,
            &guess.columns,
            &guess.rows,
        )?;
        let (image, filled) = match read {
            KeyRead::Keys { tab, filled } => (*tab, filled),
            KeyRead::KeysElsewhere(at) if key_reads < KEY_READS => {
                return Ok(AfterKeys::Again(KeyGuess {
                    columns: at,
                    rows: BTreeSet::new(),
                }));
            }
            // A person keeps moving the key columns: read everything.
            KeyRead::KeysElsewhere(_) | KeyRead::NoHeader => return Ok(AfterKeys::Whole),
        };
        if needs_repair(&image) {
            return Ok(AfterKeys::Whole);
        }
        // Only the batches' own keys until they land: a retry reads
        // their rows at once. Every key is remembered once the batch
        // lands (`remember_positions`); holding them all meanwhile
        // would keep a second copy beside the planner's.
        self.tabs_seen.set(
            tab.spreadsheet_id,
            tab.sheet,
            Seen {
                columns: guess.columns,
                rows: std::sync::Arc::new(written_positions(&image, tab.batches)),
                journal_missing: image.journal.is_none(),
            },
        );
        let rows: BTreeSet<usize> = rows_to_read(&image, tab.batches)
            .difference(&filled)
            .copied()
            .collect();
        if rows.is_empty() {
            Ok(AfterKeys::Done(image))
        } else {
            Ok(AfterKeys::Rows(image, rows))
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
