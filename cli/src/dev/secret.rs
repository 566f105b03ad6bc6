//! The webhook master secret of a dev run: random, made at start, and
//! forgotten at exit; the grid page (which signs like the Apps Script) gets
//! only its spreadsheet's key. It guards nothing real: the stack listens on
//! loopback only.

use std::io::Read;

use super::DevError;

/// Where a run against a real sheet takes the master its Apps Script's key
/// is derived from.
pub const ENV: &str = "SHEETSYNC_WEBHOOK_SECRET";

pub fn dev_secret() -> Result<String, DevError> {
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| DevError::io("reading /dev/urandom", e))?;
    Ok(format!("dev-{}", hex(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_differ_and_are_hex() {
        let (a, b) = (super::dev_secret().unwrap(), super::dev_secret().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 48);
        assert!(a[4..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
