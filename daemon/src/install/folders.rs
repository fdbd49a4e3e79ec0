//! One identity and one writer per destination folder.
//!
//! The same folder can be written many ways (`/t/o`, `/t/../t/o`, a path
//! through a symlinked parent); each spelling would get its own index row,
//! and `--force` would back up skilld's own copy to add another. So a
//! target folder is resolved once ([`canonical_folder`]) before it reaches
//! the index. And work on one folder is serialised ([`FolderLocks`]):
//! concurrent installs into it queue, and each gets a true answer instead
//! of tripping over the other's half-done swap.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `path` (absolute) with its existing part resolved (symlinks, `.`, `..`),
/// the part that does not exist yet appended as written. A `..` in the part
/// that does not exist is refused: where it leads depends on folders not
/// yet made.
pub fn canonical_folder(path: &Path) -> Result<PathBuf, String> {
    if !path.is_absolute() {
        return Err(format!("{} is not an absolute path", path.display()));
    }
    let mut existing = path.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                let mut out = real;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(out);
            }
            Err(_) => {
                let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
                    return Err(format!("{} cannot be resolved", path.display()));
                };
                if matches!(
                    existing.components().next_back(),
                    Some(Component::ParentDir | Component::CurDir)
                ) {
                    return Err(format!(
                        "{} has '..' in a part that does not exist yet; write the folder without it",
                        path.display()
                    ));
                }
                rest.push(name);
                existing.pop();
            }
        }
    }
}

/// A lock per folder, taken for the whole of an install, upgrade, rollback
/// or removal in it.
#[derive(Debug, Default, Clone)]
pub struct FolderLocks {
    locks: Arc<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>>,
}

impl FolderLocks {
    /// Wait for, then hold, the lock of `folder`.
    pub async fn lock(&self, folder: &Path) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Locks nobody holds or waits for are dropped: the map stays small.
            map.retain(|_, l| Arc::strong_count(l) > 1);
            Arc::clone(map.entry(folder.to_path_buf()).or_default())
        };
        lock.lock_owned().await
    }

    /// The lock of `folder` if nobody holds it now.
    pub fn try_lock(&self, folder: &Path) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            map.retain(|_, l| Arc::strong_count(l) > 1);
            Arc::clone(map.entry(folder.to_path_buf()).or_default())
        };
        lock.try_lock_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_folder_resolve_to_one_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("t")).unwrap();
        std::os::unix::fs::symlink(root.join("t"), root.join("link")).unwrap();
        let want = root.join("t/o");
        for spelling in ["t/o", "t/../t/o", "link/o", "t/./o", "link/../t/o"] {
            assert_eq!(
                canonical_folder(&root.join(spelling)).unwrap(),
                want,
                "{spelling}"
            );
        }
        assert_eq!(
            canonical_folder(&root.join("link/new/deeper")).unwrap(),
            root.join("t/new/deeper")
        );
        assert!(canonical_folder(&root.join("t/new/../x")).is_err());
        assert!(canonical_folder(Path::new("relative")).is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_folder_one_holder() {
        let locks = FolderLocks::default();
        let a = locks.lock(Path::new("/a")).await;
        // Another folder is free; the same one waits.
        let _b = locks.lock(Path::new("/b")).await;
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            locks.lock(Path::new("/a")),
        )
        .await;
        assert!(waiting.is_err());
        drop(a);
        let _again = locks.lock(Path::new("/a")).await;
    }
}
