//! `skilld catalog`: the catalog served to a team over TCP, read-only.
//!
//! The same index the daemon keeps for `skillc search` (filled from
//! `catalog.sources` by [`super::refresh`]), answered through:
//! - [`skillctl`]: skillctl's catalog API (`/api/v1/skills…`, `/sync`,
//!   `/collections`), same paths, parameters and JSON, so skillctl's
//!   clients work against it;
//! - [`page`]: a web page at `/` (search, filters, a page per skill with
//!   its versions, signature state, rendered SKILL.md and the snippets to
//!   install it), server-rendered HTML that runs no script;
//! - `/healthz`.
//!
//! Searches read through a pool of read-only SQLite connections
//! ([`Readers`]), so concurrent clients do not queue behind one another or
//! behind a refresh, and each search page is kept until the next refresh
//! ([`answers`]). Nothing a client sends writes anything but a refresh
//! (`POST /api/v1/sync`, one at a time).

pub mod answers;
pub mod content;
pub mod markdown;
pub mod page;
pub mod skillctl;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use skilld_proto::catalog::RefreshResponse;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::RefreshError;
use crate::config::Config;
use crate::index::readers::Readers;
use crate::index::{Index, IndexError};
use crate::registry::Registries;
use crate::registry::credentials::{CredentialEnv, CredentialStore};
use crate::store::Store;
use crate::store::catalog::Catalog;

/// Read-only index connections: about one per core, and a few more so a
/// slow disk read does not hold every search.
const READERS: usize = 4;
/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 512;
/// Time to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the catalog server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "no catalog sources are configured: add `catalog: {{sources: [{{registry: HOST, namespace: NS}}]}}` to the config file (--config) and start again"
    )]
    NoSources,
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Create the data folder (0700) when missing. An existing one is used as
/// it is: in a container it is a volume the platform owns (a Kubernetes
/// volume is root's, writable through `fsGroup`), unlike the per-user
/// daemon's, which must be the user's own.
fn data_folder(path: &std::path::Path) -> Result<(), ServeError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| ServeError::DataDir {
            path: path.to_path_buf(),
            source,
        })
}

/// What every request handler reads. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Site {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    index: Index,
    readers: Readers,
    registries: Registries,
    store: Catalog,
    refreshing: AtomicBool,
    contents: content::Cache,
    answers: answers::Answers,
}

/// A response with its whole body.
pub type Reply = Response<Full<Bytes>>;

impl Site {
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn readers(&self) -> &Readers {
        &self.inner.readers
    }

    pub fn registries(&self) -> &Registries {
        &self.inner.registries
    }

    pub fn store(&self) -> &Catalog {
        &self.inner.store
    }

    pub fn contents(&self) -> &content::Cache {
        &self.inner.contents
    }

    pub fn answers(&self) -> &answers::Answers {
        &self.inner.answers
    }

    /// Refresh the catalog unless a refresh is running (then None).
    pub async fn refresh(&self) -> Option<Result<RefreshResponse, RefreshError>> {
        if self.inner.refreshing.swap(true, Ordering::AcqRel) {
            return None;
        }
        let outcome = super::refresh::refresh(
            &self.inner.config.catalog,
            &self.inner.registries,
            &self.inner.index,
            false,
            &|_| {},
        )
        .await;
        // Even a refresh that failed part way may have written some.
        self.inner.answers.invalidate();
        self.inner.refreshing.store(false, Ordering::Release);
        Some(outcome)
    }

    /// Start a refresh on its own task; false when one is running.
    pub fn refresh_in_background(&self) -> bool {
        if self.inner.refreshing.load(Ordering::Acquire) {
            return false;
        }
        let site = self.clone();
        tokio::spawn(async move { log_refresh(site.refresh().await) });
        true
    }
}

fn log_refresh(outcome: Option<Result<RefreshResponse, RefreshError>>) {
    match outcome {
        Some(Ok(r)) => tracing::info!(
            repositories = r.repositories,
            changed = r.changed,
            errors = r.errors.len(),
            "catalog refreshed"
        ),
        Some(Err(e)) => tracing::warn!(error = %e, "catalog refresh failed"),
        None => {}
    }
}

/// Open the index and store of `config`, refresh the catalog first when it
/// never was, then serve on `addr` until `shutdown`.
pub async fn run(
    config: Config,
    addr: SocketAddr,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    if config.catalog.sources.is_empty() {
        return Err(ServeError::NoSources);
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let site = open(config).await?;
    let never = site
        .readers()
        .read(|conn| crate::index::catalog::meta(conn, "refreshed_at"))
        .await?
        .is_none();
    if never {
        tracing::info!("first catalog refresh");
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            outcome = site.refresh() => log_refresh(outcome),
        }
    }
    let background = site.clone();
    super::background::spawn(
        &site.config().catalog,
        site.inner.index.clone(),
        shutdown.clone(),
        move || {
            let site = background.clone();
            async move { site.refresh().await }
        },
    );
    let local = listener.local_addr().unwrap_or(addr);
    // On stderr whatever the log level: a script that asked for port 0
    // reads the port here.
    eprintln!("skilld catalog: serving http://{local}/");
    tracing::info!(%local, "catalog serving");
    serve(listener, site, shutdown).await;
    tracing::info!("catalog stopped");
    Ok(())
}

/// The server's state over the index and store of `config`.
pub async fn open(config: Config) -> Result<Site, ServeError> {
    let paths = config.paths.clone();
    let (index, readers, store) = tokio::task::spawn_blocking(move || {
        data_folder(&paths.data_dir)?;
        let index = Index::open(&paths.index_db)?;
        let readers = Readers::open(&paths.index_db, READERS)?;
        let store = Store::open(&paths.store_dir, &paths.data_dir.join("tmp"))?;
        Ok::<_, ServeError>((index, readers, store))
    })
    .await
    .map_err(|e| IndexError::Join(e.to_string()))??;
    let registries = Registries::new(
        config.registries.clone(),
        CredentialStore::new(config.login_file(), CredentialEnv::from_process()),
    );
    let store = Catalog::new(Arc::new(store), index.clone());
    Ok(Site {
        inner: Arc::new(Inner {
            config,
            index,
            readers,
            registries,
            store,
            refreshing: AtomicBool::new(false),
            contents: content::Cache::default(),
            answers: answers::Answers::default(),
        }),
    })
}

async fn serve(listener: TcpListener, site: Site, shutdown: CancellationToken) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = site.clone();
        let service = service_fn(move |req| {
            let site = handler.clone();
            async move { Ok::<_, std::convert::Infallible>(route(&site, req).await) }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let grace = site.config().limits.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(?grace, "connections still open after the grace period");
    }
}

/// The request's path split into percent-decoded segments, and its query.
pub struct Target {
    /// The path and query as sent.
    pub url: String,
    pub segments: Vec<String>,
    pub query: HashMap<String, Vec<String>>,
}

impl Target {
    fn of<B>(req: &Request<B>) -> Target {
        let segments = req
            .uri()
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let mut query: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
            query
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
        let url = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        Target {
            url,
            segments,
            query,
        }
    }

    /// The first value of `key` (Go's `Query().Get`): "" when absent.
    pub fn get(&self, key: &str) -> &str {
        self.query
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Every non-empty value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.query
            .get(key)
            .map(|v| v.iter().filter(|s| !s.is_empty()).cloned().collect())
            .unwrap_or_default()
    }
}

async fn route(site: &Site, req: Request<Incoming>) -> Reply {
    let target = Target::of(&req);
    let method = req.method().clone();
    let segments: Vec<&str> = target.segments.iter().map(String::as_str).collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, ["healthz"]) => skillctl::health(),
        (_, ["api", "v1", rest @ ..]) => skillctl::route(site, &method, rest, &target).await,
        (&Method::GET, []) => page::search(site, &target).await,
        (&Method::GET, ["skill", registry, path @ ..]) if !path.is_empty() => {
            page::skill(site, registry, &path.join("/"), &target).await
        }
        (&Method::GET, ["static", "catalog.css"]) => page::stylesheet(),
        (&Method::GET, _) => page::not_found(),
        _ => page::method_not_allowed(),
    }
}
