//! Where `initdb` and `postgres` are.

use std::path::{Path, PathBuf};

use crate::LocalPgError;

/// The directory holding `initdb` and `postgres`: from PATH (following
/// symlinks, since Debian links only some tools there), else the newest
/// /usr/lib/postgresql/*/bin.
pub fn pg_bin_dir() -> Result<PathBuf, LocalPgError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    find_in(
        std::env::split_paths(&path).collect::<Vec<_>>().as_slice(),
        Path::new("/usr/lib/postgresql"),
    )
}

fn has_both(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

fn find_in(path: &[PathBuf], versions_root: &Path) -> Result<PathBuf, LocalPgError> {
    for d in path {
        if let Ok(real) = std::fs::canonicalize(d.join("initdb"))
            && let Some(parent) = real.parent()
            && has_both(parent)
        {
            return Ok(parent.to_path_buf());
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(versions_root)
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
    versions
        .pop()
        .map(|(_, d)| d)
        .ok_or(LocalPgError::NotInstalled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_installed_says_what_to_install() {
        let empty = std::env::temp_dir().join(format!("localpg-none-{}", std::process::id()));
        let err = find_in(std::slice::from_ref(&empty), &empty).unwrap_err();
        assert!(matches!(err, LocalPgError::NotInstalled));
        assert!(
            err.to_string()
                .ends_with("(on Debian/Ubuntu: apt-get install postgresql)"),
            "{err}"
        );
    }

    #[test]
    fn the_newest_version_dir_wins() {
        let root = std::env::temp_dir().join(format!("localpg-versions-{}", std::process::id()));
        for v in ["9", "16", "15", "notaversion"] {
            let bin = root.join(v).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            for tool in ["initdb", "postgres"] {
                std::fs::write(bin.join(tool), "").unwrap();
            }
        }
        let found = find_in(&[], &root);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found.unwrap(), root.join("16").join("bin"));
    }
}
