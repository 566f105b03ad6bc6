//! How long a busy spreadsheet's changes wait before the next drain sends
//! them. Drains of one spreadsheet's bindings are kept at least `every`
//! apart: the first change after a quiet spell goes at once, but a
//! spreadsheet whose tables commit continuously is drained once per
//! `every`, so its tabs' changes coalesce into one bundled message per
//! interval instead of one per commit. A FIFO consumer
//! takes at most 10 messages of a group per turn, so when the writer is
//! bound by Google's quota, more changes per message is what lets it keep
//! up (docs/scale.md, "Messages").

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Default)]
pub(crate) struct Linger {
    every: Duration,
    /// Each binding's spreadsheet, once a drain sent its rows (until then
    /// the binding stands for itself).
    spreadsheet_of: HashMap<String, String>,
    /// When each spreadsheet was last drained (only those drained within `every`).
    last: HashMap<String, Instant>,
    /// Bindings notified too soon after their last drain, and when they are due.
    waiting: BTreeMap<String, Instant>,
}

impl Linger {
    pub fn new(every: Duration) -> Linger {
        Linger {
            every,
            ..Linger::default()
        }
    }

    /// The notified bindings that may be drained now; the others wait.
    pub fn admit(&mut self, names: impl IntoIterator<Item = String>, now: Instant) -> Vec<String> {
        let every = self.every;
        self.last.retain(|_, at| now.duration_since(*at) < every);
        let mut ready = Vec::new();
        for name in names {
            let spreadsheet = self.spreadsheet_of.get(&name).unwrap_or(&name);
            match self.last.get(spreadsheet) {
                Some(at) => {
                    let due = *at + every;
                    self.waiting.entry(name).or_insert(due);
                }
                None if !self.waiting.contains_key(&name) => ready.push(name),
                None => {}
            }
        }
        ready
    }

    /// When the earliest waiting binding is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.waiting.values().min().copied()
    }

    /// The waiting bindings that are due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Vec<String> {
        let due: Vec<String> = self
            .waiting
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in &due {
            self.waiting.remove(name);
        }
        due
    }

    /// These (binding, spreadsheet) had rows sent at `now` (by any drain:
    /// a notified one, the catch-up after connecting, the safety timer's).
    pub fn sent(&mut self, sent: &[(String, String)], now: Instant) {
        if self.every.is_zero() {
            return;
        }
        for (binding, spreadsheet) in sent {
            self.waiting.remove(binding);
            self.last.insert(spreadsheet.clone(), now);
            self.spreadsheet_of
                .insert(binding.clone(), spreadsheet.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Each binding on a spreadsheet of its own.
    fn alone(list: &[&str]) -> Vec<(String, String)> {
        list.iter()
            .map(|s| (s.to_string(), format!("S-{s}")))
            .collect()
    }

    #[test]
    fn a_binding_drained_recently_waits_out_the_interval_others_go_at_once() {
        let mut linger = Linger::new(Duration::from_secs(2));
        let t0 = Instant::now();
        assert_eq!(linger.admit(names(&["a", "b"]), t0), names(&["a", "b"]));
        linger.sent(&alone(&["a", "b"]), t0);
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(linger.admit(names(&["a", "c"]), t1), names(&["c"]));
        assert_eq!(linger.next_due(), Some(t0 + Duration::from_secs(2)));
        // Notified again while waiting: still one wait, same due time.
        assert_eq!(linger.admit(names(&["a"]), t1), Vec::<String>::new());
        assert_eq!(linger.take_due(t1), Vec::<String>::new());
        let t2 = t0 + Duration::from_secs(2);
        assert_eq!(linger.take_due(t2), names(&["a"]));
        assert_eq!(linger.next_due(), None);
        linger.sent(&alone(&["a"]), t2);
        // After a quiet interval a binding goes at once again.
        let t3 = t2 + Duration::from_secs(3);
        assert_eq!(linger.admit(names(&["a"]), t3), names(&["a"]));
    }

    #[test]
    fn no_interval_never_waits() {
        let mut linger = Linger::new(Duration::ZERO);
        let t0 = Instant::now();
        linger.sent(&alone(&["a"]), t0);
        assert_eq!(linger.admit(names(&["a"]), t0), names(&["a"]));
        assert_eq!(linger.next_due(), None);
    }

    #[test]
    fn rows_sent_for_a_waiting_binding_restart_its_interval() {
        let mut linger = Linger::new(Duration::from_secs(2));
        let t0 = Instant::now();
        linger.sent(&alone(&["a"]), t0);
        assert!(linger.admit(names(&["a"]), t0).is_empty());
        // The safety timer's drain sent its rows meanwhile.
        let t1 = t0 + Duration::from_secs(1);
        linger.sent(&alone(&["a"]), t1);
        assert_eq!(linger.next_due(), None);
        assert!(
            linger
                .admit(names(&["a"]), t0 + Duration::from_millis(2500))
                .is_empty()
        );
        assert_eq!(linger.next_due(), Some(t1 + Duration::from_secs(2)));
    }

    #[test]
    fn a_spreadsheets_tabs_wait_out_one_interval_together() {
        let mut linger = Linger::new(Duration::from_secs(2));
        let t0 = Instant::now();
        let sent = |b: &str| (b.to_string(), "S".to_string());
        linger.sent(&[sent("a"), sent("b")], t0);
        // "c" has not been seen on S yet: it goes at once, and from then
        // on waits with its spreadsheet.
        let t1 = t0 + Duration::from_millis(300);
        assert_eq!(linger.admit(names(&["b", "c"]), t1), names(&["c"]));
        linger.sent(&[sent("c")], t1);
        let t2 = t0 + Duration::from_millis(600);
        assert!(linger.admit(names(&["a", "c"]), t2).is_empty());
        let due = t1 + Duration::from_secs(2);
        assert_eq!(linger.next_due(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(linger.take_due(due), names(&["a", "b", "c"]));
    }
}
