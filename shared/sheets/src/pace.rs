//! Client-side pacing under Google's per-minute quotas: a request that the
//! quota would refuse is not sent early and answered 429 (which spends
//! nothing but still costs a round trip and, under a fixed window, a wait
//! of up to a minute); it waits for its slot instead.
//!
//! Requests of one kind are spaced at least `60 s / per_minute` apart, with
//! no burst: then any 60-second window, sliding or fixed, holds at most
//! `per_minute` of them, whichever way the server counts. Reads and writes
//! have separate quotas and separate slots. Clones share their slots, so
//! clients of one process can share one budget (Google counts per service
//! account and per project).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Requests per minute for each kind; `None` leaves that kind unpaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    pub reads_per_minute: Option<u32>,
    pub writes_per_minute: Option<u32>,
}

/// Which quota a request counts against: Google counts `spreadsheets.get`
/// (and every other GET) as a read, `batchUpdate` as a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

/// Shared slots for one [`Budget`].
#[derive(Debug, Clone, Default)]
pub struct Pace {
    budget: Budget,
    /// Requests of a kind that may go at once after a quiet spell (at
    /// least 1); the rest of the budget is spread over the minute.
    burst: u32,
    next: Arc<Mutex<Slots>>,
}

#[derive(Debug, Default)]
struct Slots {
    read: Option<Instant>,
    write: Option<Instant>,
}

impl Pace {
    pub fn new(budget: Budget) -> Pace {
        Pace {
            budget,
            burst: 1,
            next: Arc::default(),
        }
    }

    /// Lets `burst` requests of a kind go at once after a quiet spell (a
    /// few batches of a short burst need not wait), spacing the others so
    /// that any 60-second window still holds at most the budget: `burst`
    /// at once, then one every `60 s / (budget − burst + 1)`.
    pub fn with_burst(mut self, burst: u32) -> Pace {
        self.burst = burst.max(1);
        self
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Reserves the next slot for a request of `kind` and answers when it
    /// may be sent (`now` when the kind is unpaced or its slot has come).
    pub fn reserve(&self, kind: Kind, now: Instant) -> Instant {
        let per_minute = match kind {
            Kind::Read => self.budget.reads_per_minute,
            Kind::Write => self.budget.writes_per_minute,
        };
        let Some(per_minute) = per_minute.filter(|n| *n > 0) else {
            return now;
        };
        let burst = self.burst.clamp(1, per_minute);
        let spacing = Duration::from_secs(60) / (per_minute - burst + 1);
        // How far ahead of `now` the schedule may run: `burst - 1` slots.
        let tolerance = spacing * (burst - 1);
        let mut slots = match self.next.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let next = match kind {
            Kind::Read => &mut slots.read,
            Kind::Write => &mut slots.write,
        };
        // `next` is where the schedule stands (each request moves it one
        // slot on); a request may go once it is within the tolerance.
        let scheduled = next.map_or(now, |n| n.max(now));
        let at = next.map_or(now, |n| now.max(n.checked_sub(tolerance).unwrap_or(now)));
        *next = Some(scheduled + spacing);
        at
    }

    /// Waits for the slot of a request of `kind`.
    pub async fn wait(&self, kind: Kind) {
        let at = self.reserve(kind, Instant::now());
        if at > Instant::now() {
            tracing::debug!(
                kind = ?kind,
                wait_ms = at.saturating_duration_since(Instant::now()).as_millis() as u64,
                "pacing a Sheets API request under the per-minute quota"
            );
            tokio::time::sleep_until(at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_of_a_kind_are_spaced_and_kinds_apart() {
        let pace = Pace::new(Budget {
            reads_per_minute: Some(60),
            writes_per_minute: Some(30),
        });
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(pace.reserve(Kind::Read, t0), t0);
        assert_eq!(pace.reserve(Kind::Read, t0), t0 + s(1));
        assert_eq!(pace.reserve(Kind::Read, t0), t0 + s(2));
        // Writes have their own slots and spacing.
        assert_eq!(pace.reserve(Kind::Write, t0), t0);
        assert_eq!(pace.reserve(Kind::Write, t0), t0 + s(2));
        // A request after a quiet spell goes at once: no burst is saved up.
        let later = t0 + s(100);
        assert_eq!(pace.reserve(Kind::Read, later), later);
        assert_eq!(pace.reserve(Kind::Read, later), later + s(1));
    }

    #[test]
    fn any_minute_holds_at_most_the_budget() {
        let pace = Pace::new(Budget {
            reads_per_minute: Some(60),
            writes_per_minute: None,
        });
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..200).map(|_| pace.reserve(Kind::Read, t0)).collect();
        for (i, start) in slots.iter().enumerate() {
            let in_minute = slots[i..]
                .iter()
                .take_while(|t| t.duration_since(*start) < Duration::from_secs(60))
                .count();
            assert!(
                in_minute <= 60,
                "{in_minute} reads in the minute from slot {i}"
            );
        }
    }

    #[test]
    fn a_burst_goes_at_once_and_any_minute_still_holds_the_budget() {
        let pace = Pace::new(Budget {
            reads_per_minute: Some(28),
            writes_per_minute: None,
        })
        .with_burst(4);
        let t0 = Instant::now();
        let first: Vec<Instant> = (0..5).map(|_| pace.reserve(Kind::Read, t0)).collect();
        // 4 at once, then one every 60 s / 25 = 2.4 s.
        assert_eq!(first, [t0, t0, t0, t0, t0 + Duration::from_millis(2400)]);
        // Requests arriving at random moments, quiet spells between.
        let mut slots = first;
        let mut now = t0;
        for i in 0..400u64 {
            now += Duration::from_millis((i * 7919) % 5000);
            slots.push(pace.reserve(Kind::Read, now));
        }
        slots.sort();
        for (i, start) in slots.iter().enumerate() {
            let in_minute = slots[i..]
                .iter()
                .take_while(|t| t.duration_since(*start) < Duration::from_secs(60))
                .count();
            assert!(in_minute <= 28, "{in_minute} reads in the minute from {i}");
        }
        // After a quiet minute the burst is there again.
        let later = *slots.last().unwrap() + Duration::from_secs(60);
        let again: Vec<Instant> = (0..4).map(|_| pace.reserve(Kind::Read, later)).collect();
        assert_eq!(again, [later; 4]);
    }

    #[test]
    fn clones_share_slots_and_unpaced_kinds_never_wait() {
        let pace = Pace::new(Budget {
            reads_per_minute: Some(120),
            writes_per_minute: None,
        });
        let other = pace.clone();
        let t0 = Instant::now();
        assert_eq!(pace.reserve(Kind::Read, t0), t0);
        assert_eq!(
            other.reserve(Kind::Read, t0),
            t0 + Duration::from_millis(500)
        );
        assert_eq!(pace.reserve(Kind::Write, t0), t0);
        assert_eq!(other.reserve(Kind::Write, t0), t0);
    }
}
