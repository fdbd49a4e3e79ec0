//! The SQLite index: what the store holds and what is installed where.
//!
//! One connection, opened in WAL mode, behind a mutex: SQLite allows one
//! writer, and every query runs on a blocking thread so the async server
//! never waits on disk. The schema comes from [`migrations`].

pub mod catalog;
pub mod history;
pub mod installs;
pub mod migrations;
pub mod needs;
pub mod origins;
pub mod readers;
pub mod refs;
pub mod scans;
pub mod staging;
pub mod subscriptions;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use migrations::MigrateError;

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot open the index {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("index {path}: {source}")]
    Migrate { path: PathBuf, source: MigrateError },
    #[error("index query failed: {0}")]
    Query(#[from] rusqlite::Error),
    #[error("index worker failed: {0}")]
    Join(String),
}

/// A cheap-to-clone handle to the index.
///
/// Reads go through [`Index::read`], writes through [`Index::write`]; the
/// split lets the index keep its counts in memory (status is asked for far
/// more often than anything changes) and know exactly when they go stale.
#[derive(Clone)]
pub struct Index {
    shared: Arc<Mutex<Shared>>,
}

/// The connection and what is cached about its content, behind one lock so
/// the cache can never describe a different state than the database.
struct Shared {
    conn: Connection,
    counts: Option<(u64, u64)>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").finish_non_exhaustive()
    }
}

impl Index {
    /// Open (creating if needed) the index at `path` and migrate it.
    pub fn open(path: &Path) -> Result<Index, IndexError> {
        let open = |source| IndexError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(open)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open)?;
        // A small page cache: the index of a thousand installs is ~600 KiB
        // and its pages sit in the kernel's file cache anyway; the default
        // (2 MiB) would keep a second copy in the daemon.
        conn.pragma_update(None, "cache_size", -256).map_err(open)?;
        migrations::migrate(&mut conn).map_err(|source| IndexError::Migrate {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Index {
            shared: Arc::new(Mutex::new(Shared { conn, counts: None })),
        })
    }

    async fn with_shared<R, F>(&self, f: F) -> Result<R, IndexError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Shared) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            let mut guard = shared.lock().unwrap_or_else(|poison| poison.into_inner());
            f(&mut guard).map_err(IndexError::from)
        })
        .await
        .map_err(|e| IndexError::Join(e.to_string()))?
    }

    /// Run a query that changes nothing, on a blocking thread.
    pub async fn read<R, F>(&self, f: F) -> Result<R, IndexError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        self.with_shared(move |shared| f(&shared.conn)).await
    }

    /// Hand SQLite's cached pages back to the allocator (when the daemon
    /// goes quiet; the next query reads them from the file again).
    pub async fn release_memory(&self) -> Result<(), IndexError> {
        self.read(|conn| conn.execute_batch("PRAGMA shrink_memory"))
            .await
    }

    /// Run a change on a blocking thread; drops what is cached.
    pub async fn write<R, F>(&self, f: F) -> Result<R, IndexError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        self.with_shared(move |shared| {
            shared.counts = None;
            f(&mut shared.conn)
        })
        .await
    }

    /// Tagged images and installed skills; from memory unless a write
    /// happened since they were last counted.
    pub async fn counts(&self) -> Result<(u64, u64), IndexError> {
        if let Some(counts) = self.shared.lock().unwrap_or_else(|p| p.into_inner()).counts {
            return Ok(counts);
        }
        self.with_shared(|shared| {
            let conn = &shared.conn;
            let images = conn.query_row("SELECT count(*) FROM refs", [], |r| r.get(0))?;
            let installs = conn.query_row("SELECT count(*) FROM installs", [], |r| r.get(0))?;
            shared.counts = Some((images, installs));
            Ok((images, installs))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_in_wal_mode_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.db")).unwrap();
        let mode: String = index
            .read(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(index.counts().await.unwrap(), (0, 0));
    }

    #[tokio::test]
    async fn cached_counts_follow_writes() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index.db")).unwrap();
        assert_eq!(index.counts().await.unwrap(), (0, 0));
        index
            .write(|c| {
                c.execute(
                    "INSERT INTO refs (name, repository, tag, digest, media_type, size) \
                     VALUES ('a/b:1.0.0', 'a/b', '1.0.0', 'sha256:00', 'm', 1)",
                    [],
                )
            })
            .await
            .unwrap();
        assert_eq!(index.counts().await.unwrap(), (1, 0));
        index
            .write(|c| c.execute("DELETE FROM refs", []))
            .await
            .unwrap();
        assert_eq!(index.counts().await.unwrap(), (0, 0));
    }

    #[test]
    fn newer_schema_on_disk_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 50;")
            .unwrap();
        let err = Index::open(&path).unwrap_err().to_string();
        assert!(err.contains("schema version 50"), "{err}");
        let version: u32 = Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 50);
    }
}
