//! The sheet client model: plays the Apps Script. It edits the emulator's
//! tab as a person does (behind the API, as the Sheets UI would) and sends
//! the docs/contract.md request the script builds for that edit, reading the
//! tab's watermark from its developer metadata first, as the script does.

use std::time::Duration;

use serde_json::{Value as Json, json};
use sheetsync_sheets_emulator::{Cell, CellValue};

use sheetsync_sheets::journal::{Verdict, journal_title, verdict};

use crate::stack::{HEADER, SPREADSHEET, Stack, TAB};

pub const WATERMARK_KEY: &str = "sheetsync.watermark";

/// Sheet values as the script reads them (`getValues`): numbers, strings,
/// booleans, `""` for empty.
pub fn cell_json(cell: &Cell) -> Json {
    cell.unformatted_json(true)
}

pub fn json_cell(value: &Json) -> Cell {
    match value {
        Json::Null => Cell::default(),
        Json::Bool(b) => Cell::bool(*b),
        Json::Number(n) => Cell::number(n.as_f64().unwrap()),
        Json::String(s) if s.is_empty() => Cell::default(),
        Json::String(s) => Cell::text(s.clone()),
        other => panic!("not a cell value: {other}"),
    }
}

/// The key of a data row's cells, `None` when the key cell is empty.
pub fn key_of(values: &[Json]) -> Option<i64> {
    match values.first()? {
        Json::Number(n) => n.as_f64().map(|f| f as i64),
        _ => None,
    }
}

pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A data row: its 1-based sheet row and its values in header order.
#[derive(Debug, Clone)]
pub struct SheetRow {
    pub row: usize,
    pub values: Vec<Json>,
}

pub struct SheetModel<'a> {
    pub stack: &'a Stack,
    next_event: u64,
}

impl<'a> SheetModel<'a> {
    pub fn new(stack: &'a Stack) -> SheetModel<'a> {
        SheetModel {
            stack,
            next_event: 0,
        }
    }

    /// The watermark a request reports, as the script reads it: the tab's
    /// metadata, or, while the journal shows writes that missed their row,
    /// the watermark before that batch (its changes are not all there).
    pub fn watermark(&self) -> Option<i64> {
        let stamped: Option<i64> = self
            .stack
            .emu
            .developer_metadata(SPREADSHEET, TAB, WATERMARK_KEY)
            .and_then(|v| v.parse().ok());
        let journal = self.journal();
        match (stamped, journal.prev_watermark) {
            (Some(w), Some(prev)) if journal.misplaced > 0 => Some(w.min(prev)),
            _ => stamped,
        }
    }

    /// Every data row with content.
    pub fn rows(&self) -> Vec<SheetRow> {
        let cells = self.stack.emu.cells(SPREADSHEET, TAB).unwrap_or_default();
        cells
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, r)| SheetRow {
                row: i + 1,
                values: (0..HEADER.len())
                    .map(|c| r.get(c).map_or(json!(""), cell_json))
                    .collect(),
            })
            .filter(|r| r.values.iter().any(|v| *v != json!("")))
            .collect()
    }

    /// The tab's journal as the script reads it.
    pub fn journal(&self) -> Verdict {
        verdict(&self.stack.emu.rows(SPREADSHEET, &journal_title(TAB)))
    }

    /// Runs `read` between two reads of the journal, as the script does
    /// before a snapshot or a key list: the tab is unsettled when the last
    /// batch missed rows not yet repaired, or a batch landed during `read`.
    pub fn settled_read<R>(&self, read: impl FnOnce() -> R) -> (R, bool) {
        let before = self.journal();
        let out = read();
        let after = self.journal();
        (
            out,
            before.misplaced > 0 || before.generation != after.generation,
        )
    }

    pub fn keyed_rows(&self) -> Vec<SheetRow> {
        self.rows()
            .into_iter()
            .filter(|r| key_of(&r.values).is_some())
            .collect()
    }

    /// Edits the tab's cells in one step (the writer cannot interleave).
    pub fn edit<R>(&self, f: impl FnOnce(&mut Vec<Vec<Cell>>) -> R) -> R {
        self.stack.emu.edit_rows(SPREADSHEET, TAB, |rows| {
            for row in rows.iter_mut() {
                if row.len() < HEADER.len() {
                    row.resize(HEADER.len(), Cell::default());
                }
            }
            f(rows)
        })
    }

    pub fn request(&mut self, kind: &str, edited_at: &str, watermark: Option<i64>) -> Json {
        self.next_event += 1;
        let mut body = json!({
            "v": 1,
            "event_id": format!("e2e-{}-{}", std::process::id(), self.next_event),
            "spreadsheet_id": SPREADSHEET,
            "sheet": TAB,
            "kind": kind,
            "edited_at": edited_at,
            "header": HEADER,
        });
        if let Some(w) = watermark {
            body["watermark"] = json!(w);
        }
        body
    }

    /// Posts until the webhook answers 200 (the script keeps an event and
    /// retries it on 503); the same event id each time.
    pub async fn post(&self, body: &Json) -> Json {
        let text = body.to_string();
        let mut pause = Duration::from_millis(5);
        for _ in 0..60 {
            let response = self.stack.webhook.handle(self.stack.signed(&text)).await;
            match response.status {
                200 => return response.body(),
                503 => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                status => panic!("webhook answered {status}: {} to {}", response.body(), text),
            }
        }
        panic!("webhook unavailable for 60 attempts: {text}")
    }

    /// Writes the keys the webhook assigned into new rows, finding each row
    /// as the script does: empty key cell, same content. A row that cannot
    /// be found (changed since it was sent) is left for the next snapshot,
    /// which answers it with its key again. Returns every key answered for
    /// a keyless sent row.
    pub fn write_back_keys(&self, sent: &[SheetRow], response: &Json) -> Vec<i64> {
        let mut keys = Vec::new();
        for outcome in response["rows"].as_array().into_iter().flatten() {
            let Some(id) = outcome["key"]["id"].as_i64() else {
                continue;
            };
            let Some(row) = outcome["row"].as_u64() else {
                continue;
            };
            let Some(sent_row) = sent.iter().find(|r| r.row as u64 == row) else {
                continue;
            };
            if key_of(&sent_row.values).is_some() {
                continue;
            }
            let values = sent_row.values.clone();
            self.edit(|rows| {
                let found: Vec<usize> = (1..rows.len())
                    .filter(|&i| {
                        cell_json(&rows[i][0]) == json!("")
                            && (1..HEADER.len()).all(|c| cell_json(&rows[i][c]) == values[c])
                    })
                    .collect();
                if let [i] = found[..] {
                    rows[i][0] = Cell::number(id as f64);
                }
            });
            keys.push(id);
        }
        keys
    }

    pub fn is_empty(cell: &Cell) -> bool {
        matches!(cell.value, CellValue::Empty)
    }
}
