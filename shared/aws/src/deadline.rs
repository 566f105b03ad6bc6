//! A Lambda invocation's deadline as an [`Instant`], for every function.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Used when the invocation names no deadline we can believe.
pub const UNKNOWN_DEADLINE_BUDGET: Duration = Duration::from_secs(60);

/// A deadline more than this far in the past belongs to no real invocation
/// (`cargo lambda watch` hands out a fixed 600000 ms after the epoch).
const IMPLAUSIBLY_OLD_MS: u64 = 24 * 60 * 60 * 1000;

/// The invocation's deadline (milliseconds since the epoch, as the Runtime
/// API gives it) less `margin`, so the function can answer in time; a passed
/// deadline means now, an absent (0) or implausibly old one a minute.
pub fn invocation_deadline(deadline_ms: u64, margin: Duration) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if deadline_ms == 0 || deadline_ms.saturating_add(IMPLAUSIBLY_OLD_MS) < now_ms {
        return Instant::now() + UNKNOWN_DEADLINE_BUDGET;
    }
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(margin);
    Instant::now() + left
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    #[test]
    fn deadline_keeps_the_margin_back() {
        let now_ms = now_ms();
        let start = Instant::now();
        let deadline = invocation_deadline(now_ms + 10_000, Duration::from_secs(3));
        let left = deadline - start;
        assert!(
            left <= Duration::from_millis(7_005) && left > Duration::from_millis(6_500),
            "{left:?}"
        );
        // Past deadlines (or a margin larger than the time left) mean: now.
        let past = invocation_deadline(now_ms - 5_000, Duration::from_secs(3));
        assert!(past <= Instant::now());
        assert!(past >= start);
    }

    #[test]
    fn a_real_deadline_keeps_the_margin() {
        let left = invocation_deadline(now_ms() + 60_000, Duration::from_secs(12)) - Instant::now();
        assert!(
            left <= Duration::from_secs(48) && left > Duration::from_secs(46),
            "{left:?}"
        );
    }

    #[test]
    fn a_passed_deadline_leaves_no_time() {
        assert!(invocation_deadline(now_ms() - 1_000, Duration::from_secs(12)) <= Instant::now());
    }

    #[test]
    fn an_unknown_or_implausible_deadline_gives_a_minute() {
        for deadline in [0, 600_000] {
            let left = invocation_deadline(deadline, Duration::from_secs(12)) - Instant::now();
            assert!(
                left > Duration::from_secs(58) && left <= Duration::from_secs(60),
                "{deadline}: {left:?}"
            );
        }
    }
}
