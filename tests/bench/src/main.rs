//! The benchmark suite, one command:
//!
//! ```sh
//! cargo run --release -p sheetsync-bench            # everything (about 10 minutes on 2 cores)
//! cargo run --release -p sheetsync-bench -- --own   # only this crate's pipeline measurements
//! cargo run --release -p sheetsync-bench -- backfill # only the write stall during a backfill (--rows N: a smaller table)
//! cargo run --release -p sheetsync-bench -- bindings # only 100 bindings under load (about 6 minutes)
//! cargo run --release -p sheetsync-bench -- commits  # only 1,000 single-row commits on a 10,000-row tab
//! cargo run --release -p sheetsync-bench -- snapshot # only the 100,000-row sheet snapshot into its table
//! cargo run --release -p sheetsync-bench -- dev      # only `sheetsync dev`'s first sync and a full resync of 100,000 rows
//! ```
//!
//! Measures commit → cell latency through the local stack's pieces itself
//! ([`latency`]), the application's write stall during a backfill
//! ([`backfill_stall`]), 100 bindings under Google's quotas ([`bindings`]),
//! a burst of 1,000 single-row commits on one 10,000-row tab under
//! Google's quotas ([`commits`]),
//! a 100,000-row tab's snapshot through the webhook as the Apps Script
//! sends it ([`snapshot`]), `sheetsync dev`'s first sync of a 100,000 × 20
//! table and a full resync of it, end to end ([`dev_first_sync`]), reads the Lambda artifact sizes ([`artifacts`]), and runs
//! each crate's own benchmark for what that crate owns (webhook load,
//! reconcile diff, writer requests and peak RSS, relay throughput): their
//! code is called, not copied ([`delegated`]). Prints one markdown report
//! and writes it to `bench-results/latest.md`.

mod artifacts;
mod backfill_stall;
mod bindings;
mod commits;
mod delegated;
mod dev_first_sync;
mod latency;
mod machine;
mod snapshot;

use std::path::PathBuf;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn backfill_section(rows: i64) -> String {
    let mut section = String::from(
        "## Backfill while the application writes (tests/bench)\n\n\
         `cargo run --release -p sheetsync-bench -- backfill`\n\n",
    );
    match backfill_stall::measure(rows).await {
        Ok(stall) => section.push_str(&stall.section()),
        Err(e) => section.push_str(&format!("failed: {e}\n")),
    }
    section
}

async fn bindings_section(opts: &bindings::Options) -> String {
    let mut section = String::from("## 100 bindings under Google's quotas (tests/bench)\n\n");
    match bindings::measure(opts).await {
        Ok(table) => section.push_str(&table),
        Err(e) => section.push_str(&format!("failed: {e}\n")),
    }
    section
}

async fn commits_section(opts: &commits::Options) -> String {
    let mut section = format!(
        "## {} single-row commits on a 10,000 × 8 tab under Google's quotas (tests/bench)\n\n\
         `{}`: each `UPDATE` its own transaction, the relay in LISTEN mode, a queue served as \
         SQS FIFO serves Lambda (one batch of ≤ 10 messages in flight per spreadsheet, failed \
         messages back after the visibility timeout), the production writer, one service \
         account, emulator at `GoogleQuotas::GOOGLE`; after one warm-up commit, the quota \
         windows start afresh.\n\n",
        commits::COMMITS,
        opts.command()
    );
    match commits::measure(opts).await {
        Ok(run) => section.push_str(&run.section()),
        Err(e) => section.push_str(&format!("failed: {e}\n")),
    }
    section
}

async fn snapshot_section() -> String {
    let mut section = String::from(
        "## Sheet snapshot of a 100,000-row tab into its table (tests/bench)\n\n\
         `cargo run --release -p sheetsync-bench -- snapshot`\n\n",
    );
    match snapshot::measure().await {
        Ok(report) => section.push_str(&report.section()),
        Err(e) => section.push_str(&format!("failed: {e}\n")),
    }
    section
}

async fn dev_section() -> String {
    let mut section = format!(
        "## Local stack: first sync and full resync of {} × 20 (tests/bench)\n\n\
         `DATABASE_URL=… sheetsync dev --table big` (release build), then \
         `DATABASE_URL=… sheetsync backfill --binding B` once the first sync is in; \
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
    let args: Vec<String> = std::env::args().collect();
    if let [_, child, database_url] = args.as_slice()
        && child == snapshot::server::CHILD_ARG
    {
        // This binary run again as the snapshot bench's webhook process.
        if std::env::var_os("RUST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .init();
        }
        if let Err(e) = snapshot::server::serve(database_url).await {
            eprintln!("bench webhook: {e}");
            std::process::exit(1);
        }
        return;
    }
    let own_only = args.iter().any(|a| a == "--own");
    // One section alone: printed, and not written over the whole report.
    if args.iter().any(|a| a == "backfill") {
        // `--rows N`: a smaller table, for a quick look.
        let rows = match args.iter().position(|a| a == "--rows") {
            Some(i) => match args.get(i + 1).and_then(|n| n.parse().ok()) {
                Some(n) => n,
                None => {
                    eprintln!("bench: backfill: --rows takes a number of rows");
                    std::process::exit(2);
                }
            },
            None => backfill_stall::ROWS,
        };
        println!("{}", backfill_section(rows).await);
        return;
    }
    if args.get(1).map(String::as_str) == Some("bindings") {
        match bindings::Options::parse(&args[2..]) {
            Ok(opts) => println!("{}", bindings_section(&opts).await),
            Err(e) => {
                eprintln!("bench: bindings: {e}");
                std::process::exit(2);
            }
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("commits") {
        match commits::Options::parse(&args[2..]) {
            Ok(opts) => println!("{}", commits_section(&opts).await),
            Err(e) => {
                eprintln!("bench: commits: {e}");
                std::process::exit(2);
            }
        }
        return;
    }
    if args.iter().any(|a| a == "snapshot") {
        println!("{}", snapshot_section().await);
        return;
    }
    if args.iter().any(|a| a == "dev") {
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
    report.push_str(&backfill_section(backfill_stall::ROWS).await);
    report.push('\n');
    report.push_str(&bindings_section(&bindings::Options::default()).await);
    report.push('\n');
    report.push_str(&commits_section(&commits::Options::default()).await);
    report.push('\n');
    report.push_str(&snapshot_section().await);
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
