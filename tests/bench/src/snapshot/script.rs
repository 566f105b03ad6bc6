//! The requests the Apps Script sends for a snapshot of a tab too large
//! for one request, built as `snapshotRequests_` (apps-script/payload.js)
//! builds them: rows in tab order split into `partial` snapshots of at
//! most `maxRequestBytes` (default 1,000,000, apps-script/config.js), each
//! row counted as its JSON plus a comma, then one `keys` request with
//! every key, all with the same `edited_at` and watermark.

use serde_json::{Map, Value as Json, json};

use super::tab::{Cell, HEADER};

/// `DEFAULT_MAX_REQUEST_BYTES_` in apps-script/config.js.
pub const MAX_REQUEST_BYTES: usize = 1_000_000;
pub const SPREADSHEET: &str = "bench-snapshot-spreadsheet";
pub const SHEET: &str = "Orders";
/// The first data row (row 1 is the header).
const FIRST_DATA_ROW: usize = 2;

/// One read of the tab, as the script holds it when it builds requests.
pub struct Read<'a> {
    /// Which case, for the event ids.
    pub case: &'a str,
    pub edited_at: String,
    pub watermark: i64,
    pub rows: &'a [Vec<Cell>],
}

/// `baseRequest_`: the fields every request about the tab carries.
fn base(read: &Read<'_>, kind: &str, n: usize, partial: bool) -> Map<String, Json> {
    let mut p = Map::new();
    p.insert("v".into(), json!(1));
    p.insert(
        "event_id".into(),
        json!(format!("bench-{}-{kind}-{n}", read.case)),
    );
    p.insert("spreadsheet_id".into(), json!(SPREADSHEET));
    p.insert("sheet".into(), json!(SHEET));
    p.insert("kind".into(), json!(kind));
    p.insert("tz".into(), json!("UTC"));
    p.insert("locale".into(), json!("en_US"));
    if partial {
        p.insert("partial".into(), json!(true));
    }
    p.insert("edited_at".into(), json!(read.edited_at));
    p.insert("watermark".into(), json!(read.watermark));
    p
}

/// The request bodies in the order the script sends them, one after
/// another, each once the previous one is answered.
pub fn snapshot_requests(read: &Read<'_>) -> Vec<String> {
    let header: Vec<Json> = HEADER.iter().map(|h| json!(h)).collect();
    let mut requests: Vec<Map<String, Json>> = Vec::new();
    let mut size = 0usize;
    for (i, cells) in read.rows.iter().enumerate() {
        let row = json!({
            "row": FIRST_DATA_ROW + i,
            "values": cells.iter().map(Cell::to_json).collect::<Vec<_>>(),
        });
        let row_bytes = row.to_string().len() + 1;
        if requests.is_empty() || size + row_bytes > MAX_REQUEST_BYTES {
            let mut current = base(read, "snapshot", requests.len(), true);
            current.insert("header".into(), Json::Array(header.clone()));
            current.insert("rows".into(), Json::Array(Vec::new()));
            size = Json::Object(current.clone()).to_string().len();
            requests.push(current);
        }
        if let Some(Json::Array(rows)) = requests.last_mut().and_then(|r| r.get_mut("rows")) {
            rows.push(row);
        }
        size += row_bytes;
    }
    if requests.len() == 1 {
        requests[0].remove("partial");
    }
    let mut bodies: Vec<String> = requests
        .into_iter()
        .map(|r| Json::Object(r).to_string())
        .collect();
    if bodies.len() > 1 {
        let mut keys = base(read, "keys", 0, false);
        keys.insert("header".into(), Json::Array(header));
        let listed: Vec<Json> = read
            .rows
            .iter()
            .map(|cells| json!({ HEADER[0]: cells[0].to_json() }))
            .collect();
        keys.insert("keys".into(), Json::Array(listed));
        bodies.push(Json::Object(keys).to_string());
    }
    bodies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::tab::{Variant, rows};

    #[test]
    fn parts_stay_under_the_scripts_limit_and_end_with_every_key() {
        let rows = rows(20_000, Variant::Original);
        let read = Read {
            case: "test",
            edited_at: "2026-12-05T00:00:00.000Z".into(),
            watermark: 0,
            rows: &rows,
        };
        let bodies = snapshot_requests(&read);
        let (keys, parts) = bodies.split_last().unwrap();
        for part in parts {
            assert!(part.len() <= MAX_REQUEST_BYTES, "{}", part.len());
        }
        let parsed: Vec<Json> = bodies
            .iter()
            .map(|b| serde_json::from_str(b).unwrap())
            .collect();
        let sent: usize = parsed[..parts.len()]
            .iter()
            .map(|p| p["rows"].as_array().unwrap().len())
            .sum();
        assert_eq!(sent, 20_000);
        assert!(parsed[..parts.len()].iter().all(|p| p["partial"] == true));
        let keys: Json = serde_json::from_str(keys).unwrap();
        assert_eq!(keys["kind"], "keys");
        assert_eq!(keys["keys"].as_array().unwrap().len(), 20_000);
        assert_eq!(keys["keys"][19_999], json!({"id": 20_000}));
    }
}
