//! Each crate's own benchmark, run as its owner wrote it; its tables are
//! embedded in the report.

use std::path::Path;
use std::process::Command;

pub struct Bench {
    pub title: &'static str,
    pub args: &'static [&'static str],
}

impl Bench {
    pub fn command(&self) -> String {
        format!("cargo {}", self.args.join(" "))
    }
}

pub const BENCHES: &[Bench] = &[
    Bench {
        title: "Webhook: single-row events/s, p50/p99, 10,000-row snapshot apply",
        args: &[
            "run",
            "--release",
            "-q",
            "-p",
            "sheetsync-webhook",
            "--example",
            "load",
            "--",
            "--seconds",
            "10",
        ],
    },
    Bench {
        title: "Reconcile: 100,000-row snapshot diff, coalesce, convert, merge",
        args: &[
            "bench",
            "-q",
            "-p",
            "sheetsync-reconcile",
            "--bench",
            "reconcile",
        ],
    },
    Bench {
        title: "Writer: Sheets API requests per batch, planning, peak RSS for 10,000 rows",
        args: &[
            "run",
            "--release",
            "-q",
            "-p",
            "sheetsync-writer",
            "--example",
            "bench",
        ],
    },
    Bench {
        title: "Writer on a 100,000 × 20 tab: a 10-change batch's requests, bytes, time, peak RSS (Google's quotas on)",
        args: &[
            "run",
            "--release",
            "-q",
            "-p",
            "sheetsync-writer",
            "--example",
            "large_tab",
        ],
    },
    Bench {
        title: "Relay: drain throughput and LISTEN commit → queue latency",
        args: &[
            "run",
            "--release",
            "-q",
            "-p",
            "sheetsync-outbox",
            "--example",
            "relay_bench",
        ],
    },
];

/// Runs `bench` and returns its section: its markdown lines (tables and
/// notes), or why it failed.
pub fn run(bench: &Bench, root: &Path) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut section = format!("## {}\n\n`{}`\n\n", bench.title, bench.command());
    match Command::new(cargo)
        .args(bench.args)
        .current_dir(root)
        .output()
    {
        Ok(out) if out.status.success() => {
            // Kept as printed (blank lines separate tables), runs of blank
            // lines collapsed.
            let text = String::from_utf8_lossy(&out.stdout);
            let mut blank = true;
            for line in text.lines() {
                let is_blank = line.trim().is_empty();
                if !(is_blank && blank) {
                    section.push_str(line.trim_end());
                    section.push('\n');
                }
                blank = is_blank;
            }
        }
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(5).collect();
            section.push_str(&format!(
                "failed ({}): {}\n",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ));
        }
        Err(e) => section.push_str(&format!("could not start: {e}\n")),
    }
    section.push('\n');
    section
}
