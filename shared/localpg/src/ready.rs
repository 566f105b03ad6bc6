use std::time::Duration;

use tokio_postgres::NoTls;

/// One connection attempt with `SELECT 1`, bounded to 5 s.
pub async fn probe(url: &str) -> Result<(), String> {
    let attempt = async {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let conn = tokio::spawn(conn);
        let res = client
            .simple_query("SELECT 1")
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        drop(client);
        let _ = conn.await;
        res
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .map_err(|_| "no answer within 5 s".to_string())?
}
