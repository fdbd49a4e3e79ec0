//! Watching installed folders (notify): any change in an installed skill's
//! folder leads, after a short quiet period, to a drift check of the installs
//! it touched (see [`super::drift`]).
//!
//! Only skilld's own folders are watched: each install's folder recursively,
//! and its parent (the target folder) without recursion, to see the install
//! folder itself removed or replaced. Links are never followed: a link in a
//! skill (or in a target folder) to a large tree must not cost the user's
//! inotify watches, which every program of the user shares.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::drift;
use super::folders::FolderLocks;
use crate::events::EventBus;
use crate::index::Index;
use crate::index::installs;

/// Quiet time after the last change before the check runs (editors write
/// files in several steps).
const SETTLE: Duration = Duration::from_millis(100);

/// Ask the watcher to look at the current installs again.
#[derive(Debug, Clone)]
pub struct WatchHandle(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    wake: Notify,
    active: AtomicBool,
    requested: AtomicU64,
    done: tokio::sync::watch::Sender<u64>,
}

impl Default for WatchHandle {
    fn default() -> Self {
        WatchHandle(Arc::new(Shared {
            wake: Notify::new(),
            active: AtomicBool::new(false),
            requested: AtomicU64::new(0),
            done: tokio::sync::watch::Sender::new(0),
        }))
    }
}

impl WatchHandle {
    /// Watch the current installs, and return once the watch is in place:
    /// an edit right after an install is then never missed.
    pub async fn refresh(&self) {
        if !self.0.active.load(Ordering::Acquire) {
            return;
        }
        let wanted = self.0.requested.fetch_add(1, Ordering::AcqRel) + 1;
        let mut done = self.0.done.subscribe();
        self.0.wake.notify_one();
        let _ = tokio::time::timeout(Duration::from_secs(5), done.wait_for(|v| *v >= wanted)).await;
    }
}

/// Run the watcher until `shutdown`.
pub fn spawn(
    index: Index,
    events: EventBus,
    handle: WatchHandle,
    folders: FolderLocks,
    shutdown: CancellationToken,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let handler = move |event: notify::Result<notify::Event>| {
        // Reading a folder (as the drift check itself does) raises access
        // events: only changes count, or every check would trigger the next.
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    };
    let config = notify::Config::default().with_follow_symlinks(false);
    let watcher = notify::RecommendedWatcher::new(handler, config);
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch installed skills; hand edits are noticed at start-up and before changes only");
            return;
        }
    };
    handle.0.active.store(true, Ordering::Release);
    tokio::spawn(async move {
        let mut watched: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
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
                () = handle.0.wake.notified() => {
                    let served = handle.0.requested.load(Ordering::Acquire);
                    sync(&index, &mut watcher, &mut watched).await;
                    handle.0.done.send_replace(served);
                }
                Some(path) = rx.recv() => { touched.insert(path); }
                () = tokio::time::sleep(timeout) => {
                    let paths = std::mem::take(&mut touched);
                    // Folders an install is changing now are judged once it
                    // is done (its own changes bring them back here).
                    touched.extend(check(&index, &events, &folders, &paths).await);
                    // An install folder replaced or re-created needs its watch again.
                    sync(&index, &mut watcher, &mut watched).await;
                }
            }
        }
    });
}

/// Watch the folder of every install (recursively) and each target folder
/// (alone).
async fn sync(
    index: &Index,
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut BTreeSet<(PathBuf, bool)>,
) {
    let Ok(rows) = index.read(installs::all).await else {
        return;
    };
    let mut wanted: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
    for row in &rows {
        let path = PathBuf::from(&row.path);
        if let Some(parent) = path.parent() {
            wanted.insert((parent.to_path_buf(), false));
        }
        wanted.insert((path, true));
    }
    for (dir, recursive) in watched.clone().difference(&wanted) {
        let _ = watcher.unwatch(dir);
        watched.remove(&(dir.clone(), *recursive));
    }
    for (dir, recursive) in wanted.difference(&watched.clone()) {
        // A link in place of an install folder is not followed either.
        if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
            continue;
        }
        let mode = if *recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        match watcher.watch(dir, mode) {
            Ok(()) => {
                watched.insert((dir.clone(), *recursive));
            }
            Err(e) => tracing::debug!(dir = %dir.display(), error = %e, "cannot watch yet"),
        }
    }
}

/// Drift-check the installs `paths` fall into; the paths left for later:
/// those in a folder an install, upgrade, rollback or removal holds, which
/// would otherwise be judged half-way through a swap (and waiting for the
/// lock here would wait for the install, which waits for this task).
async fn check(
    index: &Index,
    events: &EventBus,
    folders: &FolderLocks,
    paths: &BTreeSet<PathBuf>,
) -> Vec<PathBuf> {
    let Ok(rows) = index.read(installs::all).await else {
        return Vec::new();
    };
    let mut later = Vec::new();
    for row in rows {
        let root = Path::new(&row.path);
        let mine: Vec<&PathBuf> = paths.iter().filter(|p| p.starts_with(root)).collect();
        if mine.is_empty() {
            continue;
        }
        let Some(_held) = folders.try_lock(root.parent().unwrap_or(root)) else {
            later.extend(mine.into_iter().cloned());
            continue;
        };
        if let Err(e) = drift::recheck(index, events, &row).await {
            tracing::warn!(error = %e, "drift check failed");
        }
    }
    later
}
