//! One transaction on a shared `&Client` (tokio-postgres's own
//! `Transaction` needs `&mut`, which callers sharing a client cannot give).

use tokio_postgres::Client;

use crate::StoreError;

/// Runs `f` between BEGIN and COMMIT; any error rolls back. The client must
/// not be used by anything else meanwhile: statements sent on it by another
/// task would run inside this transaction.
pub async fn in_transaction<T>(
    client: &Client,
    f: impl AsyncFnOnce(&Client) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    client.batch_execute("BEGIN").await?;
    match f(client).await {
        Ok(v) => {
            client.batch_execute("COMMIT").await?;
            Ok(v)
        }
        Err(e) => {
            // The original error says what went wrong; a failed ROLLBACK
            // means the connection is gone, which the next use reports.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}
