//! Keeping installs current on their own: every `upgrades.check_interval`
//! (and on `skillc check`) the daemon lists the tags of each repository
//! installs came from (one request per repository), upgrades each install
//! within its policy, and reports newer versions outside it.
//!
//! [`check`] does one check; [`scheduler`] runs them on time, with a
//! backoff per registry that fails; [`Health`] is what `status` shows;
//! [`known`] keeps the newer versions each look found, for cheap lists.

pub mod check;
pub mod known;
pub mod policy;
pub mod scheduler;
pub mod versions;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use skilld_proto::install::FailingRegistry;

/// One failing registry.
#[derive(Debug, Clone)]
pub struct Failing {
    pub error: String,
    pub failures: u32,
    pub retry_at: SystemTime,
}

/// What the checks know: when they ran, when they run next, who fails.
#[derive(Debug, Default)]
pub struct Health {
    inner: Mutex<HealthInner>,
    /// Held while a check runs: one at a time.
    pub running: tokio::sync::Mutex<()>,
    /// Wakes the scheduler for an early check.
    pub wake: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct HealthInner {
    last_check: Option<SystemTime>,
    next_check: Option<SystemTime>,
    failing: BTreeMap<String, Failing>,
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Health {
    fn lock(&self) -> std::sync::MutexGuard<'_, HealthInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn last_check(&self) -> Option<String> {
        self.lock().last_check.map(rfc3339)
    }

    pub fn next_check(&self) -> Option<String> {
        self.lock().next_check.map(rfc3339)
    }

    pub fn next_check_time(&self) -> Option<SystemTime> {
        self.lock().next_check
    }

    pub fn set_next_check(&self, at: SystemTime) {
        self.lock().next_check = Some(at);
    }

    pub fn finished(&self) {
        self.lock().last_check = Some(SystemTime::now());
    }

    /// The failing registries, for status.
    pub fn failing(&self) -> Vec<FailingRegistry> {
        self.lock()
            .failing
            .iter()
            .map(|(host, f)| FailingRegistry {
                host: host.clone(),
                error: f.error.clone(),
                failures: f.failures,
                retry_at: rfc3339(f.retry_at),
            })
            .collect()
    }

    /// Whether `host` is backing off now.
    pub fn backing_off(&self, host: &str) -> bool {
        self.lock()
            .failing
            .get(host)
            .is_some_and(|f| f.retry_at > SystemTime::now())
    }

    /// The earliest time a failing registry is retried.
    pub fn earliest_retry(&self) -> Option<SystemTime> {
        self.lock().failing.values().map(|f| f.retry_at).min()
    }

    /// Record a failure of `host`: the wait before it is asked again
    /// doubles with each failure in a row, from `base` up to `max`.
    pub fn failed(&self, host: &str, error: String, base: Duration, max: Duration) {
        let mut inner = self.lock();
        let failures = inner.failing.get(host).map_or(0, |f| f.failures) + 1;
        let wait = base.saturating_mul(1u32 << (failures - 1).min(16)).min(max);
        inner.failing.insert(
            host.to_string(),
            Failing {
                error,
                failures,
                retry_at: SystemTime::now() + wait,
            },
        );
    }

    pub fn recovered(&self, host: &str) {
        self.lock().failing.remove(host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_clears() {
        let h = Health::default();
        let base = Duration::from_secs(10);
        h.failed("r", "down".into(), base, Duration::from_secs(35));
        let first = h.failing()[0].clone();
        assert_eq!(first.failures, 1);
        h.failed("r", "down".into(), base, Duration::from_secs(35));
        h.failed("r", "down".into(), base, Duration::from_secs(35));
        assert_eq!(h.failing()[0].failures, 3);
        assert!(h.backing_off("r"));
        let retry = h.earliest_retry().unwrap();
        let wait = retry.duration_since(SystemTime::now()).unwrap();
        assert!(
            wait > Duration::from_secs(30) && wait <= Duration::from_secs(35),
            "{wait:?}: capped"
        );
        h.recovered("r");
        assert!(h.failing().is_empty() && !h.backing_off("r"));
    }
}
