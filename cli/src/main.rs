//! `sheetsync`: the operator CLI. Each subcommand lives in `src/cmd/<name>.rs`
//! and is listed once in `src/cmd/mod.rs`.

mod cmd;
#[cfg(feature = "dev")]
mod dev;
mod error;
mod global;
mod table;

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "sheetsync",
    version,
    about = "Two-way sync between a Google Sheet tab and a PostgreSQL table"
)]
struct Cli {
    #[command(flatten)]
    global: global::Global,
    #[command(subcommand)]
    command: cmd::Command,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(if cli.command.speaks_for_itself() {
        "warn"
    } else {
        "info"
    });
    match cli.command.run(&cli.global).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sheetsync: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr (stdout is for the command's answer); `RUST_LOG`
/// filters, `SHEETSYNC_LOG_FORMAT=json` gives one JSON object per line.
fn init_logs(default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("SHEETSYNC_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.with_ansi(false).init();
    }
}
