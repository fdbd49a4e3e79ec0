//! Read-only connections to the index, for a server that answers many
//! clients at once (the team catalog server). The daemon's one shared
//! connection serialises every query; in WAL mode SQLite lets readers run
//! beside one another and beside the one writer, so each reader here has a
//! connection of its own, taken from a small pool for one query.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::IndexError;

/// A pool of read-only connections to one index file. Cheap to clone.
#[derive(Clone)]
pub struct Readers {
    idle: Arc<Mutex<Vec<Connection>>>,
    slots: Arc<Semaphore>,
    path: PathBuf,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Readers {
    /// `count` read-only connections to the index at `path`, which must
    /// exist and be migrated (open it with [`super::Index::open`] first).
    pub fn open(path: &Path, count: usize) -> Result<Readers, IndexError> {
        let open = |source| IndexError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut idle = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(open)?;
            conn.busy_timeout(Duration::from_secs(5)).map_err(open)?;
            idle.push(conn);
        }
        Ok(Readers {
            slots: Arc::new(Semaphore::new(idle.len())),
            idle: Arc::new(Mutex::new(idle)),
            path: path.to_path_buf(),
        })
    }

    /// Run a query on a connection of its own, on a blocking thread.
    pub async fn read<R, F>(&self, f: F) -> Result<R, IndexError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|e| IndexError::Join(e.to_string()))?;
        let idle = Arc::clone(&self.idle);
        tokio::task::spawn_blocking(move || {
            // A slot guarantees an idle connection; the borrow gives it
            // back even when `f` panics.
            let conn = idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop()
                .expect("a connection per slot");
            let borrowed = Borrowed {
                conn: Some(conn),
                idle,
                _slot: slot,
            };
            f(borrowed.conn.as_ref().expect("held")).map_err(IndexError::from)
        })
        .await
        .map_err(|e| IndexError::Join(e.to_string()))?
    }
}

/// A connection out of the pool, returned when dropped (before its slot).
struct Borrowed {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Borrowed {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
        }
    }
}
