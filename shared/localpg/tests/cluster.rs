//! A real initdb cluster: it answers, and stopping it leaves nothing behind.

use sheetsync_localpg::Cluster;

/// Processes whose command line names `needle` (postgres runs `-D <dir>/data`).
fn processes_naming(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if entry
            .file_name()
            .to_str()
            .is_none_or(|n| n.parse::<u32>().is_err())
        {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(cmdline);
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_serves_and_stop_removes_process_and_dir() {
    let cluster = Cluster::start().await.unwrap();
    let dir = cluster.dir().to_path_buf();
    let dir_text = dir.display().to_string();
    assert!(dir.join("data").join("PG_VERSION").is_file());
    let (client, conn) = tokio_postgres::connect(&cluster.url("postgres"), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let row = client
        .query_one("SELECT current_user::text, inet_server_addr()::text", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "postgres");
    assert_eq!(row.get::<_, String>(1), "127.0.0.1/32");
    assert!(!processes_naming(&dir_text).is_empty());

    // An open session does not hold the stop up (fast shutdown).
    cluster.stop().unwrap();
    assert!(!dir.exists(), "{dir_text} left behind");
    assert_eq!(processes_naming(&dir_text), Vec::<String>::new());
    assert!(client.simple_query("SELECT 1").await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn dropping_a_cluster_stops_it_too() {
    let cluster = Cluster::start().await.unwrap();
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    assert!(!dir.exists());
    assert_eq!(
        processes_naming(&dir.display().to_string()),
        Vec::<String>::new()
    );
}
