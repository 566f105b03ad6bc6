//! In-memory spreadsheets: tabs with a grid size and sparse rows of cells.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::a1::{self, A1Range, CellRange};
use crate::cell::Cell;
use crate::error::ApiError;
use crate::metadata::DeveloperMetadata;

pub const DEFAULT_ROWS: usize = 1000;
pub const DEFAULT_COLUMNS: usize = 26;
/// Google's limit of cells per spreadsheet.
pub const MAX_CELLS: usize = 10_000_000;

static BLANK: Cell = Cell {
    value: crate::cell::CellValue::Empty,
    format: None,
    note: None,
};

#[derive(Default)]
pub struct Store {
    pub spreadsheets: BTreeMap<String, Spreadsheet>,
    created: u64,
}

impl Store {
    pub fn get(&self, id: &str) -> Result<&Spreadsheet, ApiError> {
        self.spreadsheets.get(id).ok_or_else(ApiError::not_found)
    }

    pub fn get_mut(&mut self, id: &str) -> Result<&mut Spreadsheet, ApiError> {
        self.spreadsheets
            .get_mut(id)
            .ok_or_else(ApiError::not_found)
    }

    /// The spreadsheet, created empty (no tabs) if missing.
    pub fn ensure(&mut self, id: &str) -> &mut Spreadsheet {
        self.spreadsheets
            .entry(id.to_string())
            .or_insert_with(|| Spreadsheet::new(id, "Untitled spreadsheet"))
    }

    /// An id for `spreadsheets.create`, shaped like Google's (44 URL-safe characters).
    pub fn new_id(&mut self) -> String {
        self.created += 1;
        let seed = format!(
            "{:016x}{:016x}",
            self.created,
            self.created.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        );
        let mut id = format!("1emu{seed}");
        while id.len() < 44 {
            id.push('x');
        }
        id
    }
}

#[derive(Clone, Debug)]
pub struct Spreadsheet {
    pub id: String,
    pub title: String,
    pub sheets: Vec<Sheet>,
    pub metadata: Vec<DeveloperMetadata>,
    /// `properties.timeZone`: the IANA zone of date-time cells' wall clocks.
    pub time_zone: String,
    /// `properties.locale` (`de_DE`): how people write numbers and dates.
    pub locale: String,
    next_sheet_id: i64,
    next_metadata_id: i32,
}

impl Spreadsheet {
    pub fn new(id: &str, title: &str) -> Self {
        Spreadsheet {
            id: id.to_string(),
            title: title.to_string(),
            sheets: Vec::new(),
            metadata: Vec::new(),
            time_zone: crate::time_zone::DEFAULT_TIME_ZONE.to_string(),
            locale: "en_US".to_string(),
            next_sheet_id: 0,
            next_metadata_id: 1,
        }
    }

    /// Sheet ids as Google hands them out: 0 for the first, large arbitrary numbers after.
    pub fn allocate_sheet_id(&mut self) -> i32 {
        loop {
            let id = self.next_sheet_id as i32;
            self.next_sheet_id = (self.next_sheet_id + 271_828_183) % 2_000_000_000;
            if self.sheet_by_id(id).is_none() {
                return id;
            }
        }
    }

    pub fn allocate_metadata_id(&mut self) -> i32 {
        loop {
            let id = self.next_metadata_id;
            self.next_metadata_id += 1;
            if !self.metadata.iter().any(|m| m.metadata_id == id) {
                return id;
            }
        }
    }

    pub fn sheet_by_id(&self, id: i32) -> Option<&Sheet> {
        self.sheets.iter().find(|s| s.id == id)
    }

    pub fn sheet_by_title(&self, title: &str) -> Option<&Sheet> {
        // Google matches tab titles case-insensitively in ranges.
        self.sheets.iter().find(|s| s.title == title).or_else(|| {
            self.sheets
                .iter()
                .find(|s| s.title.eq_ignore_ascii_case(title))
        })
    }

    pub fn sheet_index_by_title(&self, title: &str) -> Option<usize> {
        let sheet = self.sheet_by_title(title)?;
        self.sheets.iter().position(|s| s.id == sheet.id)
    }

    /// Adds a tab at `index` (end when `None`) and returns its position.
    pub fn add_sheet(&mut self, sheet: Sheet, index: Option<usize>) -> usize {
        let position = index.unwrap_or(self.sheets.len()).min(self.sheets.len());
        self.sheets.insert(position, sheet);
        position
    }

    pub fn total_cells(&self) -> usize {
        self.sheets
            .iter()
            .map(|s| s.row_count * s.column_count)
            .sum()
    }

    /// Resolves A1 text to a tab position and bounds, as values.* and `ranges=` do.
    pub fn resolve(&self, text: &str) -> Result<Resolved, ApiError> {
        let unparsable = || ApiError::invalid_argument(format!("Unable to parse range: {text}"));
        let range = a1::parse(text).ok_or_else(unparsable)?;
        let A1Range {
            sheet,
            cells,
            ambiguous,
        } = range;
        let (index, cells) = match (sheet, ambiguous) {
            (Some(title), true) => match self.sheet_index_by_title(&title) {
                Some(index) => (index, None),
                None if cells.is_some() && !self.sheets.is_empty() => (0, cells),
                None => return Err(unparsable()),
            },
            (Some(title), false) => (
                self.sheet_index_by_title(&title).ok_or_else(unparsable)?,
                cells,
            ),
            (None, _) => return Err(unparsable()),
        };
        let sheet = &self.sheets[index];
        let cells = cells.unwrap_or(CellRange {
            start_row: 0,
            end_row: None,
            start_col: 0,
            end_col: None,
        });
        Ok(Resolved {
            sheet: index,
            start_row: cells.start_row,
            end_row: cells
                .end_row
                .unwrap_or(sheet.row_count.max(cells.start_row + 1)),
            start_col: cells.start_col,
            end_col: cells
                .end_col
                .unwrap_or(sheet.column_count.max(cells.start_col + 1)),
            open_rows: cells.end_row.is_none(),
        })
    }
}

/// A resolved range: tab position and zero-based, end-exclusive bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub sheet: usize,
    pub start_row: usize,
    pub end_row: usize,
    pub start_col: usize,
    pub end_col: usize,
    /// The range had no end row (`A2:C`), so it follows the grid's height.
    pub open_rows: bool,
}

impl Resolved {
    pub fn a1(&self, title: &str) -> String {
        a1::format_range(
            title,
            self.start_row,
            self.end_row,
            self.start_col,
            self.end_col,
        )
    }

    /// Google's error for a range outside the tab's grid.
    pub fn check_within(&self, sheet: &Sheet) -> Result<(), ApiError> {
        if self.end_row > sheet.row_count || self.end_col > sheet.column_count {
            return Err(grid_limit_error(
                sheet,
                self.start_row,
                self.end_row,
                self.start_col,
                self.end_col,
            ));
        }
        Ok(())
    }
}

pub fn grid_limit_error(
    sheet: &Sheet,
    start_row: usize,
    end_row: usize,
    start_col: usize,
    end_col: usize,
) -> ApiError {
    ApiError::invalid_argument(format!(
        "Range ({}!{}) exceeds grid limits. Max rows: {}, max columns: {}",
        a1::always_quoted(&sheet.title),
        a1::cells_text(start_row, end_row, start_col, end_col),
        sheet.row_count,
        sheet.column_count
    ))
}

/// A stored row, shared between a spreadsheet and the copy an API write
/// works on (`Shared::mutate`): a write copies the rows it changes, not
/// the tab (a one-cell write to a 100,000 × 20 tab copied 2 million cells).
pub type Row = Arc<Vec<Cell>>;

#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub id: i32,
    pub title: String,
    pub row_count: usize,
    pub column_count: usize,
    pub frozen_row_count: usize,
    pub frozen_column_count: usize,
    pub hidden: bool,
    /// Rows as stored; rows and cells past the ends are blank.
    pub rows: Vec<Row>,
}

impl Sheet {
    pub fn new(id: i32, title: &str) -> Self {
        Sheet {
            id,
            title: title.to_string(),
            row_count: DEFAULT_ROWS,
            column_count: DEFAULT_COLUMNS,
            frozen_row_count: 0,
            frozen_column_count: 0,
            hidden: false,
            rows: Vec::new(),
        }
    }

    pub fn cell(&self, row: usize, col: usize) -> &Cell {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .unwrap_or(&BLANK)
    }

    pub fn cell_mut(&mut self, row: usize, col: usize) -> &mut Cell {
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, Row::default);
        }
        let cells = Arc::make_mut(&mut self.rows[row]);
        if cells.len() <= col {
            cells.resize_with(col + 1, Cell::default);
        }
        &mut cells[col]
    }

    /// The stored rows as plain cells (for edits from outside the API).
    pub fn cells(&self) -> Vec<Vec<Cell>> {
        self.rows.iter().map(|row| row.to_vec()).collect()
    }

    pub fn set_cells(&mut self, cells: Vec<Vec<Cell>>) {
        self.rows = cells.into_iter().map(Arc::new).collect();
    }

    /// Drops trailing blank cells and rows so storage stays proportional to content.
    pub fn compact(&mut self) {
        for row in &mut self.rows {
            if row.last().is_some_and(Cell::is_blank) {
                let cells = Arc::make_mut(row);
                while cells.last().is_some_and(Cell::is_blank) {
                    cells.pop();
                }
            }
        }
        while self.rows.last().is_some_and(|row| row.is_empty()) {
            self.rows.pop();
        }
    }

    /// Index of the last row holding a value, within columns `cols` when given.
    pub fn last_value_row(&self, cols: Option<(usize, usize)>) -> Option<usize> {
        self.rows.iter().rposition(|row| {
            row.iter().enumerate().any(|(c, cell)| {
                cell.value != crate::cell::CellValue::Empty
                    && cols.is_none_or(|(start, end)| c >= start && c < end)
            })
        })
    }

    /// Grows the grid to hold at least `rows` x `cols`.
    pub fn grow_to(&mut self, rows: usize, cols: usize) {
        self.row_count = self.row_count.max(rows);
        self.column_count = self.column_count.max(cols);
    }

    pub fn insert_rows(&mut self, at: usize, count: usize) {
        if at < self.rows.len() {
            self.rows
                .splice(at..at, std::iter::repeat_with(Row::default).take(count));
        }
        self.row_count += count;
    }

    pub fn delete_rows(&mut self, start: usize, end: usize) {
        let stored_end = end.min(self.rows.len());
        if start < stored_end {
            self.rows.drain(start..stored_end);
        }
        self.row_count -= end - start;
    }

    pub fn insert_columns(&mut self, at: usize, count: usize) {
        for row in &mut self.rows {
            if at < row.len() {
                Arc::make_mut(row)
                    .splice(at..at, std::iter::repeat_with(Cell::default).take(count));
            }
        }
        self.column_count += count;
    }

    pub fn delete_columns(&mut self, start: usize, end: usize) {
        for row in &mut self.rows {
            let stored_end = end.min(row.len());
            if start < stored_end {
                Arc::make_mut(row).drain(start..stored_end);
            }
        }
        self.column_count -= end - start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spreadsheet() -> Spreadsheet {
        let mut s = Spreadsheet::new("id", "t");
        let first = s.allocate_sheet_id();
        s.add_sheet(Sheet::new(first, "Sheet1"), None);
        let second = s.allocate_sheet_id();
        s.add_sheet(Sheet::new(second, "My Tab"), None);
        s
    }

    #[test]
    fn resolves_ranges_against_tabs() {
        let s = spreadsheet();
        let r = s.resolve("'My Tab'!A2:C").unwrap();
        assert_eq!(
            (r.sheet, r.start_row, r.end_row, r.start_col, r.end_col),
            (1, 1, 1000, 0, 3)
        );
        assert_eq!(r.a1("My Tab"), "'My Tab'!A2:C1000");
        let r = s.resolve("Sheet1").unwrap();
        assert_eq!(r.a1("Sheet1"), "Sheet1!A1:Z1000");
        let r = s.resolve("B2").unwrap();
        assert_eq!((r.sheet, r.a1("Sheet1")), (0, "Sheet1!B2".to_string()));
        let r = s.resolve("my tab!A1").unwrap();
        assert_eq!(r.sheet, 1);
        assert_eq!(
            s.resolve("Nope!A1").unwrap_err().message,
            "Unable to parse range: Nope!A1"
        );
        assert_eq!(s.resolve("Nope").unwrap_err().code, 400);
        let far = s.resolve("Sheet1!A1:AA1").unwrap();
        assert_eq!(
            far.check_within(&s.sheets[0]).unwrap_err().message,
            "Range ('Sheet1'!A1:AA1) exceeds grid limits. Max rows: 1000, max columns: 26"
        );
    }

    #[test]
    fn rows_and_columns_shift() {
        let mut sheet = Sheet::new(0, "S");
        for r in 0..4 {
            *sheet.cell_mut(r, 0) = Cell::number(r as f64);
        }
        sheet.delete_rows(1, 3);
        assert_eq!(sheet.cell(1, 0), &Cell::number(3.0));
        assert_eq!(sheet.row_count, 998);
        sheet.insert_rows(1, 2);
        assert_eq!(sheet.cell(3, 0), &Cell::number(3.0));
        assert_eq!(sheet.row_count, 1000);
        sheet.insert_columns(0, 1);
        assert_eq!(sheet.cell(0, 1), &Cell::number(0.0));
        sheet.delete_columns(0, 1);
        assert_eq!(sheet.cell(0, 0), &Cell::number(0.0));
        *sheet.cell_mut(9, 5) = Cell::default();
        sheet.compact();
        assert_eq!(sheet.rows.len(), 4);
        assert_eq!(sheet.last_value_row(None), Some(3));
        assert_eq!(sheet.last_value_row(Some((1, 3))), None);
    }
}
