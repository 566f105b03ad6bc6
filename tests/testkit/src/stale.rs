//! Databases left behind by test processes that died before dropping them
//! (killed by a timeout, a Ctrl-C, a crash).

use tokio_postgres::NoTls;

use crate::testdb::PREFIX;

/// Drops every test database whose creating process no longer runs.
/// Names carry the creator's pid (`sheetsync_test_<pid>_...`); only used on
/// this machine's server, where those pids mean something. No `FORCE`: a
/// database someone is still connected to is left alone.
pub(crate) async fn drop_stale(admin_url: &str) -> Vec<String> {
    let Ok((client, conn)) = tokio_postgres::connect(admin_url, NoTls).await else {
        return Vec::new();
    };
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let Ok(rows) = client
        .query(
            "SELECT datname::text FROM pg_database WHERE starts_with(datname::text, $1)",
            &[&PREFIX],
        )
        .await
    else {
        return Vec::new();
    };
    let mut dropped = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let Some(pid) = creator(&name) else { continue };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\"");
        if client.batch_execute(&sql).await.is_ok() {
            dropped.push(name);
        }
    }
    dropped
}

/// The pid in `sheetsync_test_<pid>_<n>_<nanos>`.
fn creator(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, tail) = rest.split_once('_')?;
    // Only names the harness makes: digits and underscores after the prefix.
    if !tail.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creator_pid_comes_from_harness_names_only() {
        assert_eq!(creator("sheetsync_test_4242_3_000000123"), Some(4242));
        assert_eq!(creator("sheetsync_test_4242_x"), None);
        assert_eq!(creator("sheetsync_test_abc_1_2"), None);
        assert_eq!(creator("other_4242_1_2"), None);
    }

    #[tokio::test]
    async fn databases_of_dead_processes_are_dropped_and_live_ones_kept() {
        let server = crate::server::server().await;
        let (client, conn) = tokio_postgres::connect(&server.admin_url, NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        // No process has a pid above the kernel's maximum (2^22).
        let dead = format!("{PREFIX}999999999_0_000000000");
        let live = format!("{PREFIX}{}_999_000000000", std::process::id());
        for name in [&dead, &live] {
            client
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
        }

        let dropped = drop_stale(&server.admin_url).await;

        let exists = async |name: &str| {
            client
                .query_one(
                    "SELECT count(*) FROM pg_database WHERE datname = $1",
                    &[&name],
                )
                .await
                .unwrap()
                .get::<_, i64>(0)
                == 1
        };
        let dead_left = exists(&dead).await;
        let live_left = exists(&live).await;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{live}\""))
            .await
            .unwrap();
        assert!(dropped.contains(&dead), "{dropped:?}");
        assert!(!dead_left);
        assert!(live_left);
        assert!(!dropped.contains(&live));
    }
}
