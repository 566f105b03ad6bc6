//! The header row maps sheet columns to table columns by name. Names that
//! match no column (whatever they contain) are ignored and reported; they
//! never reach SQL.

use sheetsync_reconcile::Binding;

use crate::PlanError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Per header cell: the index of its column in `Binding::columns`.
    pub cells: Vec<Option<usize>>,
    /// Per key column, in key order: its header cell.
    pub key_cells: Vec<usize>,
    /// Header names that match no column (or repeat one), in sheet order.
    pub ignored: Vec<String>,
}

impl Header {
    pub fn map(binding: &Binding, header: &[String]) -> Result<Header, PlanError> {
        let mut cells = Vec::with_capacity(header.len());
        let mut ignored = Vec::new();
        let mut seen = vec![false; binding.columns.len()];
        for name in header {
            let found = binding.columns.iter().position(|c| c.name == name.trim());
            match found {
                Some(col) if !seen[col] => {
                    seen[col] = true;
                    cells.push(Some(col));
                }
                _ => {
                    if !name.trim().is_empty() {
                        ignored.push(name.clone());
                    }
                    cells.push(None);
                }
            }
        }
        let mut key_cells = Vec::with_capacity(binding.key_columns.len());
        for key in &binding.key_columns {
            let cell = cells
                .iter()
                .position(|c| c.is_some_and(|col| binding.columns[col].name == *key));
            match cell {
                Some(cell) => key_cells.push(cell),
                None => return Err(PlanError::UnknownKeyColumn(key.clone())),
            }
        }
        Ok(Header {
            cells,
            key_cells,
            ignored,
        })
    }

    /// The header cell holding a column.
    pub fn cell_of(&self, column: usize) -> Option<usize> {
        self.cells.iter().position(|c| *c == Some(column))
    }

    /// The column a header name maps to (for `old` and `edited`).
    pub fn column_named(&self, header: &[String], name: &str) -> Option<usize> {
        header
            .iter()
            .zip(&self.cells)
            .find(|(h, c)| h.trim() == name.trim() && c.is_some())
            .and_then(|(_, c)| *c)
    }
}
