//! Who may send a request: whoever holds the key of the spreadsheet the
//! signed body names. The body is read for its `spreadsheet_id` before the
//! signature is checked (the key depends on it); the same parser reads it
//! again afterwards, so the id that chose the key is the id acted on.

use serde::Deserialize;

use crate::errors::WebhookError;
use crate::keys::{Generation, MasterSecrets};
use crate::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::{WebhookRequest, parse};

/// The one field an unverified body is read for. Like the full request
/// types, it refuses a body naming `spreadsheet_id` twice, so a second
/// value cannot hide behind the first.
#[derive(Deserialize)]
struct Claim {
    spreadsheet_id: String,
}

/// The spreadsheet the body names; a body naming none cannot be checked
/// against any key and is `malformed`.
pub fn claimed_spreadsheet(body: &[u8]) -> Result<String, WebhookError> {
    let claim: Claim = parse(body)?;
    Ok(claim.spreadsheet_id)
}

/// Verifies the request against the claimed spreadsheet's keys and
/// answers which master's key it was.
pub fn authenticate(
    masters: &MasterSecrets,
    req: &WebhookRequest,
    now_unix: i64,
    window_secs: i64,
) -> Result<(String, Generation), WebhookError> {
    let spreadsheet_id = claimed_spreadsheet(&req.body)?;
    let generation = masters.verify(
        &spreadsheet_id,
        req.header(TIMESTAMP_HEADER),
        req.header(SIGNATURE_HEADER),
        &req.body,
        now_unix,
        window_secs,
    )?;
    Ok((spreadsheet_id, generation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::SyncRequest;
    use crate::keys::spreadsheet_key;
    use crate::signature::{Secret, sign};

    fn request(body: &str, key_of: &str) -> WebhookRequest {
        let key = spreadsheet_key(&Secret::new("master"), key_of);
        WebhookRequest {
            method: "POST".into(),
            path: "/sync_postgres".into(),
            headers: vec![
                (TIMESTAMP_HEADER.into(), "1000".into()),
                (
                    SIGNATURE_HEADER.into(),
                    sign(&key.signing_secret(), "1000", body.as_bytes()),
                ),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    fn masters() -> MasterSecrets {
        MasterSecrets::new(Secret::new("master"))
    }

    #[test]
    fn the_body_names_the_key() {
        let body = r#"{"v":1,"spreadsheet_id":"X","sheet":"T"}"#;
        let (id, generation) = authenticate(&masters(), &request(body, "X"), 1000, 300)
            .map_err(|e| e.code())
            .unwrap();
        assert_eq!((id.as_str(), generation), ("X", Generation::Current));
        let err = authenticate(&masters(), &request(body, "Y"), 1000, 300).unwrap_err();
        assert_eq!((err.status(), err.code()), (401, "bad_signature"));
    }

    #[test]
    fn a_body_without_a_single_spreadsheet_id_is_malformed() {
        for body in [
            "not json",
            r#"{"v":1,"sheet":"T"}"#,
            r#"{"spreadsheet_id":7}"#,
            r#"{"spreadsheet_id":"X","spreadsheet_id":"Y"}"#,
        ] {
            let err = authenticate(&masters(), &request(body, "X"), 1000, 300).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "malformed"), "{body}");
        }
    }

    #[test]
    fn the_full_parse_refuses_a_second_spreadsheet_id_too() {
        let body = r#"{"v":1,"event_id":"e","spreadsheet_id":"X","sheet":"T","kind":"edit","spreadsheet_id":"Y"}"#;
        assert!(serde_json::from_str::<SyncRequest>(body).is_err());
    }
}
