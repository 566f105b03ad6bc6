//! The wire format of docs/contract.md: what the Apps Script posts and what it is
//! answered. Unknown fields are accepted (the contract may grow).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// The only contract version this server speaks.
pub const VERSION: u32 = 1;

/// What every request must carry, whatever its endpoint: this version and
/// an event id. The error is the `malformed` answer's message.
pub fn check_envelope(v: u32, event_id: &str) -> Result<(), String> {
    if v != VERSION {
        return Err(format!("version {v} is not 1"));
    }
    if event_id.trim().is_empty() {
        return Err("event_id is empty".into());
    }
    Ok(())
}

/// `POST /sync_postgres`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SyncRequest {
    pub v: u32,
    pub event_id: String,
    pub spreadsheet_id: String,
    pub sheet: String,
    pub kind: Kind,
    /// When the user made the change (for a snapshot: when the tab was read).
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    /// The highest outbox sequence the writer had applied to the tab; 0 when
    /// the tab has none.
    #[serde(default)]
    pub watermark: Option<i64>,
    #[serde(default)]
    pub header: Vec<String>,
    #[serde(default)]
    pub rows: Vec<SheetRow>,
    /// `keys` requests: every key present in the tab. Each entry is the key
    /// as an array in key order, an object by key column name, or (single
    /// column keys) the bare value.
    #[serde(default)]
    pub keys: Vec<Json>,
    /// A part of a snapshot too large for one request: upserts only.
    #[serde(default)]
    pub partial: bool,
    /// The script saw a writer batch in the tab whose placement is not
    /// verified yet, or the writer changed the tab while it was read: the
    /// tab's keyed rows and key list are not trusted for anything
    /// destructive (docs/contract.md).
    #[serde(default)]
    pub unsettled: bool,
    /// The spreadsheet's time zone (IANA name), where its date-time cells'
    /// wall clocks are; absent from scripts before it was sent (compared
    /// then as instants, i.e. in UTC).
    #[serde(default)]
    pub tz: Option<String>,
    /// The spreadsheet's locale (`de_DE`): how text a person typed writes
    /// numbers, dates and TRUE/FALSE; absent from scripts before it was
    /// sent (then only `1234.5` and `YYYY-MM-DD` text is read).
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Edit,
    Snapshot,
    Keys,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Edit => "edit",
            Kind::Snapshot => "snapshot",
            Kind::Keys => "keys",
        }
    }
}

/// One sheet row of a request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SheetRow {
    /// 1-based sheet row, echoed back only (never identifies a record).
    #[serde(default)]
    pub row: Option<u32>,
    /// Cells in header order.
    pub values: Vec<Json>,
    /// Base values of single-cell edits, by header name.
    #[serde(default)]
    pub old: Option<Map<String, Json>>,
    /// The columns the user changed (a paste into some columns of a row).
    #[serde(default)]
    pub edited: Option<Vec<String>>,
}

/// `POST /sync_gsheet`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PushRequest {
    pub v: u32,
    pub event_id: String,
    pub spreadsheet_id: String,
    pub sheet: String,
}

/// The 200 answer to `POST /sync_postgres`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub event_id: String,
    pub rows: Vec<RowOutcome>,
    /// Table rows deleted (snapshot and keys requests).
    pub deleted: u64,
    /// Table rows not in the snapshot that the sheet has not received yet:
    /// queued for the sheet again instead of deleted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resent: u64,
    /// Header names that match no column of the table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_columns: Vec<String>,
    /// Columns of the table the header lacks (a header cell renamed or
    /// removed in the sheet): nothing from the sheet reaches them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_columns: Vec<String>,
    /// Some rows (status `deferred`) or deletes were left undecided: the
    /// script sends a snapshot later.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferred: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowOutcome {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u32>,
    /// The row's key by key column name; absent for a rejected new row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Map<String, Json>>,
    pub status: RowStatus,
    /// For `conflict`: which columns, and which side won each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For `rejected`: why, in words a sheet user understands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `rejected`: the header name of the offending cell, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Inserted,
    Updated,
    Unchanged,
    Conflict,
    Rejected,
    /// Nothing was written for this row: the request was `unsettled`.
    Deferred,
}

impl RowStatus {
    /// As the contract writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Inserted => "inserted",
            RowStatus::Updated => "updated",
            RowStatus::Unchanged => "unchanged",
            RowStatus::Conflict => "conflict",
            RowStatus::Rejected => "rejected",
            RowStatus::Deferred => "deferred",
        }
    }
}

/// The 200 answer to `POST /sync_gsheet`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub event_id: String,
    pub queued: u64,
    /// Added to the contract: `true` when a push of this binding was queued
    /// less than the minimum interval ago. Nothing more was queued (the
    /// earlier push is bringing the sheet to the table); the caller may ask
    /// again after `retry_after_secs`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_contract_example_and_tolerates_added_fields() {
        let body = json!({
            "v": 1, "event_id": "e1", "spreadsheet_id": "S", "sheet": "Orders",
            "kind": "edit", "edited_at": "2026-11-25T13:35:00.123Z", "watermark": 1289,
            "header": ["id", "qty"], "future_field": {"x": 1},
            "rows": [
                {"row": 7, "values": [42, 3], "old": {"qty": 2}},
                {"row": 9, "values": [44, 6], "edited": ["qty"], "note": "added"}
            ]
        });
        let req: SyncRequest = serde_json::from_value(body).unwrap();
        assert_eq!(req.kind, Kind::Edit);
        assert_eq!(req.watermark, Some(1289));
        assert_eq!(
            req.edited_at.unwrap().to_rfc3339(),
            "2026-11-25T13:35:00.123+00:00"
        );
        assert_eq!(req.rows[0].old.as_ref().unwrap()["qty"], json!(2));
        assert_eq!(
            req.rows[1].edited.as_deref(),
            Some(&["qty".to_string()][..])
        );
        assert!(!req.partial);
        assert_eq!(req.tz, None);
        let with_zone = json!({"v": 1, "event_id": "e2", "spreadsheet_id": "S", "sheet": "Orders",
            "kind": "snapshot", "tz": "Europe/Berlin", "header": [], "rows": []});
        let req: SyncRequest = serde_json::from_value(with_zone).unwrap();
        assert_eq!(req.tz.as_deref(), Some("Europe/Berlin"));
    }

    #[test]
    fn response_omits_empty_extras() {
        let resp = SyncResponse {
            event_id: "e1".into(),
            rows: vec![RowOutcome {
                row: Some(8),
                key: Some(json!({"id": 43}).as_object().cloned().unwrap()),
                status: RowStatus::Inserted,
                detail: None,
                reason: None,
                column: None,
            }],
            deleted: 0,
            resent: 0,
            ignored_columns: vec![],
            missing_columns: vec![],
            deferred: false,
        };
        assert_eq!(
            serde_json::to_value(&resp).unwrap(),
            json!({"event_id": "e1", "rows": [{"row": 8, "key": {"id": 43}, "status": "inserted"}], "deleted": 0})
        );
    }

    #[test]
    fn unsettled_is_read_and_deferred_is_said_only_when_true() {
        let body = json!({
            "v": 1, "event_id": "k1", "spreadsheet_id": "S", "sheet": "Orders",
            "kind": "keys", "unsettled": true, "keys": [{"id": 41}]
        });
        let req: SyncRequest = serde_json::from_value(body).unwrap();
        assert!(req.unsettled);
        assert_eq!(req.tz, None);
        let body = json!({"v": 1, "event_id": "k2", "spreadsheet_id": "S", "sheet": "Orders", "kind": "keys"});
        let req: SyncRequest = serde_json::from_value(body).unwrap();
        assert!(!req.unsettled);

        let mut resp = SyncResponse {
            event_id: "e1".into(),
            rows: vec![RowOutcome {
                row: Some(3),
                key: Some(json!({"id": 42}).as_object().cloned().unwrap()),
                status: RowStatus::Deferred,
                detail: None,
                reason: None,
                column: None,
            }],
            deleted: 0,
            resent: 0,
            ignored_columns: vec![],
            missing_columns: vec![],
            deferred: true,
        };
        let expected = json!({"event_id": "e1", "rows": [{"row": 3, "key": {"id": 42}, "status": "deferred"}],
                              "deleted": 0, "deferred": true});
        assert_eq!(serde_json::to_value(&resp).unwrap(), expected);
        assert_eq!(
            serde_json::from_value::<SyncResponse>(expected).unwrap(),
            resp
        );
        resp.deferred = false;
        assert!(
            serde_json::to_value(&resp)
                .unwrap()
                .get("deferred")
                .is_none()
        );
    }
}
