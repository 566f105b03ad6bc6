//! What each side wrote, for the final accounting: a value that was
//! overwritten must be the final value, or have been seen by the side that
//! overwrote it (the later write's base), or be recorded in
//! `sheetsync.conflicts`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

/// Columns whose written values are unique per write, so they can be
/// traced (the boolean column cannot be).
pub const TRACKED: [usize; 3] = [1, 2, 3];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sheet,
    Sql,
}

#[derive(Debug, Clone)]
pub struct Write {
    pub op: usize,
    pub side: Side,
    pub key: i64,
    pub col: usize,
    pub value: Json,
    /// What the writer saw in the cell before (`null` for empty / none).
    pub base: Json,
    /// A sheet write that reached the webhook without `old` (a paste, or a
    /// single-cell edit of an empty cell: `edited`).
    pub without_base: bool,
}

/// A value gone without a conflict record.
pub struct Lost<'a> {
    pub write: &'a Write,
    pub final_value: Json,
    /// The first later write of the cell, when the test knows it.
    pub overwriter: Option<&'a Write>,
}

#[derive(Default)]
pub struct Ledger {
    pub writes: Vec<Write>,
    pub created: BTreeSet<i64>,
    pub deleted_by_sql: BTreeSet<i64>,
    /// Keys a person deleted in the sheet, with the operation.
    pub deleted_on_sheet: BTreeMap<i64, usize>,
    /// The last SQL update of each key (any column), by operation.
    pub sql_updated: BTreeMap<i64, usize>,
}

/// A cell value in a comparable form: text as a string, integers as i64,
/// empty as null.
pub fn canonical(value: &Json) -> Json {
    match value {
        Json::String(s) if s.is_empty() => Json::Null,
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 => json!(f as i64),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

impl Ledger {
    pub fn write(
        &mut self,
        op: usize,
        side: Side,
        key: i64,
        col: usize,
        value: &Json,
        base: &Json,
    ) {
        self.push(op, side, key, col, value, base, false);
    }

    /// A sheet write sent without `old`.
    pub fn write_without_base(
        &mut self,
        op: usize,
        key: i64,
        col: usize,
        value: &Json,
        base: &Json,
    ) {
        self.push(op, Side::Sheet, key, col, value, base, true);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        op: usize,
        side: Side,
        key: i64,
        col: usize,
        value: &Json,
        base: &Json,
        without_base: bool,
    ) {
        if TRACKED.contains(&col) {
            self.writes.push(Write {
                op,
                side,
                key,
                col,
                value: canonical(value),
                base: canonical(base),
                without_base,
            });
        }
    }

    /// Rows back in the table after a person deleted them, though nobody
    /// wrote them since: keys are never reused, so a row deleted in SQL
    /// must stay gone, and one deleted in the sheet may come back only when
    /// SQL changed it after that delete (the change reaches the sheet).
    pub fn resurrected(&self, table: &BTreeMap<i64, Json>) -> Vec<i64> {
        table
            .keys()
            .copied()
            .filter(|key| {
                self.deleted_by_sql.contains(key)
                    || self.deleted_on_sheet.get(key).is_some_and(|&deleted| {
                        self.sql_updated
                            .get(key)
                            .is_none_or(|&updated| updated < deleted)
                    })
            })
            .collect()
    }

    /// Values that are gone without a trace.
    /// `table`: key → row object; `conflicts`: (key, column) → values
    /// recorded on either side.
    pub fn lost<'a>(
        &'a self,
        table: &BTreeMap<i64, Json>,
        conflicts: &BTreeMap<(i64, String), Vec<Json>>,
        header: &[&str],
    ) -> Vec<Lost<'a>> {
        let mut lost = Vec::new();
        for (i, w) in self.writes.iter().enumerate() {
            let Some(row) = table.get(&w.key) else {
                continue;
            };
            let name = header[w.col];
            let final_value = canonical(&row[name]);
            if final_value == w.value {
                continue;
            }
            let mut later = self.writes[i + 1..]
                .iter()
                .filter(|l| l.key == w.key && l.col == w.col);
            let seen_later = later.clone().any(|l| l.base == w.value);
            let overwriter = later.next();
            if seen_later {
                continue;
            }
            let recorded = conflicts
                .get(&(w.key, name.to_string()))
                .is_some_and(|vs| vs.iter().any(|v| canonical(v) == w.value));
            if recorded {
                continue;
            }
            lost.push(Lost {
                write: w,
                final_value,
                overwriter,
            });
        }
        lost
    }
}
