//! End-to-end proof of sheetsync.
//!
//! * `tests/convergence`: the whole pipeline under a seeded stream of edits
//!   on both sides and injected faults.
//! * [`fuzz`]: the checks the `cargo fuzz` targets in `fuzz/` run, shared
//!   with `tests/fuzz_corpus.rs`, which replays the committed corpus on
//!   stable Rust.

pub mod fuzz;
