//! People acting in the instant between the writer's read and its write.
//!
//! A test queues a person's row operation (sort, insert, delete, drag,
//! cut/paste, filter …) to happen just before the next `batchUpdate` of a
//! tab is applied, as if it landed during the writer's read → write window.
//! The operation runs on the stored grid under the emulator's lock, so it
//! is ordered after the writer's read and before its write, every time.

use std::sync::{Mutex, MutexGuard};

use crate::cell::Cell;
use crate::grid::Spreadsheet;

type Edit = Box<dyn FnMut(&mut Vec<Vec<Cell>>) + Send>;

struct Pending {
    spreadsheet_id: String,
    tab: String,
    edit: Edit,
    /// batchUpdates of the spreadsheet it still runs before.
    writes: usize,
}

#[derive(Default)]
pub struct Races {
    pending: Mutex<Vec<Pending>>,
}

impl Races {
    fn pending(&self) -> MutexGuard<'_, Vec<Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, spreadsheet_id: &str, tab: &str, writes: usize, edit: Edit) {
        if writes == 0 {
            return;
        }
        self.pending().push(Pending {
            spreadsheet_id: spreadsheet_id.to_string(),
            tab: tab.to_string(),
            edit,
            writes,
        });
    }

    /// Runs the edits queued for the next batchUpdate of `spreadsheet`;
    /// those queued for more writes stay queued for the following ones.
    pub fn run(&self, spreadsheet: &mut Spreadsheet) {
        let mine: Vec<Pending> = {
            let mut pending = self.pending();
            let (mine, rest) = pending
                .drain(..)
                .partition(|p| p.spreadsheet_id == spreadsheet.id);
            *pending = rest;
            mine
        };
        let mut again = Vec::new();
        for mut p in mine {
            if let Some(sheet) = spreadsheet.sheets.iter_mut().find(|s| s.title == p.tab) {
                let mut cells = sheet.cells();
                (p.edit)(&mut cells);
                sheet.set_cells(cells);
                let rows = sheet.rows.len();
                sheet.row_count = sheet.row_count.max(rows);
            }
            p.writes -= 1;
            if p.writes > 0 {
                again.push(p);
            }
        }
        self.pending().extend(again);
    }
}
