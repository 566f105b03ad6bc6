//! The request's rows converted to the table's types. Conversion errors are
//! kept per cell: a stale cell of a pasted row that is not applied must not
//! reject the row.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value as Json;
use sheetsync_reconcile::Binding;
use sheetsync_reconcile::convert::{ConvertError, from_sheet_in};
use sheetsync_reconcile::{Key, SheetSettings, Value};

use crate::contract::SheetRow;
use crate::header::Header;

/// One converted sheet row.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Position in the request (answers keep request order).
    pub index: usize,
    pub sheet_row: Option<u32>,
    /// Per column of the binding: the cell the sheet sent, converted; `None`
    /// when the header has no such column.
    pub cells: Vec<Option<Cell>>,
    /// The row's key; `None` for a new row (every key cell empty).
    pub key: Option<Key>,
    /// Columns the event says the user changed (`edited` and `old`); `None`
    /// means the whole row.
    pub applied: Option<BTreeSet<usize>>,
    /// Base values of single-cell edits.
    pub old: HashMap<usize, Value>,
}

#[derive(Debug, Clone)]
pub struct Cell {
    /// As sent, for conflicts and rejects.
    pub raw: Json,
    pub value: Result<Value, ConvertError>,
}

/// A row that cannot be applied: nothing is written for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub index: usize,
    pub sheet_row: Option<u32>,
    /// The row's key when it has one.
    pub key: Option<Key>,
    pub column: Option<String>,
    pub value: Option<Json>,
    pub reason: String,
}

impl Rejection {
    pub fn of_conversion(row: &Incoming, err: &ConvertError, raw: &Json) -> Rejection {
        Rejection {
            index: row.index,
            sheet_row: row.sheet_row,
            key: row.key.clone(),
            column: Some(err.column().to_string()).filter(|c| !c.is_empty()),
            value: Some(raw.clone()),
            reason: err.to_string(),
        }
    }
}

impl Incoming {
    pub fn convert(
        binding: &Binding,
        header: &Header,
        names: &[String],
        (index, row): (usize, &SheetRow),
        settings: SheetSettings,
    ) -> Result<Incoming, Rejection> {
        let read = |raw: &Json, column: usize| {
            let column = &binding.columns[column];
            from_sheet_in(raw, &column.name, column.pg_type, settings)
        };
        let mut cells: Vec<Option<Cell>> = vec![None; binding.columns.len()];
        for (cell, column) in header.cells.iter().enumerate() {
            let Some(column) = *column else { continue };
            let raw = row.values.get(cell).cloned().unwrap_or(Json::Null);
            let value = read(&raw, column);
            cells[column] = Some(Cell { raw, value });
        }
        let mut old = HashMap::new();
        let mut applied: Option<BTreeSet<usize>> = None;
        if let Some(base) = &row.old {
            let set = applied.get_or_insert_with(BTreeSet::new);
            for (name, raw) in base {
                if let Some(column) = header.column_named(names, name) {
                    set.insert(column);
                    // An unreadable base only loses the conflict record.
                    if let Ok(value) = read(raw, column) {
                        old.insert(column, value);
                    }
                }
            }
        }
        if let Some(edited) = &row.edited {
            let set = applied.get_or_insert_with(BTreeSet::new);
            for name in edited {
                if let Some(column) = header.column_named(names, name) {
                    set.insert(column);
                }
            }
        }
        let mut incoming = Incoming {
            index,
            sheet_row: row.row,
            cells,
            key: None,
            applied,
            old,
        };
        incoming.key = incoming.read_key(binding, header)?;
        Ok(incoming)
    }

    fn read_key(&self, binding: &Binding, header: &Header) -> Result<Option<Key>, Rejection> {
        let mut values = Vec::with_capacity(header.key_cells.len());
        for &cell in &header.key_cells {
            let Some(column) = header.cells[cell] else {
                continue;
            };
            let Some(cell) = &self.cells[column] else {
                continue;
            };
            match &cell.value {
                Ok(value) => values.push(value.clone()),
                Err(err) => return Err(Rejection::of_conversion(self, err, &cell.raw)),
            }
        }
        let empty = values.iter().filter(|v| v.is_null()).count();
        if empty == values.len() {
            return Ok(None);
        }
        if empty > 0 {
            let missing = binding
                .key_columns
                .iter()
                .zip(&values)
                .find(|(_, v)| v.is_null())
                .map(|(name, _)| name.clone());
            return Err(Rejection {
                index: self.index,
                sheet_row: self.sheet_row,
                key: None,
                reason: format!(
                    "{}: the key is incomplete (fill every key column, or none for a new row)",
                    missing.as_deref().unwrap_or("key")
                ),
                column: missing,
                value: None,
            });
        }
        Ok(Some(Key::from_values(&values)))
    }

    /// The converted value of a column, or the rejection its cell causes.
    pub fn value(&self, column: usize) -> Option<Result<&Value, Rejection>> {
        let cell = self.cells[column].as_ref()?;
        Some(match &cell.value {
            Ok(value) => Ok(value),
            Err(err) => Err(Rejection::of_conversion(self, err, &cell.raw)),
        })
    }

    /// The first conversion error among `columns`.
    pub fn check(&self, columns: impl IntoIterator<Item = usize>) -> Result<(), Rejection> {
        for column in columns {
            if let Some(Err(rejection)) = self.value(column) {
                return Err(rejection);
            }
        }
        Ok(())
    }

    pub fn raw(&self, column: usize) -> Option<&Json> {
        self.cells[column].as_ref().map(|c| &c.raw)
    }

    /// Whether the event limits the row to some columns and `column` is
    /// one of them (or it does not limit it).
    pub fn applies(&self, column: usize) -> bool {
        self.applied
            .as_ref()
            .is_none_or(|set| set.contains(&column))
    }
}
