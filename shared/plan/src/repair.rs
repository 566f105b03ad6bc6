//! What the sheet must be told after a write (DESIGN.md, Repairs).

use std::collections::{BTreeSet, HashSet};

use sheetsync_reconcile::Binding;
use sheetsync_reconcile::SheetZone;
use sheetsync_reconcile::convert::sheet_matches_in;

use crate::plan::{Write, WriteKind};
use crate::table::TableRow;

/// Where the stored row differs from what the sheet shows, so the sheet
/// must be told: defaults and database-assigned keys of inserts, values the
/// table normalised, columns a trigger or generation changed, the written
/// (or inserted) values when a database change is still on its way to the
/// sheet, and
/// database values that won a conflict.
pub fn repair_columns(
    binding: &Binding,
    held_columns: &HashSet<usize>,
    write: &Write,
    stored: &TableRow,
    zone: SheetZone,
) -> BTreeSet<usize> {
    let mut columns = BTreeSet::new();
    match write.kind {
        WriteKind::Insert => {
            // A database-assigned key travels in the answer: the script
            // writes it into the row at once.
            let keys = binding.key_indices();
            for (c, sent) in &write.sent {
                if !keys.contains(c) && !sheet_matches_in(sent, &stored.values[*c], zone) {
                    columns.insert(*c);
                }
            }
            if write.repair_written {
                columns.extend(
                    write
                        .cells
                        .iter()
                        .map(|(c, _)| *c)
                        .filter(|c| !keys.contains(c)),
                );
            }
        }
        WriteKind::Update => {
            for (c, sent) in &write.cells {
                if !sheet_matches_in(sent, &stored.values[*c], zone) {
                    columns.insert(*c);
                }
            }
            if let Some(before) = &write.before
                && !write.cells.is_empty()
            {
                let keys = binding.key_indices();
                for &c in held_columns {
                    if !keys.contains(&c)
                        && !write.cells.iter().any(|(w, _)| *w == c)
                        && before.raw_text(c) != stored.raw_text(c)
                    {
                        columns.insert(c);
                    }
                }
            }
            if write.repair_written {
                columns.extend(write.cells.iter().map(|(c, _)| *c));
            }
        }
    }
    columns.extend(write.db_won.iter().copied());
    columns
}
