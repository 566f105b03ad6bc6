//! Pure sync logic shared by every sheetsync function: no I/O, no async.
//!
//! * [`model`]: bindings, columns, typed values, keys.
//! * [`convert`]: sheet cell ⇄ typed value ⇄ PostgreSQL, with errors a sheet
//!   user understands.
//! * [`serial`]: Google serial numbers for dates.
//! * [`script`]: what the Apps Script sends for a cell (a model, checked
//!   against the script through shared fixtures).
//! * [`zone`]: the spreadsheet's time zone, where a serial's wall clock is.
//! * [`locale`]: the spreadsheet's locale, how a person writes numbers,
//!   dates and TRUE/FALSE in text.
//! * [`diff`]: a snapshot judged against the table image and the watermark.
//! * [`merge`]: three-way merge of an edited row under the conflict policy.
//! * [`coalesce`]: an ordered run of row changes → one change per key.

pub mod binding;
pub mod coalesce;
pub mod convert;
pub mod diff;
pub mod fasthash;
mod key;
pub mod locale;
pub mod merge;
pub mod model;
pub mod script;
pub mod serial;
pub mod zone;

pub use binding::Binding;
pub use convert::{ConvertError, Reason, SheetSettings, from_pg_json, from_sheet};
pub use locale::SheetLocale;
pub use model::{Column, ConflictPolicy, Key, KeyPart, PgType, SheetCell, Value};
pub use zone::SheetZone;
