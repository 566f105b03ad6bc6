//! The table checked against the tab, outside the timed part: the exact
//! row count and a SHA-256 over every row's cells as PostgreSQL prints
//! them, in key order, computed by the server and by this process from
//! the generated tab. A mismatch names the first differing row.

use sha2::{Digest, Sha256};

use super::tab::{Cell, HEADER, TABLE};

/// Cells joined with the unit separator, rows with a newline.
const CELL_SEPARATOR: char = '\u{1f}';

fn line(cells: &[Cell]) -> String {
    cells
        .iter()
        .map(Cell::pg_text)
        .collect::<Vec<_>>()
        .join(&CELL_SEPARATOR.to_string())
}

fn line_sql() -> String {
    let cells: Vec<String> = HEADER
        .iter()
        .map(|c| format!("coalesce({c}::text, '\\N')"))
        .collect();
    format!("concat_ws(E'\\x1f', {})", cells.join(", "))
}

/// The tab's count and checksum.
pub fn expected(rows: &[Vec<Cell>]) -> (i64, String) {
    let mut sorted: Vec<&Vec<Cell>> = rows.iter().collect();
    sorted.sort_by_key(|cells| match cells.first() {
        Some(Cell::Int(id)) => *id,
        _ => i64::MIN,
    });
    let mut hash = Sha256::new();
    for (i, cells) in sorted.iter().enumerate() {
        if i > 0 {
            hash.update(b"\n");
        }
        hash.update(line(cells).as_bytes());
    }
    (rows.len() as i64, hex::encode(hash.finalize()))
}

/// The table's count and checksum.
pub async fn actual(client: &tokio_postgres::Client) -> Result<(i64, String), String> {
    client
        .batch_execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'")
        .await
        .map_err(|e| format!("settings: {e}"))?;
    let row = client
        .query_one(
            &format!(
                "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg({}, E'\\n' ORDER BY id), ''), 'UTF8')), 'hex') FROM {TABLE}",
                line_sql()
            ),
            &[],
        )
        .await
        .map_err(|e| format!("checksum: {e}"))?;
    Ok((row.get(0), row.get(1)))
}

/// The first row whose cells differ, for the failure message.
pub async fn first_difference(
    client: &tokio_postgres::Client,
    rows: &[Vec<Cell>],
) -> Result<String, String> {
    let stored = client
        .query(
            &format!("SELECT id, {} FROM {TABLE} ORDER BY id", line_sql()),
            &[],
        )
        .await
        .map_err(|e| format!("read the table: {e}"))?;
    let mut expected: Vec<(i64, String)> = rows
        .iter()
        .map(|cells| match cells.first() {
            Some(Cell::Int(id)) => (*id, line(cells)),
            _ => (i64::MIN, line(cells)),
        })
        .collect();
    expected.sort();
    for (i, (id, want)) in expected.iter().enumerate() {
        let Some(row) = stored.get(i) else {
            return Ok(format!("the table ends before id {id}"));
        };
        let (got_id, got): (i64, String) = (row.get(0), row.get(1));
        if got_id != *id || &got != want {
            return Ok(format!(
                "id {id}: expected {want:?}, the table has id {got_id}: {got:?}"
            ));
        }
    }
    Ok(format!(
        "the table has {} rows more than the tab",
        stored.len().saturating_sub(expected.len())
    ))
}
