//! Fault injection: a request quota per time window (429 + `Retry-After`),
//! bursts of 5xx responses, and added latency; and Google's own limits
//! ([`crate::quotas`]) when a run asks for them.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::quotas::{GoogleQuotas, OverQuota, PayloadLimit, QuotaWindows, Window};

/// The fault settings, also the JSON body of `PUT /_emulator/faults`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultConfig {
    /// At most `requests` Sheets API calls per window; the next ones get 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
    /// The next `count` Sheets API calls fail with `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_next: Option<FailNext>,
    /// Added before every Sheets API and token call.
    #[serde(default)]
    pub latency_ms: u64,
    /// Google's per-minute quotas, per user and per project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_quotas: Option<GoogleQuotas>,
    /// Google's payload guidance: bodies above it are counted, or refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_limit: Option<PayloadLimit>,
    /// Answer uncompressed even when the client asks for gzip: Google
    /// documents gzip answers, but a client must not depend on getting one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gzip_ignored: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quota {
    pub requests: u32,
    /// Window length; Google's quotas are per minute (60).
    #[serde(default = "sixty")]
    pub window_seconds: u64,
}

fn sixty() -> u64 {
    60
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailNext {
    pub count: u32,
    /// 500, 502, 503 or 504.
    #[serde(default = "five_hundred_three")]
    pub status: u16,
    /// Apply the request, then answer with the failure (a lost response): the
    /// client cannot tell whether its write landed.
    #[serde(default)]
    pub after_apply: bool,
}

fn five_hundred_three() -> u16 {
    503
}

#[derive(Default)]
struct FaultState {
    config: FaultConfig,
    window: Window,
    google: QuotaWindows,
}

/// Live fault settings (`Emulator::faults()`).
#[derive(Default)]
pub struct Faults {
    state: Mutex<FaultState>,
}

/// When an injected failure strikes relative to applying the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    BeforeApply,
    AfterApply,
}

impl Faults {
    fn state(&self) -> MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Allow `requests` API calls per `window` (Google: per minute); later calls in
    /// the window get 429 RESOURCE_EXHAUSTED with `Retry-After` = seconds to the window's end.
    pub fn set_quota(&self, requests: u32, window: Duration) {
        let mut state = self.state();
        state.config.quota = Some(Quota {
            requests,
            window_seconds: window.as_secs().max(1),
        });
        state.window = Window::default();
    }

    pub fn clear_quota(&self) {
        self.state().config.quota = None;
    }

    /// The next `count` API calls fail with `status` (500/502/503/504) without being applied.
    pub fn fail_next(&self, count: u32, status: u16) {
        self.state().config.fail_next = Some(FailNext {
            count,
            status,
            after_apply: false,
        });
    }

    /// The next `count` API calls are applied, then answered with `status`.
    pub fn fail_next_after_apply(&self, count: u32, status: u16) {
        self.state().config.fail_next = Some(FailNext {
            count,
            status,
            after_apply: true,
        });
    }

    /// Delay every API and token call by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.state().config.latency_ms = latency.as_millis() as u64;
    }

    /// Enforce Google's per-minute quotas (`GoogleQuotas::GOOGLE` for the
    /// real ones), or stop enforcing them with `None`.
    pub fn set_google_quotas(&self, quotas: Option<GoogleQuotas>) {
        let mut state = self.state();
        state.config.google_quotas = quotas;
        state.google = QuotaWindows::default();
    }

    /// Count (or refuse, per `limit.refuse`) request bodies above the limit.
    pub fn set_payload_limit(&self, limit: Option<PayloadLimit>) {
        self.state().config.payload_limit = limit;
    }

    /// Answer uncompressed whatever the client asks (`true`), or gzip when
    /// asked as Google does (`false`, the default).
    pub fn set_gzip_ignored(&self, ignored: bool) {
        self.state().config.gzip_ignored = ignored;
    }

    /// Replace every setting at once (what `PUT /_emulator/faults` does).
    pub fn set(&self, config: FaultConfig) {
        let mut state = self.state();
        state.config = config;
        state.window = Window::default();
        state.google = QuotaWindows::default();
    }

    /// Remove every fault.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// The current settings (`failNext.count` counts down as failures are served).
    pub fn config(&self) -> FaultConfig {
        self.state().config.clone()
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.state().config.latency_ms)
    }

    /// Takes one unit of quota; `Err(seconds)` to wait when the window is used up.
    pub(crate) fn take_quota(&self, now: Instant) -> Result<(), u64> {
        let mut state = self.state();
        let Some(quota) = state.config.quota else {
            return Ok(());
        };
        let length = Duration::from_secs(quota.window_seconds);
        state.window.room(quota.requests, length, now)?;
        state.window.use_one();
        Ok(())
    }

    /// Counts one request of `user` against Google's quotas, when enforced.
    pub(crate) fn take_google_quota(
        &self,
        write: bool,
        user: &str,
        now: Instant,
    ) -> Result<(), OverQuota> {
        let mut state = self.state();
        let Some(quotas) = state.config.google_quotas else {
            return Ok(());
        };
        state.google.take(&quotas, write, user, now)
    }

    pub(crate) fn gzip_ignored(&self) -> bool {
        self.state().config.gzip_ignored
    }

    pub(crate) fn payload_limit(&self) -> Option<PayloadLimit> {
        self.state().config.payload_limit
    }

    /// The injected failure status for this call in `phase`, consuming one.
    pub(crate) fn take_failure(&self, phase: Phase) -> Option<u16> {
        let mut state = self.state();
        let fail = state.config.fail_next.as_mut()?;
        let wanted = if fail.after_apply {
            Phase::AfterApply
        } else {
            Phase::BeforeApply
        };
        if fail.count == 0 || phase != wanted {
            return None;
        }
        fail.count -= 1;
        let status = fail.status;
        if fail.count == 0 {
            state.config.fail_next = None;
        }
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_resets_per_window_and_says_when() {
        let faults = Faults::default();
        faults.set_quota(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(faults.take_quota(t0), Ok(()));
        assert_eq!(faults.take_quota(t0 + Duration::from_secs(1)), Ok(()));
        assert_eq!(
            faults.take_quota(t0 + Duration::from_millis(20_500)),
            Err(40)
        );
        assert_eq!(faults.take_quota(t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn failures_count_down_in_their_phase() {
        let faults = Faults::default();
        faults.fail_next(2, 500);
        assert_eq!(faults.take_failure(Phase::AfterApply), None);
        assert_eq!(faults.take_failure(Phase::BeforeApply), Some(500));
        assert_eq!(faults.config().fail_next.map(|f| f.count), Some(1));
        assert_eq!(faults.take_failure(Phase::BeforeApply), Some(500));
        assert_eq!(faults.take_failure(Phase::BeforeApply), None);
        assert_eq!(faults.config(), FaultConfig::default());
        faults.fail_next_after_apply(1, 503);
        assert_eq!(faults.take_failure(Phase::BeforeApply), None);
        assert_eq!(faults.take_failure(Phase::AfterApply), Some(503));
    }
}
