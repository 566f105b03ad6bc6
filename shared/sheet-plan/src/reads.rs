//! What a batch reads of its tab, in proportion to the change and not to
//! the tab. Pure: the ranges to ask for, and the image the answers make.
//!
//! 1. The **key read**, one `spreadsheets.get`: the header row, each key
//!    column below it, and the journal (the tab's watermark and the
//!    spreadsheet's zone and locale come with any read). That places every
//!    row by key: a 100,000-row tab with one key column is 100,000 cells,
//!    not 2,000,000.
//! 2. The **row read**, only when the batch writes rows already in the
//!    sheet: those rows in full, for the formulas a person typed there (the
//!    planner keeps a formula that already shows the table's value). It
//!    also reads their key cells again; a row that shows another key moved
//!    since the key read, and the key read is made again.
//!
//! A whole read (every cell) remains for what needs the tab's content, not
//! its keys: a repair (rows typed without a key are found by their
//! content), a schema change (a new column goes after the widest row), and
//! a tab without a header (only its cells tell an empty tab from one that
//! lacks a header).
//!
//! The key columns are located by name in the header, which the key read
//! itself reads: it asks for the columns where they were last seen (or the
//! first columns), and when the header shows them elsewhere it is made
//! again with the right ones.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value as Json;
use sheetsync_queue::{ChangeBatch, Op};
use sheetsync_reconcile::{Key, PgType};

use crate::TabError;
use crate::keys::{db_key, sheet_key};
use crate::tab::{TabImage, TabRow, cell_json, header_of, tab_range, tab_row};
use crate::wire::{GridData, Spreadsheet};

/// Ranges one row read asks for at most: each is a query parameter, and a
/// request URL must stay well under Google's limit. Rows past it are read
/// through the gaps between them (a few more rows, never more requests).
pub const MAX_ROW_RANGES: usize = 100;

/// What a key read showed.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRead {
    /// Header, keys and journal: every row placed; in full only the rows
    /// the read also asked for (`filled`).
    Keys {
        tab: Box<TabImage>,
        filled: BTreeSet<usize>,
    },
    /// The header shows the key columns at these grid columns, not at the
    /// ones read: read again there.
    KeysElsewhere(Vec<usize>),
    /// Row 1 is blank: a whole read tells an empty tab from one without a header.
    NoHeader,
}

/// The ranges of a key read of `sheet` with its key columns at `columns`:
/// the header row, then each key column from row 2 down.
pub fn key_ranges(sheet: &str, columns: &[usize]) -> Vec<String> {
    let tab = tab_range(sheet);
    let mut ranges = vec![format!("{tab}!1:1")];
    ranges.extend(columns.iter().map(|&c| {
        let letter = column_letter(c);
        format!("{tab}!{letter}2:{letter}")
    }));
    ranges
}

/// The ranges of a row read: runs of consecutive grid rows, whole width,
/// at most [`MAX_ROW_RANGES`] (the closest runs are read as one).
pub fn row_ranges(sheet: &str, rows: &BTreeSet<usize>) -> Vec<String> {
    let tab = tab_range(sheet);
    row_spans(rows)
        .into_iter()
        .map(|(first, last)| format!("{tab}!{}:{}", first + 1, last + 1))
        .collect()
}

/// Inclusive spans of grid rows covering `rows`, at most [`MAX_ROW_RANGES`].
fn row_spans(rows: &BTreeSet<usize>) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for &row in rows {
        match spans.last_mut() {
            Some((_, last)) if *last + 1 == row => *last = row,
            _ => spans.push((row, row)),
        }
    }
    if spans.len() > MAX_ROW_RANGES {
        // Merge across the smallest gaps: the fewest extra rows read.
        let mut gaps: Vec<usize> = spans.windows(2).map(|w| w[1].0 - w[0].1).collect();
        gaps.sort_unstable();
        let widest_merged = gaps[spans.len() - MAX_ROW_RANGES - 1];
        let mut merged: Vec<(usize, usize)> = Vec::new();
        let mut budget = spans.len() - MAX_ROW_RANGES;
        for span in spans {
            match merged.last_mut() {
                Some((_, last)) if budget > 0 && span.0 - *last <= widest_merged => {
                    *last = span.1;
                    budget -= 1;
                }
                _ => merged.push(span),
            }
        }
        spans = merged;
    }
    spans
}

/// A1 column letters of grid column `column` (0 → `A`, 26 → `AA`).
pub fn column_letter(column: usize) -> String {
    let mut n = column + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Whether `batches` change the table's columns: such a batch rewrites
/// whole columns, so it reads the whole tab and no keys first.
pub fn changes_schema(batches: &[&ChangeBatch]) -> bool {
    batches
        .iter()
        .flat_map(|b| b.changes.iter())
        .any(|c| matches!(c.op, Op::Schema(_)))
}

/// Whether the tab's journal, as a key read saw it, calls for a repair,
/// which compares every cell with what the writer last put there.
pub fn needs_repair(tab: &TabImage) -> bool {
    tab.journal
        .as_ref()
        .is_some_and(|j| !j.misplaced().is_empty())
}

/// The grid rows already in the sheet that `batches` write: rows whose key
/// an insert or update past the tab's watermark names.
pub fn rows_to_read(tab: &TabImage, batches: &[&ChangeBatch]) -> BTreeSet<usize> {
    let named = written_keys(batches, tab.watermark_seq());
    positions_of(tab, batches, named)
        .into_values()
        .flatten()
        .collect()
}

/// Where the keys `batches` write are in `tab`: the guess for the next
/// read of these batches, should they be read again before they land (a
/// retry, or a batch too large for one write read again in parts).
pub fn written_positions(tab: &TabImage, batches: &[&ChangeBatch]) -> KeyPositions {
    positions_of(tab, batches, written_keys(batches, i64::MIN))
}

/// The rows of `keys` in `tab`, without indexing the tab's other keys.
fn positions_of(tab: &TabImage, batches: &[&ChangeBatch], keys: Vec<Key>) -> KeyPositions {
    if keys.is_empty() {
        return KeyPositions::new();
    }
    let mut found: KeyPositions = keys.into_iter().map(|k| (k, Vec::new())).collect();
    let key_types = key_types(batches);
    for row in &tab.rows {
        if let Some(key) = sheet_key(&row.key_cells, &key_types, tab.settings())
            && let Some(rows) = found.get_mut(&key)
        {
            rows.push(row.row_index);
        }
    }
    found.retain(|_, rows| !rows.is_empty());
    found
}

/// Rows of a tab by key. Where a batch left them
/// ([`crate::Plan::positions_after`]) is the next batch's guess of its
/// rows: its key read reads them too, and needs no row read when they are
/// still there.
pub type KeyPositions = HashMap<Key, Vec<usize>>;

/// The rows `positions` saw the keys `batches` write at (whatever the
/// watermark, which only the read tells).
pub fn rows_last_seen(positions: &KeyPositions, batches: &[&ChangeBatch]) -> BTreeSet<usize> {
    rows_of(positions, &written_keys(batches, i64::MIN))
}

fn written_keys(batches: &[&ChangeBatch], after_seq: i64) -> Vec<Key> {
    batches
        .iter()
        .flat_map(|b| b.changes.iter())
        .filter(|c| c.seq > after_seq)
        .filter_map(|c| match &c.op {
            Op::Insert { key, .. } | Op::Update { key, .. } => Some(db_key(key)),
            _ => None,
        })
        .collect()
}

fn rows_of(positions: &KeyPositions, keys: &[Key]) -> BTreeSet<usize> {
    keys.iter()
        .filter_map(|k| positions.get(k))
        .flatten()
        .copied()
        .collect()
}

/// The key columns' names and types, as the batches' columns type them.
pub(crate) fn key_types<'a>(batches: &[&'a ChangeBatch]) -> Vec<(&'a str, PgType)> {
    let Some(first) = batches.first() else {
        return Vec::new();
    };
    let types: HashMap<&str, PgType> = batches
        .iter()
        .flat_map(|b| b.columns.iter())
        .map(|c| (c.name.as_str(), c.pg_type))
        .collect();
    first
        .key_columns
        .iter()
        .map(|k| {
            (
                k.as_str(),
                types.get(k.as_str()).copied().unwrap_or(PgType::Text),
            )
        })
        .collect()
}

/// The tab's rows by key (a key pasted twice is on several rows).
pub(crate) fn sheet_rows(tab: &TabImage, key_types: &[(&str, PgType)]) -> HashMap<Key, Vec<usize>> {
    let mut rows: HashMap<Key, Vec<usize>> = HashMap::new();
    for row in &tab.rows {
        if let Some(key) = sheet_key(&row.key_cells, key_types, tab.settings()) {
            rows.entry(key).or_default().push(row.row_index);
        }
    }
    rows
}

impl TabImage {
    /// Builds the image from a key read of `sheet` that asked for
    /// [`key_ranges`]`(sheet, columns)`, then [`row_ranges`]`(sheet, rows)`
    /// (rows where the batch's keys were last seen), and the journal.
    pub fn from_key_read(
        spreadsheet: Spreadsheet,
        spreadsheet_id: &str,
        sheet: &str,
        key_columns: &[String],
        columns: &[usize],
        rows: &BTreeSet<usize>,
    ) -> Result<KeyRead, TabError> {
        let (mut image, data) = TabImage::frame(spreadsheet, spreadsheet_id, sheet)?;
        let mut grids = data.into_iter();
        let header = grids.next().unwrap_or_default();
        expect_at(sheet, &header, 0, 0)?;
        image.header = header
            .row_data
            .first()
            .map(|row| header_of(header.start_column, row))
            .unwrap_or_default();
        if image.header.is_empty() {
            return Ok(KeyRead::NoHeader);
        }
        image.key_index = image.locate_keys(key_columns)?;
        if image.key_index != columns {
            return Ok(KeyRead::KeysElsewhere(image.key_index));
        }
        let key_grids: Vec<GridData> = grids.by_ref().take(columns.len()).collect();
        if key_grids.len() != columns.len() {
            return Err(TabError::UnexpectedRead {
                sheet: sheet.to_string(),
                reason: format!(
                    "{} key column ranges asked, {} answered",
                    columns.len(),
                    key_grids.len()
                ),
            });
        }
        for (grid, &column) in key_grids.iter().zip(columns) {
            expect_at(sheet, grid, 1, column)?;
        }
        let height = key_grids
            .iter()
            .map(|g| g.row_data.len())
            .max()
            .unwrap_or(0);
        image.row_end = 1 + height;
        image.rows = (0..height)
            .map(|offset| TabRow {
                row_index: 1 + offset,
                key_cells: key_grids
                    .iter()
                    .map(|g| {
                        g.row_data
                            .get(offset)
                            .and_then(|r| r.values.first())
                            .and_then(|c| c.effective_value.as_ref())
                            .map_or(Json::Null, cell_json)
                    })
                    .collect(),
                cells: Vec::new(),
                formulas: Vec::new(),
            })
            .collect();
        // One answer is one moment of the tab: these rows' keys are the
        // key columns' at the same rows.
        let row_grids: Vec<GridData> = grids.collect();
        image.fill(row_grids, rows)?;
        Ok(KeyRead::Keys {
            tab: Box::new(image),
            filled: rows.clone(),
        })
    }

    /// Fills in the rows a row read of `rows` ([`row_ranges`]) answered with.
    /// Returns false when one of them shows another key than the key read
    /// placed there: rows moved in between.
    pub fn fill_rows(
        &mut self,
        spreadsheet: Spreadsheet,
        rows: &BTreeSet<usize>,
    ) -> Result<bool, TabError> {
        let grids = spreadsheet
            .sheets
            .into_iter()
            .find(|s| s.properties.title == self.title)
            .map(|s| s.data)
            .unwrap_or_default();
        self.fill(grids, rows)
    }

    fn fill(&mut self, grids: Vec<GridData>, rows: &BTreeSet<usize>) -> Result<bool, TabError> {
        let title = self.title.clone();
        let spans = row_spans(rows);
        if grids.len() != spans.len() {
            return Err(TabError::UnexpectedRead {
                sheet: title,
                reason: format!("{} row ranges asked, {} answered", spans.len(), grids.len()),
            });
        }
        let mut same = true;
        for (grid, (first, last)) in grids.iter().zip(spans) {
            expect_at(&title, grid, first, 0)?;
            for row_index in first..=last {
                let read = grid
                    .row_data
                    .get(row_index - first)
                    .map(|r| tab_row(row_index, 0, r, &self.key_index));
                let Ok(at) = self.rows.binary_search_by_key(&row_index, |r| r.row_index) else {
                    // Past the last key the key read saw: a row that gained
                    // content since.
                    same &= read.is_none_or(|r| r.key_cells.iter().all(Json::is_null));
                    continue;
                };
                let read = read.unwrap_or_else(|| TabRow {
                    row_index,
                    key_cells: vec![Json::Null; self.key_index.len()],
                    cells: Vec::new(),
                    formulas: Vec::new(),
                });
                same &= read.key_cells == self.rows[at].key_cells;
                self.rows[at].cells = read.cells;
                self.rows[at].formulas = read.formulas;
            }
        }
        Ok(same)
    }
}

/// Checks that an answer's grid is the range asked for at that position:
/// grids come one per range, in the order asked.
fn expect_at(sheet: &str, grid: &GridData, row: usize, column: usize) -> Result<(), TabError> {
    if grid.start_row == row && grid.start_column == column {
        return Ok(());
    }
    Err(TabError::UnexpectedRead {
        sheet: sheet.to_string(),
        reason: format!(
            "expected a range at row {row}, column {column}; got row {}, column {}",
            grid.start_row, grid.start_column
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cell(v: &Json) -> Json {
        match v {
            Json::Null => json!({}),
            Json::String(s) => json!({"effectiveValue": {"stringValue": s}}),
            n => json!({"effectiveValue": {"numberValue": n}}),
        }
    }

    fn grid(start_row: usize, start_column: usize, rows: &[Vec<Json>]) -> Json {
        let rows: Vec<Json> = rows
            .iter()
            .map(|r| json!({"values": r.iter().map(cell).collect::<Vec<_>>()}))
            .collect();
        json!({"startRow": start_row, "startColumn": start_column, "rowData": rows})
    }

    fn answer(grids: Vec<Json>) -> Spreadsheet {
        serde_json::from_value(json!({"sheets": [
            {"properties": {"sheetId": 9, "title": "Orders", "gridProperties": {"rowCount": 100, "columnCount": 4}},
             "developerMetadata": [{"metadataId": 6, "metadataKey": "sheetsync.watermark", "metadataValue": "41"}],
             "data": grids}]}))
        .unwrap()
    }

    fn header() -> Json {
        grid(0, 0, &[vec![json!("name"), json!("id"), json!("qty")]])
    }

    fn keys(read: KeyRead) -> (TabImage, BTreeSet<usize>) {
        match read {
            KeyRead::Keys { tab, filled } => (*tab, filled),
            other => panic!("expected keys, got {other:?}"),
        }
    }

    #[test]
    fn ranges_name_the_header_key_columns_and_row_runs() {
        assert_eq!(
            key_ranges("It's", &[1, 27]),
            vec!["'It''s'!1:1", "'It''s'!B2:B", "'It''s'!AB2:AB"]
        );
        let rows: BTreeSet<usize> = [4, 5, 6, 9].into();
        assert_eq!(row_ranges("T", &rows), vec!["'T'!5:7", "'T'!10:10"]);
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn many_scattered_rows_are_read_in_at_most_max_ranges_across_the_smallest_gaps() {
        // 150 rows 10 apart, one of them with a neighbour 2 below, and one
        // far away: 152 runs, 52 merged. The gap of 1000 is never read.
        let mut rows: BTreeSet<usize> = (0..150).map(|i| 10 + i * 10).collect();
        rows.insert(12);
        rows.insert(2_500);
        let spans = row_spans(&rows);
        assert_eq!(spans.len(), MAX_ROW_RANGES);
        assert!(
            rows.iter()
                .all(|r| spans.iter().any(|(a, b)| a <= r && r <= b))
        );
        let read: usize = spans.iter().map(|(a, b)| b - a + 1).sum();
        // the rows, and the rows inside the 52 smallest gaps (1, 7, 50 × 9)
        assert_eq!(read, 152 + 1 + 7 + 50 * 9);
        assert_eq!(spans.last(), Some(&(2_500, 2_500)));
    }

    #[test]
    fn a_key_read_places_rows_by_the_key_column_only() {
        let read = answer(vec![
            header(),
            grid(1, 1, &[vec![json!(7)], vec![], vec![json!("8")]]),
        ]);
        let (tab, filled) = keys(
            TabImage::from_key_read(read, "S", "Orders", &["id".into()], &[1], &BTreeSet::new())
                .unwrap(),
        );
        assert!(filled.is_empty());
        assert_eq!(tab.key_index, vec![1]);
        assert_eq!(tab.watermark_seq(), 41);
        assert_eq!(tab.header_row(), 0);
        let placed: Vec<(usize, Vec<Json>)> = tab
            .rows
            .iter()
            .map(|r| (r.row_index, r.key_cells.clone()))
            .collect();
        assert_eq!(
            placed,
            vec![
                (1, vec![json!(7)]),
                (2, vec![Json::Null]),
                (3, vec![json!("8")])
            ]
        );
        assert!(tab.rows.iter().all(|r| r.cells.is_empty()));
    }

    #[test]
    fn a_key_read_of_the_wrong_columns_says_where_the_keys_are() {
        let read = answer(vec![header(), grid(1, 0, &[vec![json!("Ada")]])]);
        let found =
            TabImage::from_key_read(read, "S", "Orders", &["id".into()], &[0], &BTreeSet::new());
        assert_eq!(found.unwrap(), KeyRead::KeysElsewhere(vec![1]));
        let blank = answer(vec![grid(0, 0, &[]), grid(1, 0, &[])]);
        let found =
            TabImage::from_key_read(blank, "S", "Orders", &["id".into()], &[0], &BTreeSet::new());
        assert_eq!(found.unwrap(), KeyRead::NoHeader);
    }

    #[test]
    fn an_answer_out_of_the_order_asked_is_refused() {
        let read = answer(vec![grid(1, 1, &[vec![json!(7)]]), header()]);
        let err =
            TabImage::from_key_read(read, "S", "Orders", &["id".into()], &[1], &BTreeSet::new())
                .unwrap_err();
        assert!(matches!(err, TabError::UnexpectedRead { .. }), "{err}");
    }

    #[test]
    fn rows_read_with_the_keys_are_filled_and_checked() {
        let rows: BTreeSet<usize> = [2].into();
        let read = answer(vec![
            header(),
            grid(1, 1, &[vec![json!(7)], vec![json!(8)]]),
            grid(2, 0, &[vec![json!("Bo"), json!(8), json!(3)]]),
        ]);
        let (mut tab, filled) = keys(
            TabImage::from_key_read(read, "S", "Orders", &["id".into()], &[1], &rows).unwrap(),
        );
        assert_eq!(filled, rows);
        assert_eq!(
            tab.row(2).unwrap().cells,
            vec![json!("Bo"), json!(8), json!(3)]
        );
        assert!(tab.row(1).unwrap().cells.is_empty());
        // A later row read that finds another key there: rows moved.
        let moved = answer(vec![grid(1, 0, &[vec![json!("Cy"), json!(9)]])]);
        let first: BTreeSet<usize> = [1].into();
        assert!(!tab.fill_rows(moved, &first).unwrap());
        let same = answer(vec![grid(1, 0, &[vec![json!("Ada"), json!(7), json!(1)]])]);
        assert!(tab.fill_rows(same, &first).unwrap());
        assert_eq!(
            tab.row(1).unwrap().cells,
            vec![json!("Ada"), json!(7), json!(1)]
        );
    }
}
