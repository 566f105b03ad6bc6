//! The batch planner: a tab image and the ordered row changes of a batch
//! become ONE `spreadsheets.batchUpdate` body. Pure: no I/O.
//!
//! The changes are replayed in `seq` order on a model of the tab (which key
//! sits in which grid row, which rows are going, which are new), so the
//! result is the coalesced effect of the whole batch: each row is written
//! once with the last value of each cell, a row inserted and deleted within
//! the batch never reaches the sheet, and a keyset removes only rows that
//! exist at its place in the order.
//!
//! Request order inside the body, and why row indexes stay valid:
//! 1. `updateCells` on existing rows, at the indexes read (nothing has moved yet);
//! 2. `deleteDimension`, highest rows first: removing a row shifts only the
//!    rows below it, which were already removed;
//! 3. `appendCells` for new rows, which needs no index;
//! 4. the watermark metadata.
//!
//! A cell where a person typed a formula keeps it while the formula shows
//! the table's value (at the sheet's precision): such a cell is dropped from
//! the writes, whatever brought it (an update, a whole row pushed or sent
//! again, a write a repair makes again). A value the formula does not show
//! is the table's change of that cell, and replaces the formula.
//!
//! The writer plans through [`journaled_plan`], which wraps these requests
//! with the journal's copies ([`crate::journal`]) so the batch's answer shows
//! where each row landed, and which puts back what a misplaced batch hit
//! ([`crate::repair`]) and makes its missed writes again before the changes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value as Json};
use sheetsync_queue::{ChangeBatch, Op, SchemaChange};
use sheetsync_reconcile::convert::{from_sheet_in, sheet_matches_in};
use sheetsync_reconcile::{Key, PgType, SheetSettings};

use crate::cells::{Cell, cell_for, text_cell};
use crate::journal::{Entry, EntryOp, Frame, Journal, Touch, journal_title};
use crate::keys::{db_key, sheet_key};
use crate::reads::{KeyPositions, key_types, sheet_rows};
use crate::repair::{Restore, Restores, restored, restores};
use crate::tab::{FormulaCell, TabImage, cell_json};
use crate::wire::{
    AppendCells, AppendDimension, BatchUpdate, CellData, CreateDeveloperMetadata, DataFilter,
    DeleteDimension, DeveloperMetadata, DimensionRange, ExtendedValue, FIELDS_NOTE, FIELDS_VALUE,
    FIELDS_VALUE_AND_FORMAT, FIELDS_VALUE_AND_NOTE, GridCoordinate, MetadataLocation,
    MetadataLookup, NotedCell, NotedRow, Request, RowData, UpdateCells, UpdateDeveloperMetadata,
    UpdateNotedCells, WATERMARK_KEY,
};

/// What a plan does, for logs and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanStats {
    /// Changes in the batch.
    pub changes: usize,
    /// Changes at or below the tab's watermark: already applied (redelivery).
    pub stale: usize,
    /// Updates of keys the sheet does not have (the sheet deleted the row).
    pub skipped_updates: usize,
    pub rows_updated: usize,
    pub rows_appended: usize,
    pub rows_deleted: usize,
    pub cells_written: usize,
    /// Change columns the sheet's header lacks (names only).
    pub unknown_columns: BTreeSet<String>,
    /// The header was written because the tab was empty.
    pub header_written: bool,
    /// The watermark the plan stamps.
    pub watermark: Option<i64>,
    /// Journal entries of the last batch whose write missed its row.
    pub misplaced: usize,
    /// Rows a misplaced write hit, put back (cells restored or row re-added).
    pub rows_restored: usize,
    /// Cells not written because their formula shows the table's value.
    pub formulas_kept: usize,
    /// Schema changes of the table applied to the header.
    pub schema_changes: usize,
    /// Header cells a schema change wrote (named, or noted as dropped).
    pub header_cells_written: usize,
    /// Columns a schema change renamed or dropped that the sheet's header
    /// does not show (a person renamed or removed them): nothing written.
    pub schema_columns_missing: BTreeSet<String>,
}

/// What a schema change does to one header cell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HeaderEdit {
    /// The cell names this column (added or renamed); its note is cleared.
    Named(String),
    /// The column was dropped: the name stays, a note says it is not synced.
    Dropped(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `None` when nothing is left to do (every change already applied).
    pub body: Option<BatchUpdate>,
    pub stats: PlanStats,
    /// Where each key will be once the body lands as planned (rows below a
    /// removed one move up, new rows go after the last): the next batch's
    /// guess of its rows ([`crate::reads`]). Without a body: where the keys
    /// are (empty when there were no changes at all).
    pub positions_after: KeyPositions,
}

/// A row to append: its key (none for a keyless row a repair puts back)
/// and its cells by grid column.
type NewRow = (Option<Key>, BTreeMap<usize, Cell>);

/// The tab as the replay sees it.
struct Model {
    /// Sheet rows by key (duplicated keys: every copy is written and removed).
    sheet_rows: HashMap<Key, Vec<usize>>,
    /// Cells to write per existing grid row, by grid column.
    writes: BTreeMap<usize, BTreeMap<usize, Cell>>,
    deleted: BTreeSet<usize>,
    /// New rows in order of first insert; `None` once deleted again. A row
    /// a repair puts back may have no key (typed in the sheet).
    appends: Vec<Option<NewRow>>,
    /// Cells a repair puts back on rows a misplaced write hit.
    restores: Vec<Restore>,
    /// Damage left for a later round (carried in the journal, unlinked).
    pending: Vec<Entry>,
    /// Grid columns of the key.
    key_columns: Vec<usize>,
    append_by_key: HashMap<Key, usize>,
    /// Header cells the batch's schema changes write, by grid column.
    header_edits: BTreeMap<usize, HeaderEdit>,
}

/// Plans `batches` (consecutive messages of one tab, in queue order) as
/// bare requests, without the journal.
pub fn plan(tab: &TabImage, batches: &[&ChangeBatch]) -> Plan {
    plan_inner(tab, batches, None)
}

/// What a journaled batch needs besides the tab and the changes.
struct Journaling {
    generation: String,
    /// The last batch's journal, read with cells as entered, when it
    /// shows misplaced writes: they are undone, and made again on their rows.
    repair: Option<Journal>,
}

/// Plans `batches` as the writer sends them: journaled, and repairing the
/// last batch first when its journal shows a write that missed its row.
/// `generation` names this batch in the journal (unique per batch).
pub fn journaled_plan(
    tab: &TabImage,
    batches: &[&ChangeBatch],
    generation: String,
    repair: Option<Journal>,
) -> Plan {
    plan_inner(tab, batches, Some(Journaling { generation, repair }))
}

fn plan_inner(tab: &TabImage, batches: &[&ChangeBatch], journaling: Option<Journaling>) -> Plan {
    let mut stats = PlanStats::default();
    let repair = journaling.as_ref().and_then(|j| j.repair.as_ref());
    let restored = repair.map(|j| restores(tab, j)).unwrap_or_default();
    stats.misplaced = repair.map_or(0, |j| j.misplaced().len());
    let Some(first) = batches.first() else {
        return Plan {
            body: None,
            stats,
            positions_after: KeyPositions::new(),
        };
    };
    let types: HashMap<&str, PgType> = batches
        .iter()
        .flat_map(|b| b.columns.iter())
        .map(|c| (c.name.as_str(), c.pg_type))
        .collect();
    let key_types = key_types(batches);

    // An empty tab gets the table's header, so the rows have somewhere to go.
    let mut header: Vec<String> = if tab.header.is_empty() {
        stats.header_written = true;
        first.columns.iter().map(|c| c.name.clone()).collect()
    } else {
        tab.header.clone()
    };
    let mut columns: HashMap<String, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        if !name.is_empty() {
            columns.entry(name.clone()).or_insert(i);
        }
    }

    let mut model = Model {
        sheet_rows: sheet_rows(tab, &key_types),
        writes: BTreeMap::new(),
        deleted: BTreeSet::new(),
        appends: Vec::new(),
        append_by_key: HashMap::new(),
        restores: Vec::new(),
        pending: Vec::new(),
        key_columns: key_types
            .iter()
            .filter_map(|(name, _)| columns.get(*name).copied())
            .collect(),
        header_edits: BTreeMap::new(),
    };

    // Changes at or below the stamp are in the tab already, or were in the
    // misplaced batch, whose writes that missed are made again from its
    // journal (below). Never from the messages in hand: a duplicate or a
    // late redelivery may hold an older value than the one that landed.
    let stamped = tab.watermark_seq();
    if repair.is_some() {
        // Keys only (never cell values): which rows a repair touches.
        tracing::debug!(
            sheet = %tab.title,
            fixed = ?restored
                .cells
                .iter()
                .map(|r| (r.row, tab.row(r.row).map(|t| t.key_cells.clone())))
                .collect::<Vec<_>>(),
            put_back = ?restored.rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "repair planned"
        );
    }
    model.seed(restored, &key_types, tab.settings(), &mut stats);
    if let Some(journal) = repair {
        model.redo_missed(journal, &key_types, tab.settings(), &mut stats);
    }
    let mut highest = None;
    let cells_of =
        |values: &Map<String, Json>, columns: &HashMap<String, usize>, stats: &mut PlanStats| {
            let mut cells = BTreeMap::new();
            for (name, value) in values {
                match columns.get(name.as_str()) {
                    Some(&col) => {
                        let pg_type = types.get(name.as_str()).copied().unwrap_or(PgType::Text);
                        cells.insert(col, cell_for(value, pg_type, tab.zone));
                    }
                    None => {
                        stats.unknown_columns.insert(name.clone());
                    }
                }
            }
            cells
        };
    // In `seq` order, each once: a duplicate message may come after later ones.
    let mut changes: Vec<_> = batches.iter().flat_map(|b| b.changes.iter()).collect();
    stats.changes = changes.len();
    changes.sort_by_key(|c| c.seq);
    changes.dedup_by_key(|c| c.seq);
    stats.stale = stats.changes - changes.len();
    for change in changes {
        if change.seq <= stamped {
            stats.stale += 1;
            continue;
        }
        highest = highest.max(Some(change.seq));
        match &change.op {
            Op::Insert { key, values } => {
                let cells = cells_of(values, &columns, &mut stats);
                let key = db_key(key);
                if !model.set_cells(&key, &cells) {
                    // Keys only: which change puts a new row in the tab.
                    tracing::debug!(sheet = %tab.title, key = %key, seq = change.seq, stamped, "row appended");
                    model.append_by_key.insert(key.clone(), model.appends.len());
                    model.appends.push(Some((Some(key), cells)));
                }
            }
            Op::Update { key, values } => {
                let cells = cells_of(values, &columns, &mut stats);
                if !model.set_cells(&db_key(key), &cells) {
                    stats.skipped_updates += 1;
                }
            }
            Op::Delete { key } => model.delete(&db_key(key)),
            Op::Keyset { keys, from, to } => {
                let keep: HashSet<Key> = keys.iter().map(|k| db_key(k)).collect();
                let from = from.as_deref().map(db_key);
                let to = to.as_deref().map(db_key);
                let in_range = |k: &Key| {
                    from.as_ref().is_none_or(|f| k >= f) && to.as_ref().is_none_or(|t| k <= t)
                };
                model.delete_where(|k| in_range(k) && !keep.contains(k));
                model.keep_one_copy(|k| in_range(k) && keep.contains(k));
            }
            Op::Schema(schema) => {
                // Keys and names only: the header a schema change rewrites.
                tracing::info!(
                    sheet = %tab.title,
                    seq = change.seq,
                    added = ?schema.added,
                    dropped = ?schema.dropped,
                    renamed = ?schema.renamed.iter().map(|r| (&r.from, &r.to)).collect::<Vec<_>>(),
                    retyped = ?schema.retyped.iter().map(|r| &r.name).collect::<Vec<_>>(),
                    "table columns changed; the header follows"
                );
                let first_free = tab.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
                apply_schema(
                    schema,
                    first_free,
                    &mut header,
                    &mut columns,
                    &mut model.header_edits,
                    &mut stats,
                );
            }
        }
    }
    if !stats.schema_columns_missing.is_empty() {
        tracing::warn!(
            sheet = %tab.title,
            columns = ?stats.schema_columns_missing,
            "columns the table renamed or dropped are not in the sheet's header (a person renamed or removed them); their header is left alone"
        );
    }
    if !stats.unknown_columns.is_empty() {
        tracing::warn!(
            sheet = %tab.title,
            columns = ?stats.unknown_columns,
            "change columns missing from the sheet header are not written"
        );
    }
    // On the batch's last value of each cell: a cell changed and changed
    // back within the batch keeps its formula.
    model.keep_formulas(
        tab,
        |column| {
            header
                .get(column)
                .and_then(|name| types.get(name.as_str()))
                .copied()
                .unwrap_or(PgType::Text)
        },
        &mut stats,
    );
    let repairing = stats.misplaced > 0;
    let highest = match (highest, repairing) {
        (None, false) => {
            return Plan {
                body: None,
                stats,
                positions_after: model.positions_after(tab.row_end, false),
            };
        }
        // Never stamp below what the tab already says it holds.
        (highest, _) => highest.unwrap_or(stamped).max(stamped),
    };
    stats.watermark = Some(highest);
    let watermark = repair.map_or(stamped, |j| j.prev_watermark.min(stamped));
    let frame = journaling.map(|j| Frame {
        tab_sheet_id: tab.sheet_id,
        journal_sheet_id: tab.journal_sheet_id(),
        journal_grid: tab.journal.as_ref().map(|j| j.grid),
        journal_title: journal_title(&tab.title),
        width: tab.column_count.max(header.len()).max(1),
        key_index: key_types
            .iter()
            .filter_map(|(name, _)| columns.get(*name).copied())
            .collect(),
        generation: j.generation,
        prev_watermark: watermark,
        watermark: highest,
    });
    let positions_after = model.positions_after(tab.row_end, stats.header_written);
    let requests = model.into_requests(tab, &header, highest, frame.as_ref(), &mut stats);
    let mut body = BatchUpdate::new(requests);
    if let Some(frame) = &frame {
        body.include_spreadsheet_in_response = true;
        body.response_ranges = vec![crate::tab::tab_range(&frame.journal_title)];
        body.response_include_grid_data = true;
    }
    Plan {
        body: Some(body),
        stats,
        positions_after,
    }
}

impl Model {
    /// Where each key is after the batch, if no person moves a row.
    fn positions_after(&self, row_end: usize, header_written: bool) -> KeyPositions {
        let deleted: Vec<usize> = self.deleted.iter().copied().collect();
        let mut after = KeyPositions::with_capacity(self.sheet_rows.len() + self.appends.len());
        for (key, rows) in &self.sheet_rows {
            let moved: Vec<usize> = rows
                .iter()
                .filter(|row| !self.deleted.contains(row))
                .map(|&row| row - deleted.partition_point(|&d| d < row))
                .collect();
            if !moved.is_empty() {
                after.insert(key.clone(), moved);
            }
        }
        let first_new = row_end.saturating_sub(deleted.len()) + usize::from(header_written);
        for (row, (key, _)) in (first_new..).zip(self.appends.iter().flatten()) {
            if let Some(key) = key {
                after.insert(key.clone(), vec![row]);
            }
        }
        after
    }

    /// Starts from what a repair puts back: cells on rows a misplaced write
    /// hit, and rows it removed, which the batch's changes then see as rows
    /// about to be appended.
    fn seed(
        &mut self,
        restored: Restores,
        key_types: &[(&str, PgType)],
        settings: SheetSettings,
        stats: &mut PlanStats,
    ) {
        stats.rows_restored = restored.cells.len() + restored.rows.len();
        self.restores = restored.cells;
        self.pending = restored.pending;
        for (key_cells, cells) in restored.rows {
            let key = sheet_key(&key_cells, key_types, settings);
            if let Some(key) = &key {
                self.append_by_key.insert(key.clone(), self.appends.len());
            }
            self.appends.push(Some((key, cells)));
        }
    }

    /// Makes again the last batch's writes that missed their row, from its
    /// journal: an update's after-copy holds what it meant to write (in the
    /// columns it wrote), a delete names its key. A row gone since (a person
    /// deleted it) is not written again.
    fn redo_missed(
        &mut self,
        journal: &Journal,
        key_types: &[(&str, PgType)],
        settings: SheetSettings,
        stats: &mut PlanStats,
    ) {
        for entry in journal.misplaced() {
            let Some(key) = sheet_key(&entry.expected, key_types, settings) else {
                continue;
            };
            match entry.op {
                EntryOp::Update => {
                    // A journal written before entries named their columns:
                    // the cells the write changed.
                    let columns: Vec<usize> = if entry.columns.is_empty() {
                        (0..entry.after.len())
                            .filter(|&c| {
                                entry.after.get(c).map(|a| &a.value)
                                    != entry.before.get(c).map(|b| &b.value)
                            })
                            .collect()
                    } else {
                        entry.columns.clone()
                    };
                    let cells: BTreeMap<usize, Cell> = columns
                        .into_iter()
                        .filter_map(|c| entry.after.get(c).map(|a| (c, restored(a))))
                        .collect();
                    if !self.set_cells(&key, &cells) {
                        stats.skipped_updates += 1;
                    }
                }
                EntryOp::Delete => self.delete(&key),
                EntryOp::Fix | EntryOp::Restore | EntryOp::Carried => {}
            }
        }
    }

    /// Sets cells on the live row(s) of `key`; false when the key has none.
    ///
    /// A row already in the sheet keeps its key cells untouched: it shows
    /// that key, and were the write to land on another row (rows moved since
    /// the read), a key written there would give that row a false identity
    /// the journal could no longer tell apart.
    fn set_cells(&mut self, key: &Key, cells: &BTreeMap<usize, Cell>) -> bool {
        if let Some(rows) = self.sheet_rows.get(key) {
            for row in rows {
                let target = self.writes.entry(*row).or_default();
                target.extend(
                    cells
                        .iter()
                        .filter(|(c, _)| !self.key_columns.contains(c))
                        .map(|(c, v)| (*c, v.clone())),
                );
            }
            return true;
        }
        if let Some(&i) = self.append_by_key.get(key)
            && let Some((_, target)) = &mut self.appends[i]
        {
            target.extend(cells.iter().map(|(c, v)| (*c, v.clone())));
            return true;
        }
        false
    }

    /// Drops the writes of cells whose formula already shows what the
    /// write would ([`shows`]): the formula a person typed stays.
    fn keep_formulas(
        &mut self,
        tab: &TabImage,
        column_type: impl Fn(usize) -> PgType,
        stats: &mut PlanStats,
    ) {
        for (&row, cells) in self.writes.iter_mut() {
            let Some(read) = tab.row(row).filter(|r| !r.formulas.is_empty()) else {
                continue;
            };
            cells.retain(|&column, cell| {
                let kept = read
                    .formula(column)
                    .is_some_and(|f| shows(f, &cell.data, column_type(column), tab.settings()));
                stats.formulas_kept += usize::from(kept);
                !kept
            });
        }
    }

    fn delete(&mut self, key: &Key) {
        if let Some(rows) = self.sheet_rows.remove(key) {
            for row in rows {
                self.writes.remove(&row);
                self.deleted.insert(row);
            }
        }
        if let Some(i) = self.append_by_key.remove(key) {
            self.appends[i] = None;
        }
    }

    fn delete_where(&mut self, doomed: impl Fn(&Key) -> bool) {
        let keys: Vec<Key> = self
            .sheet_rows
            .keys()
            .chain(self.append_by_key.keys())
            .filter(|k| doomed(k))
            .cloned()
            .collect();
        for key in keys {
            self.delete(&key);
        }
    }

    /// A keyset is the table's whole say over its range: each key it keeps
    /// is one row. Copies of a key in the tab (a row pasted with its key, a
    /// repair that could not tell two rows apart) go, but the first.
    fn keep_one_copy(&mut self, kept: impl Fn(&Key) -> bool) {
        for (key, rows) in self.sheet_rows.iter_mut() {
            if rows.len() < 2 || !kept(key) {
                continue;
            }
            rows.sort_unstable();
            for row in rows.drain(1..) {
                self.writes.remove(&row);
                self.deleted.insert(row);
            }
        }
    }

    fn into_requests(
        self,
        tab: &TabImage,
        header: &[String],
        watermark: i64,
        frame: Option<&Frame>,
        stats: &mut PlanStats,
    ) -> Vec<Request> {
        let sheet_id = tab.sheet_id;
        let key_cells = |row: usize| {
            tab.row(row)
                .map(|r| r.key_cells.clone())
                .unwrap_or_default()
        };
        let mut touches: Vec<Touch> = Vec::new();
        let mut carried: Vec<(Entry, Option<usize>)> = Vec::new();
        let mut writes = Vec::new();
        for Restore {
            row,
            cells,
            content,
            damage,
        } in self.restores
        {
            carried.extend(damage.into_iter().map(|d| (d, Some(touches.len()))));
            // A keyed row is checked by its key, as any write; one typed
            // without a key yet only by its whole content.
            let key = key_cells(row);
            let touch = if key.iter().any(|k| !k.is_null()) {
                Touch {
                    op: EntryOp::Fix,
                    row,
                    expected: key,
                    columns: Vec::new(),
                }
            } else {
                Touch {
                    op: EntryOp::Restore,
                    row,
                    expected: content,
                    columns: Vec::new(),
                }
            };
            touches.push(touch);
            writes.push((row, cells));
        }
        carried.extend(self.pending.into_iter().map(|d| (d, None)));
        for (row, cells) in self.writes {
            if cells.is_empty() {
                continue;
            }
            stats.rows_updated += 1;
            stats.cells_written += cells.len();
            touches.push(Touch {
                op: EntryOp::Update,
                row,
                expected: key_cells(row),
                columns: cells.keys().copied().collect(),
            });
            writes.push((row, cells));
        }
        touches.extend(self.deleted.iter().map(|&row| Touch {
            op: EntryOp::Delete,
            row,
            expected: key_cells(row),
            columns: Vec::new(),
        }));
        let mut requests = Vec::new();
        if !stats.header_written && !self.header_edits.is_empty() {
            // The grid grows first: every later request may write the new columns.
            let width = header
                .len()
                .max(self.header_edits.keys().next_back().map_or(0, |c| c + 1));
            if width > tab.column_count {
                requests.push(Request::AppendDimension(AppendDimension {
                    sheet_id,
                    dimension: "COLUMNS",
                    length: width - tab.column_count,
                }));
            }
            let header_row = tab.header_row();
            for (column, edit) in &self.header_edits {
                stats.header_cells_written += 1;
                let (cell, fields) = match edit {
                    HeaderEdit::Named(name) => (
                        NotedCell {
                            user_entered_value: Some(ExtendedValue::StringValue(name.clone())),
                            note: None,
                        },
                        FIELDS_VALUE_AND_NOTE,
                    ),
                    HeaderEdit::Dropped(note) => (
                        NotedCell {
                            user_entered_value: None,
                            note: Some(note.clone()),
                        },
                        FIELDS_NOTE,
                    ),
                };
                requests.push(Request::UpdateNotedCells(UpdateNotedCells {
                    start: GridCoordinate {
                        sheet_id,
                        row_index: header_row,
                        column_index: *column,
                    },
                    rows: vec![NotedRow { values: vec![cell] }],
                    fields,
                }));
            }
        }
        requests.extend(
            frame
                .map(|f| f.before(&touches, &carried))
                .unwrap_or_default(),
        );
        for (row, cells) in writes {
            for (column, run) in runs(cells) {
                let formatted = run.first().is_some_and(|c| c.formatted);
                requests.push(Request::UpdateCells(UpdateCells {
                    start: GridCoordinate {
                        sheet_id,
                        row_index: row,
                        column_index: column,
                    },
                    rows: vec![RowData {
                        values: run.into_iter().map(|c| c.data).collect(),
                    }],
                    fields: if formatted {
                        FIELDS_VALUE_AND_FORMAT
                    } else {
                        FIELDS_VALUE
                    },
                }));
            }
        }
        if let Some(frame) = frame {
            requests.extend(frame.after(&touches));
        }
        stats.rows_deleted = self.deleted.len();
        for (start, end) in descending_runs(&self.deleted) {
            requests.push(Request::DeleteDimension(DeleteDimension {
                range: DimensionRange {
                    sheet_id,
                    dimension: "ROWS",
                    start_index: start,
                    end_index: end,
                },
            }));
        }
        let mut rows = Vec::new();
        if stats.header_written {
            rows.push(RowData {
                values: header.iter().map(|h| text_cell(h)).collect(),
            });
        }
        for (_, cells) in self.appends.into_iter().flatten() {
            stats.rows_appended += 1;
            stats.cells_written += cells.len();
            rows.push(full_row(cells));
        }
        if !rows.is_empty() {
            requests.push(Request::AppendCells(AppendCells {
                sheet_id,
                rows,
                fields: FIELDS_VALUE_AND_FORMAT,
            }));
        }
        requests.push(watermark_request(tab, watermark));
        requests
    }
}

/// Whether the formula cell `formula` already shows what writing `data`
/// would, in a column of `pg_type`: compared as the webhook compares a sheet
/// value with the table's (`sheet_matches_in`), so a value equal at the
/// sheet's precision counts as shown. A formula showing an error shows
/// nothing the table holds; writing the same formula again changes nothing.
fn shows(formula: &FormulaCell, data: &CellData, pg_type: PgType, sheet: SheetSettings) -> bool {
    let Some(shown) = &formula.shows else {
        return false;
    };
    let written = match &data.user_entered_value {
        Some(ExtendedValue::FormulaValue(text)) => {
            return text.as_str() == Some(formula.formula.as_str());
        }
        Some(value) => cell_json(value),
        None => Json::Null,
    };
    if &written == shown {
        return true;
    }
    match (
        from_sheet_in(shown, "", pg_type, sheet),
        from_sheet_in(&written, "", pg_type, sheet),
    ) {
        (Ok(shown), Ok(table)) => sheet_matches_in(&shown, &table, sheet.zone),
        _ => false,
    }
}

/// The note on the header cell of a column the table dropped.
pub fn dropped_note(table: &str) -> String {
    format!("sheetsync: not a column of {table}; not synced")
}

/// Applies one schema change to the header the replay writes through:
/// a dropped column's cell is noted and no longer written; a renamed
/// column's cell takes the new name (all renames at once, so two columns
/// may swap names); an added column takes the header cell already named
/// so, else a new cell after every used column (`first_free`: the widest
/// data row). Retyped columns keep their cell (their values follow).
fn apply_schema(
    change: &SchemaChange,
    first_free: usize,
    header: &mut Vec<String>,
    columns: &mut HashMap<String, usize>,
    edits: &mut BTreeMap<usize, HeaderEdit>,
    stats: &mut PlanStats,
) {
    stats.schema_changes += 1;
    for name in &change.dropped {
        match columns.remove(name) {
            Some(col) => {
                edits.insert(col, HeaderEdit::Dropped(dropped_note(&change.table)));
            }
            None => {
                stats.schema_columns_missing.insert(name.clone());
            }
        }
    }
    let mut moved = Vec::new();
    for r in &change.renamed {
        match columns.remove(&r.from) {
            Some(col) => moved.push((col, r.to.clone())),
            None => {
                stats.schema_columns_missing.insert(r.from.clone());
            }
        }
    }
    for (col, to) in moved {
        if let Some(cell) = header.get_mut(col) {
            cell.clone_from(&to);
        }
        columns.insert(to.clone(), col);
        edits.insert(col, HeaderEdit::Named(to));
    }
    for name in &change.added {
        if columns.contains_key(name) {
            continue;
        }
        let col = match header.iter().position(|h| h == name) {
            Some(col) => col,
            None => {
                let col = header.len().max(first_free);
                header.resize(col, String::new());
                header.push(name.clone());
                col
            }
        };
        columns.insert(name.clone(), col);
        edits.insert(col, HeaderEdit::Named(name.clone()));
    }
}

/// Splits a row's cells into runs of adjacent columns with the same mask, so
/// no cell between two written ones is touched.
fn runs(cells: BTreeMap<usize, Cell>) -> Vec<(usize, Vec<Cell>)> {
    let mut out: Vec<(usize, Vec<Cell>)> = Vec::new();
    for (column, cell) in cells {
        match out.last_mut() {
            Some((start, run))
                if *start + run.len() == column
                    && run.last().is_some_and(|c| c.formatted == cell.formatted) =>
            {
                run.push(cell)
            }
            _ => out.push((column, vec![cell])),
        }
    }
    out
}

/// Row ranges `[start, end)` of `rows`, highest first.
fn descending_runs(rows: &BTreeSet<usize>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &row in rows.iter().rev() {
        match out.last_mut() {
            Some((start, _)) if *start == row + 1 => *start = row,
            _ => out.push((row, row + 1)),
        }
    }
    out
}

/// A new row in header order; columns the change does not carry stay empty.
fn full_row(cells: BTreeMap<usize, Cell>) -> RowData {
    let width = cells.keys().next_back().map_or(0, |c| c + 1);
    let mut values = vec![CellData::default(); width];
    for (column, cell) in cells {
        values[column] = cell.data;
    }
    RowData { values }
}

fn watermark_request(tab: &TabImage, seq: i64) -> Request {
    let value = Some(seq.to_string());
    match tab.watermark {
        Some(w) => Request::UpdateDeveloperMetadata(UpdateDeveloperMetadata {
            data_filters: vec![DataFilter {
                developer_metadata_lookup: MetadataLookup {
                    metadata_id: w.metadata_id,
                },
            }],
            developer_metadata: DeveloperMetadata {
                metadata_id: None,
                metadata_key: None,
                metadata_value: value,
                location: None,
                visibility: None,
            },
            fields: "metadataValue",
        }),
        None => Request::CreateDeveloperMetadata(CreateDeveloperMetadata {
            developer_metadata: DeveloperMetadata {
                metadata_id: None,
                metadata_key: Some(WATERMARK_KEY.to_string()),
                metadata_value: value,
                location: Some(MetadataLocation {
                    sheet_id: tab.sheet_id,
                }),
                visibility: Some("DOCUMENT".to_string()),
            },
        }),
    }
}
