//! A throwaway PostgreSQL cluster for machines without a server.
//!
//! `initdb` makes the cluster in a fresh temp dir; `postgres` is started by a
//! small `sh` keeper whose stdin is a pipe from this process. The write end
//! lives in a static, so it closes only when this process ends (however it
//! ends, even by SIGKILL); the keeper then reads EOF, stops postgres (fast
//! shutdown) and removes the temp dir. The keeper runs in its own process
//! group, so a Ctrl-C aimed at the tests does not kill it before it cleans up.
//!
//! `initdb` and `postgres` refuse to run as root: when this process is root,
//! both run as the `postgres` user (else `nobody`), which owns the temp dir.

use std::net::TcpListener;
use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::server::probe;

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

/// Holds the keeper's stdin open for the life of the process.
struct Keeper {
    _stdin: ChildStdin,
    _child: Child,
}

static KEEPERS: OnceLock<Mutex<Vec<Keeper>>> = OnceLock::new();

pub(crate) struct Cluster {
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
}

#[derive(Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl Cluster {
    pub(crate) async fn start() -> Result<Cluster, String> {
        let bin = pg_bin_dir()?;
        let run_as = run_as()?;
        let mut errors = Vec::new();
        // A free port can be taken by someone else between our probe and
        // postgres binding it: try again on a new one.
        for _ in 0..START_ATTEMPTS {
            match start_once(&bin, run_as).await {
                Ok(c) => return Ok(c),
                Err(e) => errors.push(e),
            }
        }
        Err(errors.join("; "))
    }
}

async fn start_once(bin: &Path, run_as: Option<RunAs>) -> Result<Cluster, String> {
    let dir = make_temp_dir(run_as)?;
    let result = init_and_run(bin, run_as, &dir).await;
    if result.is_err() && dir.exists() {
        // The keeper (if any) was dropped and cleans up too; this covers
        // the initdb failure case.
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn init_and_run(bin: &Path, run_as: Option<RunAs>, dir: &Path) -> Result<Cluster, String> {
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
        .map_err(|e| format!("cannot run {}: {e}", bin.join("initdb").display()))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
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
        .map_err(|e| format!("cannot start the postgres keeper: {e}"))?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| "keeper has no stdin".to_string())?;

    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres?connect_timeout=2");
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        let last = match probe(&url).await {
            Ok(()) => break,
            Err(e) => e,
        };
        let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
        // postgres logs FATAL and exits when it cannot start (port taken).
        if log.contains("FATAL:") || Instant::now() > deadline {
            // Dropping stdin makes the keeper stop postgres and remove dir.
            drop(stdin);
            let _ = child.wait();
            return Err(format!(
                "postgres on port {port} did not start ({last}): {}",
                log.trim()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let keepers = KEEPERS.get_or_init(|| Mutex::new(Vec::new()));
    keepers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Keeper {
            _stdin: stdin,
            _child: child,
        });
    Ok(Cluster {
        dir: dir.to_path_buf(),
        port,
    })
}

fn as_user(cmd: &mut Command, run_as: Option<RunAs>) {
    if let Some(u) = run_as {
        // std drops supplementary groups when root changes uid.
        cmd.uid(u.uid).gid(u.gid);
    }
}

fn make_temp_dir(run_as: Option<RunAs>) -> Result<PathBuf, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("sheetsync-pg-{}-{nanos:09}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if let Some(u) = run_as {
        chown(&dir, Some(u.uid), Some(u.gid))
            .map_err(|e| format!("cannot chown {}: {e}", dir.display()))?;
    }
    Ok(dir)
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// The directory holding `initdb` and `postgres`: from PATH (following
/// symlinks, since Debian links only some tools there), else the newest
/// /usr/lib/postgresql/*/bin.
fn pg_bin_dir() -> Result<PathBuf, String> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let initdb = d.join("initdb");
            if let Ok(real) = std::fs::canonicalize(&initdb)
                && let Some(parent) = real.parent()
                && has_both(parent)
            {
                return Ok(parent.to_path_buf());
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .filter(|(_, d)| has_both(d))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().map(|(_, d)| d).ok_or_else(|| {
        "initdb and postgres not found in PATH or /usr/lib/postgresql/*/bin \
         (install the postgresql package)"
            .to_string()
    })
}

/// `Some(user)` when this process is root and must hand the cluster to an
/// unprivileged user.
fn run_as() -> Result<Option<RunAs>, String> {
    let euid = id(&["-u"])?;
    if euid != 0 {
        return Ok(None);
    }
    for user in ["postgres", "nobody"] {
        if let (Ok(uid), Ok(gid)) = (id(&["-u", user]), id(&["-g", user])) {
            return Ok(Some(RunAs { uid, gid }));
        }
    }
    Err("running as root and neither user postgres nor nobody exists".to_string())
}

fn id(args: &[&str]) -> Result<u32, String> {
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("id {} failed", args.join(" ")))
}
