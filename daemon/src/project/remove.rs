//! `skillc remove NAME` in a project whose `skills.json` lists NAME: the
//! entry leaves `skills.json` and `skills.lock.json`, and a sync takes the
//! skill out of the project's folders (one transaction; a hand-edited copy
//! stops it unless `force`). When the sync cannot be made, both files are
//! put back as they were.

use std::path::Path;

use super::ProjectError;
use super::files::{LOCK, Lock, MANIFEST, Manifest};
use super::sync::{self, Options, Synced};
use crate::state::State;

/// Whether the project at `root` lists `name` in its skills.json.
pub fn lists(root: &Path, name: &str) -> bool {
    Manifest::load(root).is_ok_and(|m| m.find(name).is_some())
}

/// Take `name` out of the project at `root` (see the module docs).
pub async fn remove(
    state: &State,
    root: &Path,
    name: &str,
    force: bool,
) -> Result<Synced, ProjectError> {
    let (manifest_path, lock_path) = (root.join(MANIFEST), root.join(LOCK));
    let saved = (
        std::fs::read(&manifest_path).ok(),
        std::fs::read(&lock_path).ok(),
    );
    let mut manifest = Manifest::load(root)?;
    manifest.skills.retain(|w| w.name != name);
    manifest.save(root)?;
    if let Some(lock) = Lock::load(root)? {
        let mut kept = lock.clone();
        kept.skills.retain(|l| l.name != name);
        kept.save(root, Some(&lock))?;
    }
    let options = Options {
        force,
        ..Options::default()
    };
    let synced = sync::sync(state, root, options, &|_| {}).await;
    if synced.is_err() {
        for (path, bytes) in [(&manifest_path, saved.0), (&lock_path, saved.1)] {
            let _ = match bytes {
                Some(b) => std::fs::write(path, b),
                None => std::fs::remove_file(path),
            };
        }
    }
    synced
}
