//! Test harness for sheetsync.
//!
//! [`TestDb::create`] gives each test its own fresh PostgreSQL database, on
//! the first server that answers of:
//!
//! 1. this machine's server at 127.0.0.1:5432 (trust auth, user `postgres`);
//! 2. the server of `DATABASE_URL`;
//! 3. a throwaway cluster made with `initdb` in a temp dir on a free loopback
//!    port, started once per test process (as an unprivileged user when the
//!    process runs as root) and removed when the process exits.
//!
//! `SHEETSYNC_TEST_PG=local|url|initdb` forces one of them.
//!
//! The harness knows nothing of sheetsync's schema: callers run the store's
//! migrations themselves.

pub mod moto;
mod role;
mod server;
mod stale;
mod testdb;
mod url;

pub use role::TestRole;
pub use server::PgSource;
pub use testdb::TestDb;
