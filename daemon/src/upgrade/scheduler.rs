//! Running checks on time: every `upgrades.check_interval` with ±10%
//! jitter (so a fleet does not hit a registry at once), earlier when a
//! failing registry is due for a retry, and at once on `skillc check`.

use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::check;
use crate::state::State;

/// `interval` moved by up to ±10%, from the clock's nanoseconds.
fn jittered(interval: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let spread = interval.as_secs_f64() * 0.2 * (f64::from(nanos % 1000) / 1000.0 - 0.5);
    Duration::from_secs_f64((interval.as_secs_f64() + spread).max(0.5))
}

/// Run checks until `shutdown`.
pub fn spawn(state: State, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let interval = state.config().upgrades.check_interval;
        loop {
            let next = SystemTime::now() + jittered(interval);
            state.health().set_next_check(next);
            let wake_at = state
                .health()
                .earliest_retry()
                .map_or(next, |r| r.min(next));
            let wait = wake_at
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = state.health().wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
            let installs = state.index().counts().await.map(|c| c.1).unwrap_or(0);
            if installs > 0 {
                check::run(&state).await;
            }
        }
    });
}
