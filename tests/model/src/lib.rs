//! Model checking of sheetsync's sync protocol (issue 15): every
//! interleaving of small scenarios, with every decision made by the
//! product's own rules: `sheetsync_reconcile::merge::merge_row` and
//! `sheetsync_reconcile::diff::diff` through the webhook's planners
//! (`sheetsync_plan::{edit, snapshot}`), `repair_columns`, and the
//! writer's batch planner (`sheetsync_sheet_plan::plan`, which coalesces a
//! batch's changes per row). What is abstracted, and why, is in
//! docs/model-checking.md.
//!
//! * [`world`]: the state (tab, script, table and `row_state`, outbox,
//!   relay, queue, writer, conflict log) and the ghost record;
//! * [`people`]: people's steps on both sides;
//! * [`webhook`], [`effects`], [`capture`]: the webhook transaction, its
//!   `row_state` statements, the capture trigger;
//! * [`writer`]: the sheet writer;
//! * [`model`]: the `stateright` model; [`properties`]: what must hold;
//! * [`scenarios`]: the scenarios checked; [`run`]: running one and
//!   reporting it.

pub mod capture;
pub mod effects;
pub mod model;
pub mod people;
pub mod product;
pub mod properties;
pub mod run;
pub mod scenarios;
pub mod webhook;
pub mod world;
pub mod writer;
