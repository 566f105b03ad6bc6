//! `sheetsync relay`: the long-running relay. It LISTENs on
//! `sheetsync_outbox`, drains each binding a commit names, drains every
//! binding on a timer (notifications are lost while disconnected),
//! reconnects with backoff, and stops cleanly on Ctrl-C or SIGTERM.
//! `--once` drains until idle and exits, like one Lambda invocation.

use std::time::{Duration, Instant};

use sheetsync_config::SslMode;
use sheetsync_outbox::drain::drain_until_idle;
use sheetsync_outbox::invoke::Summary;
use sheetsync_outbox::{DrainOptions, ListenOptions, Scope, SqsSink, listen};
use tokio_postgres::NoTls;

use crate::error::{CliError, CmdResult};
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// The SQS FIFO queue's URL (the endpoint follows AWS_ENDPOINT_URL_SQS)
    #[arg(long, env = "SHEETSYNC_QUEUE_URL", value_name = "URL")]
    queue_url: String,
    /// Drain until nothing is left, print the counts and exit
    #[arg(long)]
    once: bool,
    /// Only this binding (with --once)
    #[arg(long, value_name = "NAME", requires = "once")]
    binding: Option<String>,
    /// Seconds between full drains, the safety net for lost notifications
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    interval: u64,
    /// Keep a busy spreadsheet's drains this far apart, so its tabs' changes
    /// coalesce into fewer messages (docs/scale.md); 0 sends at every commit
    #[arg(long, default_value_t = 0, value_name = "MS")]
    linger: u64,
}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let db = global.db()?;
        let sink = SqsSink::from_env(self.queue_url.clone()).await;
        if self.once {
            return self.drain_once(global, &sink).await;
        }
        let config = sheetsync_store::pg_config(&db)?;
        let opts = self.listen_options();
        tracing::info!(queue = %self.queue_url, linger_ms = self.linger, "relay starting");
        match db.sslmode {
            SslMode::Disable => listen(&config, NoTls, &sink, &opts, stop_signal()).await,
            mode => {
                let tls = sheetsync_store::tls_connector(mode, db.sslrootcert.as_deref())?;
                listen(&config, tls, &sink, &opts, stop_signal()).await;
            }
        }
        tracing::info!("relay stopped");
        Ok(())
    }

    fn listen_options(&self) -> ListenOptions {
        ListenOptions {
            safety_interval: Duration::from_secs(self.interval.max(1)),
            linger: Duration::from_millis(self.linger),
            ..ListenOptions::default()
        }
    }

    async fn drain_once(&self, global: &Global, sink: &SqsSink) -> CmdResult {
        let mut client = global.connect().await?;
        let scope = match &self.binding {
            Some(b) => Scope::Bindings(vec![b.clone()]),
            None => Scope::All,
        };
        let deadline = Instant::now() + Duration::from_secs(300);
        let report = drain_until_idle(
            &mut client,
            sink,
            &scope,
            &DrainOptions::default(),
            deadline,
            Duration::from_secs(5),
        )
        .await?;
        let summary = Summary::of(&report);
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
        match summary.failed().next() {
            Some(b) => Err(CliError::Usage(b.error.clone().unwrap_or_default())),
            None => Ok(()),
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn linger_and_interval_reach_the_listen_options() {
        let cli = Cli::parse_from(["relay", "--queue-url", "q", "--linger", "1500"]);
        let opts = cli.args.listen_options();
        assert_eq!(opts.linger, Duration::from_millis(1500));
        assert_eq!(opts.safety_interval, Duration::from_secs(30));
        let cli = Cli::parse_from(["relay", "--queue-url", "q", "--interval", "0"]);
        let opts = cli.args.listen_options();
        assert_eq!(opts.linger, Duration::ZERO);
        assert_eq!(opts.safety_interval, Duration::from_secs(1));
    }
}
