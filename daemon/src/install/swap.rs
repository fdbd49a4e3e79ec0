//! Replacing a skill folder atomically, and finishing or undoing a swap a
//! crash interrupted.
//!
//! The new content is staged beside the destination (same filesystem). The
//! index records the swap as pending first; then the old folder is renamed
//! aside and the staged one renamed into place; then the index records the
//! result in the same transaction that drops the pending row. At start-up,
//! a pending row whose staged folder still exists was interrupted before
//! the new folder went in: the old folder is put back. One whose staged
//! folder is gone completed on disk: the index is brought up to date.
//! Either way, disk and index agree, and the folder is whole.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::index::installs::{self, InstallRow, Pending};
use crate::index::{Index, IndexError};

/// Test-only: milliseconds to sleep between the two renames, so a test can
/// kill the daemon mid-swap. Never set outside tests.
pub const DELAY_ENV: &str = "SKILLD_TEST_SWAP_DELAY_MS";

/// A sibling path of `dest` for staging or displacing, unique per call.
pub fn sibling(dest: &Path, role: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    dest.with_file_name(format!(".skilld-{role}-{name}-{unique}"))
}

fn test_delay() {
    if let Some(ms) = std::env::var(DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Put `staged` at `dest`, moving what was there to `displaced`.
pub fn swap(dest: &Path, staged: &Path, displaced: &Path) -> std::io::Result<()> {
    let had_old = std::fs::symlink_metadata(dest).is_ok();
    if had_old {
        std::fs::rename(dest, displaced)?;
    }
    test_delay();
    if let Err(e) = std::fs::rename(staged, dest) {
        if had_old {
            let _ = std::fs::rename(displaced, dest);
        }
        return Err(e);
    }
    sync_parent(dest);
    Ok(())
}

fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(dir) = std::fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

/// Replace `dest` with `staged` and record `record` (or, with `None`, remove
/// the install); the old folder is left at `displaced` for the caller.
pub async fn replace(
    index: &Index,
    dest: &Path,
    staged: &Path,
    displaced: &Path,
    record: Option<InstallRow>,
) -> Result<(), SwapError> {
    let pending = Pending {
        path: dest.display().to_string(),
        staged: staged.display().to_string(),
        displaced: displaced.display().to_string(),
        record: record
            .as_ref()
            .map(|r| serde_json::to_string(r).unwrap_or_default())
            .unwrap_or_default(),
    };
    let begin = pending.clone();
    index
        .write(move |conn| installs::begin(conn, &begin))
        .await?;
    let (d, s, x) = (
        dest.to_path_buf(),
        staged.to_path_buf(),
        displaced.to_path_buf(),
    );
    let swapped = tokio::task::spawn_blocking(move || swap(&d, &s, &x))
        .await
        .map_err(|e| SwapError::Io(std::io::Error::other(e.to_string())))?;
    if let Err(e) = swapped {
        let path = pending.path.clone();
        index
            .write(move |conn| installs::abandon(conn, &path))
            .await?;
        return Err(SwapError::Io(e));
    }
    let path = pending.path.clone();
    index
        .write(move |conn| installs::finish(conn, &path, record.as_ref()))
        .await?;
    Ok(())
}

/// Move `dest` aside to `displaced` and forget its install, crash-safely.
pub async fn take_away(index: &Index, dest: &Path, displaced: &Path) -> Result<(), SwapError> {
    let pending = Pending {
        path: dest.display().to_string(),
        staged: String::new(),
        displaced: displaced.display().to_string(),
        record: String::new(),
    };
    let begin = pending.clone();
    index
        .write(move |conn| installs::begin(conn, &begin))
        .await?;
    if let Err(e) = std::fs::rename(dest, displaced) {
        let path = pending.path.clone();
        index
            .write(move |conn| installs::abandon(conn, &path))
            .await?;
        return Err(SwapError::Io(e));
    }
    let path = pending.path.clone();
    index
        .write(move |conn| installs::finish(conn, &path, None))
        .await?;
    Ok(())
}

/// Why a swap failed.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("cannot move the skill folder into place: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Finish or undo every swap a crash interrupted; how many there were.
pub async fn recover(index: &Index) -> Result<usize, IndexError> {
    let pending = index.read(installs::pending).await?;
    let count = pending.len();
    for p in pending {
        let (dest, staged, displaced) = (
            PathBuf::from(&p.path),
            PathBuf::from(&p.staged),
            PathBuf::from(&p.displaced),
        );
        if p.staged.is_empty() {
            // A removal: done on disk if the folder is gone.
            let path = p.path.clone();
            if std::fs::symlink_metadata(&dest).is_err() {
                index
                    .write(move |conn| installs::finish(conn, &path, None))
                    .await?;
                let _ = std::fs::remove_dir_all(&displaced);
            } else {
                index
                    .write(move |conn| installs::abandon(conn, &path))
                    .await?;
            }
            continue;
        }
        let staged_exists = std::fs::symlink_metadata(&staged).is_ok();
        if staged_exists {
            // The new folder never went in: put the old one back.
            if std::fs::symlink_metadata(&dest).is_err()
                && std::fs::symlink_metadata(&displaced).is_ok()
            {
                let _ = std::fs::rename(&displaced, &dest);
            }
            let _ = std::fs::remove_dir_all(&staged);
            let path = p.path.clone();
            index
                .write(move |conn| installs::abandon(conn, &path))
                .await?;
            tracing::warn!(path = %p.path, "an interrupted install was undone; the previous version is in place");
        } else {
            // The new folder went in: record it.
            let record: Option<InstallRow> = serde_json::from_str(&p.record).ok();
            let path = p.path.clone();
            index
                .write(move |conn| installs::finish(conn, &path, record.as_ref()))
                .await?;
            let _ = std::fs::remove_dir_all(&displaced);
            tracing::warn!(path = %p.path, "an interrupted install was completed");
        }
    }
    Ok(count)
}
