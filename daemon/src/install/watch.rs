//! Watching installed folders (notify): any change under a target folder
//! that holds installs leads, after a short quiet period, to a drift check
//! of the installs it touched (see [`super::drift`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::drift;
use crate::index::Index;
use crate::index::installs;

/// Quiet time after the last change before the check runs (editors write
/// files in several steps).
const SETTLE: Duration = Duration::from_millis(150);

/// Ask the watcher to look at the current installs again.
#[derive(Debug, Clone, Default)]
pub struct WatchHandle(Arc<Notify>);

impl WatchHandle {
    pub fn refresh(&self) {
        self.0.notify_one();
    }
}

/// Run the watcher until `shutdown`.
pub fn spawn(index: Index, handle: WatchHandle, shutdown: CancellationToken) {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch installed skills; hand edits are noticed at start-up and before changes only");
            return;
        }
    };
    tokio::spawn(async move {
        let mut watched: BTreeSet<PathBuf> = BTreeSet::new();
        let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
        sync(&index, &mut watcher, &mut watched).await;
        loop {
            let timeout = if touched.is_empty() {
                Duration::from_secs(3600)
            } else {
                SETTLE
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = handle.0.notified() => sync(&index, &mut watcher, &mut watched).await,
                Some(path) = rx.recv() => { touched.insert(path); }
                () = tokio::time::sleep(timeout) => {
                    let paths = std::mem::take(&mut touched);
                    check(&index, &paths).await;
                }
            }
        }
    });
}

/// Watch the folder of every install.
async fn sync(
    index: &Index,
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut BTreeSet<PathBuf>,
) {
    let Ok(rows) = index.read(installs::all).await else {
        return;
    };
    let wanted: BTreeSet<PathBuf> = rows
        .iter()
        .filter_map(|r| Path::new(&r.path).parent().map(Path::to_path_buf))
        .collect();
    for dir in wanted.difference(&watched.clone()) {
        match watcher.watch(dir, RecursiveMode::Recursive) {
            Ok(()) => {
                watched.insert(dir.clone());
            }
            Err(e) => tracing::debug!(dir = %dir.display(), error = %e, "cannot watch yet"),
        }
    }
    for dir in watched.clone().difference(&wanted) {
        let _ = watcher.unwatch(dir);
        watched.remove(dir);
    }
}

/// Drift-check the installs `paths` fall into.
async fn check(index: &Index, paths: &BTreeSet<PathBuf>) {
    let Ok(rows) = index.read(installs::all).await else {
        return;
    };
    for row in rows {
        let root = Path::new(&row.path);
        if paths.iter().any(|p| p.starts_with(root))
            && let Err(e) = drift::recheck(index, &row).await
        {
            tracing::warn!(error = %e, "drift check failed");
        }
    }
}
