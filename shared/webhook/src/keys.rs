//! Per-spreadsheet signing keys. A script signs with the key of its own
//! spreadsheet, `hex(HMAC-SHA256(master, "sheetsync/v1/" + spreadsheet_id))`
//! (HMAC as a PRF keyed by the deployment's master secret, as HKDF-Expand
//! uses it), so the key an editor can read in one spreadsheet's Script
//! Properties signs for that spreadsheet only, and no table of keys is
//! stored anywhere.
//!
//! The key is handed to the script as its 64 hex characters, and those
//! characters (not the 32 bytes they spell) are the HMAC key of the request
//! signature: the script keeps signing a text secret exactly as before.
//!
//! Two masters may be active at once (current and previous), so keys can
//! be rotated without refusing a script that still has the old one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::errors::WebhookError;
use crate::signature::{self, Secret};

/// What the master is keyed with, before the spreadsheet id. The version
/// lets a future derivation exist beside this one.
pub const DERIVATION_PREFIX: &str = "sheetsync/v1/";

/// A spreadsheet's key, as the script's Set up takes it. Printed only on
/// purpose (`sheetsync key`), never by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SpreadsheetKey(String);

impl SpreadsheetKey {
    /// The text to paste into the script's Set up.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The HMAC key of request signatures.
    pub fn signing_secret(&self) -> Secret {
        Secret::new(self.0.as_bytes())
    }
}

impl std::fmt::Debug for SpreadsheetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpreadsheetKey(..)")
    }
}

/// The key of one spreadsheet under one master.
pub fn spreadsheet_key(master: &Secret, spreadsheet_id: &str) -> SpreadsheetKey {
    let mut mac = match Hmac::<Sha256>::new_from_slice(master.bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(DERIVATION_PREFIX.as_bytes());
    mac.update(spreadsheet_id.as_bytes());
    SpreadsheetKey(hex::encode(mac.finalize().into_bytes()))
}

/// Which master a request's key came from (logged, so an operator sees
/// when no script uses the previous one any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Current,
    Previous,
}

impl Generation {
    pub fn as_str(self) -> &'static str {
        match self {
            Generation::Current => "current",
            Generation::Previous => "previous",
        }
    }
}

/// The deployment's master secrets: the current one, and during a
/// rotation the one it replaces.
#[derive(Debug, Clone)]
pub struct MasterSecrets {
    current: Secret,
    previous: Option<Secret>,
}

impl MasterSecrets {
    pub fn new(current: Secret) -> MasterSecrets {
        MasterSecrets {
            current,
            previous: None,
        }
    }

    pub fn with_previous(mut self, previous: Option<Secret>) -> MasterSecrets {
        self.previous = previous;
        self
    }

    pub fn current(&self) -> &Secret {
        &self.current
    }

    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    /// The spreadsheet's key under each active master, current first.
    pub fn keys_for(&self, spreadsheet_id: &str) -> Vec<(Generation, SpreadsheetKey)> {
        let mut keys = vec![(
            Generation::Current,
            spreadsheet_key(&self.current, spreadsheet_id),
        )];
        if let Some(previous) = &self.previous {
            keys.push((
                Generation::Previous,
                spreadsheet_key(previous, spreadsheet_id),
            ));
        }
        keys
    }

    /// Checks a request's signature against the spreadsheet's keys: the
    /// first that matches decides (`stale` if its timestamp is outside the
    /// window); none matching is `bad_signature`.
    pub fn verify(
        &self,
        spreadsheet_id: &str,
        timestamp: Option<&str>,
        signature_header: Option<&str>,
        body: &[u8],
        now_unix: i64,
        window_secs: i64,
    ) -> Result<Generation, WebhookError> {
        let mut refusal = WebhookError::BadSignature("signature does not match");
        for (generation, key) in self.keys_for(spreadsheet_id) {
            match signature::verify(
                &key.signing_secret(),
                timestamp,
                signature_header,
                body,
                now_unix,
                window_secs,
            ) {
                Ok(()) => return Ok(generation),
                Err(e @ WebhookError::BadSignature(_)) => refusal = e,
                Err(other) => return Err(other),
            }
        }
        Err(refusal)
    }
}

impl From<Secret> for MasterSecrets {
    fn from(current: Secret) -> Self {
        MasterSecrets::new(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::sign;

    const MASTER: &str = "sheetsync-test-secret";

    fn masters() -> MasterSecrets {
        MasterSecrets::new(Secret::new(MASTER))
    }

    fn signed_for(key: &SpreadsheetKey, body: &[u8]) -> String {
        sign(&key.signing_secret(), "1000", body)
    }

    #[test]
    fn the_key_is_the_hex_hmac_of_the_prefixed_spreadsheet_id() {
        // printf '%s' 'sheetsync/v1/1AbC-sheetsync-test' | openssl dgst -sha256 -hmac 'sheetsync-test-secret'
        let key = spreadsheet_key(&Secret::new(MASTER), "1AbC-sheetsync-test");
        assert_eq!(
            key.reveal(),
            "95c2c4306b53a070a1e36b89305a80a40756c041bba7d8e33cd2df91c4530998"
        );
    }

    #[test]
    fn a_key_signs_for_its_own_spreadsheet_only() {
        let x = spreadsheet_key(&Secret::new(MASTER), "X");
        let sig = signed_for(&x, b"{}");
        assert_eq!(
            masters()
                .verify("X", Some("1000"), Some(&sig), b"{}", 1000, 300)
                .map_err(|e| e.code()),
            Ok(Generation::Current)
        );
        let err = masters()
            .verify("Y", Some("1000"), Some(&sig), b"{}", 1000, 300)
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (401, "bad_signature"));
    }

    #[test]
    fn the_master_itself_is_not_a_signing_key() {
        let sig = sign(&Secret::new(MASTER), "1000", b"{}");
        let err = masters()
            .verify("X", Some("1000"), Some(&sig), b"{}", 1000, 300)
            .unwrap_err();
        assert_eq!(err.code(), "bad_signature");
    }

    #[test]
    fn during_a_rotation_both_masters_keys_verify() {
        let old = Secret::new("old-master");
        let new = Secret::new("new-master");
        let rotating = MasterSecrets::new(new.clone()).with_previous(Some(old.clone()));
        let by_old = signed_for(&spreadsheet_key(&old, "X"), b"{}");
        let by_new = signed_for(&spreadsheet_key(&new, "X"), b"{}");
        let check = |m: &MasterSecrets, sig: &str| {
            m.verify("X", Some("1000"), Some(sig), b"{}", 1000, 300)
                .map_err(|e| e.code())
        };
        assert_eq!(check(&rotating, &by_new), Ok(Generation::Current));
        assert_eq!(check(&rotating, &by_old), Ok(Generation::Previous));
        // After the window closes only the new master remains.
        let after = MasterSecrets::new(new);
        assert_eq!(check(&after, &by_new), Ok(Generation::Current));
        assert_eq!(check(&after, &by_old), Err("bad_signature"));
        // Before it opened, the new key is unknown.
        let before = MasterSecrets::new(old);
        assert_eq!(check(&before, &by_new), Err("bad_signature"));
    }

    #[test]
    fn a_matching_but_old_signature_is_stale_under_either_master() {
        let old = Secret::new("old-master");
        let rotating =
            MasterSecrets::new(Secret::new("new-master")).with_previous(Some(old.clone()));
        let sig = signed_for(&spreadsheet_key(&old, "X"), b"{}");
        let err = rotating
            .verify("X", Some("1000"), Some(&sig), b"{}", 2000, 300)
            .unwrap_err();
        assert_eq!(err.code(), "stale");
    }

    #[test]
    fn keys_are_not_printed() {
        let key = spreadsheet_key(&Secret::new(MASTER), "X");
        assert_eq!(format!("{key:?}"), "SpreadsheetKey(..)");
        assert!(!format!("{:?}", masters()).contains(MASTER));
    }
}
