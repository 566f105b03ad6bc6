//! The benchmark suite, one command:
//!
//! ```sh
//! cargo run --release -p sheetsync-bench            # everything (about 10 minutes on 2 cores)
//! cargo run --release -p sheetsync-bench -- --own   # only this crate's pipeline measurements
//! cargo run --release -p sheetsync-bench -- backfill # only the write stall during a backfill
//! cargo run --release -p sheetsync-bench -- dev      # only `sheetsync dev`'s first sync of 100,000 rows
//! ```
//!
//! Measures commit → cell latency through the local stack's pieces itself
//! ([`latency`]), the application's write stall during a backfill
//! ([`backfill_stall`]), `sheetsync dev`'s first sync of a 100,000 × 20
//! table, end to end ([`dev_first_sync`]), reads the Lambda artifact sizes ([`artifacts`]), and runs
//! each crate's own benchmark for what that crate owns (webhook load,
//! reconcile diff, writer requests and peak RSS, relay throughput): their
//! code is called, not copied ([`delegated`]). Prints one markdown report
//! and writes it to `bench-results/latest.md`.

mod artifacts;
mod backfill_stall;
mod delegated;
mod dev_first_sync;
mod latency;
mod machine;

use std::path::PathBuf;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn backfill_section() -> String {
    let mut section = String::from(
        "## Backfill while the application writes (tests/bench)\n\n\
         `cargo run --release -p sheetsync-bench -- backfill`\n\n",
    );
    match backfill_stall::measure(backfill_stall::ROWS).await {
        Ok(stall) => section.push_str(&stall.section()),
        Err(e) => section.push_str(&format!("failed: {e}\n")),
    }
    section
}

async fn dev_section() -> String {
    let mut section = format!(
        "## Local stack: first sync of {} × 20 (tests/bench)\n\n\
         `DATABASE_URL=… sheetsync dev --table big` (release build), \
         `cargo run --release -p sheetsync-bench -- dev`\n\n",
        dev_first_sync::ROWS
    );
    match dev_first_sync::measure().await {
        Ok(run) => section.push_str(&run.section()),
        Err(e) => section.push_str(&format!("failed: {e}\n")),
    }
    section
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let own_only = std::env::args().any(|a| a == "--own");
    if std::env::args().any(|a| a == "backfill") {
        // One section alone: printed, and not written over the whole report.
        println!("{}", backfill_section().await);
        return;
    }
    if std::env::args().any(|a| a == "dev") {
        println!("{}", dev_section().await);
        return;
    }
    let root = workspace_root();
    let mut report = String::new();
    report.push_str("# sheetsync benchmarks\n\n");
    report.push_str(&machine::describe());
    report.push_str("\nCommand: `cargo run --release -p sheetsync-bench`\n\n");

    report.push_str("## Pipeline (tests/bench)\n\n");
    report.push_str("| measurement | value | goal |\n|---|---:|---|\n");
    match latency::measure(latency::COMMITS).await {
        Ok(l) => report.push_str(&l.rows()),
        Err(e) => report.push_str(&format!("| commit → cell latency | failed: {e} | |\n")),
    }
    report.push_str(&artifacts::rows(&root));
    report.push('\n');
    report.push_str(&backfill_section().await);
    report.push('\n');
    report.push_str(&dev_section().await);
    report.push('\n');

    if !own_only {
        for bench in delegated::BENCHES {
            eprintln!("bench: running {}", bench.command());
            report.push_str(&delegated::run(bench, &root));
        }
    }

    println!("{report}");
    let dir = root.join("bench-results");
    let written =
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("latest.md"), &report));
    match written {
        Ok(()) => eprintln!("bench: written to bench-results/latest.md"),
        Err(e) => eprintln!("bench: cannot write bench-results/latest.md: {e}"),
    }
}
