//! Pure sync logic shared by every sheetsync function: no I/O, no async.
//!
//! * [`model`]: bindings, columns, typed values, keys and row images.
//! * conversion, diff, merge and coalescing build on the model.

pub mod model;

pub use model::{Column, ConflictPolicy, Key, PgType, Value};
