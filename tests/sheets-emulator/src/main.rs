//! `sheets-emulator --port 8085 [--spreadsheet ID --sheet NAME]`: serves the
//! emulator until Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::Parser;
use sheetsync_sheets_emulator::Emulator;

/// An in-memory Google Sheets API v4 emulator with an OAuth2 token endpoint.
#[derive(Parser)]
#[command(name = "sheets-emulator", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8085)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Create this spreadsheet at start.
    #[arg(long, requires = "sheet")]
    spreadsheet: Option<String>,
    /// Tab to create in --spreadsheet.
    #[arg(long, requires = "spreadsheet")]
    sheet: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let emulator = match Emulator::bind(SocketAddr::new(args.host, args.port)).await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!(
                "sheets-emulator: cannot listen on {}:{}: {e}",
                args.host, args.port
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    if let (Some(spreadsheet), Some(sheet)) = (&args.spreadsheet, &args.sheet) {
        let sheet_id = emulator.add_sheet(spreadsheet, sheet);
        println!("spreadsheet {spreadsheet}, tab {sheet:?} (sheetId {sheet_id})");
    }
    // Listen for the signals before announcing the URLs: whoever reads them may stop us at once.
    let stop = match stop_signal() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("sheets-emulator: cannot listen for signals: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let root = emulator.root_url();
    println!("Sheets API root URL:  {root}");
    println!("OAuth2 token URI:     {}", emulator.token_uri());
    println!("service account key:  {root}_emulator/service-account");
    println!(
        "controls:             {root}_emulator/ (faults, requests, changes, spreadsheets/ID/tabs/NAME)"
    );
    println!("Ctrl-C to stop");
    stop.await;
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; registered before it is awaited.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
