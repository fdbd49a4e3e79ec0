//! Noticing hand edits: each install's folder is compared with the tree
//! digest recorded when it was installed, at start-up for every install and
//! whenever the folder changes (see [`watch`]). A changed folder is marked
//! `modified` (or `missing`), and back to `ok` when it matches again.
//!
//! [`watch`]: super::watch

use std::path::Path;

use super::tree;
use crate::events::EventBus;
use crate::index::installs::{self, InstallRow};
use crate::index::{Index, IndexError};
use skilld_proto::events::EventKind;

/// The status `row`'s folder has now.
pub fn status_of(row: &InstallRow) -> &'static str {
    match tree::digest(Path::new(&row.path)) {
        Ok(d) if d.as_str() == row.content_hash => "ok",
        Ok(_) => "modified",
        Err(_) => "missing",
    }
}

/// Check one install; whether its status changed (and to what).
pub async fn recheck(
    index: &Index,
    events: &EventBus,
    row: &InstallRow,
) -> Result<Option<&'static str>, IndexError> {
    // Hashing a folder is blocking work.
    let checked = row.clone();
    let status = tokio::task::spawn_blocking(move || status_of(&checked))
        .await
        .map_err(|e| IndexError::Join(e.to_string()))?;
    let (path, hash) = (row.path.clone(), row.content_hash.clone());
    let changed = index
        .write(move |conn| installs::set_status(conn, &path, &hash, status))
        .await?;
    if changed {
        if status == "modified" {
            tracing::warn!(name = %row.name, target = %row.target, path = %row.path, "drift detected: the skill was edited by hand");
            let mut event = EventBus::event(EventKind::DriftDetected);
            event.skill = Some(row.name.clone());
            event.target = Some(row.target.clone());
            event.from_version = row.version.clone();
            event.from_digest = Some(row.digest.clone());
            event.message = Some(format!("{} was edited by hand", row.path));
            events.emit(event);
        } else {
            tracing::info!(name = %row.name, target = %row.target, status, "install status changed");
        }
    }
    Ok(changed.then_some(status))
}

/// Check every install (at start-up).
pub async fn recheck_all(index: &Index, events: &EventBus) -> Result<usize, IndexError> {
    let rows = index.read(installs::all).await?;
    let mut changed = 0;
    for row in &rows {
        if recheck(index, events, row).await?.is_some() {
            changed += 1;
        }
    }
    Ok(changed)
}
