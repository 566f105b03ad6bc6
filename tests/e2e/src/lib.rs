//! End-to-end proof of sheetsync. Everything lives in the integration tests:
//! `tests/convergence` (the whole pipeline under a seeded stream of edits on
//! both sides and injected faults) and `tests/fuzz_corpus.rs` (the fuzz
//! targets' corpus replayed on stable Rust).
