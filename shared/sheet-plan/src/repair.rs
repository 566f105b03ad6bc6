//! Undoing misplaced writes, from the journal's copies. Pure: no I/O.
//!
//! A write that landed on another row (the journal's before-copy holds
//! another key) is undone where that row is now: found by its key, or, for a
//! row typed in the sheet without one, by its content right after the write.
//! Only cells that still hold what the write put there are restored, so a
//! person's edit made since is kept. A row removed in place of another comes
//! back whole, at the bottom of the tab, with formulas and number formats
//! as entered. The batch's writes that missed are then made again from
//! the journal ([`crate::plan::journaled_plan`]), so each lands on its own
//! row.
//!
//! Damage piles up while rows keep moving: a repair that missed hit a row
//! too, and a row can be hit several times before one round lands. So the
//! damage is undone as a stack, newest first, on a copy of each row: a cell
//! hit twice (x → y, then y → z) goes back to x, not to y. Each row gets one
//! write, whatever number of entries it undoes.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value as Json;
use sheetsync_reconcile::SheetCell;

use crate::cells::{Cell, from_sheet_cell};
use crate::journal::{Entry, EntryOp, Journal, JournalCell};
use crate::tab::{TabImage, TabRow};
use crate::wire::CellData;

/// What a repair writes before the batch's own changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restores {
    /// Cells put back on rows a write hit by mistake.
    pub cells: Vec<Restore>,
    /// Rows removed by mistake, to append again: (their key cells, cells).
    pub rows: Vec<(Vec<Json>, BTreeMap<usize, Cell>)>,
    /// Damage past this round's [`RESTORES_PER_ROUND`], carried in the
    /// journal without a write for a later round to undo.
    pub pending: Vec<Entry>,
}

/// Rows one round puts back in place. A round's window between its read
/// and its write grows with its size, and so do its odds of being missed
/// by a sort: unbounded, rounds under frequent sorts grew to most of the
/// tab and outlasted the invocation (3,500 misplaced rows, 20 s rounds in
/// the 20,000-operation soak). Bounded, every landed round undoes up to
/// this many rows, and a missed one adds at most this many.
pub const RESTORES_PER_ROUND: usize = 200;

/// Cells to put back on one row, and the damage they undo (carried in the
/// journal until this write is seen to land).
#[derive(Debug, Clone, PartialEq)]
pub struct Restore {
    pub row: usize,
    pub cells: BTreeMap<usize, Cell>,
    /// The row as read, which the journal checks for a row without a key.
    pub content: Vec<Json>,
    pub damage: Vec<Entry>,
}

impl Restores {
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty() && self.rows.is_empty() && self.pending.is_empty()
    }
}

fn at(cells: &[Json], i: usize) -> &Json {
    cells.get(i).unwrap_or(&Json::Null)
}

fn values(cells: &[JournalCell]) -> Vec<Json> {
    cells.iter().map(|c| c.value.clone()).collect()
}

/// A journal cell written back as entered (value, formula and format).
pub(crate) fn restored(cell: &JournalCell) -> Cell {
    Cell {
        data: cell.data.clone(),
        formatted: true,
    }
}

/// The cells a write changed (`before` → `after`) that `cells` still show
/// as it left them.
fn hits(cells: &[Json], before: &[Json], after: &[Json]) -> Vec<usize> {
    let width = before.len().max(after.len());
    (0..width)
        .filter(|&c| at(before, c) != at(after, c) && at(cells, c) == at(after, c))
        .collect()
}

/// A row being undone: in the tab (`row`), or removed and coming back.
struct Undo {
    row: Option<usize>,
    key: Vec<Json>,
    /// The row's values as the undo so far leaves them.
    cells: Vec<Json>,
    put: BTreeMap<usize, Cell>,
    damage: Vec<Entry>,
}

impl Undo {
    /// Undoes `entry` on this row: the cells that still hold what its
    /// write put there go back to what they held before it.
    fn apply(&mut self, entry: &Entry, before: &[Json], after: &[Json]) {
        for c in hits(&self.cells, before, after) {
            if self.cells.len() <= c {
                self.cells.resize(c + 1, Json::Null);
            }
            self.cells[c] = at(before, c).clone();
            if let Some(cell) = entry.before.get(c) {
                self.put.insert(c, restored(cell));
            }
        }
        if !self.damage.contains(entry) {
            self.damage.push(entry.clone());
        }
    }
}

fn keyless(key: &[Json]) -> bool {
    key.iter().all(Json::is_null)
}

/// Things (tab rows, undos) found by their key cells; rows without a key
/// all share one list, searched by content.
struct ByKey<T> {
    keyed: HashMap<String, Vec<T>>,
    keyless: Vec<T>,
}

impl<T> Default for ByKey<T> {
    fn default() -> Self {
        ByKey {
            keyed: HashMap::new(),
            keyless: Vec::new(),
        }
    }
}

impl<T> ByKey<T> {
    fn add(&mut self, key: &[Json], item: T) {
        if keyless(key) {
            self.keyless.push(item);
        } else {
            self.keyed
                .entry(Json::from(key).to_string())
                .or_default()
                .push(item);
        }
    }

    fn with(&self, key: &[Json]) -> &[T] {
        if keyless(key) {
            &self.keyless
        } else {
            self.keyed
                .get(&Json::from(key).to_string())
                .map_or(&[], Vec::as_slice)
        }
    }
}

/// The restores for every misplaced entry of `journal` (read with its cells
/// as entered), against the tab as it is now.
///
/// `Journal::misplaced` lists the last batch's own writes first and then the
/// damage it carried, itself newest first: the order the stack is undone in.
pub fn restores(tab: &TabImage, journal: &Journal) -> Restores {
    let misplaced = journal.misplaced();
    let key_of = |cells: &[Json]| -> Vec<Json> {
        journal
            .key_index
            .iter()
            .map(|&i| at(cells, i).clone())
            .collect()
    };
    // Indexes, not scans: a round under frequent sorts can carry damage on
    // most of a large tab, and scanning every row and every undo for every
    // entry made planning it cubic (minutes of CPU for ~1,000 entries on a
    // 1,900-row tab, past the invocation's deadline).
    let mut rows: ByKey<&TabRow> = ByKey::default();
    for row in &tab.rows {
        rows.add(&row.key_cells, row);
    }
    let mut undos: Vec<Undo> = Vec::new();
    let mut undo_index: ByKey<usize> = ByKey::default();
    let mut claimed: HashSet<usize> = HashSet::new();
    let removed: HashSet<usize> = misplaced
        .iter()
        .filter(|d| d.op == EntryOp::Delete)
        .map(|d| d.row)
        .collect();
    for entry in &misplaced {
        let before = values(&entry.before);
        let key = key_of(&before);
        match entry.op {
            EntryOp::Delete => {
                let present = !keyless(&key)
                    && (!rows.with(&key).is_empty() || !undo_index.with(&key).is_empty());
                if !present && before.iter().any(|v| !v.is_null()) {
                    let put = entry
                        .before
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| !c.value.is_null() || c.data.user_entered_value.is_some())
                        .map(|(i, c)| (i, restored(c)))
                        .collect();
                    undo_index.add(&key, undos.len());
                    undos.push(Undo {
                        row: None,
                        key,
                        cells: before,
                        put,
                        damage: Vec::new(),
                    });
                }
            }
            EntryOp::Update | EntryOp::Fix | EntryOp::Restore | EntryOp::Carried => {
                // The same row removed later in the batch comes back whole.
                if entry.op != EntryOp::Carried && removed.contains(&entry.row) {
                    continue;
                }
                let after = values(&entry.after);
                let width = before.len().max(after.len());
                let keyed = !keyless(&key);
                // A row without a key is known only by its whole content.
                let same_row = |cells: &[Json]| (0..width).all(|i| at(cells, i) == at(&after, i));
                // One write hit one row: the entry is undone on one row
                // only, even where several look alike (rows typed without
                // a key showing the same content, a key a person pasted
                // twice). Undoing it on each put one keyless row's content
                // over another's.
                let hit = |cells: &[Json]| {
                    (keyed || same_row(cells)) && !hits(cells, &before, &after).is_empty()
                };
                if let Some(&u) = undo_index
                    .with(&key)
                    .iter()
                    .find(|&&u| hit(&undos[u].cells))
                {
                    undos[u].apply(entry, &before, &after);
                    continue;
                }
                let row = rows
                    .with(&key)
                    .iter()
                    .find(|row| !claimed.contains(&row.row_index) && hit(&row.cells));
                if let Some(row) = row {
                    let mut undo = Undo {
                        row: Some(row.row_index),
                        key: row.key_cells.clone(),
                        cells: row.cells.clone(),
                        put: BTreeMap::new(),
                        damage: Vec::new(),
                    };
                    undo.apply(entry, &before, &after);
                    claimed.insert(row.row_index);
                    undo_index.add(&undo.key, undos.len());
                    undos.push(undo);
                }
            }
        }
    }
    let mut out = Restores::default();
    for undo in undos {
        match undo.row.and_then(|r| tab.row(r)) {
            Some(row) => {
                // A cell whose stack of damage ends where it is now needs no write.
                let cells: BTreeMap<usize, Cell> = undo
                    .put
                    .into_iter()
                    .filter(|(c, _)| at(&undo.cells, *c) != at(&row.cells, *c))
                    .collect();
                if cells.is_empty() {
                    continue;
                }
                let damage = compacted(&undo.damage, &undo.cells, &cells, row);
                if out.cells.len() == RESTORES_PER_ROUND {
                    out.pending.extend(damage);
                    continue;
                }
                out.cells.push(Restore {
                    row: row.row_index,
                    cells,
                    content: row.cells.clone(),
                    damage,
                });
            }
            None => out.rows.push((undo.key, undo.put)),
        }
    }
    out
}

/// The damage one restore undoes, carried as a single entry: the row as
/// the restore leaves it (before) and as it is now (after).
///
/// Carrying every entry of the row's stack instead made the journal grow
/// with the rounds, not with the rows: under sorts faster than a round,
/// each round's missed fixes were carried again with all the damage before
/// them (134 → 4,973 entries in ten rounds, measured in the soak), until
/// rounds outlasted the invocation. Undoing the single entry later does
/// what undoing the stack would: cells still showing the damage go back to
/// their first value, cells a person changed since are kept.
fn compacted(
    stack: &[Entry],
    undone: &[Json],
    restored: &BTreeMap<usize, Cell>,
    row: &TabRow,
) -> Vec<Entry> {
    let Some(oldest) = stack.last() else {
        return Vec::new();
    };
    let width = row
        .cells
        .len()
        .max(restored.keys().next_back().map_or(0, |c| c + 1));
    let now: Vec<JournalCell> = (0..width)
        .map(|c| JournalCell {
            value: at(&row.cells, c).clone(),
            data: entered(at(&row.cells, c)),
        })
        .collect();
    let before = now
        .iter()
        .enumerate()
        .map(|(c, cell)| match restored.get(&c) {
            Some(put) => JournalCell {
                value: at(undone, c).clone(),
                data: put.data.clone(),
            },
            None => cell.clone(),
        })
        .collect();
    vec![Entry {
        op: EntryOp::Carried,
        expected: oldest.expected.clone(),
        row: row.row_index,
        link: None,
        columns: Vec::new(),
        before,
        after: now,
    }]
}

/// A value as a person would have typed it (no formula, no format).
fn entered(value: &Json) -> CellData {
    let cell = match value {
        Json::Null => SheetCell::Empty,
        Json::Bool(b) => SheetCell::Bool(*b),
        Json::Number(n) => n.as_f64().map_or(SheetCell::Empty, SheetCell::Number),
        Json::String(s) => SheetCell::Text(s.clone()),
        other => SheetCell::Text(other.to_string()),
    };
    from_sheet_cell(cell).data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Entry;
    use crate::tab::TabRow;
    use crate::wire::{CellData, ExtendedValue};
    use serde_json::json;

    fn jcell(v: Json) -> JournalCell {
        let user = match &v {
            Json::Null => None,
            Json::String(s) => Some(ExtendedValue::StringValue(s.clone())),
            Json::Bool(b) => Some(ExtendedValue::BoolValue(*b)),
            n => Some(ExtendedValue::NumberValue(n.as_f64().unwrap())),
        };
        JournalCell {
            value: v,
            data: CellData {
                user_entered_value: user,
                user_entered_format: None,
            },
        }
    }

    fn entry(
        op: EntryOp,
        expected: Json,
        row: usize,
        before: Vec<Json>,
        after: Vec<Json>,
    ) -> Entry {
        Entry {
            op,
            expected: expected.as_array().unwrap().clone(),
            row,
            link: None,
            columns: Vec::new(),
            before: before.into_iter().map(jcell).collect(),
            after: after.into_iter().map(jcell).collect(),
        }
    }

    fn tab(rows: Vec<Vec<Json>>) -> TabImage {
        TabImage {
            sheet_id: 5,
            title: "T".into(),
            header: vec!["id".into(), "name".into(), "qty".into()],
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, cells)| TabRow {
                    row_index: i + 1,
                    key_cells: vec![cells[0].clone()],
                    cells,
                    formulas: Vec::new(),
                })
                .collect(),
            row_end: 0,
            column_count: 3,
            watermark: None,
            key_index: vec![0],
            journal: None,
            zone: sheetsync_reconcile::SheetZone::UTC,
            locale: sheetsync_reconcile::SheetLocale::UNKNOWN,
        }
    }

    fn journal(entries: Vec<Entry>) -> Journal {
        Journal {
            key_index: vec![0],
            width: 3,
            entries,
            ..Journal::default()
        }
    }

    #[test]
    fn a_write_on_the_wrong_row_is_undone_where_that_row_is_now() {
        // meant for key 1, landed on key 2 (name "b" -> "x"); key 2 has since moved to row 1
        let j = journal(vec![entry(
            EntryOp::Update,
            json!([1]),
            2,
            vec![json!(2), json!("b"), json!(5)],
            vec![json!(2), json!("x"), json!(5)],
        )]);
        let now = tab(vec![
            vec![json!(2), json!("x"), json!(5)],
            vec![json!(1), json!("a"), json!(4)],
        ]);
        let r = restores(&now, &j);
        assert_eq!(r.rows, vec![]);
        assert_eq!(r.cells.len(), 1);
        let restore = &r.cells[0];
        assert_eq!(
            (restore.row, restore.content.clone()),
            (1, vec![json!(2), json!("x"), json!(5)])
        );
        assert_eq!(restore.damage.len(), 1);
        assert_eq!(restore.damage[0].expected, vec![json!(1)]);
        assert_eq!(restore.cells.keys().copied().collect::<Vec<_>>(), vec![1]);
        assert_eq!(
            restore.cells[&1].data.user_entered_value,
            Some(ExtendedValue::StringValue("b".into()))
        );
    }

    #[test]
    fn a_cell_edited_since_is_kept() {
        let j = journal(vec![entry(
            EntryOp::Update,
            json!([1]),
            2,
            vec![json!(2), json!("b"), json!(5)],
            vec![json!(2), json!("x"), json!(6)],
        )]);
        // a person typed "y" over the misplaced "x"; qty still holds the misplaced 6
        let now = tab(vec![vec![json!(2), json!("y"), json!(6)]]);
        let r = restores(&now, &j);
        assert_eq!(
            r.cells[0].cells.keys().copied().collect::<Vec<_>>(),
            vec![2]
        );
    }

    #[test]
    fn a_keyless_row_is_found_by_its_content() {
        let j = journal(vec![entry(
            EntryOp::Update,
            json!([1]),
            3,
            vec![Json::Null, json!("new"), json!(1)],
            vec![Json::Null, json!("x"), json!(1)],
        )]);
        let now = tab(vec![
            vec![Json::Null, json!("other"), json!(1)],
            vec![Json::Null, json!("x"), json!(1)],
        ]);
        let r = restores(&now, &j);
        assert_eq!(r.cells.len(), 1);
        assert_eq!(r.cells[0].row, 2);
    }

    /// Two rows typed without a key, each hit by a write of the same name:
    /// both now read alike. Each entry is undone on one of them, so the
    /// tab holds both rows again (the sorting soak lost "typed0" when each
    /// entry was undone on every row that matched).
    #[test]
    fn keyless_rows_hit_alike_each_get_their_own_content_back() {
        let j = journal(vec![
            entry(
                EntryOp::Update,
                json!([7]),
                3,
                vec![Json::Null, json!("typed0"), json!(-1)],
                vec![Json::Null, json!("u5"), json!(-1)],
            ),
            entry(
                EntryOp::Update,
                json!([7]),
                4,
                vec![Json::Null, json!("typed1"), json!(-1)],
                vec![Json::Null, json!("u5"), json!(-1)],
            ),
        ]);
        let now = tab(vec![
            vec![Json::Null, json!("u5"), json!(-1)],
            vec![Json::Null, json!("u5"), json!(-1)],
        ]);
        let r = restores(&now, &j);
        let mut names: Vec<(usize, Option<ExtendedValue>)> = r
            .cells
            .iter()
            .map(|c| (c.row, c.cells[&1].data.user_entered_value.clone()))
            .collect();
        names.sort_by_key(|(row, _)| *row);
        let name = |s: &str| Some(ExtendedValue::StringValue(s.into()));
        assert_eq!(names, vec![(1, name("typed0")), (2, name("typed1"))]);
    }

    #[test]
    fn a_row_removed_by_mistake_comes_back_unless_it_is_there() {
        let gone = entry(
            EntryOp::Delete,
            json!([1]),
            2,
            vec![json!(2), json!("b"), json!(5)],
            vec![],
        );
        let r = restores(
            &tab(vec![vec![json!(1), json!("a"), json!(4)]]),
            &journal(vec![gone.clone()]),
        );
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].0, vec![json!(2)]);
        assert_eq!(r.rows[0].1.len(), 3);
        let r = restores(
            &tab(vec![vec![json!(2), json!("b"), json!(5)]]),
            &journal(vec![gone]),
        );
        assert!(r.is_empty());
    }

    /// Older damage, carried and linked to entry 0 (whose write missed).
    fn carried(before: Vec<Json>, after: Vec<Json>) -> Entry {
        let mut older = entry(EntryOp::Carried, json!([3]), 4, before, after);
        older.link = Some(0);
        older
    }

    #[test]
    fn a_cell_hit_twice_goes_back_to_its_first_value() {
        // older damage on key 2: name "b" -> "x" (its undo missed); then this
        // batch's write, meant for key 1, hit key 2 again: "x" -> "y"
        let older = carried(
            vec![json!(2), json!("b"), json!(5)],
            vec![json!(2), json!("x"), json!(5)],
        );
        let newest = entry(
            EntryOp::Update,
            json!([1]),
            2,
            vec![json!(2), json!("x"), json!(5)],
            vec![json!(2), json!("y"), json!(6)],
        );
        let j = journal(vec![newest, older]);
        let now = tab(vec![vec![json!(2), json!("y"), json!(6)]]);
        let r = restores(&now, &j);
        assert_eq!(r.cells.len(), 1, "one write for the row");
        let restore = &r.cells[0];
        assert_eq!(
            restore.cells.keys().copied().collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(
            restore.cells[&1].data.user_entered_value,
            Some(ExtendedValue::StringValue("b".into()))
        );
        assert_eq!(
            restore.cells[&2].data.user_entered_value,
            Some(ExtendedValue::NumberValue(5.0))
        );
        // carried on as one entry: the row as the restore leaves it, and as it is
        let carried = &restore.damage;
        assert_eq!(carried.len(), 1, "{carried:?}");
        assert_eq!(carried[0].op, EntryOp::Carried);
        assert_eq!(carried[0].row, restore.row);
        assert_eq!(
            values(&carried[0].before),
            vec![json!(2), json!("b"), json!(5)]
        );
        assert_eq!(
            values(&carried[0].after),
            vec![json!(2), json!("y"), json!(6)]
        );
    }

    #[test]
    fn a_row_removed_by_mistake_comes_back_without_older_damage() {
        let older = carried(
            vec![json!(2), json!("b"), json!(5)],
            vec![json!(2), json!("x"), json!(5)],
        );
        let gone = entry(
            EntryOp::Delete,
            json!([1]),
            2,
            vec![json!(2), json!("x"), json!(5)],
            vec![],
        );
        let r = restores(
            &tab(vec![vec![json!(1), json!("a"), json!(4)]]),
            &journal(vec![gone, older]),
        );
        assert!(r.cells.is_empty());
        assert_eq!(r.rows.len(), 1);
        assert_eq!(
            r.rows[0].1[&1].data.user_entered_value,
            Some(ExtendedValue::StringValue("b".into()))
        );
    }

    #[test]
    fn damage_undone_to_what_the_row_holds_needs_no_write() {
        // x -> y, then y -> x: the row holds x, as before the first
        let older = carried(
            vec![json!(2), json!("x"), json!(5)],
            vec![json!(2), json!("y"), json!(5)],
        );
        let newest = entry(
            EntryOp::Update,
            json!([1]),
            2,
            vec![json!(2), json!("y"), json!(5)],
            vec![json!(2), json!("x"), json!(5)],
        );
        let now = tab(vec![vec![json!(2), json!("x"), json!(5)]]);
        assert!(restores(&now, &journal(vec![newest, older])).is_empty());
    }

    #[test]
    fn landed_entries_need_nothing() {
        let j = journal(vec![entry(
            EntryOp::Update,
            json!([2]),
            2,
            vec![json!(2), json!("b"), json!(5)],
            vec![json!(2), json!("x"), json!(5)],
        )]);
        assert!(restores(&tab(vec![vec![json!(2), json!("x"), json!(5)]]), &j).is_empty());
    }

    /// Damage on more rows than a round puts back: the first
    /// `RESTORES_PER_ROUND` rows get their write, the rest is carried for a
    /// later round, each as the single entry a restore would carry.
    #[test]
    fn a_round_puts_back_a_bounded_number_of_rows_and_carries_the_rest() {
        let hit = RESTORES_PER_ROUND + 7;
        let entries = (0..hit)
            .map(|i| {
                let key = json!(i as i64 + 100);
                carried(
                    vec![key.clone(), json!(format!("n{i}")), json!(5)],
                    vec![key, json!("x"), json!(5)],
                )
            })
            .collect();
        let now = tab((0..hit)
            .map(|i| vec![json!(i as i64 + 100), json!("x"), json!(5)])
            .collect());
        let r = restores(&now, &journal(entries));
        assert_eq!(r.cells.len(), RESTORES_PER_ROUND);
        assert_eq!(r.pending.len(), 7);
        let first_pending = &r.pending[0];
        assert_eq!(first_pending.op, EntryOp::Carried);
        assert_eq!(first_pending.link, None);
        assert_eq!(
            first_pending.before[1].value,
            json!(format!("n{RESTORES_PER_ROUND}"))
        );
        assert_eq!(first_pending.after[1].value, json!("x"));
        // The next round, on the journal that carried them, undoes them.
        let again = restores(&now, &journal(r.pending));
        assert_eq!(again.cells.len(), 7);
        assert!(again.pending.is_empty());
    }
}
