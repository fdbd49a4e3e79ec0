//! Refreshing the catalog on its own every `catalog.refresh_interval`
//! (none when it is `0s` or no source is configured). The first refresh
//! is due one interval after the last one the index records, so a process
//! that restarts often does not ask its registries each time. Used by the
//! daemon and by the team catalog server, each with its own refresh.

use std::future::Future;
use std::time::{Duration, SystemTime};

use skilld_proto::catalog::RefreshResponse;
use tokio_util::sync::CancellationToken;

use super::{CatalogConfig, RefreshError};
use crate::index::Index;

/// How long after start a refresh that is already due waits, so start-up
/// is not slowed by it.
const SETTLE: Duration = Duration::from_secs(5);

/// Run `refresh` every interval of `config` until `shutdown`; `index` says
/// when the last refresh was. `refresh` answers None when one is already
/// running (the next is then an interval later).
pub fn spawn<F, Fut>(config: &CatalogConfig, index: Index, shutdown: CancellationToken, refresh: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Option<Result<RefreshResponse, RefreshError>>> + Send,
{
    let interval = config.refresh_interval;
    if interval.is_zero() || config.sources.is_empty() {
        return;
    }
    tokio::spawn(async move {
        loop {
            let last = index
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
            match refresh().await {
                Some(Ok(r)) => tracing::info!(
                    repositories = r.repositories,
                    changed = r.changed,
                    errors = r.errors.len(),
                    "catalog refreshed"
                ),
                // Not again at once: the index records no refresh.
                failed_or_busy => {
                    if let Some(Err(e)) = failed_or_busy {
                        tracing::warn!(error = %e, "catalog refresh failed");
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(interval.min(Duration::from_secs(300))) => {}
                    }
                }
            }
        }
    });
}
