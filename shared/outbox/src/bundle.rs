//! Several bindings' messages of one spreadsheet into one queue message.
//!
//! The queue's group is the spreadsheet, and a FIFO consumer takes at most
//! ten messages of a group per turn: with one binding per message, a
//! spreadsheet of many busy tabs needs more than ten messages per turn
//! and its changes wait (docs/scale.md, "Messages"). A bundle carries one
//! packed message of each of several bindings.
//!
//! Each binding's messages keep their order: they are taken in order, and
//! a binding appears at most once per bundle, so its next message goes in
//! a later bundle. A bundle of one message is that message unchanged (the
//! same body and deduplication id as without bundling).

use sha2::{Digest, Sha256};
use sheetsync_queue::BUNDLE_VERSION;

use crate::pack::{self, PackLimits, PackedMessage};

/// One binding's packed messages, in sequence order.
#[derive(Debug)]
pub struct Lane<'a> {
    pub binding: &'a str,
    pub messages: &'a [PackedMessage],
}

/// One queue message: `parts` are (lane, message index) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub parts: Vec<(usize, usize)>,
    pub body: String,
    pub dedup_id: String,
}

/// Bundles the lanes' messages: every lane's first message, then every
/// lane's second, and so on, each bundle filled to the limits.
pub fn bundle(lanes: &[Lane<'_>], limits: PackLimits) -> Vec<Bundle> {
    let head = format!(r#"{{"v":{BUNDLE_VERSION},"batches":["#);
    let mut out = Vec::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut bytes = 0;
    let mut changes = 0;
    let longest = lanes.iter().map(|l| l.messages.len()).max().unwrap_or(0);
    for round in 0..longest {
        for (lane, l) in lanes.iter().enumerate() {
            let Some(m) = l.messages.get(round) else {
                continue;
            };
            let grown = head.len() + bytes + open.len() + m.body.len() + 2;
            let full = grown > limits.max_message_bytes
                || changes + m.seqs.len() > limits.max_changes
                || open.iter().any(|&(other, _)| other == lane);
            if !open.is_empty() && full {
                out.push(close(lanes, std::mem::take(&mut open), &head));
                bytes = 0;
                changes = 0;
            }
            open.push((lane, round));
            bytes += m.body.len();
            changes += m.seqs.len();
        }
    }
    if !open.is_empty() {
        out.push(close(lanes, open, &head));
    }
    out
}

fn close(lanes: &[Lane<'_>], parts: Vec<(usize, usize)>, head: &str) -> Bundle {
    let message = |&(lane, i): &(usize, usize)| &lanes[lane].messages[i];
    let ids: Vec<String> = parts
        .iter()
        .map(|p| pack::dedup_id(lanes[p.0].binding, message(p)))
        .collect();
    if let [only] = parts.as_slice() {
        return Bundle {
            body: message(only).body.clone(),
            dedup_id: ids.concat(),
            parts,
        };
    }
    let bodies: Vec<&str> = parts.iter().map(|p| message(p).body.as_str()).collect();
    Bundle {
        body: format!("{head}{}]}}", bodies.join(",")),
        dedup_id: format!(
            "bundle:{}",
            hex::encode(&Sha256::digest(ids.join(";").as_bytes())[..16])
        ),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sheetsync_queue::decode_batches;

    /// A message of `binding` carrying `seqs`, as `pack` would build it.
    fn message(binding: &str, seqs: &[i64]) -> PackedMessage {
        let changes: Vec<String> = seqs
            .iter()
            .map(|s| format!(r#"{{"seq":{s},"committed_at":"t","op":"delete","key":[{s}]}}"#))
            .collect();
        PackedMessage {
            seqs: seqs.to_vec(),
            body: format!(
                r#"{{"v":1,"binding":"{binding}","spreadsheet_id":"S","sheet":"{binding}","key_columns":["id"],"columns":[],"changes":[{}]}}"#,
                changes.join(",")
            ),
        }
    }

    fn limits(bytes: usize, changes: usize) -> PackLimits {
        PackLimits {
            max_message_bytes: bytes,
            max_changes: changes,
        }
    }

    /// Per bundle: (binding, seqs) of each batch it decodes to.
    fn contents(bundles: &[Bundle]) -> Vec<Vec<(String, Vec<i64>)>> {
        bundles
            .iter()
            .map(|b| {
                decode_batches(&b.body)
                    .unwrap()
                    .into_iter()
                    .map(|batch| (batch.binding, batch.changes.iter().map(|c| c.seq).collect()))
                    .collect()
            })
            .collect()
    }

    fn lane<'a>(binding: &'a str, messages: &'a [PackedMessage]) -> Lane<'a> {
        Lane { binding, messages }
    }

    #[test]
    fn a_spreadsheets_bindings_share_messages_each_in_its_order() {
        let a = [message("a", &[1, 2]), message("a", &[3])];
        let b = [message("b", &[7])];
        let c = [message("c", &[4]), message("c", &[5]), message("c", &[6])];
        let bundles = bundle(
            &[lane("a", &a), lane("b", &b), lane("c", &c)],
            limits(1 << 20, 500),
        );
        let s = |n: &str, seqs: &[i64]| (n.to_string(), seqs.to_vec());
        assert_eq!(
            contents(&bundles),
            vec![
                vec![s("a", &[1, 2]), s("b", &[7]), s("c", &[4])],
                vec![s("a", &[3]), s("c", &[5])],
                vec![s("c", &[6])],
            ]
        );
        // A bundle of one is the binding's own message, unchanged.
        assert_eq!(bundles[2].body, c[2].body);
        assert_eq!(bundles[2].dedup_id, pack::dedup_id("c", &c[2]));
        assert!(bundles[0].dedup_id.starts_with("bundle:"));
        assert!(bundles[0].dedup_id.len() <= 128);
    }

    #[test]
    fn a_bundle_closes_at_the_byte_and_change_limits() {
        let a = [message("a", &[1, 2, 3])];
        let b = [message("b", &[4, 5])];
        let c = [message("c", &[6])];
        let lanes = [lane("a", &a), lane("b", &b), lane("c", &c)];
        let s = |n: &str, seqs: &[i64]| (n.to_string(), seqs.to_vec());
        assert_eq!(
            contents(&bundle(&lanes, limits(1 << 20, 5))),
            vec![
                vec![s("a", &[1, 2, 3]), s("b", &[4, 5])],
                vec![s("c", &[6])]
            ]
        );
        let two = 20 + a[0].body.len() + 1 + b[0].body.len();
        let bundles = bundle(&lanes, limits(two, 500));
        assert_eq!(
            contents(&bundles),
            vec![
                vec![s("a", &[1, 2, 3]), s("b", &[4, 5])],
                vec![s("c", &[6])]
            ]
        );
        assert_eq!(bundles[0].body.len(), two);
        assert_eq!(
            contents(&bundle(&lanes, limits(two - 1, 500))),
            vec![
                vec![s("a", &[1, 2, 3])],
                vec![s("b", &[4, 5]), s("c", &[6])]
            ]
        );
    }

    #[test]
    fn the_same_messages_bundle_the_same_way() {
        let a = [message("a", &[1])];
        let b = [message("b", &[2])];
        let once = bundle(&[lane("a", &a), lane("b", &b)], limits(1 << 20, 500));
        let again = bundle(&[lane("a", &a), lane("b", &b)], limits(1 << 20, 500));
        assert_eq!(once, again);
        let other = [message("b", &[2, 3])];
        let grown = bundle(&[lane("a", &a), lane("b", &other)], limits(1 << 20, 500));
        assert_ne!(once[0].dedup_id, grown[0].dedup_id);
        assert!(bundle(&[], limits(1 << 20, 500)).is_empty());
    }
}
