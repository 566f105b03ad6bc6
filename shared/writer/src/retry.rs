//! Backoff for 429 and 5xx answers: the server's `Retry-After` when it sent
//! one (plus jitter), else exponential with full jitter; never past the
//! deadline.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First pause without `Retry-After`.
    pub base: Duration,
    /// Longest pause without `Retry-After`.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(32),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry number `attempt` (0-based), or `None` when
    /// waiting it would cross `deadline` (the caller gives up and lets the
    /// queue redeliver later).
    pub fn pause(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        now: Instant,
        deadline: Instant,
    ) -> Option<Duration> {
        let pause = match retry_after {
            // Up to half again on top: writers told the same instant would
            // otherwise all retry at once and spend the new quota together
            // (a read each, then no quota left for their writes).
            Some(hint) => hint.mul_f64(1.0 + 0.5 * unit_random()),
            None => {
                let ceiling = self
                    .base
                    .saturating_mul(2u32.saturating_pow(attempt.min(20)))
                    .min(self.cap);
                // Full jitter, at least a tenth, so callers that failed
                // together do not retry together.
                ceiling.mul_f64(0.1 + 0.9 * unit_random())
            }
        };
        (now + pause <= deadline).then_some(pause)
    }
}

/// A number in [0, 1) from the process's hash seed, without a rand crate.
fn unit_random() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honours_retry_after_and_the_deadline() {
        let p = RetryPolicy::default();
        let now = Instant::now();
        let deadline = now + Duration::from_secs(10);
        for _ in 0..50 {
            let pause = p
                .pause(0, Some(Duration::from_secs(3)), now, deadline)
                .unwrap();
            assert!(
                pause >= Duration::from_secs(3) && pause <= Duration::from_millis(4500),
                "{pause:?}"
            );
        }
        assert_eq!(
            p.pause(0, Some(Duration::from_secs(11)), now, deadline),
            None
        );
    }

    #[test]
    fn exponential_with_jitter_within_bounds() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        let now = Instant::now();
        let far = now + Duration::from_secs(3600);
        for attempt in 0..40 {
            let ceiling = Duration::from_millis(100 * 2u64.pow(attempt.min(10))).min(p.cap);
            let pause = p.pause(attempt, None, now, far).unwrap();
            assert!(
                pause <= ceiling && pause >= ceiling / 10,
                "{attempt}: {pause:?}"
            );
        }
        let near = now + Duration::from_millis(5);
        assert_eq!(p.pause(5, None, now, near), None);
    }
}
