//! Google's Sheets API limits, so a run cannot pass by exceeding them:
//! per-minute request quotas, counted apart for reads and writes, per user
//! (the token's service account) and per project (every user together),
//! and the guidance of at most 2 MB per request.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Requests per minute (Google's published defaults: `GoogleQuotas::GOOGLE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoogleQuotas {
    pub read_per_user: u32,
    pub read_per_project: u32,
    pub write_per_user: u32,
    pub write_per_project: u32,
}

impl GoogleQuotas {
    /// The Sheets API's defaults: 60 reads and 60 writes per minute per
    /// user, 300 of each per minute per project.
    pub const GOOGLE: GoogleQuotas = GoogleQuotas {
        read_per_user: 60,
        read_per_project: 300,
        write_per_user: 60,
        write_per_project: 300,
    };
}

/// Request bodies above `bytes` (Google recommends at most 2 MB) are
/// counted and logged, or refused with 400 when `refuse` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PayloadLimit {
    pub bytes: usize,
    #[serde(default)]
    pub refuse: bool,
}

impl PayloadLimit {
    /// Google's guidance: 2 MB per request.
    pub const GUIDANCE_BYTES: usize = 2_000_000;
}

/// Which limit a refused request ran into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverQuota {
    /// `Write requests per minute per user`, as Google names it.
    pub limit: &'static str,
    pub write: bool,
    /// Seconds until the window that refused it starts again.
    pub retry_after: u64,
}

const MINUTE: Duration = Duration::from_secs(60);

/// One fixed window of request counting: `allowed` requests per `length`,
/// starting again when the window is over.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    start: Option<Instant>,
    used: u32,
}

impl Window {
    /// `Err(seconds)` until the window starts again when it is used up;
    /// uses nothing (see [`Window::use_one`]).
    pub fn room(&mut self, allowed: u32, length: Duration, now: Instant) -> Result<(), u64> {
        let start = match self.start {
            Some(start) if now.duration_since(start) < length => start,
            _ => {
                *self = Window {
                    start: Some(now),
                    used: 0,
                };
                now
            }
        };
        if self.used < allowed {
            return Ok(());
        }
        let left = length.saturating_sub(now.duration_since(start));
        Err(left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }

    pub fn use_one(&mut self) {
        self.used += 1;
    }
}

/// The current minute's windows, per (write?, user or the whole project).
#[derive(Debug, Default)]
pub struct QuotaWindows {
    windows: HashMap<(bool, Option<String>), Window>,
}

impl QuotaWindows {
    /// Counts one request of `user` against both its own and the project's
    /// window; a request either window refuses counts against neither.
    pub fn take(
        &mut self,
        quotas: &GoogleQuotas,
        write: bool,
        user: &str,
        now: Instant,
    ) -> Result<(), OverQuota> {
        let (per_user, per_project) = if write {
            (quotas.write_per_user, quotas.write_per_project)
        } else {
            (quotas.read_per_user, quotas.read_per_project)
        };
        let scopes = [(Some(user.to_owned()), per_user), (None, per_project)];
        for (scope, allowed) in &scopes {
            let window = self.windows.entry((write, scope.clone())).or_default();
            if let Err(retry_after) = window.room(*allowed, MINUTE, now) {
                let limit = match (write, scope.is_some()) {
                    (true, true) => "Write requests per minute per user",
                    (true, false) => "Write requests per minute",
                    (false, true) => "Read requests per minute per user",
                    (false, false) => "Read requests per minute",
                };
                return Err(OverQuota {
                    limit,
                    write,
                    retry_after,
                });
            }
        }
        for (scope, _) in scopes {
            self.windows.entry((write, scope)).or_default().use_one();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: GoogleQuotas = GoogleQuotas {
        read_per_user: 2,
        read_per_project: 3,
        write_per_user: 1,
        write_per_project: 5,
    };

    #[test]
    fn a_user_runs_into_its_own_limit_then_the_project_into_its() {
        let mut windows = QuotaWindows::default();
        let t0 = Instant::now();
        assert_eq!(windows.take(&SMALL, false, "a", t0), Ok(()));
        assert_eq!(windows.take(&SMALL, false, "a", t0), Ok(()));
        let refused = windows
            .take(&SMALL, false, "a", t0 + Duration::from_millis(20_500))
            .unwrap_err();
        assert_eq!(
            refused,
            OverQuota {
                limit: "Read requests per minute per user",
                write: false,
                retry_after: 40
            }
        );
        // Another user has its own window, but the project allows 3 reads.
        assert_eq!(windows.take(&SMALL, false, "b", t0), Ok(()));
        let refused = windows.take(&SMALL, false, "b", t0).unwrap_err();
        assert_eq!(refused.limit, "Read requests per minute");
        // Writes are counted apart from reads.
        assert_eq!(windows.take(&SMALL, true, "a", t0), Ok(()));
        assert_eq!(
            windows.take(&SMALL, true, "a", t0).unwrap_err().limit,
            "Write requests per minute per user"
        );
        // A new minute starts every window again.
        let t1 = t0 + MINUTE;
        assert_eq!(windows.take(&SMALL, false, "a", t1), Ok(()));
        assert_eq!(windows.take(&SMALL, true, "a", t1), Ok(()));
    }

    #[test]
    fn a_refused_request_uses_up_nothing() {
        let mut windows = QuotaWindows::default();
        let t0 = Instant::now();
        windows.take(&SMALL, false, "a", t0).unwrap();
        windows.take(&SMALL, false, "a", t0).unwrap();
        // Refused per user: the project's count stays at 2 of 3.
        assert!(windows.take(&SMALL, false, "a", t0).is_err());
        assert_eq!(windows.take(&SMALL, false, "b", t0), Ok(()));
    }
}
