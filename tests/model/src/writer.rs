//! The sheet writer: the queue's head messages planned against the tab it
//! read by the product's batch planner (`sheetsync_sheet_plan::plan`), whose
//! `batchUpdate` body is then applied to the tab the person sees now.
//!
//! Abstraction (docs/model-checking.md): the body's grid rows are resolved
//! to the rows they were at the read, and land on those rows wherever a
//! sort moved them since. That is what the journal and its repair
//! guarantee (docs/row-identity.md; tested in `shared/writer/tests/races.rs`);
//! modelling grid indexes and the journal is out of this model's scope. A
//! row a person deleted since is not written again (the repair's rule).

use serde_json::{Map, Value as Json};
use sheetsync_queue::{ChangeBatch, ColumnType, Op, RowChange};
use sheetsync_reconcile::{PgType, SheetLocale, SheetZone};
use sheetsync_sheet_plan::tab::{TabImage, TabRow as SheetRow, Watermark, cell_json};
use sheetsync_sheet_plan::wire::{CellData, Request};

use crate::product::{COLUMNS, json, val_of_json};
use crate::world::{Change, ChangeOp, Rid, TabOp, TabRow, Val, WIDTH, World, WriterBatch};

/// Messages one writer invocation takes from the queue's head.
pub const BATCH: usize = 2;

/// The tab as `spreadsheets.get` returns it: header in row 0, data below.
pub fn tab_image(world: &World) -> TabImage {
    let rows = world
        .tab
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let key = row.key.map_or(Json::Null, Json::from);
            let mut cells = vec![key.clone()];
            cells.extend(row.cells.iter().map(|&c| json(c)));
            while cells.last().is_some_and(Json::is_null) {
                cells.pop();
            }
            SheetRow {
                row_index: i + 1,
                key_cells: vec![key],
                cells,
                formulas: Vec::new(),
            }
        })
        .collect::<Vec<_>>();
    TabImage {
        sheet_id: 7,
        title: "Model".into(),
        header: COLUMNS.iter().map(|c| c.to_string()).collect(),
        row_end: rows.len() + 1,
        rows,
        column_count: WIDTH + 1,
        watermark: (world.tab_watermark > 0).then_some(Watermark {
            metadata_id: 1,
            seq: world.tab_watermark,
        }),
        key_index: vec![0],
        journal: None,
        zone: SheetZone::UTC,
        locale: SheetLocale::default(),
    }
}

/// One queue message as the relay sends it.
pub fn message(change: &Change) -> ChangeBatch {
    let key = vec![Json::from(change.key)];
    let values = |cells: &[Option<Val>; WIDTH]| {
        let mut map = Map::new();
        map.insert("id".into(), Json::from(change.key));
        for (c, cell) in cells.iter().enumerate() {
            if let Some(v) = cell {
                map.insert(COLUMNS[c + 1].into(), json(*v));
            }
        }
        map
    };
    let op = match &change.op {
        ChangeOp::Insert(cells) => Op::Insert {
            key,
            values: values(&cells.map(Some)),
        },
        ChangeOp::Update(cells) => Op::Update {
            key,
            values: values(cells),
        },
        ChangeOp::Delete => Op::Delete { key },
    };
    ChangeBatch {
        v: 1,
        binding: "model".into(),
        spreadsheet_id: "sheet".into(),
        sheet: "Model".into(),
        key_columns: vec!["id".into()],
        columns: COLUMNS
            .iter()
            .map(|c| ColumnType {
                name: c.to_string(),
                pg_type: PgType::Int8,
            })
            .collect(),
        changes: vec![RowChange {
            seq: change.seq,
            committed_at: "2026-01-01T00:00:00Z".into(),
            op,
        }],
    }
}

/// The writer reads the tab and plans the queue's head messages.
pub fn read_and_plan(world: &World) -> WriterBatch {
    let messages = world.queue.len().min(BATCH);
    let batches: Vec<ChangeBatch> = world.queue[..messages].iter().map(message).collect();
    let refs: Vec<&ChangeBatch> = batches.iter().collect();
    let image = tab_image(world);
    let plan = sheetsync_sheet_plan::plan(&image, &refs);
    // Grid row → the row it was at the read.
    let rid_at =
        |grid: usize| -> Option<Rid> { world.tab.get(grid.checked_sub(1)?).map(|r| r.rid) };
    let mut ops = Vec::new();
    for request in plan.body.iter().flat_map(|b| b.requests.iter()) {
        match request {
            Request::UpdateCells(update) => {
                for (offset, row) in update.rows.iter().enumerate() {
                    let Some(rid) = rid_at(update.start.row_index + offset) else {
                        continue;
                    };
                    let mut cells = [None; WIDTH];
                    for (i, cell) in row.values.iter().enumerate() {
                        let column = update.start.column_index + i;
                        if (1..=WIDTH).contains(&column) {
                            cells[column - 1] = Some(read(cell));
                        }
                    }
                    ops.push(TabOp::Set { rid, cells });
                }
            }
            Request::DeleteDimension(delete) => {
                for grid in delete.range.start_index..delete.range.end_index {
                    if let Some(rid) = rid_at(grid) {
                        ops.push(TabOp::Remove { rid });
                    }
                }
            }
            Request::AppendCells(append) => {
                for row in &append.rows {
                    let at = |c: usize| row.values.get(c).and_then(read);
                    let Some(key) = row.values.first().and_then(read) else {
                        continue;
                    };
                    ops.push(TabOp::Append {
                        key: i64::from(key),
                        cells: [at(1), at(2)],
                    });
                }
            }
            _ => {}
        }
    }
    WriterBatch {
        messages,
        ops,
        stamp: plan.stats.watermark,
    }
}

fn read(cell: &CellData) -> Val {
    cell.user_entered_value
        .as_ref()
        .and_then(|v| val_of_json(&cell_json(v)))
}

/// The `batchUpdate` lands (atomically) on the tab as it is now.
pub fn land(world: &mut World, batch: &WriterBatch) {
    for op in &batch.ops {
        match op {
            TabOp::Set { rid, cells } => {
                if let Some(row) = world.tab.iter_mut().find(|r| r.rid == *rid) {
                    for (c, cell) in cells.iter().enumerate() {
                        if let Some(v) = cell {
                            row.cells[c] = *v;
                        }
                    }
                }
            }
            TabOp::Remove { rid } => world.tab.retain(|r| r.rid != *rid),
            TabOp::Append { key, cells } => {
                // The ghost identity of the row the key belongs to.
                let rid = world.ghost.rid_of(*key).unwrap_or(u8::MAX);
                world.tab.push(TabRow {
                    rid,
                    key: Some(*key),
                    cells: *cells,
                });
            }
        }
    }
    if let Some(stamp) = batch.stamp {
        world.tab_watermark = world.tab_watermark.max(stamp);
    }
}
