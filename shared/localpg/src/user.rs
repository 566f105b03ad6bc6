//! `initdb` and `postgres` refuse to run as root: when this process is
//! root, both run as the `postgres` user (else `nobody`).

use std::process::Command;

use crate::LocalPgError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunAs {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// `Some(user)` when this process is root and must hand the cluster to an
/// unprivileged user.
pub(crate) fn run_as() -> Result<Option<RunAs>, LocalPgError> {
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    for user in ["postgres", "nobody"] {
        if let (Ok(uid), Ok(gid)) = (id(&["-u", user]), id(&["-g", user])) {
            return Ok(Some(RunAs { uid, gid }));
        }
    }
    Err(LocalPgError::NoUnprivilegedUser)
}

pub(crate) fn as_user(cmd: &mut Command, run_as: Option<RunAs>) {
    if let Some(u) = run_as {
        use std::os::unix::process::CommandExt;
        // std drops supplementary groups when root changes uid.
        cmd.uid(u.uid).gid(u.gid);
    }
}

fn id(args: &[&str]) -> Result<u32, LocalPgError> {
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| LocalPgError::io("cannot run id", e))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            LocalPgError::io(
                format!("id {}", args.join(" ")),
                std::io::Error::other("no such user"),
            )
        })
}
