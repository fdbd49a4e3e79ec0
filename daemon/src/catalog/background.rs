//! Refreshing the catalog on its own every `catalog.refresh_interval`
//! (none when it is `0s` or no source is configured). The first refresh
//! is due one interval after the last one the index records, so a daemon
//! that restarts often does not ask its registries each time.

use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::state::State;

/// How long after start a refresh that is already due waits, so start-up
/// is not slowed by it.
const SETTLE: Duration = Duration::from_secs(5);

/// Run refreshes until `shutdown`.
pub fn spawn(state: State, shutdown: CancellationToken) {
    let interval = state.config().catalog.refresh_interval;
    if interval.is_zero() || state.config().catalog.sources.is_empty() {
        return;
    }
    tokio::spawn(async move {
        loop {
            let last = state
                .index()
                .read(|conn| crate::index::catalog::meta(conn, "refreshed_at"))
                .await
                .ok()
                .flatten()
                .and_then(|t| humantime::parse_rfc3339(&t).ok());
            let wait = last
                .and_then(|l| (l + interval).duration_since(SystemTime::now()).ok())
                .unwrap_or_default()
                .max(SETTLE);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            let outcome = super::refresh::refresh(
                &state.config().catalog,
                state.registries(),
                state.index(),
                false,
                &|_| {},
            )
            .await;
            match outcome {
                Ok(r) => tracing::info!(
                    repositories = r.repositories,
                    changed = r.changed,
                    errors = r.errors.len(),
                    "catalog refreshed"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "catalog refresh failed");
                    // Not again at once: the index records no refresh.
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(interval.min(Duration::from_secs(300))) => {}
                    }
                }
            }
        }
    });
}
