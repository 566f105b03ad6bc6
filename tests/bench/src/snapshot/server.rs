//! The webhook in a process of its own, so its peak memory is its own:
//! this binary run again as `sheetsync-bench snapshot-webhook <database
//! url>` serves `sheetsync_webhook::http::serve` on a loopback port and
//! prints the port on its first line of output.

use std::sync::Arc;

use sheetsync_config::DbConfig;
use sheetsync_webhook::{Db, Secret, Webhook, WebhookConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The argument that makes this binary the webhook process.
pub const CHILD_ARG: &str = "snapshot-webhook";
pub const SECRET: &str = "bench-snapshot-secret";
/// The script sends one request at a time.
const CONNECTIONS: usize = 1;

/// The child's side: serves until it is killed.
pub async fn serve(database_url: &str) -> Result<(), String> {
    let config = DbConfig::from_url(database_url).map_err(|e| format!("database url: {e}"))?;
    let webhook = Webhook::new(
        WebhookConfig::new(Secret::new(SECRET)),
        Db::new(config, CONNECTIONS),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("address: {e}"))?
        .port();
    println!("{port}");
    sheetsync_webhook::http::serve(listener, Arc::new(webhook))
        .await
        .map_err(|e| format!("serve: {e}"))
}

/// The parent's handle on the webhook process (killed when dropped).
pub struct WebhookProcess {
    child: Child,
    pub port: u16,
}

impl WebhookProcess {
    pub async fn start(database_url: &str) -> Result<WebhookProcess, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own binary: {e}"))?;
        let mut child = Command::new(exe)
            .args([CHILD_ARG, database_url])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start the webhook process: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the webhook process has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .map_err(|e| format!("read the webhook's port: {e}"))?;
        let port = line
            .trim()
            .parse()
            .map_err(|_| format!("the webhook process printed {line:?}, not its port"))?;
        Ok(WebhookProcess { child, port })
    }

    fn pid(&self) -> Result<u32, String> {
        self.child
            .id()
            .ok_or_else(|| "the webhook process exited".into())
    }

    /// Starts a new peak: the kernel sets VmHWM to the current RSS
    /// (`clear_refs` value 5, proc(5)).
    pub fn reset_peak(&self) -> Result<(), String> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()?), "5")
            .map_err(|e| format!("reset the webhook's peak RSS: {e}"))
    }

    /// VmHWM in kB: the largest resident set since the last reset.
    pub fn peak_kb(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?))
            .map_err(|e| format!("read the webhook's status: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in /proc/PID/status".into())
    }
}
