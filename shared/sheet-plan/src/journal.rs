//! The journal: how a batch proves where its rows landed.
//!
//! The Sheets API has no compare-and-set: `updateCells` and
//! `deleteDimension` take row indexes, and a person may sort, insert, delete
//! or drag rows between the writer's read and its write. So every batch
//! also copies each row it writes or removes into a hidden journal tab, in
//! the same atomic `batchUpdate`: the row as it was just before the write
//! (and, for a write, just after it), beside the key the writer meant to
//! touch. The batch's answer carries the journal back, so the writer knows
//! at once whether each write landed on its row, and the copies are what a
//! misplaced write is repaired from ([`crate::repair`]).
//!
//! The journal is also the tab's evidence for everyone else. While it shows
//! a misplaced row, the tab's cells and keys cannot be judged (a row may be
//! missing that nobody deleted, or hold another row's values): the Apps
//! Script marks its requests `unsettled` and the webhook makes no
//! destructive decision from them. The writer rewrites the journal on every
//! batch, so its generation also tells a reader whether a batch landed
//! while it read the tab.
//!
//! A repair's own write can miss too (rows kept moving). So the damage a
//! repair is undoing is carried into the repair's journal, linked to the
//! write that undoes it: it counts as repaired only once that write landed,
//! and until then the next round undoes it again. Damage is never dropped
//! from the record by a later batch.
//!
//! Layout (row 0 the header, then one row per touched row, then the
//! carried damage):
//!
//! | column | header row | entry row |
//! |---|---|---|
//! | A | `sheetsync journal v1` | `update`, `delete`, `fix`, `restore` or `carried` |
//! | B | generation | the expected cells, as JSON text |
//! | C | watermark before the batch | grid row the write addressed |
//! | D | watermark stamped | carried: the entry whose write undoes it; update: the grid columns it writes, JSON |
//! | E | key columns' grid indexes, JSON | the row before the write (`width` cells) … |
//! | F | `width` | … then after it (writes only) |

use serde_json::Value as Json;

use crate::tab::cell_json;
use crate::wire::{
    AppendCells, CellData, ClearCells, CopyPaste, ExtendedValue, GridProperties, GridRange,
    ReadCell, Request, RowData, Sheet, SheetGrid, UpdateSheetProperties,
};

pub const MARK: &str = "sheetsync journal v1";
/// Columns before the copied row in an entry: op, expected, addressed
/// row, link.
pub const META: usize = 4;

/// The journal tab of the tab `sheet`.
pub fn journal_title(sheet: &str) -> String {
    format!("sheetsync journal {sheet}")
}

/// A fixed sheet id for the journal of tab `tab_sheet_id`, chosen when the
/// journal is created in the same batch that first uses it.
pub fn journal_sheet_id(tab_sheet_id: i32) -> i32 {
    (tab_sheet_id.wrapping_mul(-1_640_531_535) ^ 0x5eed_0001) & 0x3fff_ffff | 0x4000_0000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryOp {
    /// Cells written on a keyed row; expected: its key cells.
    Update,
    /// A keyed row removed; expected: its key cells.
    Delete,
    /// A misplaced write undone on a keyed row; expected: its key cells.
    /// Not a change of the row: missing it is never a reason to write the
    /// row's changes again.
    Fix,
    /// A misplaced write undone on a row typed without a key yet;
    /// expected: the whole row as read.
    Restore,
    /// Damage from an earlier batch, still to be undone: repaired once the
    /// entry it links to landed.
    Carried,
}

impl EntryOp {
    pub fn name(self) -> &'static str {
        match self {
            EntryOp::Update => "update",
            EntryOp::Delete => "delete",
            EntryOp::Fix => "fix",
            EntryOp::Restore => "restore",
            EntryOp::Carried => "carried",
        }
    }

    fn parse(text: &str) -> Option<EntryOp> {
        match text {
            "update" => Some(EntryOp::Update),
            "delete" => Some(EntryOp::Delete),
            "fix" => Some(EntryOp::Fix),
            "restore" => Some(EntryOp::Restore),
            "carried" => Some(EntryOp::Carried),
            _ => None,
        }
    }

    /// Writes keep an after-copy; a removed row has none.
    pub fn writes(self) -> bool {
        !matches!(self, EntryOp::Delete)
    }
}

/// A copied cell: its value as compared, and as entered (for restoring).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JournalCell {
    pub value: Json,
    pub data: CellData,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub op: EntryOp,
    pub expected: Vec<Json>,
    pub row: usize,
    /// For carried damage: the entry (by position) whose write undoes it.
    pub link: Option<usize>,
    /// For an update: the grid columns it writes, so a write that missed
    /// is made again from its own after-copy (what it meant to write).
    pub columns: Vec<usize>,
    pub before: Vec<JournalCell>,
    pub after: Vec<JournalCell>,
}

impl Entry {
    /// Whether the write found the row it meant: the key cells (or, for a
    /// restore, every cell) of the row it addressed were the expected ones.
    pub fn landed(&self, key_index: &[usize]) -> bool {
        let at = |i: usize| self.before.get(i).map_or(&Json::Null, |c| &c.value);
        match self.op {
            // Judged through its link (see `Journal::misplaced`).
            EntryOp::Carried => false,
            EntryOp::Update | EntryOp::Delete | EntryOp::Fix => {
                key_index.len() == self.expected.len()
                    && key_index
                        .iter()
                        .zip(&self.expected)
                        .all(|(&i, e)| at(i) == e)
            }
            EntryOp::Restore => {
                let width = self.before.len().max(self.expected.len());
                (0..width).all(|i| at(i) == self.expected.get(i).unwrap_or(&Json::Null))
            }
        }
    }
}

/// The journal as read (or as a batch's answer returned it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Journal {
    pub sheet_id: i32,
    pub grid: GridProperties,
    /// Empty when the journal holds no batch.
    pub generation: String,
    pub prev_watermark: i64,
    pub watermark: i64,
    pub key_index: Vec<usize>,
    pub width: usize,
    pub entries: Vec<Entry>,
}

impl Journal {
    /// Reads a journal tab; one without the header mark holds no batch.
    pub fn from_sheet(sheet: &Sheet) -> Journal {
        let mut journal = Journal {
            sheet_id: sheet.properties.sheet_id,
            grid: sheet.properties.grid_properties,
            ..Journal::default()
        };
        let Some(grid) = sheet.data.first() else {
            return journal;
        };
        if grid.start_row != 0 || grid.start_column != 0 {
            return journal;
        }
        let mut rows = grid.row_data.iter();
        let Some(header) = rows.next() else {
            return journal;
        };
        let text = |cells: &[ReadCell], i: usize| match cells.get(i).map(value) {
            Some(Json::String(s)) => s,
            Some(Json::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let number = |cells: &[ReadCell], i: usize| match cells.get(i).map(value) {
            Some(Json::Number(n)) => n.as_i64(),
            _ => None,
        };
        let cells = &header.values;
        if text(cells, 0) != MARK {
            return journal;
        }
        let (Some(prev), Some(stamped), Ok(key_index), Some(width)) = (
            number(cells, 2),
            number(cells, 3),
            serde_json::from_str::<Vec<usize>>(&text(cells, 4)),
            number(cells, 5),
        ) else {
            tracing::warn!(journal = %sheet.properties.title, "journal header unreadable; ignored");
            return journal;
        };
        journal.generation = text(cells, 1);
        journal.prev_watermark = prev;
        journal.watermark = stamped;
        journal.key_index = key_index;
        journal.width = usize::try_from(width).unwrap_or(0);
        let width = journal.width;
        for row in rows {
            let cells = &row.values;
            let link = number(cells, 3).and_then(|n| usize::try_from(n).ok());
            let (Some(op), Ok(expected), Some(at)) = (
                EntryOp::parse(&text(cells, 0)),
                serde_json::from_str::<Vec<Json>>(&text(cells, 1)),
                number(cells, 2),
            ) else {
                continue;
            };
            let copy = |from: usize, count: usize| -> Vec<JournalCell> {
                (from..from + count)
                    .map(|i| cells.get(i).map_or_else(JournalCell::default, journal_cell))
                    .collect()
            };
            let columns = match op {
                EntryOp::Update => serde_json::from_str(&text(cells, 3)).unwrap_or_default(),
                _ => Vec::new(),
            };
            journal.entries.push(Entry {
                op,
                expected,
                row: usize::try_from(at).unwrap_or(0),
                link,
                columns,
                before: copy(META, width),
                after: if op.writes() {
                    copy(META + width, width)
                } else {
                    Vec::new()
                },
            });
        }
        journal
    }

    /// Damage not yet undone: entries whose write did not land on the row
    /// it meant, and carried damage whose undoing write did not land.
    pub fn misplaced(&self) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| !settled(e, &self.entries, &self.key_index))
            .collect()
    }

    /// How many of the batch's own writes (its restores included) missed
    /// their row; zero when it landed, even with damage left for a later
    /// round.
    pub fn missed_writes(&self) -> usize {
        self.misplaced()
            .iter()
            .filter(|e| e.op != EntryOp::Carried)
            .count()
    }
}

/// What a reader of the tab (the Apps Script, a test playing it) learns
/// from the journal's values alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// The last batch's name; empty when there is none.
    pub generation: String,
    /// Its writes that missed their row and are not repaired yet.
    pub misplaced: usize,
    /// The watermark before it: while writes are misplaced, the highest
    /// change the tab is known to hold (what a request should report).
    pub prev_watermark: Option<i64>,
}

/// Reads the journal from its cell values as `values.get` or the script's
/// `getValues` return them (numbers as numbers, `""` or `null` for empty).
pub fn verdict(rows: &[Vec<Json>]) -> Verdict {
    let normal = |v: &Json| match v {
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                Json::from(f as i64)
            }
            _ => v.clone(),
        },
        Json::String(s) if s.is_empty() => Json::Null,
        other => other.clone(),
    };
    let cell = |row: &Vec<Json>, i: usize| row.get(i).map_or(Json::Null, normal);
    let text = |row: &Vec<Json>, i: usize| match cell(row, i) {
        Json::String(s) => s,
        Json::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let Some(header) = rows.first().filter(|h| text(h, 0) == MARK) else {
        return Verdict::default();
    };
    let (Ok(key_index), Json::Number(width)) = (
        serde_json::from_str::<Vec<usize>>(&text(header, 4)),
        cell(header, 5),
    ) else {
        return Verdict::default();
    };
    let width = width.as_u64().unwrap_or(0) as usize;
    let entries: Vec<Entry> = rows[1..]
        .iter()
        .filter_map(|row| {
            let op = EntryOp::parse(&text(row, 0))?;
            let expected = serde_json::from_str::<Vec<Json>>(&text(row, 1)).ok()?;
            let link = match cell(row, 3) {
                Json::Number(n) => n.as_u64().map(|n| n as usize),
                _ => None,
            };
            let before: Vec<JournalCell> = (META..META + width)
                .map(|i| JournalCell {
                    value: cell(row, i),
                    data: CellData::default(),
                })
                .collect();
            Some(Entry {
                op,
                expected,
                row: 0,
                link,
                columns: Vec::new(),
                before,
                after: Vec::new(),
            })
        })
        .collect();
    let misplaced = entries
        .iter()
        .filter(|e| !settled(e, &entries, &key_index))
        .count();
    Verdict {
        generation: text(header, 1),
        misplaced,
        prev_watermark: match cell(header, 2) {
            Json::Number(n) => n.as_i64(),
            _ => None,
        },
    }
}

fn settled(entry: &Entry, entries: &[Entry], key_index: &[usize]) -> bool {
    match entry.op {
        EntryOp::Carried => entry
            .link
            .and_then(|i| entries.get(i))
            .is_some_and(|undo| undo.op != EntryOp::Carried && undo.landed(key_index)),
        _ => entry.landed(key_index),
    }
}

fn value(cell: &ReadCell) -> Json {
    cell.effective_value.as_ref().map_or(Json::Null, cell_json)
}

fn journal_cell(cell: &ReadCell) -> JournalCell {
    let format = cell
        .user_entered_format
        .as_ref()
        .and_then(|f| f.number_format.as_ref())
        .map(|n| crate::wire::CellFormat {
            number_format: crate::wire::NumberFormat {
                kind: n.kind.clone().into(),
                pattern: n.pattern.clone().into(),
            },
        });
    JournalCell {
        value: value(cell),
        data: CellData {
            user_entered_value: cell.user_entered_value.clone(),
            user_entered_format: format,
        },
    }
}

/// A row a batch writes or removes, as the journal records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    pub op: EntryOp,
    /// Grid row addressed (0-based), as read.
    pub row: usize,
    pub expected: Vec<Json>,
    /// Grid columns an update writes (empty for other operations).
    pub columns: Vec<usize>,
}

/// Where a batch's journal goes and what its header says.
#[derive(Debug, Clone)]
pub struct Frame {
    pub tab_sheet_id: i32,
    pub journal_sheet_id: i32,
    /// The journal's grid now; `None` when the batch must create it.
    pub journal_grid: Option<GridProperties>,
    pub journal_title: String,
    /// Columns copied from each touched row (the tab's grid width).
    pub width: usize,
    pub key_index: Vec<usize>,
    pub generation: String,
    pub prev_watermark: i64,
    pub watermark: i64,
}

const PASTE_NORMAL: &str = "PASTE_NORMAL";

impl Frame {
    /// Requests that open the batch: the journal made ready and rewritten
    /// (with the damage still being undone, each linked to the touch that
    /// undoes it, or to none when a later round will), and each touched row
    /// copied as it is before anything moves.
    pub fn before(&self, touches: &[Touch], carried: &[(Entry, Option<usize>)]) -> Vec<Request> {
        let mut requests = Vec::new();
        let columns = META + 2 * self.width.max(1);
        match self.journal_grid {
            None => requests.push(Request::AddSheet(crate::wire::AddSheet {
                properties: crate::wire::NewSheetProperties {
                    sheet_id: self.journal_sheet_id,
                    title: self.journal_title.clone(),
                    hidden: true,
                    grid_properties: GridProperties {
                        row_count: touches.len() + 1,
                        column_count: columns.max(6),
                    },
                },
            })),
            Some(grid) if grid.column_count < columns => {
                requests.push(Request::UpdateSheetProperties(UpdateSheetProperties {
                    properties: SheetGrid {
                        sheet_id: self.journal_sheet_id,
                        grid_properties: GridProperties {
                            row_count: grid.row_count.max(1),
                            column_count: columns,
                        },
                    },
                    fields: "gridProperties.columnCount",
                }))
            }
            Some(_) => {}
        }
        if self.journal_grid.is_some() {
            requests.push(Request::ClearCells(ClearCells {
                range: GridRange {
                    sheet_id: self.journal_sheet_id,
                    start_row_index: None,
                    end_row_index: None,
                    start_column_index: None,
                    end_column_index: None,
                },
                fields: "userEnteredValue,userEnteredFormat",
            }));
        }
        let text = |s: String| CellData {
            user_entered_value: Some(ExtendedValue::StringValue(s)),
            user_entered_format: None,
        };
        let number = |n: i64| CellData {
            user_entered_value: Some(ExtendedValue::NumberValue(n as f64)),
            user_entered_format: None,
        };
        let mut rows = vec![RowData {
            values: vec![
                text(MARK.to_string()),
                text(self.generation.clone()),
                number(self.prev_watermark),
                number(self.watermark),
                text(Json::from(self.key_index.clone()).to_string()),
                number(self.width as i64),
            ],
        }];
        rows.extend(touches.iter().map(|t| {
            let mut values = vec![
                text(t.op.name().to_string()),
                text(Json::from(t.expected.clone()).to_string()),
                number(t.row as i64),
            ];
            if !t.columns.is_empty() {
                values.push(text(Json::from(t.columns.clone()).to_string()));
            }
            RowData { values }
        }));
        let width = self.width.max(1);
        let copy = |cells: &[JournalCell]| -> Vec<CellData> {
            (0..width)
                .map(|i| cells.get(i).map(|c| c.data.clone()).unwrap_or_default())
                .collect()
        };
        rows.extend(carried.iter().map(|(entry, link)| {
            let mut values = vec![
                text(EntryOp::Carried.name().to_string()),
                text(Json::from(entry.expected.clone()).to_string()),
                number(entry.row as i64),
                // No link: damage no write of this batch undoes yet.
                link.map_or_else(CellData::default, |link| number(link as i64)),
            ];
            values.extend(copy(&entry.before));
            values.extend(copy(&entry.after));
            RowData { values }
        }));
        requests.push(Request::AppendCells(AppendCells {
            sheet_id: self.journal_sheet_id,
            rows,
            fields: "userEnteredValue,userEnteredFormat.numberFormat",
        }));
        requests.extend(self.copies(touches, |_| true, META));
        requests
    }

    /// Requests after the batch's writes and before its removals: each
    /// written row copied as it is now.
    pub fn after(&self, touches: &[Touch]) -> Vec<Request> {
        self.copies(touches, |t| t.op.writes(), META + self.width)
    }

    fn copies(
        &self,
        touches: &[Touch],
        keep: impl Fn(&Touch) -> bool,
        column: usize,
    ) -> Vec<Request> {
        let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // (tab row, entry, length)
        for (entry, touch) in touches.iter().enumerate() {
            if !keep(touch) {
                continue;
            }
            match runs.last_mut() {
                Some((row, first, len)) if *row + *len == touch.row && *first + *len == entry => {
                    *len += 1
                }
                _ => runs.push((touch.row, entry, 1)),
            }
        }
        runs.into_iter()
            .map(|(row, entry, len)| {
                Request::CopyPaste(CopyPaste {
                    source: GridRange {
                        sheet_id: self.tab_sheet_id,
                        start_row_index: Some(row),
                        end_row_index: Some(row + len),
                        start_column_index: Some(0),
                        end_column_index: Some(self.width.max(1)),
                    },
                    destination: GridRange {
                        sheet_id: self.journal_sheet_id,
                        start_row_index: Some(1 + entry),
                        end_row_index: Some(1 + entry + len),
                        start_column_index: Some(column),
                        end_column_index: Some(column + self.width.max(1)),
                    },
                    paste_type: PASTE_NORMAL,
                    paste_orientation: "NORMAL",
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sheet(rows: Vec<Vec<Json>>) -> Sheet {
        let rows: Vec<Json> = rows
            .into_iter()
            .map(|r| {
                json!({"values": r.into_iter().map(|v| match v {
                    Json::Null => json!({}),
                    Json::String(s) => json!({"effectiveValue": {"stringValue": s}}),
                    Json::Bool(b) => json!({"effectiveValue": {"boolValue": b}}),
                    n => json!({"effectiveValue": {"numberValue": n}}),
                }).collect::<Vec<_>>()})
            })
            .collect();
        serde_json::from_value(json!({
            "properties": {"sheetId": 77, "title": "sheetsync journal Orders",
                           "gridProperties": {"rowCount": 9, "columnCount": 9}},
            "data": [{"rowData": rows}]
        }))
        .unwrap()
    }

    #[test]
    fn reads_entries_and_finds_the_misplaced_ones() {
        let n = Json::Null;
        let journal = Journal::from_sheet(&sheet(vec![
            vec![
                json!(MARK),
                json!("g1"),
                json!(10),
                json!(12),
                json!("[0]"),
                json!(2),
            ],
            // landed: the addressed row held key 4
            vec![
                json!("update"),
                json!("[4]"),
                json!(3),
                n.clone(),
                json!(4),
                json!("a"),
                json!(4),
                json!("b"),
            ],
            // misplaced: the addressed row held key 5
            vec![
                json!("delete"),
                json!("[6]"),
                json!(7),
                n.clone(),
                json!(5),
                json!("x"),
            ],
            // a restore compares the whole row: misplaced
            vec![
                json!("restore"),
                json!(r#"[9,"p"]"#),
                json!(2),
                n,
                json!(9),
                json!("q"),
                json!(9),
                json!("p"),
            ],
            // damage undone by entry 0, which landed; by entry 1, which did not
            vec![
                json!("carried"),
                json!("[3]"),
                json!(1),
                json!(0),
                json!(8),
                json!("z"),
            ],
            vec![
                json!("carried"),
                json!("[3]"),
                json!(1),
                json!(1),
                json!(8),
                json!("z"),
            ],
        ]));
        assert_eq!(
            (
                journal.generation.as_str(),
                journal.prev_watermark,
                journal.watermark
            ),
            ("g1", 10, 12)
        );
        assert_eq!((journal.key_index.clone(), journal.width), (vec![0], 2));
        assert_eq!(journal.entries.len(), 5);
        assert_eq!(journal.entries[1].after, Vec::new());
        let misplaced: Vec<(EntryOp, usize, Option<usize>)> = journal
            .misplaced()
            .iter()
            .map(|e| (e.op, e.row, e.link))
            .collect();
        assert_eq!(
            misplaced,
            vec![
                (EntryOp::Delete, 7, None),
                (EntryOp::Restore, 2, None),
                (EntryOp::Carried, 1, Some(1))
            ]
        );
    }

    #[test]
    fn readers_get_the_same_verdict_from_values() {
        // The fixture the Apps Script's test reads too.
        let fixture: Json =
            serde_json::from_str(include_str!("../../../tests/fixtures/journal/verdict.json"))
                .unwrap();
        let rows: Vec<Vec<Json>> = serde_json::from_value(fixture["rows"].clone()).unwrap();
        let want = &fixture["verdict"];
        assert_eq!(
            verdict(&rows),
            Verdict {
                generation: want["generation"].as_str().unwrap().into(),
                misplaced: want["misplaced"].as_u64().unwrap() as usize,
                prev_watermark: want["prevWatermark"].as_i64(),
            }
        );
        assert_eq!(verdict(&[]), Verdict::default());
    }

    #[test]
    fn a_tab_without_the_mark_holds_no_batch() {
        let journal = Journal::from_sheet(&sheet(vec![vec![json!("hello")]]));
        assert!(journal.generation.is_empty() && journal.entries.is_empty());
        assert_eq!(journal.sheet_id, 77);
    }

    #[test]
    fn copies_runs_of_adjacent_rows_in_one_request() {
        let frame = Frame {
            tab_sheet_id: 5,
            journal_sheet_id: 77,
            journal_grid: Some(GridProperties {
                row_count: 3,
                column_count: 20,
            }),
            journal_title: journal_title("Orders"),
            width: 4,
            key_index: vec![0],
            generation: "g".into(),
            prev_watermark: 1,
            watermark: 2,
        };
        let touch = |op, row| Touch {
            op,
            row,
            expected: vec![json!(row)],
            columns: Vec::new(),
        };
        let touches = [
            touch(EntryOp::Update, 3),
            touch(EntryOp::Update, 4),
            touch(EntryOp::Delete, 5),
            touch(EntryOp::Update, 9),
        ];
        let before = frame.before(&touches, &[]);
        // clear, meta rows, then copies of rows 3-5 and 9
        assert_eq!(before.len(), 4);
        let after = serde_json::to_value(frame.after(&touches)).unwrap();
        assert_eq!(
            after,
            json!([
                {"copyPaste": {"source": {"sheetId": 5, "startRowIndex": 3, "endRowIndex": 5, "startColumnIndex": 0, "endColumnIndex": 4},
                    "destination": {"sheetId": 77, "startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 8, "endColumnIndex": 12},
                    "pasteType": "PASTE_NORMAL", "pasteOrientation": "NORMAL"}},
                {"copyPaste": {"source": {"sheetId": 5, "startRowIndex": 9, "endRowIndex": 10, "startColumnIndex": 0, "endColumnIndex": 4},
                    "destination": {"sheetId": 77, "startRowIndex": 4, "endRowIndex": 5, "startColumnIndex": 8, "endColumnIndex": 12},
                    "pasteType": "PASTE_NORMAL", "pasteOrientation": "NORMAL"}}
            ])
        );
    }

    #[test]
    fn journal_ids_are_positive_and_stable() {
        for id in [0, 1, 5, i32::MAX, -3] {
            let j = journal_sheet_id(id);
            assert!(j > 0 && j != id);
            assert_eq!(j, journal_sheet_id(id));
        }
    }
}
