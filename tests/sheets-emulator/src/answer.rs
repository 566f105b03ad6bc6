//! The `Spreadsheet` resource written straight into the response body.
//!
//! A tab's grid data goes cell by cell from the tab to the bytes, through
//! the `fields` mask, and is never held as a JSON tree: a whole-tab get of
//! a 100,000 × 20 tab built as a `serde_json::Value` peaked at 11 GB. The
//! bytes are exactly those of `fields::apply` over the rendered resource,
//! serialised: members in key order (`serde_json::Map` sorts them), a
//! selection applied element by element through arrays, `*` keeping the
//! whole object.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as Json;

use crate::cell::Cell;
use crate::fields::{self, Selection};
use crate::grid::{Resolved, Sheet};
use crate::spreadsheet::cell_data;

/// Part of an answer: small JSON held as a value, or a tab's grid data
/// still in the tab.
pub enum Node<'a> {
    Json(Json),
    Object(BTreeMap<String, Node<'a>>),
    Array(Vec<Node<'a>>),
    /// `GridData` for a range of a tab.
    Grid(&'a Sheet, Resolved),
}

impl<'a> Node<'a> {
    /// An object node from a JSON object (anything else is kept as JSON).
    pub fn object(value: Json) -> Node<'a> {
        match value {
            Json::Object(members) => Node::Object(
                members
                    .into_iter()
                    .map(|(name, member)| (name, Node::Json(member)))
                    .collect(),
            ),
            other => Node::Json(other),
        }
    }

    /// Adds a member to an object node (no effect on other nodes).
    pub fn insert(&mut self, name: &str, member: Node<'a>) {
        if let Node::Object(members) = self {
            members.insert(name.to_string(), member);
        }
    }

    /// The body of the answer under `selection` (`None`: everything).
    pub fn to_body(&self, selection: Option<&Selection>) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&Masked {
            node: self,
            selection,
        })
    }

    /// The whole answer as a JSON value (for answers known to be small).
    pub fn to_json(&self) -> Json {
        // Serialising a value of ours into a value cannot fail: every map
        // key is a string and every number finite or already JSON.
        serde_json::to_value(Masked {
            node: self,
            selection: None,
        })
        .unwrap_or(Json::Null)
    }
}

/// What a selection keeps of an object's member: `None` when the member is
/// left out, else the selection that applies inside it (`None`: all of it).
fn pick<'s>(selection: Option<&'s Selection>, name: &str) -> Option<Option<&'s Selection>> {
    match selection {
        None => Some(None),
        Some(selection) if selection.keeps_all() => Some(None),
        Some(selection) => selection.member(name),
    }
}

struct Masked<'n, 'a> {
    node: &'n Node<'a>,
    selection: Option<&'n Selection>,
}

impl Serialize for Masked<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.node {
            Node::Json(value) => MaskedJson {
                value,
                selection: self.selection,
            }
            .serialize(serializer),
            Node::Object(members) => {
                let mut map = serializer.serialize_map(None)?;
                for (name, node) in members {
                    if let Some(selection) = pick(self.selection, name) {
                        map.serialize_entry(name, &Masked { node, selection })?;
                    }
                }
                map.end()
            }
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(None)?;
                for node in items {
                    seq.serialize_element(&Masked {
                        node,
                        selection: self.selection,
                    })?;
                }
                seq.end()
            }
            Node::Grid(sheet, range) => GridData {
                sheet,
                range: *range,
                selection: self.selection,
            }
            .serialize(serializer),
        }
    }
}

/// A JSON value under a selection, as `fields::apply` leaves it.
struct MaskedJson<'v> {
    value: &'v Json,
    selection: Option<&'v Selection>,
}

impl Serialize for MaskedJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(outer) = self.selection else {
            return self.value.serialize(serializer);
        };
        match self.value {
            Json::Object(members) => {
                let mut map = serializer.serialize_map(None)?;
                for (name, value) in members {
                    if let Some(selection) = pick(Some(outer), name) {
                        map.serialize_entry(name, &MaskedJson { value, selection })?;
                    }
                }
                map.end()
            }
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(None)?;
                for value in items {
                    seq.serialize_element(&MaskedJson {
                        value,
                        selection: Some(outer),
                    })?;
                }
                seq.end()
            }
            scalar => scalar.serialize(serializer),
        }
    }
}

/// `GridData` for a range: trailing blank rows and cells are left out, as
/// Google does (before the mask: a cell the mask empties still counts).
struct GridData<'g> {
    sheet: &'g Sheet,
    range: Resolved,
    selection: Option<&'g Selection>,
}

impl GridData<'_> {
    /// The cells of `row` up to its last one that is not blank.
    fn cells(&self, row: usize) -> &[Cell] {
        let stored = self
            .sheet
            .rows
            .get(row)
            .map_or(&[][..], |cells| cells.as_slice());
        let end = self.range.end_col.min(stored.len());
        let start = self.range.start_col.min(end);
        let cells = &stored[start..end];
        let kept = cells
            .iter()
            .rposition(|c| !c.is_blank())
            .map_or(0, |i| i + 1);
        &cells[..kept]
    }

    /// One past the last row with a cell that is not blank.
    fn rows_end(&self) -> usize {
        let last = self.range.end_row.min(self.sheet.rows.len());
        (self.range.start_row..last)
            .rev()
            .find(|row| !self.cells(*row).is_empty())
            .map_or(self.range.start_row, |row| row + 1)
    }
}

impl Serialize for GridData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rows_end = self.rows_end();
        let mut map = serializer.serialize_map(None)?;
        // Members in key order: rowData, startColumn, startRow.
        if rows_end > self.range.start_row
            && let Some(selection) = pick(self.selection, "rowData")
        {
            map.serialize_entry(
                "rowData",
                &RowData {
                    grid: self,
                    rows_end,
                    selection,
                },
            )?;
        }
        if self.range.start_col > 0
            && let Some(selection) = pick(self.selection, "startColumn")
        {
            map.serialize_entry(
                "startColumn",
                &MaskedJson {
                    value: &Json::from(self.range.start_col),
                    selection,
                },
            )?;
        }
        if self.range.start_row > 0
            && let Some(selection) = pick(self.selection, "startRow")
        {
            map.serialize_entry(
                "startRow",
                &MaskedJson {
                    value: &Json::from(self.range.start_row),
                    selection,
                },
            )?;
        }
        map.end()
    }
}

struct RowData<'r, 'g> {
    grid: &'r GridData<'g>,
    rows_end: usize,
    selection: Option<&'r Selection>,
}

impl Serialize for RowData<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for row in self.grid.range.start_row..self.rows_end {
            seq.serialize_element(&RowValues {
                cells: self.grid.cells(row),
                selection: self.selection,
            })?;
        }
        seq.end()
    }
}

/// `RowData`: `{"values": [...]}`, or `{}` for a blank row.
struct RowValues<'c> {
    cells: &'c [Cell],
    selection: Option<&'c Selection>,
}

impl Serialize for RowValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.cells.is_empty()
            && let Some(selection) = pick(self.selection, "values")
        {
            map.serialize_entry(
                "values",
                &CellValues {
                    cells: self.cells,
                    selection,
                },
            )?;
        }
        map.end()
    }
}

struct CellValues<'c> {
    cells: &'c [Cell],
    selection: Option<&'c Selection>,
}

impl Serialize for CellValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for cell in self.cells {
            // One cell's JSON at a time: small, and built by the one
            // function that says what `CellData` holds.
            seq.serialize_element(&MaskedJson {
                value: &cell_data(cell),
                selection: self.selection,
            })?;
        }
        seq.end()
    }
}

/// Parses a `fields` mask into the selection an answer is written under.
pub fn selection(mask: Option<&str>) -> Result<Option<Selection>, crate::error::ApiError> {
    match mask {
        Some(text) if !text.is_empty() => fields::parse(text).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::cell::{CellFormat, CellValue, NumberFormat, NumberFormatType};
    use crate::grid::Spreadsheet;
    use crate::spreadsheet::{document, resolve_ranges};

    /// The answer as it was built before it was streamed: the whole
    /// resource as a value, grid data included, then `fields::apply`.
    fn as_a_tree(sheet: &Sheet, r: &Resolved) -> Json {
        let last_row = r.end_row.min(sheet.rows.len());
        let mut rows: Vec<Json> = (r.start_row..last_row.max(r.start_row))
            .map(|row| {
                let mut values: Vec<Json> = (r.start_col..r.end_col)
                    .map(|col| cell_data(sheet.cell(row, col)))
                    .collect();
                while values
                    .last()
                    .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
                {
                    values.pop();
                }
                if values.is_empty() {
                    json!({})
                } else {
                    json!({ "values": values })
                }
            })
            .collect();
        while rows
            .last()
            .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
        {
            rows.pop();
        }
        let mut out = Map::new();
        if r.start_row > 0 {
            out.insert("startRow".into(), json!(r.start_row));
        }
        if r.start_col > 0 {
            out.insert("startColumn".into(), json!(r.start_col));
        }
        if !rows.is_empty() {
            out.insert("rowData".into(), Json::Array(rows));
        }
        Json::Object(out)
    }

    fn tree(node: &Node<'_>) -> Json {
        match node {
            Node::Json(value) => value.clone(),
            Node::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(name, node)| (name.clone(), tree(node)))
                    .collect(),
            ),
            Node::Array(items) => Json::Array(items.iter().map(tree).collect()),
            Node::Grid(sheet, range) => as_a_tree(sheet, range),
        }
    }

    fn spreadsheet() -> Spreadsheet {
        let mut s = Spreadsheet::new("s", "Title");
        let mut a = Sheet::new(0, "A");
        let date = CellFormat {
            number_format: Some(NumberFormat::new(NumberFormatType::Date, "yyyy-mm-dd")),
            ..CellFormat::default()
        };
        a.set_cells(vec![
            vec![Cell::text("id"), Cell::text("name"), Cell::text("due")],
            vec![
                Cell::number(1.0),
                Cell::text("x"),
                Cell::date(45296.0, "yyyy-mm-dd"),
            ],
            vec![],
            vec![
                Cell::default(),
                Cell::bool(true),
                Cell::default(),
                Cell::default(),
            ],
            vec![
                Cell::number(2.5),
                Cell::formula("=A1", CellValue::Empty),
                Cell {
                    value: CellValue::Empty,
                    format: Some(date),
                    note: Some("n".into()),
                },
            ],
            vec![
                Cell::default(),
                Cell::formula("=B9", CellValue::Number(3.0)),
            ],
            vec![Cell::default(), Cell::default()],
        ]);
        s.sheets.push(a);
        let mut b = Sheet::new(7, "B c");
        b.set_cells(vec![vec![], vec![Cell::default(), Cell::text("only")]]);
        s.sheets.push(b);
        s.sheets.push(Sheet::new(9, "empty"));
        s
    }

    #[test]
    fn the_written_answer_is_the_masked_tree_byte_for_byte() {
        let s = spreadsheet();
        let masks = [
            None,
            Some("*"),
            Some("sheets(properties(sheetId,title))"),
            Some("sheets/data/rowData/values/effectiveValue"),
            Some(
                "properties(timeZone,locale),sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),\
developerMetadata(metadataId,metadataKey,metadataValue),\
data(startRow,startColumn,rowData(values(effectiveValue,userEnteredValue/formulaValue))))",
            ),
            Some("sheets(data(rowData(values(note,userEnteredFormat))))"),
            Some("sheets(data(startRow,rowData))"),
            Some("sheets(data(*))"),
            Some("sheets(data(rowData(*)),properties)"),
            Some("sheets(data(rowData(values(*))))"),
            Some("spreadsheetId,sheets/data/startColumn"),
        ];
        let ranges: [&[&str]; 5] = [
            &[],
            &["A!B2:C"],
            &["'B c'!A2:Z9", "A!A1:A"],
            &["A!3:5"],
            &["empty"],
        ];
        for ranges in ranges {
            let resolved = match ranges.is_empty() {
                true => None,
                false => Some(resolve_ranges(&s, ranges).unwrap()),
            };
            for include in [false, true] {
                let doc = document(&s, resolved.as_deref(), include);
                for mask in masks {
                    let selection = selection(mask).unwrap();
                    let expected = match &selection {
                        Some(sel) => fields::apply(tree(&doc), sel),
                        None => tree(&doc),
                    };
                    let written = doc.to_body(selection.as_ref()).unwrap();
                    assert_eq!(
                        String::from_utf8(written).unwrap(),
                        serde_json::to_string(&expected).unwrap(),
                        "ranges {ranges:?}, grid data {include}, mask {mask:?}"
                    );
                }
            }
        }
    }
}
