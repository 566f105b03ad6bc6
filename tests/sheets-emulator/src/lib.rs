//! An in-memory Google Sheets API v4 emulator with a real OAuth2 token endpoint.
//!
//! Production clients run against it unchanged: `google-sheets4` with
//! `root_url`/`base_url` set to [`Emulator::root_url`], and `yup-oauth2`'s
//! service-account flow with the key from [`Emulator::service_account_key`]
//! (its `token_uri` points at the emulator, which checks the JWT's RS256
//! signature against the test key in `tests/fixtures/`).
//!
//! ```no_run
//! # async fn demo() {
//! use sheetsync_sheets_emulator::Emulator;
//! use serde_json::json;
//!
//! let emu = Emulator::start().await;
//! emu.set_rows("sheet-1", "orders", vec![vec![json!("id"), json!("qty")], vec![json!(1), json!(5)]]);
//! // ... run the code under test against emu.root_url() and emu.service_account_key() ...
//! assert_eq!(emu.rows("sheet-1", "orders")[1], vec![json!(1), json!(5)]);
//! assert_eq!(emu.request_count(), 0);
//! # }
//! ```
//!
//! Implemented: `spreadsheets.get` (incl. `includeGridData`, `ranges`,
//! developer metadata, `fields`), `spreadsheets.create`, `values.get`,
//! `batchGet`, `update`, `batchUpdate`, `append`, `clear`, `batchClear`,
//! `spreadsheets.batchUpdate` (updateCells, appendCells, repeatCell,
//! deleteDimension, insertDimension, appendDimension, sortRange, addSheet,
//! deleteSheet, updateSheetProperties, updateSpreadsheetProperties (`timeZone`),
//! create/update/deleteDeveloperMetadata;
//! atomic and in order), `developerMetadata.search` and `.get`. Formulas are
//! stored as typed; what one shows is computed for formulas over constants
//! and otherwise set by tests (`formula`). Google's per-minute quotas (per
//! user, per project, reads and writes apart) and its 2 MB payload guidance
//! are enforced when a run asks (`Faults::set_google_quotas`,
//! `Faults::set_payload_limit`).

mod a1;
mod answer;
mod auth;
mod batch_update;
mod cell;
mod changes;
mod control;
mod emulator;
mod error;
mod faults;
mod fields;
mod format;
mod formula;
mod grid;
mod gzip;
mod http;
mod log;
mod metadata;
mod metadata_api;
mod quotas;
mod race;
mod router;
mod seed;
mod spreadsheet;
mod state;
mod time_zone;
mod values;

pub use auth::{TEST_CLIENT_EMAIL, TEST_PROJECT_ACCOUNTS, TEST_SERVICE_ACCOUNT_JSON};
pub use cell::{Cell, CellFormat, CellValue, NumberFormat, NumberFormatType};
pub use changes::{Change, ChangeSource};
pub use emulator::Emulator;
pub use error::ApiError;
pub use faults::{FailNext, FaultConfig, Faults, Quota};
pub use formula::Formula;
pub use log::{Counters, LoggedRequest};
pub use quotas::{GoogleQuotas, PayloadLimit};
pub use time_zone::DEFAULT_TIME_ZONE;
