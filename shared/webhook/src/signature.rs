//! Request signatures: `X-Sheetsync-Signature: v1=<hex HMAC-SHA256(secret,
//! timestamp + "." + raw body)>` with `X-Sheetsync-Timestamp` inside a window.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::errors::WebhookError;

pub const TIMESTAMP_HEADER: &str = "x-sheetsync-timestamp";
pub const SIGNATURE_HEADER: &str = "x-sheetsync-signature";
const SCHEME: &str = "v1=";

/// The shared secret; its bytes are never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// For keying a MAC only; never for printing.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

fn mac(secret: &Secret, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(&secret.0) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value a client sends: `v1=<hex>`.
pub fn sign(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    format!(
        "{SCHEME}{}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks the signature, then the timestamp window: a validly signed request
/// that is too old (or from the future) is `stale`, anything else that does
/// not verify is `bad_signature`.
pub fn verify(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
    window_secs: i64,
) -> Result<(), WebhookError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(WebhookError::BadSignature(
            "signature or timestamp header missing",
        ));
    };
    let timestamp = timestamp.trim();
    let Some(hex_sig) = signature.trim().strip_prefix(SCHEME) else {
        return Err(WebhookError::BadSignature("signature scheme is not v1"));
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return Err(WebhookError::BadSignature("signature is not hex"));
    };
    let expected = mac(secret, timestamp, body).finalize().into_bytes();
    if given.len() != expected.len() || !bool::from(expected.as_slice().ct_eq(&given)) {
        return Err(WebhookError::BadSignature("signature does not match"));
    }
    let Ok(ts) = timestamp.parse::<i64>() else {
        return Err(WebhookError::BadSignature("timestamp is not unix seconds"));
    };
    if (now_unix - ts).abs() > window_secs {
        return Err(WebhookError::Stale {
            age_secs: now_unix - ts,
            window_secs,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new("s3cret")
    }

    #[test]
    fn accepts_its_own_signature_inside_the_window() {
        let sig = sign(&secret(), "1000", b"{}");
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        verify(&secret(), Some("1000"), Some(&sig), b"{}", 1300, 300).unwrap();
        verify(&secret(), Some("1000"), Some(&sig), b"{}", 700, 300).unwrap();
    }

    #[test]
    fn rejects_tampering_and_missing_headers() {
        let sig = sign(&secret(), "1000", b"{}");
        let code = |r: Result<(), WebhookError>| r.unwrap_err().code();
        assert_eq!(
            code(verify(
                &secret(),
                Some("1000"),
                Some(&sig),
                b"{ }",
                1000,
                300
            )),
            "bad_signature"
        );
        assert_eq!(
            code(verify(
                &secret(),
                Some("1001"),
                Some(&sig),
                b"{}",
                1000,
                300
            )),
            "bad_signature"
        );
        assert_eq!(
            code(verify(
                &Secret::new("other"),
                Some("1000"),
                Some(&sig),
                b"{}",
                1000,
                300
            )),
            "bad_signature"
        );
        assert_eq!(
            code(verify(&secret(), None, Some(&sig), b"{}", 1000, 300)),
            "bad_signature"
        );
        assert_eq!(
            code(verify(&secret(), Some("1000"), None, b"{}", 1000, 300)),
            "bad_signature"
        );
        let v0 = sig.replace("v1=", "v0=");
        assert_eq!(
            code(verify(&secret(), Some("1000"), Some(&v0), b"{}", 1000, 300)),
            "bad_signature"
        );
        let short = &sig[..sig.len() - 2];
        assert_eq!(
            code(verify(
                &secret(),
                Some("1000"),
                Some(short),
                b"{}",
                1000,
                300
            )),
            "bad_signature"
        );
    }

    #[test]
    fn a_signed_but_old_or_future_request_is_stale() {
        let sig = sign(&secret(), "1000", b"{}");
        let code = |r: Result<(), WebhookError>| r.unwrap_err().code();
        assert_eq!(
            code(verify(
                &secret(),
                Some("1000"),
                Some(&sig),
                b"{}",
                1301,
                300
            )),
            "stale"
        );
        assert_eq!(
            code(verify(&secret(), Some("1000"), Some(&sig), b"{}", 699, 300)),
            "stale"
        );
    }

    #[test]
    fn secret_is_not_printed() {
        assert_eq!(format!("{:?}", secret()), "Secret(..)");
    }
}
