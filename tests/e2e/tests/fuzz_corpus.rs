//! The fuzz corpus (`fuzz/corpus/<target>/`) replayed through the same
//! checks the fuzz targets run, on stable Rust: every input a fuzzing run
//! kept, and every crash it found once fixed, stays a regression test.

use std::path::PathBuf;

use sheetsync_e2e::fuzz;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let files = corpus(target);
    assert!(
        files.len() >= 10,
        "{target}: only {} corpus files",
        files.len()
    );
    for (name, data) in files {
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: corpus file {name} panics");
    }
}

#[test]
fn webhook_request_corpus_never_panics() {
    replay("webhook_request", fuzz::webhook_request);
}

#[test]
fn value_conversion_corpus_round_trips() {
    replay("value_conversion", fuzz::value_conversion);
}
