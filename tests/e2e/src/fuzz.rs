//! What each fuzz target checks, for one input. A panic is a finding: these
//! functions assert the properties on purpose.

use serde_json::Value as Json;
use sheetsync_reconcile::convert::{from_pg_json, from_sheet};
use sheetsync_reconcile::{Column, ConflictPolicy, PgType, Value};
use sheetsync_store::Binding;
use sheetsync_webhook::authenticate::{authenticate, claimed_spreadsheet};
use sheetsync_webhook::contract::{PushRequest, SyncRequest};
use sheetsync_webhook::header::Header;
use sheetsync_webhook::incoming::Incoming;
use sheetsync_webhook::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use sheetsync_webhook::{MasterSecrets, Secret, WebhookRequest, spreadsheet_key};

const SECRET: &str = "fuzz-secret";
const NOW: i64 = 1_795_613_700;
const WINDOW: i64 = 300;

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// A binding with one column of every converted type, `id` the key.
pub fn binding() -> Binding {
    let mut columns = vec![Column::new("id", PgType::Int8)];
    columns[0].key_position = Some(0);
    columns[0].nullable = false;
    columns[0].has_default = true;
    for (i, t) in PgType::ALL.iter().enumerate() {
        columns.push(Column::new(format!("c{i}"), *t));
    }
    Binding {
        name: "fuzz".into(),
        table_oid: 1,
        table_schema: "public".into(),
        table_name: "fuzz".into(),
        spreadsheet_id: "fuzz".into(),
        sheet: "Fuzz".into(),
        policy: ConflictPolicy::Latest,
        key_columns: vec!["id".into()],
        columns,
        identity_always: Vec::new(),
        columns_version: String::new(),
    }
}

/// The webhook's request path up to the database: signature check, the
/// contract's parse, the header mapping and every row's conversion. Input:
/// a flags byte, the timestamp header line, the signature header line, the
/// body. With flag bit 0 clear the signature is computed, so the body gets
/// past the check as a real script's would.
pub fn webhook_request(data: &[u8]) {
    let Some((flags, rest)) = data.split_first() else {
        return;
    };
    let (timestamp, rest) = split_line(rest);
    let (signature, body) = split_line(rest);
    let masters = MasterSecrets::new(Secret::new(SECRET));
    let timestamp = String::from_utf8_lossy(timestamp).into_owned();
    let signature = if flags & 1 == 0 {
        // Signed as the script of the spreadsheet the body names would.
        let spreadsheet = claimed_spreadsheet(body).unwrap_or_default();
        let key = spreadsheet_key(masters.current(), &spreadsheet);
        sign(&key.signing_secret(), &timestamp, body)
    } else {
        String::from_utf8_lossy(signature).into_owned()
    };
    let request = WebhookRequest {
        method: "POST".into(),
        path: "/sync_postgres".into(),
        headers: vec![
            (TIMESTAMP_HEADER.into(), timestamp),
            (SIGNATURE_HEADER.into(), signature),
        ],
        body: body.to_vec(),
    };
    let _ = authenticate(&masters, &request, NOW, WINDOW);
    let _ = serde_json::from_slice::<PushRequest>(body);
    let Ok(request) = serde_json::from_slice::<SyncRequest>(body) else {
        return;
    };
    let binding = binding();
    let Ok(header) = Header::map(&binding, &request.header) else {
        return;
    };
    let settings = sheetsync_reconcile::SheetSettings {
        locale: request.locale.as_deref().map_or(
            sheetsync_reconcile::SheetLocale::UNKNOWN,
            sheetsync_reconcile::SheetLocale::from_tag,
        ),
        ..sheetsync_reconcile::SheetSettings::UTC
    };
    for (i, row) in request.rows.iter().enumerate() {
        let _ = Incoming::convert(&binding, &header, &request.header, (i, row), settings);
    }
}

/// Value conversion. Input: a type selector byte, then a sheet cell (as
/// JSON) or a PostgreSQL `to_jsonb` rendering. Neither conversion may
/// panic; every value read must survive `to_json_text` → `from_pg_json`
/// unchanged (and `to_json`, but for a numeric's documented rounding),
/// render a sheet cell, and have a text form exactly when it is not NULL.
pub fn value_conversion(data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let pg_type = PgType::ALL[*selector as usize % PgType::ALL.len()];
    let column = Column::new("c", pg_type);
    if let Ok(cell) = serde_json::from_slice::<Json>(rest)
        && let Ok(value) = from_sheet(&cell, &column)
    {
        check_value(&value, pg_type, &cell);
    }
    if let Ok(text) = std::str::from_utf8(rest)
        && let Ok(value) = from_pg_json(text, pg_type)
    {
        check_value(&value, pg_type, &Json::String(text.to_string()));
    }
}

fn check_value(value: &Value, pg_type: PgType, input: &Json) {
    let _ = value.to_sheet_cell();
    assert_eq!(
        value.to_pg_text().is_none(),
        *value == Value::Null,
        "{pg_type:?}: text form of {value:?} (from {input})"
    );
    // The exact rendering (jsonb parameters, keys) reads back unchanged.
    let exact = value.to_json_text();
    match from_pg_json(&exact, pg_type) {
        Ok(back) => assert!(
            back == *value,
            "{pg_type:?}: {value:?} (from {input}) came back as {back:?} through {exact}"
        ),
        Err(e) => panic!(
            "{pg_type:?}: {value:?} (from {input}) rendered {exact}, which does not read back: {e}"
        ),
    }
    // `to_json` is documented to round a numeric beyond an f64; everything
    // else it renders reads back unchanged, and it always reads back.
    let json = value.to_json();
    match from_pg_json(&json.to_string(), pg_type) {
        Ok(back) => assert!(
            back == *value || matches!(value, Value::Numeric(_)),
            "{pg_type:?}: {value:?} (from {input}) came back as {back:?} through {json}"
        ),
        Err(e) => panic!(
            "{pg_type:?}: {value:?} (from {input}) rendered {json}, which does not read back: {e}"
        ),
    }
}
