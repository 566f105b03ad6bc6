//! The cluster and its keeper.
//!
//! `initdb` makes the cluster in a fresh temp dir; `postgres` is started by a
//! small `sh` keeper whose stdin is a pipe from this process. When the write
//! end closes — [`Cluster::stop`], drop, or this process ending however it
//! ends, even by SIGKILL — the keeper reads EOF, stops postgres (fast
//! shutdown) and removes the temp dir. The keeper runs in its own process
//! group, so a Ctrl-C aimed at this process does not kill it before it
//! cleans up.

use std::net::TcpListener;
use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::user::{RunAs, as_user, run_as};
use crate::{LocalPgError, pg_bin_dir, probe};

const KEEPER: &str = r#"
root=$1; postgres=$2; port=$3
"$postgres" -D "$root/data" -p "$port" -k "$root" \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off -c max_connections=200 \
    >"$root/postgres.log" 2>&1 &
pg=$!
read -r _ignored
kill -INT "$pg" 2>/dev/null
wait "$pg"
rm -rf "$root"
"#;

const START_ATTEMPTS: usize = 3;
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Keepers handed to [`Cluster::keep_until_exit`]: their stdin closes only
/// when the process ends.
static FOR_PROCESS: Mutex<Vec<Keeper>> = Mutex::new(Vec::new());

struct Keeper {
    stdin: Option<ChildStdin>,
    child: Child,
}

impl Keeper {
    /// Closes the pipe and waits until postgres stopped and the dir is gone.
    fn stop(&mut self) -> std::io::Result<()> {
        drop(self.stdin.take());
        self.child.wait().map(drop)
    }
}

/// A running throwaway cluster: superuser `postgres`, trust auth, on
/// 127.0.0.1 only. Stopped and removed on [`Cluster::stop`] or drop.
pub struct Cluster {
    dir: PathBuf,
    port: u16,
    keeper: Option<Keeper>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .finish()
    }
}

impl Cluster {
    /// Makes and starts a cluster; ready to accept connections on return.
    pub async fn start() -> Result<Cluster, LocalPgError> {
        let bin = pg_bin_dir()?;
        let run_as = run_as()?;
        let mut errors = Vec::new();
        // A free port can be taken by someone else between our probe and
        // postgres binding it: try again on a new one.
        for _ in 0..START_ATTEMPTS {
            match start_once(&bin, run_as).await {
                Ok(c) => return Ok(c),
                Err(e @ LocalPgError::Initdb { .. }) => return Err(e),
                Err(e) => errors.push(e),
            }
        }
        Err(LocalPgError::Attempts(errors))
    }

    /// The temp dir holding the data directory, the socket and the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops postgres (fast shutdown: open sessions are ended) and removes
    /// the temp dir; returns when both are done. Blocks the thread.
    pub fn stop(mut self) -> Result<(), LocalPgError> {
        match self.keeper.take() {
            Some(mut keeper) => keeper
                .stop()
                .map_err(|e| LocalPgError::io("waiting for postgres to stop", e)),
            None => Ok(()),
        }
    }

    /// Keeps the cluster running until this process exits (for a harness
    /// that shares one cluster among all tests of a process).
    pub fn keep_until_exit(mut self) {
        if let Some(keeper) = self.keeper.take() {
            FOR_PROCESS
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(keeper);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut keeper) = self.keeper.take() {
            let _ = keeper.stop();
        }
    }
}

async fn start_once(bin: &Path, run_as: Option<RunAs>) -> Result<Cluster, LocalPgError> {
    let dir = make_temp_dir(run_as)?;
    let result = init_and_run(bin, run_as, &dir).await;
    if result.is_err() && dir.exists() {
        // A started keeper removes the dir itself; this covers initdb failing.
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn init_and_run(
    bin: &Path,
    run_as: Option<RunAs>,
    dir: &Path,
) -> Result<Cluster, LocalPgError> {
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .args(["--locale=C"])
        .current_dir(dir)
        .stdin(Stdio::null());
    as_user(&mut initdb, run_as);
    let out = initdb
        .output()
        .map_err(|e| LocalPgError::io(format!("cannot run {}", bin.join("initdb").display()), e))?;
    if !out.status.success() {
        return Err(LocalPgError::Initdb {
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }

    let port = free_port()?;
    let mut keeper = Command::new("sh");
    keeper
        .arg("-c")
        .arg(KEEPER)
        .arg("sheetsync-pg-keeper")
        .arg(dir)
        .arg(bin.join("postgres"))
        .arg(port.to_string())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    as_user(&mut keeper, run_as);
    let mut child = keeper
        .spawn()
        .map_err(|e| LocalPgError::io("cannot start the postgres keeper", e))?;
    let stdin = child.stdin.take();
    let mut keeper = Keeper { stdin, child };

    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres?connect_timeout=2");
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        let last_error = match probe(&url).await {
            Ok(()) => break,
            Err(e) => e,
        };
        let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
        if cannot_start(&log) || Instant::now() > deadline {
            let _ = keeper.stop();
            return Err(LocalPgError::NotStarted {
                port,
                last_error,
                log: log.trim().to_string(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Cluster {
        dir: dir.to_path_buf(),
        port,
        keeper: Some(keeper),
    })
}

fn make_temp_dir(run_as: Option<RunAs>) -> Result<PathBuf, LocalPgError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("sheetsync-pg-{}-{nanos:09}", std::process::id()));
    std::fs::create_dir(&dir)
        .map_err(|e| LocalPgError::io(format!("cannot create {}", dir.display()), e))?;
    if let Some(u) = run_as {
        chown(&dir, Some(u.uid), Some(u.gid))
            .map_err(|e| LocalPgError::io(format!("cannot chown {}", dir.display()), e))?;
    }
    Ok(dir)
}

fn free_port() -> Result<u16, LocalPgError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| LocalPgError::io("no free loopback port", e))
}

/// postgres logs FATAL and exits when it cannot start (port taken). Our own
/// probes during startup are refused with FATAL too ("the database system
/// is starting up"): those say nothing about the server.
fn cannot_start(log: &str) -> bool {
    log.lines().any(|l| {
        l.contains("FATAL:")
            && !l.contains("the database system is starting up")
            && !l.contains("the database system is not yet accepting connections")
    })
}

#[cfg(test)]
mod startup_log_tests {
    use super::cannot_start;

    #[test]
    fn refused_probes_during_startup_are_not_a_failure() {
        let log = "LOG:  starting PostgreSQL 15\n\
                   FATAL:  the database system is starting up\n\
                   LOG:  database system is ready to accept connections\n";
        assert!(!cannot_start(log));
        let log = "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\n\
                   FATAL:  could not create any TCP/IP sockets\n";
        assert!(cannot_start(log));
    }
}
