//! sheetsync's PostgreSQL store: connecting (rustls), migrations, the
//! catalog, bindings (attach/detach) and status queries.
//!
//! SQL identifiers come only from the catalog and are always quoted with
//! [`quote_ident`]; values always travel as bind parameters.

mod attach;
mod binding;
mod catalog;
mod connect;
mod error;
mod grant;
mod ident;
pub mod locks;
mod migrate;
pub mod pool;
mod status;
mod tls;
mod tx;

pub use attach::{AttachSpec, attach, attach_granting, detach};
pub use binding::{Binding, COLUMNS_VERSION_SQL, StoredBinding};
pub use catalog::{TableInfo, resolve_table, table_by_oid};
pub use connect::{connect, pg_config};
pub use error::StoreError;
pub use grant::grant;
pub use ident::{quote_ident, quote_literal, quote_qualified};
pub use migrate::{AppliedMigration, Migration, migrate, migrations};
pub use pool::{Conn, Lease, Pool};
pub use status::{
    BindingStatus, ConflictRecord, RejectRecord, SchemaChangeRecord, SheetHeaderRecord,
    binding_status, recent_conflicts, recent_rejects, recent_schema_changes, sheet_header_issues,
};
pub use tls::connector as tls_connector;
pub use tx::in_transaction;
