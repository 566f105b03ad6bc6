//! A throwaway PostgreSQL cluster for machines without a server: the test
//! harness uses one when no server answers, and `sheetsync dev` when
//! `DATABASE_URL` is not set.
//!
//! [`Cluster::start`] runs `initdb` in a fresh temp dir and starts
//! `postgres` on a free loopback port (trust auth, user `postgres`), as an
//! unprivileged user when this process is root. The cluster is removed when
//! the [`Cluster`] is stopped or dropped, and also when this process dies
//! however it dies (see [`cluster`]).

mod binaries;
pub mod cluster;
mod error;
mod ready;
mod user;

pub use binaries::pg_bin_dir;
pub use cluster::Cluster;
pub use error::LocalPgError;
pub use ready::probe;
