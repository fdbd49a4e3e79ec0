//! The server: claim the socket ([`bind`]), then serve the API on it until
//! the shutdown token trips ([`run`]).
//!
//! Every accepted connection has its peer uid checked against ours and is
//! dropped if it differs; connections beyond `limits.max_connections` get a
//! 503 and are closed; a client has `limits.header_timeout` to send headers.
//! On shutdown the listener closes first, in-flight requests get
//! `limits.shutdown_grace` to finish, then the socket is removed and the lock
//! released.

pub mod activation;
#[cfg(target_os = "macos")]
pub mod launchd;
pub mod lock;
pub mod socket;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use skilld_proto::{ErrorCode, PROTOCOL, PROTOCOL_HEADER};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::{self, ApiError};
use crate::config::Config;
use crate::events::EventBus;
use crate::index::{Index, IndexError};
use crate::state::State;
use crate::store::catalog::{Catalog, CatalogError};
use crate::store::{Store, StoreError};
use lock::{LockError, LockFile};

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("another skilld (pid {pid}) already runs for {data_dir}; stop it with `skillc daemon stop`", pid = pid.map_or("unknown".to_string(), |p| p.to_string()), data_dir = data_dir.display())]
    AlreadyRunning { pid: Option<u32>, data_dir: PathBuf },
    #[error("a daemon already answers on {}; stop it with `skillc daemon stop`, or choose another socket with --socket or SKILLD_SOCKET", path.display())]
    SocketInUse { path: PathBuf },
    #[error("{} exists and is not a socket; move it away or choose another socket path", path.display())]
    NotASocket { path: PathBuf },
    #[error("socket path {} is too long for a Unix socket; set SKILLD_SOCKET to a shorter path", path.display())]
    PathTooLong { path: PathBuf },
    #[error("refusing to use {}: it {problem}", path.display())]
    UnsafeDir { path: PathBuf, problem: String },
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A claimed socket: the listener, the daemon lock, and the duty to remove
/// the socket file when dropped.
#[derive(Debug)]
pub struct Bound {
    listener: std::os::unix::net::UnixListener,
    socket: Option<OwnedSocket>,
    _lock: LockFile,
}

/// The socket file this daemon created, identified by inode so that a
/// successor's socket at the same path is never removed by mistake.
#[derive(Debug)]
struct OwnedSocket {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && meta.dev() == self.dev
            && meta.ino() == self.ino
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Bound {
    /// The socket path, when this daemon created the socket.
    pub fn socket_path(&self) -> Option<&Path> {
        self.socket.as_ref().map(|s| s.path.as_path())
    }
}

/// Take the daemon lock. A daemon that is stopping keeps its lock until its
/// process ends (see [`Stopped`]), a moment after its socket is gone: when
/// the lock is held but nobody answers on the socket, wait for it (up to
/// the shutdown grace and two seconds) rather than refuse a start that is
/// only early. A daemon that answers is refused at once.
fn take_lock(config: &Config) -> Result<LockFile, StartError> {
    let paths = &config.paths;
    socket::ensure_private_dir(&paths.data_dir)?;
    let deadline = std::time::Instant::now()
        + config.limits.shutdown_grace
        + std::time::Duration::from_secs(2);
    loop {
        match LockFile::try_acquire(&paths.lock_file) {
            Ok(lock) => return Ok(lock),
            Err(LockError::Held { pid }) => {
                let answering = std::os::unix::net::UnixStream::connect(&paths.socket).is_ok();
                if answering || std::time::Instant::now() >= deadline {
                    return Err(StartError::AlreadyRunning {
                        pid,
                        data_dir: paths.data_dir.clone(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(LockError::Io(source)) => {
                return Err(StartError::Io {
                    path: paths.lock_file.clone(),
                    op: "lock",
                    source,
                });
            }
        }
    }
}

/// Serve on a socket a service manager created and handed over: the lock
/// is still taken; the socket is the manager's and is left in place.
pub fn bind_inherited(
    config: &Config,
    listener: std::os::unix::net::UnixListener,
) -> Result<Bound, StartError> {
    let lock = take_lock(config)?;
    listener
        .set_nonblocking(true)
        .map_err(|source| StartError::Io {
            path: config.paths.socket.clone(),
            op: "set non-blocking on",
            source,
        })?;
    Ok(Bound {
        listener,
        socket: None,
        _lock: lock,
    })
}

/// Take the daemon lock for `config.paths.data_dir` and claim the socket.
pub fn bind(config: &Config) -> Result<Bound, StartError> {
    let paths = &config.paths;
    let lock = take_lock(config)?;
    socket::ensure_private_dir(paths.socket_dir())?;
    socket::clear_stale(&paths.socket)?;
    let listener = socket::bind_private(&paths.socket)?;
    let meta = std::fs::symlink_metadata(&paths.socket).map_err(|source| StartError::Io {
        path: paths.socket.clone(),
        op: "inspect socket",
        source,
    })?;
    Ok(Bound {
        listener,
        socket: Some(OwnedSocket {
            path: paths.socket.clone(),
            dev: meta.dev(),
            ino: meta.ino(),
        }),
        _lock: lock,
    })
}

/// The daemon lock, still held after [`run`] returns: blocking work (a file
/// read, a hash, a blob write) may outlive the server, and no second daemon
/// may use the data folder until it is done. Drop it once that work is over
/// (`main` exits the process instead, after a grace period).
#[derive(Debug)]
#[must_use = "dropping it releases the daemon lock"]
pub struct Stopped {
    _lock: LockFile,
}

/// Serve the API on `bound` until `shutdown` is cancelled, then drain and
/// clean up. Returns once the socket is removed; the lock is handed back.
pub async fn run(
    config: Config,
    bound: Bound,
    shutdown: CancellationToken,
) -> Result<Stopped, StartError> {
    let state_parts = open_state(&config).await?;
    let listener =
        UnixListener::from_std(
            bound
                .listener
                .try_clone()
                .map_err(|source| StartError::Io {
                    path: config.paths.socket.clone(),
                    op: "use listener",
                    source,
                })?,
        )
        .map_err(|source| StartError::Io {
            path: config.paths.socket.clone(),
            op: "register listener",
            source,
        })?;
    let (index, catalog, events) = state_parts;
    let state = State::new(config, index, catalog, events, shutdown);
    crate::install::watch::spawn(
        state.index().clone(),
        state.events().clone(),
        state.watch().clone(),
        state.folders().clone(),
        state.shutdown().clone(),
    );
    crate::upgrade::scheduler::spawn(state.clone(), state.shutdown().clone());
    {
        let refreshing = state.clone();
        crate::catalog::background::spawn(
            &state.config().catalog,
            state.index().clone(),
            state.shutdown().clone(),
            move || {
                let state = refreshing.clone();
                async move {
                    Some(
                        crate::catalog::refresh::refresh(
                            &state.config().catalog,
                            state.registries(),
                            state.index(),
                            false,
                            &|_| {},
                        )
                        .await,
                    )
                }
            },
        );
    }
    // Reading the config compiled the scan rules to check them; they are
    // kept for the request the daemon was most likely started for, and
    // the start counts as work, so they go (with the pages the start
    // touched) once the daemon has been idle as long as after any work.
    crate::memory::release_free_memory();
    state.quiet().work_ended();
    let quiet_state = state.clone();
    tokio::spawn(async move {
        let s = &quiet_state;
        let busy = || s.connections() > 0 || s.health().running.try_lock().is_err();
        let release = || {
            let index = s.index().clone();
            async move {
                // SQLite's page cache first, so the trim can return its pages.
                if let Err(e) = index.release_memory().await {
                    tracing::debug!(error = %e, "cannot shrink the index's cache");
                }
                crate::memory::release_free_memory()
            }
        };
        let idle = || {
            // The scan's compiled rules and automata, then their pages.
            s.config().scan.rules.forget();
            crate::memory::release_free_memory();
            crate::memory::page_out_code();
        };
        s.quiet()
            .trim_when_quiet(busy, release, idle, s.shutdown())
            .await;
    });
    tracing::info!(
        socket = %state.config().paths.socket.display(),
        pid = std::process::id(),
        "skilld serving"
    );
    activation::ready();
    serve(listener, state, socket::euid()).await;
    activation::stopping();
    let Bound {
        listener,
        socket,
        _lock: lock,
    } = bound;
    drop(listener);
    drop(socket);
    tracing::info!("skilld stopped");
    Ok(Stopped { _lock: lock })
}

/// Open the index and the store, and bring the index in line with the store.
pub async fn open_state(config: &Config) -> Result<(Index, Catalog, EventBus), StartError> {
    let paths = config.paths.clone();
    let (index, store) = tokio::task::spawn_blocking(move || {
        let index = Index::open(&paths.index_db)?;
        let store = Store::open(&paths.store_dir, &paths.data_dir.join("tmp"))?;
        let leftovers = store.clear_tmp()?;
        if leftovers > 0 {
            tracing::info!(leftovers, "removed temp files of interrupted writes");
        }
        // Checkouts of builds from git a crash interrupted (this daemon
        // holds the data folder's lock: none is in use).
        let checkouts = paths.data_dir.join("tmp").join("git");
        if checkouts.exists() && std::fs::remove_dir_all(&checkouts).is_ok() {
            tracing::info!(path = %checkouts.display(), "removed checkouts of interrupted builds");
        }
        Ok::<_, StartError>((index, store))
    })
    .await
    .map_err(|e| IndexError::Join(e.to_string()))??;
    let catalog = Catalog::new(Arc::new(store), index.clone());
    catalog.reconcile().await.map_err(|e| match e {
        CatalogError::Store(e) => StartError::Store(e),
        CatalogError::Index(e) => StartError::Index(e),
    })?;
    let recovered = crate::install::swap::recover(&index).await?;
    if recovered > 0 {
        tracing::warn!(recovered, "finished or undid installs a crash interrupted");
    }
    canonical_sources(&index).await?;
    let freed = crate::install::swap::sweep(&index).await?;
    if freed > 0 {
        tracing::warn!(
            freed,
            "removed what interrupted installs left in target folders"
        );
    }
    let events = EventBus::new();
    crate::install::drift::recheck_all(&index, &events).await?;
    Ok((index, catalog, events))
}

/// Give installs recorded by an older skilld (which kept a registry as it
/// was typed: `127.0.0.1:05000`, `LOCALHOST:5000`) their canonical source,
/// so the trust policy, upgrades and `list` see one name per registry.
async fn canonical_sources(index: &Index) -> Result<(), IndexError> {
    use crate::image::reference::Reference;
    let rows = index.read(crate::index::installs::all).await?;
    for row in rows {
        let Ok(reference) = Reference::parse(&row.source_ref) else {
            continue;
        };
        let canonical = reference.to_string();
        if canonical == row.source_ref && reference.registry == row.registry {
            continue;
        }
        tracing::info!(from = %row.source_ref, to = %canonical, "install source written in its canonical form");
        let (path, repository) = (row.path.clone(), reference.repository());
        let registry = reference.registry.clone();
        index
            .write(move |conn| {
                crate::index::installs::set_source(
                    conn,
                    &path,
                    &canonical,
                    registry.as_deref(),
                    &repository,
                )
            })
            .await?;
    }
    Ok(())
}

/// The accept loop. `allowed_uid` is the only peer uid served.
async fn serve(listener: UnixListener, state: State, allowed_uid: u32) {
    let limits = state.config().limits.clone();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);

    let idle_check = (limits.idle_timeout / 4).clamp(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(5),
    );
    let mut idle_tick = tokio::time::interval(idle_check);
    let exit_when_idle = state.config().exit_when_idle;
    loop {
        let stream = tokio::select! {
            () = state.shutdown().cancelled() => break,
            _ = idle_tick.tick(), if exit_when_idle => {
                if idle_enough(&state, limits.idle_timeout) {
                    tracing::info!(idle = ?limits.idle_timeout, "no client and no work due soon; exiting until needed again");
                    state.shutdown().cancel();
                    break;
                }
                continue;
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and friends: back off briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Err(reason) = check_peer(&stream, allowed_uid) {
            tracing::warn!(%reason, "refused a connection");
            continue;
        }
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tasks.spawn(refuse_busy(stream, limits.max_connections));
            continue;
        };
        let handler_state = state.clone();
        let service = service_fn(move |req| api::handle(handler_state.clone(), req));
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        let tracked = state.track_connection();
        tasks.spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop((slot, tracked));
        });
    }

    drop(listener);
    let grace = limits.shutdown_grace;
    tracing::info!(
        in_flight = state.connections(),
        ?grace,
        "draining connections"
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?grace,
            "connections still open after the grace period; closing them"
        );
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

/// Whether an on-demand daemon may exit: no client for `timeout`, no check
/// running, none due within `timeout`.
fn idle_enough(state: &State, timeout: std::time::Duration) -> bool {
    if state.idle_for() < timeout || state.health().running.try_lock().is_err() {
        return false;
    }
    let due_soon = state.health().next_check_time().is_some_and(|next| {
        next.duration_since(std::time::SystemTime::now())
            .unwrap_or_default()
            < timeout
    });
    !due_soon
}

/// Refuse a connection from another user.
fn check_peer(stream: &UnixStream, allowed_uid: u32) -> Result<(), String> {
    let cred = stream
        .peer_cred()
        .map_err(|e| format!("cannot read peer credentials: {e}"))?;
    if cred.uid() != allowed_uid {
        return Err(format!(
            "peer uid {} is not the daemon's uid {allowed_uid}",
            cred.uid()
        ));
    }
    Ok(())
}

/// Answer one request with 503 and close: the connection cap is reached.
async fn refuse_busy(stream: UnixStream, cap: usize) {
    let service = service_fn(move |_req| async move {
        let mut response = ApiError::new(
            ErrorCode::Unavailable,
            format!("the daemon is serving its maximum of {cap} connections; retry shortly or raise limits.max_connections"),
        )
        .into_response();
        response
            .headers_mut()
            .insert(PROTOCOL_HEADER, hyper::header::HeaderValue::from(PROTOCOL));
        Ok::<_, std::convert::Infallible>(response)
    });
    let conn = http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(
        max_connections: usize,
        allowed_uid: u32,
    ) -> (
        tempfile::TempDir,
        PathBuf,
        CancellationToken,
        tokio::task::JoinHandle<()>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let paths = skilld_proto::Paths::resolve(
            &skilld_proto::paths::Overrides {
                home: Some(dir.path().to_path_buf()),
                ..Default::default()
            },
            &skilld_proto::paths::ProcessEnv,
        )
        .unwrap();
        let mut config = Config::with_defaults(paths);
        config.limits.max_connections = max_connections;
        let bound = bind(&config).unwrap();
        let listener = UnixListener::from_std(bound.listener.try_clone().unwrap()).unwrap();
        let (index, catalog, events) = open_state(&config).await.unwrap();
        let socket_path = config.paths.socket.clone();
        let token = CancellationToken::new();
        let state = State::new(config, index, catalog, events, token.clone());
        let task = tokio::spawn(async move {
            serve(listener, state, allowed_uid).await;
            drop(bound);
        });
        (dir, socket_path, token, task)
    }

    async fn raw_request(path: &Path) -> String {
        let mut stream = UnixStream::connect(path).await.unwrap();
        stream
            .write_all(b"GET /v1/status HTTP/1.1\r\nhost: skilld\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        let _ = stream.read_to_string(&mut out).await;
        out
    }

    #[tokio::test]
    async fn other_uid_is_refused_without_an_answer() {
        let (_dir, socket, token, task) = start(4, socket::euid().wrapping_add(1)).await;
        assert_eq!(raw_request(&socket).await, "");
        token.cancel();
        task.await.unwrap();
        assert!(!socket.exists(), "the socket is removed on shutdown");
    }

    #[tokio::test]
    async fn own_uid_is_served() {
        let (_dir, socket, token, task) = start(4, socket::euid()).await;
        let reply = raw_request(&socket).await;
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.contains("skilld-protocol: 1"), "{reply}");
        token.cancel();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn connections_over_the_cap_get_503() {
        let (_dir, socket, token, task) = start(1, socket::euid()).await;
        // Hold the only slot with an idle keep-alive connection.
        let mut held = UnixStream::connect(&socket).await.unwrap();
        held.write_all(b"GET /v1/status HTTP/1.1\r\nhost: skilld\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        held.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        let reply = raw_request(&socket).await;
        assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
        assert!(reply.contains("\"code\":\"unavailable\""), "{reply}");
        token.cancel();
        task.await.unwrap();
    }
}
