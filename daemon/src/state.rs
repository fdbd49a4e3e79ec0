//! The shared handle every request handler receives: configuration, the
//! index, the shutdown token and a few counters. Cheap to clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::EventBus;
use crate::index::Index;
use crate::install::targets::TargetEnv;
use crate::install::watch::WatchHandle;
use crate::registry::Registries;
use crate::registry::credentials::{CredentialEnv, CredentialStore};
use crate::store::catalog::Catalog;

/// Cheap-to-clone handle to the daemon's state.
#[derive(Clone, Debug)]
pub struct State {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    index: Index,
    catalog: Catalog,
    events: EventBus,
    registries: Registries,
    target_env: TargetEnv,
    watch: WatchHandle,
    folders: crate::install::folders::FolderLocks,
    health: crate::upgrade::Health,
    known: crate::upgrade::known::Known,
    started: Instant,
    shutdown: CancellationToken,
    connections: AtomicU64,
    /// When the last connection began or ended.
    last_activity: std::sync::Mutex<Instant>,
    quiet: crate::memory::Quiet,
    /// Layers scanned as they download, for the installs that follow.
    scanning: crate::scan::pulling::Scanning,
}

impl State {
    pub fn new(
        config: Config,
        index: Index,
        catalog: Catalog,
        events: EventBus,
        shutdown: CancellationToken,
    ) -> State {
        let registries = Registries::new(
            config.registries.clone(),
            CredentialStore::new(config.login_file(), CredentialEnv::from_process()),
        );
        State {
            inner: Arc::new(Inner {
                config,
                index,
                registries,
                target_env: TargetEnv::from_process(),
                watch: WatchHandle::default(),
                folders: Default::default(),
                health: crate::upgrade::Health::default(),
                known: Default::default(),
                catalog,
                events,
                started: Instant::now(),
                shutdown,
                connections: AtomicU64::new(0),
                last_activity: std::sync::Mutex::new(Instant::now()),
                quiet: crate::memory::Quiet::default(),
                scanning: crate::scan::pulling::Scanning::default(),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn index(&self) -> &Index {
        &self.inner.index
    }

    /// What the upgrade checks know.
    pub fn health(&self) -> &crate::upgrade::Health {
        &self.inner.health
    }

    /// The newer versions the last looks at the registries found.
    pub fn known_upgrades(&self) -> &crate::upgrade::known::Known {
        &self.inner.known
    }

    /// The event bus.
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// Tell the folder watcher that installs changed.
    pub fn watch(&self) -> &WatchHandle {
        &self.inner.watch
    }

    /// One writer per target folder (installs, upgrades, rollbacks, removals).
    pub fn folders(&self) -> &crate::install::folders::FolderLocks {
        &self.inner.folders
    }

    /// The environment agent folders are resolved in.
    pub fn target_env(&self) -> &TargetEnv {
        &self.inner.target_env
    }

    /// Registry access: settings, credentials, transport.
    pub fn registries(&self) -> &Registries {
        &self.inner.registries
    }

    /// The blob store and its tags.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// Seconds since the daemon started.
    pub fn uptime_secs(&self) -> u64 {
        self.inner.started.elapsed().as_secs()
    }

    /// The token every part of the daemon watches to stop.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// Open connections.
    pub fn connections(&self) -> u64 {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// Where work reports its end, so free memory goes back once all is quiet.
    pub fn quiet(&self) -> &crate::memory::Quiet {
        &self.inner.quiet
    }

    pub fn scanning(&self) -> &crate::scan::pulling::Scanning {
        &self.inner.scanning
    }

    /// Count a connection for as long as the returned guard lives.
    pub fn track_connection(&self) -> ConnectionGuard {
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        self.touch();
        ConnectionGuard(self.clone())
    }

    fn touch(&self) {
        *self
            .inner
            .last_activity
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// How long no client has been connected (zero while one is).
    pub fn idle_for(&self) -> std::time::Duration {
        if self.connections() > 0 {
            return std::time::Duration::ZERO;
        }
        self.inner
            .last_activity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }
}

/// Decrements the connection count when dropped.
#[derive(Debug)]
pub struct ConnectionGuard(State);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.inner.connections.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
        self.0.inner.quiet.work_ended();
    }
}
